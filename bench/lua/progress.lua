-- W6: PUT /api/v1/enrollments/{e}/lessons/{l}/progress, in_progress with random figures.
-- Data file: "token<TAB>enrollment id<TAB>lesson id" per line (the student's own enrollment, and
-- a lesson of that course that is not the quiz lesson).
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local common = require("common")
setup = common.setup
done = common.done

local rows

function init(args)
  common.seed_random()
  rows = common.load_rows(args[1])
end

function request()
  local row = common.pick(rows)
  local body = string.format(
    '{"status":"in_progress","completion_percentage":%d,"time_spent_seconds":%d,"last_position_seconds":%d}',
    math.random(1, 99), math.random(1, 3600), math.random(1, 3600))
  return wrk.format("PUT", "/api/v1/enrollments/" .. row[2] .. "/lessons/" .. row[3] .. "/progress",
    { ["Authorization"] = "Bearer " .. row[1], ["Content-Type"] = "application/json" }, body)
end
