#!/usr/bin/env bash
# Job start latency, sandboxed vs shell-unsafe, measured in one run on the same machine.
# For each executor: a fresh `latchkey serve` (SQLite, one embedded runner) runs a pipeline of JOBS jobs whose script is `true`;
# the figure is each job's wall time from the runner's claim to its final report (the API's started_at/finished_at), which is
# dominated by preparing the executor, the git checkout and starting the shell: exactly what the sandbox adds to.
# Also times ITER bare process starts: `/bin/true` alone, through `bwrap` with the job's mounts, and through setpriv+bwrap.
# Usage: Benchmarks/job-start.sh [jobs=20] [iterations=200]   (run `swift build` first; BINARY= to pick another build)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
jobs="${1:-20}"
iterations="${2:-200}"
binary="${BINARY:-$root/.build/debug/latchkey}"
work="$(mktemp -d)"
# Job uids of a root runner must pass through to the builds directory inside.
chmod 711 "$work"
server=""
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT

run_executor() {
    local executor="$1" port=$((20000 + RANDOM % 20000))
    local url="http://127.0.0.1:$port" token="glpat-$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40)"
    rm -rf "$work/data" "$work/builds" "$work/repo"
    LATCHKEY_ROOT_TOKEN="$token" LATCHKEY_ROOT_PASSWORD="bench-$(head -c 16 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')" \
        "$binary" serve --port "$port" --data-dir "$work/data" --builds-dir "$work/builds" --runners 1 --executor "$executor" \
        --log-level warning >"$work/server-$executor.log" 2>&1 &
    server=$!
    for _ in $(seq 1 150); do curl -sf "$url/-/readiness" >/dev/null && break; sleep 0.2; done
    curl -sf -H "PRIVATE-TOKEN: $token" -H 'Content-Type: application/json' -d '{"name":"bench"}' "$url/api/v4/projects" >/dev/null
    git init -q -b main "$work/repo"
    { for i in $(seq 1 "$jobs"); do printf 'job%s:\n  script: ["true"]\n' "$i"; done; } >"$work/repo/.gitlab-ci.yml"
    git -C "$work/repo" add . && git -C "$work/repo" -c user.name=bench -c user.email=bench@example.com commit -qm ci
    git -C "$work/repo" push -q "${url/:\/\//://root:$token@}/root/bench.git" main
    URL="$url" TOKEN="$token" EXECUTOR="$executor" python3 - <<'PY'
import json, os, statistics, time, urllib.request
from datetime import datetime
url, token = os.environ["URL"], os.environ["TOKEN"]
def get(path):
    request = urllib.request.Request(url + "/api/v4" + path, headers={"PRIVATE-TOKEN": token})
    return json.load(urllib.request.urlopen(request))
deadline = time.time() + 600
while time.time() < deadline:
    jobs = get("/projects/1/jobs?per_page=100")
    if jobs and all(job["status"] in ("success", "failed", "canceled") for job in jobs):
        break
    time.sleep(0.5)
def parse(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
durations = sorted((parse(job["finished_at"]) - parse(job["started_at"])).total_seconds() * 1000 for job in jobs)
failed = [job["name"] for job in jobs if job["status"] != "success"]
print(f"{os.environ['EXECUTOR']:>12}: {len(durations)} jobs, median {statistics.median(durations):.0f} ms, "
      f"p90 {durations[int(len(durations) * 0.9) - 1]:.0f} ms, failed {len(failed)}")
with open(os.path.join(os.environ.get("TMPDIR", "/tmp"), f"latchkey-job-start-{os.environ['EXECUTOR']}"), "w") as out:
    out.write(str(statistics.median(durations)))
PY
    kill $server; wait $server 2>/dev/null || true; server=""
}

echo "== job wall time (claim to final report), $jobs jobs of \`true\` each, one embedded runner"
run_executor shell-unsafe
run_executor sandbox
unsafe=$(cat "${TMPDIR:-/tmp}/latchkey-job-start-shell-unsafe"); sandboxed=$(cat "${TMPDIR:-/tmp}/latchkey-job-start-sandbox")
python3 -c "print(f'  sandbox / shell-unsafe: {$sandboxed / $unsafe:.2f}x, +{$sandboxed - $unsafe:.0f} ms per job')"

echo "== bare process start, $iterations runs each"
mkdir -p "$work/ws"; chmod 777 "$work/ws"
ITER="$iterations" WS="$work/ws" python3 - <<'PY'
import os, subprocess, time
iterations, ws = int(os.environ["ITER"]), os.environ["WS"]
bwrap = ["bwrap", "--die-with-parent", "--new-session", "--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
         "--unshare-cgroup-try", "--disable-userns", "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin",
         "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64", "--ro-bind-try", "/etc/resolv.conf", "/etc/resolv.conf",
         "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--bind", ws, ws, "--remount-ro", "/", "--chdir", ws, "--"]
def timed(command):
    started = time.perf_counter()
    for _ in range(iterations):
        subprocess.run(command, check=True)
    return (time.perf_counter() - started) / iterations * 1000
plain = timed(["/bin/true"])
sandboxed = timed(bwrap + ["/bin/true"])
print(f"  /bin/true            {plain:6.2f} ms")
print(f"  bwrap … /bin/true    {sandboxed:6.2f} ms  ({sandboxed / plain:.1f}x, +{sandboxed - plain:.2f} ms)")
if os.geteuid() == 0:
    dropped = timed(["setpriv", "--reuid=20999", "--regid=20999", "--clear-groups", "--"] + bwrap + ["/bin/true"])
    print(f"  setpriv+bwrap …      {dropped:6.2f} ms  ({dropped / plain:.1f}x, +{dropped - plain:.2f} ms)")
PY
