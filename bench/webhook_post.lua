-- wrk script: POST pre-signed webhook bodies (bench/webhook_bodies.sql) to
-- the receiver.  Thread t of T posts lines t, t+T, t+2T... of $BODIES once
-- (every body is new to the database, so none is a cheap duplicate) and
-- stops once all are answered; bench/webhooks.sh then interrupts wrk.  With
-- LOOP=1 it cycles for as long as wrk runs (the ceiling).  With RATE=N
-- (POSTs a second, all connections together) each connection waits
-- connections/N seconds (less ANSWER_MS, 10 ms) before each request, so the
-- offered load is about N whatever the database does (a slower answer only
-- lowers it; the benchmark reports the rate reached).
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
  -- (less the answer's own time, ANSWER_MS: a connection offers its next
  -- POST that long after the pause began)
  local rate = tonumber(os.getenv("RATE") or "0")
  local answer_ms = tonumber(os.getenv("ANSWER_MS") or "10")
  pause_ms = rate > 0 and math.max(0, math.floor(tonumber(os.getenv("WRK_CONNECTIONS")) * 1000 / rate - answer_ms)) or 0
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

function delay()
  return pause_ms
end

function response(status)
  answered = answered + 1
  if exhausted and answered >= #requests + connections then wrk.thread:stop() end
end
