#!/usr/bin/env bash
# Time of `git push` answering for a push that creates one pipeline of N jobs in one stage (issue 14: < 1 s for 1,000 on
# SQLite), for each server binary given, on a fresh SQLite data directory each; three pushes per binary, each a new commit.
# Usage: Benchmarks/pipeline-push.sh JOBS BINARY [BINARY…]   e.g. before/after: pipeline-push.sh 1000 /path/old /path/new
set -euo pipefail
jobs="$1"; shift
for binary in "$@"; do
    work="$(mktemp -d)"; port=$((20000 + RANDOM % 20000)); url="http://127.0.0.1:$port"
    token="glpat-$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40)"
    LATCHKEY_ROOT_TOKEN="$token" LATCHKEY_ROOT_PASSWORD="bench-$(head -c 16 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')" \
        "$binary" serve --port "$port" --data-dir "$work/data" --runners 0 --log-level error >"$work/server.log" 2>&1 &
    server=$!
    for _ in $(seq 1 300); do curl -sf "$url/-/readiness" >/dev/null && break; sleep 0.1; done
    curl -sf -H "PRIVATE-TOKEN: $token" -H 'Content-Type: application/json' -d '{"name":"bench"}' "$url/api/v4/projects" >/dev/null
    git init -q -b main "$work/repo"
    times=()
    for round in 1 2 3; do
        { echo 'stages: [test]'; for i in $(seq 1 "$jobs"); do printf 'job%s:\n  stage: test\n  script: ["true %s"]\n' "$i" "$round"; done; } >"$work/repo/.gitlab-ci.yml"
        git -C "$work/repo" add . && git -C "$work/repo" -c user.name=bench -c user.email=bench@example.com commit -qm "round $round"
        started=$(date +%s%N)
        git -C "$work/repo" push -qf "${url/:\/\//://root:$token@}/root/bench.git" main 2>/dev/null
        times+=($(( ($(date +%s%N) - started) / 1000000 )))
    done
    echo "$binary: push of $jobs jobs answered in ${times[*]} ms"
    kill $server; wait $server 2>/dev/null || true; rm -rf "$work"
done
