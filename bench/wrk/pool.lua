-- pool.lua: a request whose body takes one single-use value (a client
-- assertion, an authorization code, a refresh token) per request from a
-- pool file, one value a line; the spec's body has @@POOL@@ where it goes.
-- Each of T threads takes every T-th line (lines tid+1, tid+1+T, ...), so
-- no value is sent twice. A thread that runs out stops and says so
-- (exhausted_threads in the result): that run is void, the pool too small.
--   wrk -tT ... -s pool.lua URL -- SPEC_FILE POOL_FILE T
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

local pool, pre, post = {}, nil, nil
issued = 0
exhausted = false

function init(args)
   local body
   wrk.method, wrk.path, wrk.headers, body = common.read_spec(args[1])
   pre, post = body:match("^(.*)@@POOL@@(.*)$")
   assert(pre, "spec " .. args[1] .. ": no @@POOL@@ in the body")
   local nthreads = tonumber(args[3])
   local i = 0
   for line in io.lines(args[2]) do
      if line ~= "" then
         if i % nthreads == tid then pool[#pool + 1] = line end
         i = i + 1
      end
   end
end

function request()
   if issued >= #pool then
      exhausted = true
      wrk.thread:stop()
      return wrk.format(nil, nil, nil, pre .. pool[#pool] .. post)
   end
   issued = issued + 1
   return wrk.format(nil, nil, nil, pre .. pool[issued] .. post)
end
