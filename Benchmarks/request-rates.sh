#!/usr/bin/env bash
# Request rates of the API's hot routes against the no-op `/-/readiness`, measured in one run on the same server.
# Builds the release binary (incrementally; NO_BUILD=1 to skip, BINARY= to pick another), starts `latchkey serve` on a fresh
# data directory (SQLite, or PostgreSQL when a URL is given: a fresh database is made next to the URL's), seeds a group of
# 1,000 projects, a developer with a PAT, a running job, and a second project whose allowlist admits the job's project, then
# runs `wrk -t1 -c64 -d5s` per route and prints req/s, p99 and the ratio to the no-op route.
# Usage: Benchmarks/request-rates.sh [postgres://user:pass@host:port/db]   (DURATION=5s CONNECTIONS=64 PROJECTS=1000)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
postgres_url="${1:-}"
scratch="${SCRATCH:-/work/release-build}"
binary="${BINARY:-$scratch/release/latchkey}"
duration="${DURATION:-5s}"
connections="${CONNECTIONS:-64}"
projects="${PROJECTS:-1000}"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
if [ -z "${BINARY:-}" ] && [ -z "${NO_BUILD:-}" ]; then
    (cd "$root" && swift build -c release --product latchkey --scratch-path "$scratch" >&2)
fi
work="$(mktemp -d)"
server=""
bench_database=""
cleanup() {
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
    bench_database="latchkey_bench_$$_$RANDOM"
    psql -q "$postgres_url" -c "CREATE DATABASE $bench_database" >/dev/null
    database_args=(--database-url "${postgres_url%/*}/$bench_database")
    engine="postgres"
fi
LATCHKEY_ROOT_TOKEN="$token" LATCHKEY_ROOT_PASSWORD="bench-$(head -c 16 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')" \
    "$binary" serve --port "$port" --data-dir "$work/data" --runners 0 --log-level warning "${database_args[@]}" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 300); do curl -sf "$url/-/readiness" >/dev/null && break; sleep 0.1; done
curl -sf "$url/-/readiness" >/dev/null || { echo "server did not start:" >&2; cat "$work/server.log" >&2; exit 1; }

# Seeding: everything through the public API, as a client would.
URL="$url" TOKEN="$token" PROJECTS="$projects" WORK="$work" python3 - <<'PY'
import concurrent.futures, json, os, subprocess, urllib.parse, urllib.request
url, root_token, count, work = os.environ["URL"], os.environ["TOKEN"], int(os.environ["PROJECTS"]), os.environ["WORK"]
def call(method, path, token=root_token, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url + "/api/v4" + path, data=data, method=method,
                                     headers={"PRIVATE-TOKEN": token, "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.load(response)
group = call("POST", "/groups", body={"name": "bench", "path": "bench", "visibility": "private"})
with concurrent.futures.ThreadPoolExecutor(4) as pool:
    list(pool.map(lambda i: call("POST", "/projects", body={"name": f"p{i:04}", "namespace_id": group["id"]}), range(count)))
dev = call("POST", "/users", body={"username": "dev", "name": "Dev", "email": "dev@example.com", "password": "bench-password-123456"})
dev_token = call("POST", f"/users/{dev['id']}/personal_access_tokens", body={"name": "bench", "scopes": ["api"]})["token"]
call("POST", f"/groups/{group['id']}/members", body={"user_id": dev["id"], "access_level": 30})
# The job's project (pushed by the developer, so the job is the developer's) and the project it reads across.
source = call("POST", "/projects", body={"name": "source", "namespace_id": group["id"]})
target = call("POST", "/projects", body={"name": "target", "namespace_id": group["id"], "initialize_with_readme": True})
call("POST", f"/projects/{target['id']}/job_token_scope/allowlist", body={"target_project_id": source["id"]})
repo = os.path.join(work, "repo")
subprocess.run(["git", "init", "-q", "-b", "main", repo], check=True)
with open(os.path.join(repo, ".gitlab-ci.yml"), "w") as f:
    f.write("bench:\n  script: [\"sleep 3600\"]\n")
git = ["git", "-C", repo, "-c", "user.name=dev", "-c", "user.email=dev@example.com"]
subprocess.run(git + ["add", "."], check=True)
subprocess.run(git + ["commit", "-qm", "ci"], check=True)
push = url.replace("://", f"://dev:{dev_token}@") + "/bench/source.git"
subprocess.run(git + ["push", "-q", push, "main"], check=True)
runner = call("POST", "/user/runners", body={"runner_type": "instance_type", "description": "bench"})
request = urllib.request.Request(url + "/api/v4/jobs/request", data=json.dumps({"token": runner["token"]}).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
job = None
for _ in range(50):
    with urllib.request.urlopen(request) as response:
        if response.status == 201:
            job = json.load(response)
            break
    import time; time.sleep(0.2)
if job is None:
    raise SystemExit("no job to claim")
with open(os.path.join(work, "seed.env"), "w") as f:
    f.write(f"dev_token={dev_token}\njob_token={job['token']}\ngroup_id={group['id']}\nsource_id={source['id']}\ntarget_id={target['id']}\n")
PY
# shellcheck disable=SC1091
source "$work/seed.env"

declare -a names=() rates=() p99s=()
measure() {
    local name="$1"; shift
    local output
    output="$(wrk -t1 -c"$connections" -d"$duration" --latency "$@")"
    if grep -q "Non-2xx" <<<"$output"; then echo "warning: $name: $(grep Non-2xx <<<"$output" | xargs)" >&2; fi
    names+=("$name")
    rates+=("$(awk '/^Requests\/sec:/ {print $2}' <<<"$output")")
    p99s+=("$(awk '$1 == "99%" {print $2}' <<<"$output")")
}
measure "no-op /-/readiness"                "$url/-/readiness"
measure "GET /api/v4/version (PAT)"         -H "PRIVATE-TOKEN: $dev_token" "$url/api/v4/version"
measure "GET /api/v4/user (PAT)"            -H "PRIVATE-TOKEN: $dev_token" "$url/api/v4/user"
measure "GET /api/v4/job (JOB-TOKEN)"       -H "JOB-TOKEN: $job_token" "$url/api/v4/job"
measure "GET /api/v4/projects/:id (PAT)"    -H "PRIVATE-TOKEN: $dev_token" "$url/api/v4/projects/$target_id"
measure "GET /api/v4/projects (20 of $projects+)" -H "PRIVATE-TOKEN: $dev_token" "$url/api/v4/projects"
measure "GET /groups/:id/projects page 7"   -H "PRIVATE-TOKEN: $dev_token" "$url/api/v4/groups/$group_id/projects?per_page=20&page=7"
measure "job-token file read, other project" -H "JOB-TOKEN: $job_token" "$url/api/v4/projects/$target_id/repository/files/README.md/raw?ref=main"

echo "engine: $engine, wrk -t1 -c$connections -d$duration, $(nproc) cores, $(git -C "$root" rev-parse --short HEAD)"
printf '| %-40s | %10s | %9s | %6s |\n' route req/s p99 ratio
printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..42})" "$(printf -- '-%.0s' {1..11}):" "$(printf -- '-%.0s' {1..10}):" "$(printf -- '-%.0s' {1..7}):"
for i in "${!names[@]}"; do
    ratio="$(python3 -c "print(f'{${rates[$i]} / ${rates[0]}:.3f}')")"
    printf '| %-40s | %10s | %9s | %6s |\n' "${names[$i]}" "${rates[$i]}" "${p99s[$i]}" "$ratio"
done
