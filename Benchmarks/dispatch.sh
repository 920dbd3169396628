#!/usr/bin/env bash
# Job dispatch at scale (issue 14): claims per second with 20 registered runners looping POST /api/v4/jobs/request
# (keep-alive, as gitlab-runner does) against `latchkey serve --runners 0`, on pipelines of 100, 1,000 and 5,000 jobs in one
# stage and on 50 pipelines of 20 jobs; the time the push of each pipeline takes to be answered; and, as the baseline,
# the no-op request rate of the same harness (GET /-/liveness). SQLite, and PostgreSQL when POSTGRES_URL is set.
# Usage: Benchmarks/dispatch.sh [sizes="100 1000 5000"]
#   BINARY=…       the server (default: the release build in /work/release-build, see docs/benchmarks/dispatch.md)
#   RUNNERS=20     runner processes;  FINISH=1  each claimed job is ended at once (PUT state=success) as well
#   POSTGRES_URL=postgres://postgres:postgres@127.0.0.1:5432/postgres  also run on PostgreSQL (a scratch database is made)
#   TRACE=65536    also: each runner takes one job and sends trace PATCHes of that many bytes for 5 s (PATCHes/s vs the no-op)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
sizes="${1:-100 1000 5000}"
binary="${BINARY:-/work/release-build/release/latchkey}"
runners="${RUNNERS:-20}"
finish_flag=""
[ "${FINISH:-0}" = 1 ] && finish_flag="--finish"
work="$(mktemp -d)"
server=""
trap 'if [ -n "$server" ]; then kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; fi; rm -rf "$work"' EXIT

start_server() { # $1: database label; sets url, token, server
    local label="$1" port=$((20000 + RANDOM % 20000))
    url="http://127.0.0.1:$port"
    token="glpat-$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40)"
    rm -rf "$work/data" "$work/repo"
    local database=()
    if [ "$label" = postgres ]; then
        psql -q "$POSTGRES_URL" -c "DROP DATABASE IF EXISTS latchkey_dispatch_bench" -c "CREATE DATABASE latchkey_dispatch_bench" >/dev/null
        database=(--database-url "${POSTGRES_URL%/*}/latchkey_dispatch_bench")
    fi
    LATCHKEY_ROOT_TOKEN="$token" LATCHKEY_ROOT_PASSWORD="bench-$(head -c 16 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')" \
        "$binary" serve --port "$port" --data-dir "$work/data" --runners 0 --log-level error "${database[@]}" >"$work/server.log" 2>&1 &
    server=$!
    for _ in $(seq 1 300); do curl -sf "$url/-/readiness" >/dev/null && break; sleep 0.1; done
    curl -sf "$url/-/readiness" >/dev/null || { cat "$work/server.log"; exit 1; }
    curl -sf -H "PRIVATE-TOKEN: $token" -H 'Content-Type: application/json' -d '{"name":"bench"}' "$url/api/v4/projects" >/dev/null
    git init -q -b main "$work/repo"
    registration="$token"
    rm -f "$work/tokens.json"
}

stop_server() {
    kill $server; wait $server 2>/dev/null || true; server=""
}

push_pipeline() { # $1: jobs in one stage; prints the push's wall time in ms
    local jobs="$1"
    { echo 'stages: [test]'; for i in $(seq 1 "$jobs"); do printf 'job%s:\n  stage: test\n  script: ["true"]\n' "$i"; done; } >"$work/repo/.gitlab-ci.yml"
    git -C "$work/repo" add . && git -C "$work/repo" -c user.name=bench -c user.email=bench@example.com commit -qm "ci $jobs" --allow-empty
    local started ended
    started=$(date +%s%N)
    git -C "$work/repo" push -qf "${url/:\/\//://root:$token@}/root/bench.git" main 2>/dev/null
    ended=$(date +%s%N)
    echo $(((ended - started) / 1000000))
}

fleet() { # $1: jobs expected
    python3 "$root/Benchmarks/dispatch-runners.py" "$url" "$registration" "$runners" "$1" --tokens "$work/tokens.json" $finish_flag
}

run_database() {
    local label="$1"
    start_server "$label"
    echo "== $label: no-op baseline (GET /-/liveness, $runners keep-alive clients of the same harness, 5 s)"
    python3 "$root/Benchmarks/dispatch-runners.py" "$url" "$registration" "$runners" 0 --noop 5
    # Registers the runners before the first pipeline (no jobs yet: the fleet stops at once).
    fleet 0 >/dev/null
    for size in $sizes; do
        local push
        push=$(push_pipeline "$size")
        echo "== $label: one pipeline of $size jobs in one stage: push answered in $push ms"
        fleet "$size"
    done
    local pipelines=50 per=20 started ended
    { echo 'stages: [test]'; for i in $(seq 1 "$per"); do printf 'job%s:\n  stage: test\n  script: ["true"]\n' "$i"; done; } >"$work/repo/.gitlab-ci.yml"
    git -C "$work/repo" add . && git -C "$work/repo" -c user.name=bench -c user.email=bench@example.com commit -qm "ci small"
    git -C "$work/repo" push -qf "${url/:\/\//://root:$token@}/root/bench.git" main 2>/dev/null
    fleet "$per" >/dev/null
    started=$(date +%s%N)
    for _ in $(seq 1 "$pipelines"); do
        curl -sf -o /dev/null -H "PRIVATE-TOKEN: $token" -H 'Content-Type: application/json' -d '{"ref":"main"}' "$url/api/v4/projects/1/pipeline"
    done
    ended=$(date +%s%N)
    echo "== $label: $pipelines pipelines of $per jobs (created through the API in $(((ended - started) / 1000000)) ms)"
    fleet $((pipelines * per))
    if [ -n "${TRACE:-}" ]; then
        push_pipeline "$runners" >/dev/null
        echo "== $label: trace PATCH of $TRACE bytes, $runners runners each on its own running job, 5 s"
        python3 "$root/Benchmarks/dispatch-runners.py" "$url" "$registration" "$runners" 0 --tokens "$work/tokens.json" --trace 5 "$TRACE"
    fi
    stop_server
}

[ -x "$binary" ] || { echo "no server binary at $binary (swift build -c release --product latchkey --scratch-path /work/release-build)"; exit 1; }
run_database sqlite
if [ -n "${POSTGRES_URL:-}" ]; then run_database postgres; fi
