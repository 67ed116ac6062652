-- wrk script: POST pre-signed webhook bodies (bench/webhook_bodies.sql) to
-- the receiver.  Thread t of T posts lines t, t+T, t+2T... of $BODIES once
-- (every body is new to the database, so none is a cheap duplicate) and
-- stops once all are answered; bench/webhooks.sh then interrupts wrk.  With
-- LOOP=1 it cycles for as long as wrk runs (the ceiling).  With RATE=N
-- (POSTs a second, all threads together) each thread hands out send times
-- on a fixed schedule, N/threads a second, to whichever of its connections
-- is free: the offered load is N whatever the answers' time, as long as
-- some connection is free (the benchmark reports the rate reached).
local threads, made = {}, 0

function setup(thread)
  thread:set("index", made)
  made = made + 1
  table.insert(threads, thread)
end

function init(args)
  local total = tonumber(os.getenv("WRK_THREADS"))
  local path = os.getenv("WEBHOOK_PATH") or "/webhook"
  loop = os.getenv("LOOP") == "1"
  connections = tonumber(os.getenv("WRK_CONNECTIONS")) / total
  local rate = tonumber(os.getenv("RATE") or "0")
  interval_ms = rate > 0 and total * 1000 / rate or 0
  next_at = nil
  -- wrk calls the first thread's request() once to inspect it, unsent
  verifying = index == 0
  requests, next_request, answered, exhausted = {}, 1, 0, false
  local line_no = 0
  for line in io.lines(os.getenv("BODIES")) do
    if line_no % total == index then
      local signature, body = line:match("^([^\t]+)\t(.*)$")
      table.insert(requests, wrk.format("POST", path,
        {["Content-Type"] = "application/json", ["X-Hub-Signature-256"] = signature}, body))
    end
    line_no = line_no + 1
  end
end

-- Past its last body a connection repeats it (a duplicate, stored once);
-- the thread stops when as many answers came back as there were bodies and
-- connections, so every body has been sent whole and the database has it.
function request()
  local r = requests[next_request]
  if verifying then
    verifying = false		-- wrk's own trial call: nothing is sent
    return r
  end
  if next_request < #requests then
    next_request = next_request + 1
  elseif loop then
    next_request = 1
  else
    exhausted = true
  end
  return r
end

-- a monotonic clock in ms (wrk's Lua is LuaJIT: clock_gettime through its FFI)
local ffi = require("ffi")
ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } antiban_timespec; int clock_gettime(int, antiban_timespec *); ]]
local ts = ffi.new("antiban_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

-- the next free send time of the thread's schedule: a thread that fell
-- behind (every connection busy, or wrk's timers late) catches up, but by
-- at most a second's worth, so a stall is not followed by a flood
function delay()
  if interval_ms == 0 then return 0 end
  local now = now_ms()
  if next_at == nil or next_at < now - 1000 then next_at = now end
  local wait = math.max(0, next_at - now)
  next_at = next_at + interval_ms
  return math.floor(wait)
end

function response(status)
  answered = answered + 1
  if exhausted and answered >= #requests + connections then wrk.thread:stop() end
end
