-- W1, W2 and the HTTP floors: wrk's own GET of the URL given on the command line.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local common = require("common")
done = common.done
