-- wrk script for the benches in bench/ (see harness.run_wrk): sends the requests of the file named by
-- BENCH_REQUESTS in order, each once while the file lasts (then from the start again, noted as wrapped),
-- and counts empty replies (body "success" or nothing: the bot stayed silent).
-- A line: method \t path \t headers ("Name: value" joined by \31) \t body.

local file = os.getenv("BENCH_REQUESTS")
local reqs = {}
for line in io.lines(file) do
  local method, path, headers, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
  local h = {}
  for pair in headers:gmatch("[^\31]+") do
    local name, value = pair:match("^([^:]+):%s*(.*)$")
    h[name] = value
  end
  reqs[#reqs + 1] = {method, path, h, body ~= "" and body or nil}
end

local threads, count = {}, 0
function setup(thread)
  thread:set("offset", count)
  table.insert(threads, thread)
  count = count + 1
end

local nthreads = tonumber(os.getenv("BENCH_WRK_THREADS") or "2")
local n = 0
empty, responses, wrapped = 0, 0, 0
function init(args)
  n = offset - nthreads  -- thread k sends requests k, k + nthreads, k + 2 nthreads, ...
end

function request()
  n = n + nthreads
  if n >= #reqs then wrapped = 1 end
  local r = reqs[(n % #reqs) + 1]
  return wrk.format(r[1], r[2], r[3], r[4])
end

function response(status, headers, body)
  responses = responses + 1
  if body == nil or body == "" or body == "success" then empty = empty + 1 end
end

function done(summary, latency, requests)
  local e, r, w = 0, 0, 0
  for _, t in ipairs(threads) do
    e = e + t:get("empty")
    r = r + t:get("responses")
    w = math.max(w, t:get("wrapped"))
  end
  io.write(string.format('JSON {"requests":%d,"seconds":%f,"p50":%f,"p95":%f,"p99":%f,"errors":%d,"non2xx":%d,'
    .. '"empty":%d,"responses":%d,"wrapped":%d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, e, r, w))
end
