-- wrk script: POST a valid template message, round robin over 100 numbers
-- (configured far above any limit): the simulator's own ceiling.
local counter = 0
request = function()
  counter = counter + 1
  local number = 5000000 + (counter % 100)
  local body = string.format(
    '{"messaging_product":"whatsapp","recipient_type":"individual","to":"+55119%08d",' ..
    '"type":"template","template":{"name":"oferta","language":{"code":"pt_BR"}},' ..
    '"biz_opaque_callback_data":"wrk-%d"}', counter % 100000000, counter)
  return wrk.format("POST", "/v24.0/" .. number .. "/messages",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer EAAG-bench"}, body)
end
