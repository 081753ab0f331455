-- W5: POST /api/v1/auth/login as a random student. Data file: "email<TAB>password" per line.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local common = require("common")
setup = common.setup
done = common.done

local logins

function init(args)
  common.seed_random()
  logins = common.load_rows(args[1])
end

function request()
  local login = common.pick(logins)
  local body = string.format('{"email":"%s","password":"%s"}', login[1], login[2])
  return wrk.format("POST", "/api/v1/auth/login", { ["Content-Type"] = "application/json" }, body)
end
