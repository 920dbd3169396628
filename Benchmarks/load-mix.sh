#!/usr/bin/env bash
# Load: 1,000 concurrent keep-alive connections for 60 s on a mix of API reads with a personal access token, job-token reads
# and trace PATCHes, against the release build (issue 10). Prints req/s, p99, socket errors and answers by class per part,
# and the server's RSS before, at its peak and after; exits 1 on any socket error or 5xx.
# Builds the release binary (incrementally; NO_BUILD=1 to skip, BINARY= to pick another), starts `latchkey serve` on a fresh
# SQLite data directory (or PostgreSQL when a URL is given: a fresh database is made next to the URL's), seeds a project whose
# pipeline has TRACE+1 long jobs, claims them all, then runs three wrk processes at once:
#   PAT reads    wrk -t2 -c$PAT_CONNECTIONS     GET /user, /projects/:id, /projects
#   job reads    wrk -t1 -c$JOB_CONNECTIONS     GET /job with a running job's token
#   trace PATCH  wrk -t$TRACE -c$TRACE          one connection per running job, following the offset the server answers
# Usage: Benchmarks/load-mix.sh [postgres://user:pass@host:port/db]
#        (DURATION=60s PAT_CONNECTIONS=500 JOB_CONNECTIONS=450 TRACE=50 TIMEOUT=10s)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
postgres_url="${1:-}"
scratch="${SCRATCH:-/work/release-build}"
binary="${BINARY:-$scratch/release/latchkey}"
duration="${DURATION:-60s}"
pat_connections="${PAT_CONNECTIONS:-500}"
job_connections="${JOB_CONNECTIONS:-450}"
trace_jobs="${TRACE:-50}"
timeout="${TIMEOUT:-10s}"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
if [ -z "${BINARY:-}" ] && [ -z "${NO_BUILD:-}" ]; then
    (cd "$root" && swift build -c release --product latchkey --scratch-path "$scratch" >&2)
fi
# wrk and the server each hold a descriptor per connection.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
work="$(mktemp -d)"
server=""
sampler=""
bench_database=""
cleanup() {
    if [ -n "$sampler" ]; then kill "$sampler" 2>/dev/null || true; fi
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    if [ -n "$bench_database" ]; then psql -q "$postgres_url" -c "DROP DATABASE IF EXISTS $bench_database" >/dev/null 2>&1 || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

port=$((20000 + RANDOM % 20000))
url="http://127.0.0.1:$port"
token="glpat-$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40)"
database_args=()
engine="sqlite"
if [ -n "$postgres_url" ]; then
    command -v psql >/dev/null || { echo "psql is needed to make a fresh PostgreSQL database" >&2; exit 1; }
    bench_database="latchkey_load_$$_$RANDOM"
    psql -q "$postgres_url" -c "CREATE DATABASE $bench_database" >/dev/null
    database_args=(--database-url "${postgres_url%/*}/$bench_database")
    engine="postgres"
fi
LATCHKEY_ROOT_TOKEN="$token" LATCHKEY_ROOT_PASSWORD="load-$(head -c 16 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')" \
    "$binary" serve --port "$port" --data-dir "$work/data" --runners 0 --log-level warning "${database_args[@]}" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 300); do curl -sf "$url/-/readiness" >/dev/null && break; sleep 0.1; done
curl -sf "$url/-/readiness" >/dev/null || { echo "server did not start:" >&2; cat "$work/server.log" >&2; exit 1; }

# Seeding, through the public API as a client would: a developer, a project, a pipeline of TRACE+1 jobs, all claimed.
URL="$url" TOKEN="$token" JOBS="$((trace_jobs + 1))" WORK="$work" python3 - <<'PY'
import json, os, subprocess, time, urllib.error, urllib.request
url, root_token, jobs, work = os.environ["URL"], os.environ["TOKEN"], int(os.environ["JOBS"]), os.environ["WORK"]
def call(method, path, token=root_token, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url + "/api/v4" + path, data=data, method=method,
                                     headers={"PRIVATE-TOKEN": token, "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.load(response) if response.status != 204 else None
dev = call("POST", "/users", body={"username": "dev", "name": "Dev", "email": "dev@example.com", "password": "load-password-123456"})
dev_token = call("POST", f"/users/{dev['id']}/personal_access_tokens", body={"name": "load", "scopes": ["api"]})["token"]
project = call("POST", "/projects", token=dev_token, body={"name": "load"})
repo = os.path.join(work, "repo")
subprocess.run(["git", "init", "-q", "-b", "main", repo], check=True)
with open(os.path.join(repo, ".gitlab-ci.yml"), "w") as f:
    for index in range(jobs):
        f.write(f"job{index}:\n  script: [\"sleep 3600\"]\n")
git = ["git", "-C", repo, "-c", "user.name=dev", "-c", "user.email=dev@example.com"]
subprocess.run(git + ["add", "."], check=True)
subprocess.run(git + ["commit", "-qm", "ci"], check=True)
subprocess.run(git + ["push", "-q", url.replace("://", f"://dev:{dev_token}@") + "/dev/load.git", "main"], check=True)
claimed = []
deadline = time.time() + 60
while len(claimed) < jobs and time.time() < deadline:
    runner = call("POST", "/user/runners", body={"runner_type": "instance_type", "description": f"load{len(claimed)}"})
    request = urllib.request.Request(url + "/api/v4/jobs/request", data=json.dumps({"token": runner["token"]}).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        if response.status == 201:
            job = json.load(response)
            claimed.append(f"{job['id']}:{job['token']}")
        else:
            time.sleep(0.2)
if len(claimed) < jobs:
    raise SystemExit(f"claimed {len(claimed)} of {jobs} jobs")
with open(os.path.join(work, "seed.env"), "w") as f:
    f.write(f"dev_token={dev_token}\nproject_id={project['id']}\njob_token={claimed[0].split(':', 1)[1]}\ntrace_pairs={','.join(claimed[1:])}\n")
PY
# shellcheck disable=SC1091
source "$work/seed.env"

rss() { awk '/^VmRSS:/ {print $2}' "/proc/$server/status"; }
rss_before="$(rss)"
(while kill -0 "$server" 2>/dev/null; do rss >>"$work/rss" 2>/dev/null || true; sleep 0.5; done) &
sampler=$!
script="$root/Benchmarks/load-mix.lua"
LOAD_MODE=pat LOAD_PAT="$dev_token" LOAD_PROJECT="$project_id" \
    wrk -t2 -c"$pat_connections" -d"$duration" --timeout "$timeout" -s "$script" "$url" >"$work/pat.out" 2>&1 &
pat=$!
LOAD_MODE=job LOAD_JOB_TOKEN="$job_token" \
    wrk -t1 -c"$job_connections" -d"$duration" --timeout "$timeout" -s "$script" "$url" >"$work/job.out" 2>&1 &
job=$!
LOAD_MODE=trace LOAD_TRACE_JOBS="$trace_pairs" \
    wrk -t"$trace_jobs" -c"$trace_jobs" -d"$duration" --timeout "$timeout" -s "$script" "$url" >"$work/trace.out" 2>&1 &
trace=$!
wait "$pat" "$job" "$trace" || true
sleep 5
rss_after="$(rss)"
kill "$sampler" 2>/dev/null || true
sampler=""
rss_peak="$(sort -n "$work/rss" | tail -1)"

echo "engine: $engine, $((pat_connections + job_connections + trace_jobs)) connections for $duration (wrk --timeout $timeout), $(nproc) cores, $(git -C "$root" rev-parse --short HEAD)"
failed=0
for part in pat job trace; do
    line="$(grep '^RESULT' "$work/$part.out" || true)"
    if [ -z "$line" ]; then echo "$part: wrk gave no result:" >&2; cat "$work/$part.out" >&2; failed=1; continue; fi
    echo "$line"
    for field in connect read write timeout 5xx; do
        value="$(tr ' ' '\n' <<<"$line" | awk -F= -v k="$field" '$1 == k {print $2}')"
        [ "$value" = "0" ] || failed=1
    done
done
echo "server RSS: before ${rss_before} kB, peak ${rss_peak} kB, after ${rss_after} kB"
if grep -qiE 'error|critical' "$work/server.log"; then echo "server log lines at error level:"; grep -iE 'error|critical' "$work/server.log" | sort | uniq -c | head -20; fi
exit "$failed"
