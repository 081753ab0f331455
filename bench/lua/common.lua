-- Helpers shared by the wrk scripts of `make bench` (loaded with require "common").
local M = {}

-- Reads a tab-separated data file: one table of fields per non-empty line.
function M.load_rows(path)
  local rows = {}
  local file = assert(io.open(path, "r"), "cannot open data file " .. tostring(path))
  for line in file:lines() do
    if #line > 0 then
      local fields = {}
      for field in string.gmatch(line, "[^\t]+") do fields[#fields + 1] = field end
      rows[#rows + 1] = fields
    end
  end
  file:close()
  assert(#rows > 0, "empty data file " .. path)
  return rows
end

-- Numbers every wrk thread, so that each one draws its own random sequence.
local threads_started = 0
function M.setup(thread)
  threads_started = threads_started + 1
  thread:set("thread_number", threads_started)
end

function M.seed_random()
  math.randomseed(os.time() * 1000 + (thread_number or 1) * 7919)
  for _ = 1, 10 do math.random() end
end

function M.pick(rows)
  return rows[math.random(#rows)]
end

-- One machine-readable line for bench/run.py. wrk counts HTTP statuses >= 400 as status errors.
function M.done(summary, latency, requests)
  local errors = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    'BENCHJSON {"requests":%d,"seconds":%.3f,"rps":%.2f,"p50_ms":%.3f,"p95_ms":%.3f,"p99_ms":%.3f,' ..
    '"non_2xx":%d,"socket_errors":%d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end

return M
