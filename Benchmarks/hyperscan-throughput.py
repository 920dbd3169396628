#!/usr/bin/env python3
"""Hyperscan (PyPI `hyperscan`) in streaming mode over a log in 64 KiB chunks, with a literal set: the comparison for
docs/benchmarks/masking.md. Usage: hyperscan-throughput.py LOG PATTERNS [repetitions]; prints MB/s and the match count."""
import sys
import time

import hyperscan

log_path, patterns_path = sys.argv[1], sys.argv[2]
repetitions = int(sys.argv[3]) if len(sys.argv) > 3 else 3
with open(log_path, "rb") as f:
    log = f.read()
with open(patterns_path, "rb") as f:
    literals = [line for line in f.read().split(b"\n") if line]

database = hyperscan.Database(mode=hyperscan.HS_MODE_STREAM)
compile_start = time.perf_counter()
# Pure literals (Hyperscan >= 5.2's literal compiler), every match reported: a masker needs every position, not only that one occurred.
database.compile(expressions=literals, ids=list(range(len(literals))), elements=len(literals), flags=0, literal=True)
compile_ms = (time.perf_counter() - compile_start) * 1000
chunk = 64 * 1024
views = [memoryview(log)[start:start + chunk] for start in range(0, len(log), chunk)]
matches = 0


def on_match(identifier, start, end, flags, context):
    global matches
    matches += 1


best = float("inf")
for _ in range(repetitions):
    matches = 0
    # CPU time of this thread, as the masker's figures: on a shared machine wall time measures the neighbours too.
    began = time.thread_time()
    with database.stream(match_event_handler=on_match) as stream:
        for view in views:
            stream.scan(view)
    best = min(best, time.thread_time() - began)
print(f"{len(log) / best / 1e6:.0f} MB/s  {len(literals)} literals  {matches} matches  compile {compile_ms:.1f} ms")
