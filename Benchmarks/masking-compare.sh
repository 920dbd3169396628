#!/usr/bin/env bash
# Our masker beside Hyperscan (streaming, 64 KiB chunks, the same literals) and ripgrep (`rg -F -f patterns --count`)
# on the same benchmark log, for 1, 10 and 100 secrets; prints the figures and the ratios (docs/benchmarks/masking.md).
# Needs `pip install hyperscan` and `apt-get install -y ripgrep`.
# Usage: Benchmarks/masking-compare.sh [megabytes=100] [repetitions=3]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
megabytes="${1:-100}"
repetitions="${2:-3}"
data="${SCRATCH:-/tmp/latchkey-masking-throughput}/data"
python3 -c "import hyperscan" 2>/dev/null || { echo "Hyperscan missing: pip install hyperscan" >&2; exit 1; }
command -v rg >/dev/null || { echo "ripgrep missing: apt-get install -y ripgrep" >&2; exit 1; }

ours="$("$here/masking-throughput.sh" "$megabytes" "$repetitions" --export "$data" | tail -n 4)"
echo "$ours"
echo
printf "%-8s %-9s %-12s %-16s %-12s %-14s %-13s\n" secrets literals "ours MB/s" "Hyperscan MB/s" "rg MB/s" "ours/Hyperscan" "ours/ripgrep"
for count in 1 10 100; do
    log="$data/log-$count"
    patterns="$data/patterns-$count"
    bytes="$(stat -c %s "$log")"
    literals="$(wc -l < "$patterns")"
    mine="$(echo "$ours" | awk -v n="$count" '$1 == n { print $10 }')"
    hyperscan="$(python3 "$here/hyperscan-throughput.py" "$log" "$patterns" "$repetitions" | awk '{ print $1 }')"
    best=""
    for _ in $(seq "$repetitions"); do
        # CPU seconds (user + system) of the whole process, like the others' thread CPU time.
        elapsed="$(python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(usage.ru_utime + usage.ru_stime)' rg --no-config -F -f "$patterns" --count "$log")"
        if [ -z "$best" ] || [ "$(echo "$elapsed < $best" | bc -l)" = 1 ]; then best="$elapsed"; fi
    done
    ripgrep="$(echo "$bytes / $best / 1000000" | bc -l)"
    printf "%-8s %-9s %-12.0f %-16.0f %-12.0f %-14.2f %-13.2f\n" "$count" "$literals" "$mine" "$hyperscan" "$ripgrep" \
        "$(echo "$mine / $hyperscan" | bc -l)" "$(echo "$mine / $ripgrep" | bc -l)"
done
