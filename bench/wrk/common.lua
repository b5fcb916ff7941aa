-- common.lua: what static.lua and pool.lua share (loaded with dofile):
-- reading a request spec, numbering the threads, and done(), which prints
-- one line "BENCH_RESULT {json}" for run.mjs to read.
--
-- A spec file is a request as text: "METHOD PATH", then header lines
-- "Name: value", an empty line, and the body (to the end of the file).

local M = {}

function M.read_file(path)
   local f = assert(io.open(path, "rb"))
   local s = f:read("*a")
   f:close()
   return s
end

-- Returns method, path, headers, body; the headers are added to
-- wrk.headers, which already holds Host.
function M.read_spec(path)
   local s = M.read_file(path)
   local head, body = s:match("^(.-)\n\n(.*)$")
   if head == nil then head, body = s:gsub("\n$", ""), "" end
   local method, reqpath, headers = nil, nil, wrk.headers
   for line in head:gmatch("[^\n]+") do
      if method == nil then
         method, reqpath = line:match("^(%S+)%s+(%S+)$")
      else
         local k, v = line:match("^([^:]+):%s*(.*)$")
         headers[k] = v
      end
   end
   assert(method, "spec " .. path .. ": no request line")
   if body == "" then body = nil end
   return method, reqpath, headers, body
end

-- setup() and done() run in one Lua state of their own (not the threads').
local threads = {}

function setup(thread)
   thread:set("tid", #threads)
   table.insert(threads, thread)
end

function done(summary, latency, requests)
   local exhausted, issued = 0, 0
   for _, t in ipairs(threads) do
      if t:get("exhausted") then exhausted = exhausted + 1 end
      issued = issued + (t:get("issued") or 0)
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d,' ..
      '"connect_errors":%d,"read_errors":%d,"write_errors":%d,' ..
      '"status_errors":%d,"timeouts":%d,"exhausted_threads":%d,"pool_used":%d}\n',
      summary.requests, summary.duration, summary.bytes,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.mean, latency.max,
      e.connect, e.read, e.write, e.status, e.timeout, exhausted, issued))
end

return M
