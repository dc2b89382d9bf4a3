-- wrk script for the load benches (scripts/bench.sh via benches/load/run.py): POSTs one
-- JSON body with the headers of an MCP client, and writes a JSON summary at the end.
--   BENCH_BODY_FILE  the request body
--   BENCH_AUTH       "Bearer ..." (optional)
--   BENCH_SESSION    an mcp-session-id (optional; server-everything called directly)
--   BENCH_PROTOCOL   the MCP-Protocol-Version header (default 2025-06-18)
--   BENCH_OUT        where the summary goes
local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

wrk.method = "POST"
wrk.body = read(os.getenv("BENCH_BODY_FILE"))
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = os.getenv("BENCH_PROTOCOL") or "2025-06-18"
local auth = os.getenv("BENCH_AUTH")
if auth and auth ~= "" then wrk.headers["Authorization"] = auth end
local session = os.getenv("BENCH_SESSION")
if session and session ~= "" then wrk.headers["mcp-session-id"] = session end

function done(summary, latency, requests)
  local e = summary.errors
  local out = assert(io.open(os.getenv("BENCH_OUT"), "w"))
  out:write(string.format(
    '{"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"mean_us":%.1f,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
  out:close()
end
