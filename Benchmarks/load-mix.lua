-- wrk script for Benchmarks/load-mix.sh: one of three parts of the mix, chosen by LOAD_MODE in the environment.
--   pat    GET /api/v4/user, /api/v4/projects/:id and /api/v4/projects with a personal access token (LOAD_PAT, LOAD_PROJECT)
--   job    GET /api/v4/job with a running job's token (LOAD_JOB_TOKEN)
--   trace  PATCH /api/v4/jobs/:id/trace, one running job per wrk thread (LOAD_TRACE_JOBS="id:token,id:token,..."; run it with
--          as many threads as connections, so each connection owns one job and follows its offset from the Range answer)
-- done() prints one RESULT line: requests, req/s, latency percentiles, socket errors and answers by class.
local mode = os.getenv("LOAD_MODE") or "pat"
local threads = {}
local count = 0

function setup(thread)
    count = count + 1
    thread:set("index", count)
    if mode == "trace" then
        local jobs = {}
        for pair in string.gmatch(os.getenv("LOAD_TRACE_JOBS") or "", "[^,]+") do jobs[#jobs + 1] = pair end
        local pair = jobs[count]
        if pair == nil then error("more wrk threads than trace jobs") end
        local id, token = string.match(pair, "^(%d+):(.+)$")
        thread:set("job_id", id)
        thread:set("job_token", token)
    end
    table.insert(threads, thread)
end

function init(args)
    answers_2xx, answers_4xx, answers_5xx, answers_other = 0, 0, 0, 0
    offset = 0
    turn = 0
    line = string.rep("x", 71) .. " line\n"
    pat = os.getenv("LOAD_PAT")
    project = os.getenv("LOAD_PROJECT")
    job_read_token = os.getenv("LOAD_JOB_TOKEN")
end

function request()
    if mode == "trace" then
        local headers = { ["JOB-TOKEN"] = job_token, ["Content-Range"] = offset .. "-" .. (offset + #line - 1), ["Content-Type"] = "text/plain" }
        return wrk.format("PATCH", "/api/v4/jobs/" .. job_id .. "/trace", headers, line)
    elseif mode == "job" then
        return wrk.format("GET", "/api/v4/job", { ["JOB-TOKEN"] = job_read_token })
    end
    turn = turn + 1
    local paths = { "/api/v4/user", "/api/v4/projects/" .. project, "/api/v4/projects?per_page=20" }
    return wrk.format("GET", paths[turn % 3 + 1], { ["PRIVATE-TOKEN"] = pat })
end

function response(status, headers, body)
    if status >= 200 and status < 300 then
        answers_2xx = answers_2xx + 1
    elseif status >= 500 then
        answers_5xx = answers_5xx + 1
    elseif status >= 400 then
        answers_4xx = answers_4xx + 1
    else
        answers_other = answers_other + 1
    end
    if mode == "trace" then
        -- The answer's Range is where the next chunk starts, on 202 and on 416 alike.
        local range = headers["Range"] or headers["range"]
        if range then offset = tonumber(string.match(range, "%-(%d+)$")) or offset end
    end
end

function done(summary, latency, requests)
    local ok, client, server, other = 0, 0, 0, 0
    for _, thread in ipairs(threads) do
        ok = ok + thread:get("answers_2xx")
        client = client + thread:get("answers_4xx")
        server = server + thread:get("answers_5xx")
        other = other + thread:get("answers_other")
    end
    local errors = summary.errors
    io.write(string.format(
        "RESULT mode=%s requests=%d rps=%.0f p50_ms=%.1f p99_ms=%.1f max_ms=%.1f connect=%d read=%d write=%d timeout=%d 2xx=%d 4xx=%d 5xx=%d other=%d\n",
        mode, summary.requests, summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
        latency.max / 1000, errors.connect, errors.read, errors.write, errors.timeout, ok, client, server, other))
end
