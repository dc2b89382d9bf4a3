-- The soak's request mix for wrk (benches/soak/soak.py runs one wrk per slice).
-- Every request goes to /mcp; SOAK_* environment variables carry the tokens and pacing.
-- Each thread counts what it sent by kind and what came back by class; done() prints one
-- JSON line (SOAK_RESULT ...) that soak.py reads. Requests stop at SOAK_STOP_AT (epoch
-- seconds), a little before wrk's own end, so every request sent is answered and counted.

local function env(name)
  local v = os.getenv(name)
  if v == nil or v == "" then error("soak mix: " .. name .. " is not set") end
  return v
end

local stop_at = tonumber(env("SOAK_STOP_AT"))
local pause_ms = tonumber(env("SOAK_PAUSE_MS"))

local function mcp(token, body)
  local h = {
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json, text/event-stream",
    ["MCP-Protocol-Version"] = "2025-06-18",
  }
  if token then h["Authorization"] = "Bearer " .. token end
  return wrk.format("POST", "/mcp", h, body)
end

local call = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"soak"}}}'
local list = '{"jsonrpc":"2.0","id":2,"method":"tools/list"}'
-- Over the 1 MiB limit: refused from Content-Length, the rest drained by the server.
local big = '{"jsonrpc":"2.0","id":3,"method":"tools/list","pad":"' .. string.rep("x", 1100000) .. '"}'

-- Out of every 20 requests: 10 calls, 4 lists, 2 denied calls, 1 bad signature,
-- 1 expired token, 1 without a token, 1 oversized body.
local plan = {
  "call", "list", "call", "denied", "call", "list", "call", "bad", "call", "expired",
  "call", "list", "call", "denied", "call", "list", "call", "none", "call", "big",
}
local built = {}

function init(args)
  local good, nobody = env("SOAK_TOKEN"), env("SOAK_TOKEN_NOBODY")
  built = {
    call = mcp(good, call),
    list = mcp(good, list),
    denied = mcp(nobody, call),
    bad = mcp(env("SOAK_TOKEN_BAD"), call),
    expired = mcp(env("SOAK_TOKEN_EXPIRED"), call),
    none = mcp(nil, call),
    big = mcp(good, big),
  }
  sent, got, n = {}, {}, tonumber(args[1] or "0")
end

-- wrk calls request() once on the first thread before the run, to check the request it
-- builds (script_verify_request); that one is never sent, so it is not counted.
local verified = false

function request()
  if id == 0 and not verified then
    verified = true
    return built.list
  end
  n = n + 1
  local kind = plan[(n % #plan) + 1]
  sent[kind] = (sent[kind] or 0) + 1
  return built[kind]
end

function delay()
  if os.time() >= stop_at then return 3600000 end
  return pause_ms
end

-- The class of an answer: its status and, for a 200, whether JSON-RPC gave a result, the
-- denial's -32602, or another error.
function response(status, headers, body)
  local class = tostring(status)
  if status == 200 then
    if string.find(body, '"result"', 1, true) then
      class = "200-result"
    elseif string.find(body, '"code":-32602', 1, true) then
      class = "200-denied"
    else
      class = "200-other"
    end
  end
  got[class] = (got[class] or 0) + 1
end

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local function merge(into, t)
  for k, v in pairs(t or {}) do into[k] = (into[k] or 0) + v end
end

local function json_map(t)
  local parts = {}
  for k, v in pairs(t) do table.insert(parts, string.format('"%s":%d', k, v)) end
  return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
  local s, g = {}, {}
  for _, t in ipairs(threads) do
    merge(s, t:get("sent"))
    merge(g, t:get("got"))
  end
  local e = summary.errors
  io.write(string.format(
    'SOAK_RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"p999_us":%d,'
      .. '"max_us":%d,"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},'
      .. '"sent":%s,"got":%s}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency:percentile(99.9), latency.max, e.connect, e.read, e.write, e.timeout,
    json_map(s), json_map(g)))
end
