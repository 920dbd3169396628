#!/usr/bin/env bash
# Measures the server's memory while a large job artifact is uploaded and downloaded through the public API.
# Starts a fresh `latchkey serve` (no embedded runner), plays the runner's part with curl (claim a job, upload a stored zip
# of SIZE_MB megabytes, report success), then downloads the archive three ways (whole, by ref with a job token, a Range)
# while sampling the server's VmRSS every 100 ms. Prints the baseline and peak RSS and fails if the peak grows past LIMIT_MB.
# Usage: Benchmarks/artifact-download.sh [size_mb=1000: 1000 MiB, just under the default 1 GiB artifact limit] [limit_mb=50]   (run `swift build` first; BINARY= to pick another build)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
size_mb="${1:-1000}"
limit_mb="${2:-50}"
binary="${BINARY:-$root/.build/debug/latchkey}"
work="$(mktemp -d)"
port=$((20000 + RANDOM % 20000))
url="http://127.0.0.1:$port"
token="glpat-$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40)"
LATCHKEY_ROOT_TOKEN="$token" LATCHKEY_ROOT_PASSWORD="bench-$(head -c 16 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')" \
    "$binary" serve --port "$port" --data-dir "$work/data" --runners 0 --log-level warning >"$work/server.log" 2>&1 &
server=$!
sampler=""
trap 'kill $server $sampler 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 150); do curl -sf "$url/-/readiness" >/dev/null && break; sleep 0.2; done

api() { curl -sf -H "PRIVATE-TOKEN: $token" "$@"; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$server/status"; }

project=$(api -X POST -H 'Content-Type: application/json' -d '{"name":"bench"}' "$url/api/v4/projects" | json "['id']")
git init -q -b main "$work/repo"
printf 'test:\n  script: echo bench\n' >"$work/repo/.gitlab-ci.yml"
git -C "$work/repo" add . && git -C "$work/repo" -c user.name=bench -c user.email=bench@example.com commit -qm ci
git -C "$work/repo" push -q "${url/:\/\//://root:$token@}/root/bench.git" main
runner=$(curl -sf -X POST -H 'Content-Type: application/json' -d "{\"token\":\"$("$binary" admin registration-token --data-dir "$work/data")\"}" "$url/api/v4/runners" | json "['token']")

claim() { curl -sf -X POST -H 'Content-Type: application/json' -d "{\"token\":\"$runner\"}" "$url/api/v4/jobs/request"; }
job_json=$(claim)
job=$(echo "$job_json" | json "['id']")
job_token=$(echo "$job_json" | json "['token']")

echo "making a ${size_mb} MB stored zip"
python3 - "$work/big.zip" "$size_mb" <<'PY'
import sys, zipfile
chunk = bytes(range(256)) * 4096
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_STORED) as archive:
    with archive.open("big.bin", "w", force_zip64=True) as entry:
        for _ in range(int(sys.argv[2])):
            entry.write(chunk)
PY

# Samples VmRSS (kB) into a file until killed.
( while kill -0 "$server" 2>/dev/null; do rss_kb >>"$work/rss"; sleep 0.1; done ) &
sampler=$!
baseline=$(rss_kb)
start=$(date +%s.%N)
curl -sf -H "JOB-TOKEN: $job_token" -F "file=@$work/big.zip;filename=artifacts.zip" \
    "$url/api/v4/jobs/$job/artifacts?artifact_type=archive&artifact_format=zip" >/dev/null
upload_s=$(echo "$(date +%s.%N) - $start" | bc)
after_upload=$(sort -n "$work/rss" | tail -1)
curl -sf -X PUT -H 'Content-Type: application/json' -d "{\"token\":\"$job_token\",\"state\":\"success\"}" "$url/api/v4/jobs/$job" >/dev/null

# A second job holds a live job token for the by-ref download.
api -X POST -H 'Content-Type: application/json' -d '{"ref":"main"}' "$url/api/v4/projects/$project/pipeline" >/dev/null
reader_token=$(claim | json "['token']")

: >"$work/rss"
before_download=$(rss_kb)
start=$(date +%s.%N)
api -o /dev/null "$url/api/v4/projects/$project/jobs/$job/artifacts"
download_s=$(echo "$(date +%s.%N) - $start" | bc)
curl -sf -o /dev/null "$url/api/v4/projects/$project/jobs/artifacts/main/download?job=test&job_token=$reader_token"
curl -sf -o /dev/null -H "Range: bytes=$((size_mb * 1024 * 512))-" -H "JOB-TOKEN: $reader_token" "$url/api/v4/projects/$project/jobs/$job/artifacts"
peak_download=$(sort -n "$work/rss" | tail -1)
growth_mb=$(( (peak_download - before_download) / 1024 ))

echo "size:                    ${size_mb} MB"
echo "server RSS at start:     $((baseline / 1024)) MB"
echo "peak RSS during upload:  $((after_upload / 1024)) MB  (upload took ${upload_s}s)"
echo "RSS before downloads:    $((before_download / 1024)) MB"
echo "peak RSS in downloads:   $((peak_download / 1024)) MB  (whole archive took ${download_s}s; then by ref with a job token, then a Range)"
echo "growth during downloads: ${growth_mb} MB (limit ${limit_mb} MB)"
[ "$growth_mb" -lt "$limit_mb" ]
