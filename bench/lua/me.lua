-- W4: GET /api/v1/auth/me with a random student's bearer token. Data file: one token per line.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local common = require("common")
setup = common.setup
done = common.done

local tokens

function init(args)
  common.seed_random()
  tokens = common.load_rows(args[1])
end

function request()
  return wrk.format("GET", "/api/v1/auth/me", { ["Authorization"] = "Bearer " .. common.pick(tokens)[1] })
end
