-- wrk script for scripts/bench-fps (b): one JSON transfer per request, each from one
-- participant's gateway (its own token) to another, with a Zipf-like skew and time-ordered
-- UUIDs. The tokens file (lines "TOKEN code token") is named by FPS_TOKENS.
local tokens = {}
local cumulative = {}
local total = 0
for line in io.lines(os.getenv("FPS_TOKENS")) do
  local code, token = line:match("^TOKEN (%d+) (%S+)$")
  if code then
    tokens[#tokens + 1] = { code = code, auth = "Bearer " .. token }
    total = total + math.floor(1000000 / #tokens)
    cumulative[#cumulative + 1] = total
  end
end

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local counter = 0
local function pick()
  local x = math.random(0, total - 1)
  for i = 1, #cumulative do
    if x < cumulative[i] then return i end
  end
  return 1
end

function init(args)
  math.randomseed(os.time() + tid * 7919)
end

function request()
  counter = counter + 1
  local d = pick()
  local c = pick()
  if c == d then c = (d % #tokens) + 1 end
  local ms = math.floor(os.time() * 1000)
  local id = string.format("%08x-%04x-7%03x-8%03x-%012x",
    math.floor(ms / 65536) % 4294967296, ms % 65536, tid % 4096, math.floor(counter / 281474976710656) % 4096,
    counter % 281474976710656)
  local body = string.format(
    '{"id":"%s","debtor":"%s","creditor":"%s","currency":"HKD","amount":"%d.%02d","reference":"wrk"}',
    id, tokens[d].code, tokens[c].code, math.random(1, 5000), math.random(0, 99))
  return wrk.format("POST", "/api/v1/fps/transfers",
    { ["Content-Type"] = "application/json", ["Authorization"] = tokens[d].auth }, body)
end

local non201 = 0
function response(status, headers, body)
  if status ~= 201 then non201 = non201 + 1 end
end

function done(summary, latency, requests)
  io.write(string.format("RESULT {\"bench\":\"http_single\",\"requests\":%d,\"seconds\":%.3f,\"per_s\":%.0f,\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"errors\":%d}\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
