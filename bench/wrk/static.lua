-- static.lua: one fixed request, over and over (wrk builds it once).
--   wrk ... -s static.lua URL -- SPEC_FILE
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

function init(args)
   wrk.method, wrk.path, wrk.headers, wrk.body = common.read_spec(args[1])
end
