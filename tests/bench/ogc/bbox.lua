-- wrk script for scripts/bench-ogc: OGC API items requests with a bbox of district size and
-- limit=100, cycling through a fixed, seeded list of bboxes (one per line in the file named
-- by OGC_BBOXES) under the items path OGC_ITEMS. Each thread starts at its own place in the
-- list; both servers get the same list. Non-200 answers are counted and printed.
local bboxes = {}
for line in io.lines(os.getenv("OGC_BBOXES")) do
  bboxes[#bboxes + 1] = line
end
local items = os.getenv("OGC_ITEMS")

local threads = {}
local count = 0
function setup(thread)
  count = count + 1
  thread:set("tid", count)
  table.insert(threads, thread)
end

local i = 0
local failed = 0
function init(args)
  i = tid * 37
end

function request()
  i = i + 1
  local bbox = bboxes[(i % #bboxes) + 1]
  return wrk.format("GET", items .. "?f=json&limit=100&bbox=" .. bbox)
end

function response(status, headers, body)
  if status ~= 200 then
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local failures = 0
  for _, thread in ipairs(threads) do
    failures = failures + (thread:get("failed") or 0)
  end
  io.write(string.format(
    "RESULT requests=%d rps=%.2f p50_ms=%.2f p99_ms=%.2f non200=%d timeouts=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, failures,
    summary.errors.timeout))
end
