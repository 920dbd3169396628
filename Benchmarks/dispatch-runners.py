#!/usr/bin/env python3
"""Runner fleet for Benchmarks/dispatch.sh: N processes, one registered runner each, looping POST /api/v4/jobs/request
with keep-alive as gitlab-runner does, until EXPECTED jobs are claimed. Prints one JSON line of figures.

Usage: dispatch-runners.py URL ADMIN_TOKEN RUNNERS EXPECTED [--finish] [--noop SECONDS] [--tokens FILE]
  --finish     each claimed job is ended at once (PUT /jobs/:id state=success), as a runner whose job takes no time
  --noop S     instead: the same loop on GET /-/liveness for S seconds (the harness's own ceiling)
  --tokens F   register the runners once and keep their tokens in F (reused when F exists)
  --trace S B  instead: each runner claims one job, then sends PATCH /jobs/:id/trace of B bytes in a loop for S seconds
"""
import http.client
import json
import multiprocessing
import os
import sys
import time
import urllib.parse


def connect(url):
    parts = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)


def call(conn, method, path, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    all_headers = {"Content-Type": "application/json", "Connection": "keep-alive", "User-Agent": "gitlab-runner 17.5.0 (bench)"}
    all_headers.update(headers or {})
    conn.request(method, path, body=data, headers=all_headers)
    response = conn.getresponse()
    payload = response.read()
    return response.status, payload


def register(url, registration, count):
    conn = connect(url)
    tokens = []
    for index in range(count):
        # An administrator's personal access token creates instance runners (POST /user/runners), as `gitlab-runner register` then uses them.
        status, payload = call(conn, "POST", "/api/v4/user/runners", {"runner_type": "instance_type", "description": f"bench-{index}", "run_untagged": True},
                               {"PRIVATE-TOKEN": registration})
        if status != 201:
            raise SystemExit(f"registration failed: {status} {payload[:200]!r}")
        tokens.append(json.loads(payload)["token"])
    return tokens


INFO = {"name": "gitlab-runner", "version": "17.5.0", "revision": "bench", "platform": "linux", "architecture": "amd64",
        "executor": "shell", "features": {"variables": True, "artifacts": True, "cache": True, "upload_raw_artifacts": True,
                                          "refspecs": True, "masking": True, "trace_reset": True, "trace_checksum": True}}


def worker(url, token, finish, claimed, stop, times, errors, ready, go):
    conn = connect(url)
    with ready.get_lock():
        ready.value += 1
    go.wait()
    while not stop.is_set():
        try:
            status, payload = call(conn, "POST", "/api/v4/jobs/request", {"token": token, "info": INFO, "last_update": ""})
        except (OSError, http.client.HTTPException):
            if stop.is_set():
                return
            conn = connect(url)
            continue
        if status == 201:
            now = time.perf_counter()
            job = json.loads(payload)
            with claimed.get_lock():
                claimed.value += 1
            times.put((now, job["id"]))
            if finish:
                call(conn, "PUT", f"/api/v4/jobs/{job['id']}", {"token": job["token"], "state": "success", "exit_code": 0})
        elif status != 204:
            errors.put(f"{status} {payload[:120]!r}")
            time.sleep(0.05)


def noop_worker(url, stop, counter):
    conn = connect(url)
    done = 0
    while not stop.is_set():
        call(conn, "GET", "/-/liveness")
        done += 1
    with counter.get_lock():
        counter.value += done


def trace_worker(url, token, seconds, size, counter, failures):
    conn = connect(url)
    while True:
        status, payload = call(conn, "POST", "/api/v4/jobs/request", {"token": token, "info": INFO, "last_update": ""})
        if status == 201:
            break
    job = json.loads(payload)
    chunk = (b"line of build output " * (size // 22 + 1))[:size - 1] + b"\n"
    offset, done, stop_at = 0, 0, time.perf_counter() + seconds
    while time.perf_counter() < stop_at:
        conn.request("PATCH", f"/api/v4/jobs/{job['id']}/trace", body=chunk, headers={
            "JOB-TOKEN": job["token"], "Content-Type": "text/plain", "Content-Range": f"{offset}-{offset + len(chunk) - 1}"})
        response = conn.getresponse()
        response.read()
        if response.status != 202:
            with failures.get_lock():
                failures.value += 1
            break
        offset += len(chunk)
        done += 1
    with counter.get_lock():
        counter.value += done


def main():
    args = sys.argv[1:]
    url, registration, runners, expected = args[0], args[1], int(args[2]), int(args[3])
    finish = "--finish" in args
    noop = float(args[args.index("--noop") + 1]) if "--noop" in args else None
    stop = multiprocessing.Event()
    if noop is not None:
        counter = multiprocessing.Value("q", 0)
        processes = [multiprocessing.Process(target=noop_worker, args=(url, stop, counter)) for _ in range(runners)]
        for process in processes:
            process.start()
        time.sleep(noop)
        stop.set()
        for process in processes:
            process.join(5)
        print(json.dumps({"noop_requests_per_s": round(counter.value / noop)}))
        return
    tokens_file = args[args.index("--tokens") + 1] if "--tokens" in args else None
    if "--trace" in args:
        seconds, size = float(args[args.index("--trace") + 1]), int(args[args.index("--trace") + 2])
        tokens = json.load(open(tokens_file)) if tokens_file and os.path.exists(tokens_file) else register(url, registration, runners)
        counter, failures = multiprocessing.Value("q", 0), multiprocessing.Value("q", 0)
        processes = [multiprocessing.Process(target=trace_worker, args=(url, token, seconds, size, counter, failures)) for token in tokens]
        for process in processes:
            process.start()
        for process in processes:
            process.join(seconds + 120)
        print(json.dumps({"trace_patches_per_s": round(counter.value / seconds), "patch_bytes": size, "failures": failures.value}))
        return
    if tokens_file and os.path.exists(tokens_file):
        tokens = json.load(open(tokens_file))
    else:
        tokens = register(url, registration, runners)
        if tokens_file:
            json.dump(tokens, open(tokens_file, "w"))
    claimed = multiprocessing.Value("q", 0)
    times, errors = multiprocessing.Queue(), multiprocessing.Queue()
    ready, go = multiprocessing.Value("q", 0), multiprocessing.Event()
    processes = [multiprocessing.Process(target=worker, args=(url, token, finish, claimed, stop, times, errors, ready, go), daemon=True) for token in tokens]
    for process in processes:
        process.start()
    while ready.value < len(processes):
        time.sleep(0.01)
    started = time.perf_counter()
    go.set()
    seen, stamps = set(), []
    deadline = time.time() + 600
    while len(stamps) < expected and time.time() < deadline:
        try:
            stamp, job_id = times.get(timeout=1)
        except Exception:
            continue
        stamps.append(stamp)
        seen.add(job_id)
    stop.set()
    for process in processes:
        process.terminate()
    failures = []
    while not errors.empty():
        failures.append(errors.get())
    elapsed = max(stamps) - started if stamps else float("nan")
    print(json.dumps({
        "claimed": len(stamps), "distinct": len(seen), "double_claims": len(stamps) - len(seen), "seconds": round(elapsed, 3),
        "claims_per_s": round(len(stamps) / elapsed) if stamps else 0, "errors": len(failures), "first_error": failures[0] if failures else None,
    }))


if __name__ == "__main__":
    main()
