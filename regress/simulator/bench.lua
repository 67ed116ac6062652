-- bench.lua — wrk script: POST a valid text message, round-robin over 100
-- phone-number ids (2001..2100) and 1,000,000 recipients, so that neither
-- the throughput nor the pair-rate limit triggers when the numbers are
-- configured at 1,000,000 mps (see README.md, "Benchmark").
local counter = 0
local threads = 0

function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

function init(args)
  counter = id * 7919
end

function request()
  counter = counter + 1
  local number = 2001 + (counter % 100)
  local to = 5511900000000 + (counter % 1000000)
  local body = '{"messaging_product":"whatsapp","recipient_type":"individual","to":"+' .. to ..
    '","type":"text","text":{"body":"benchmark message"}}'
  return wrk.format("POST", "/v24.0/" .. number .. "/messages",
    {["Authorization"] = "Bearer bench", ["Content-Type"] = "application/json"}, body)
end
