-- W3: GET /api/v1/courses/{id}, anonymous. Data file: one course id per line.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local common = require("common")
setup = common.setup
done = common.done

local courses

function init(args)
  common.seed_random()
  courses = common.load_rows(args[1])
end

function request()
  return wrk.format("GET", "/api/v1/courses/" .. common.pick(courses)[1])
end
