-- Webhooks: signed ingest, stored once, applied by trigger.
\i regress/fixture.sql
CREATE EXTENSION IF NOT EXISTS pgcrypto;
SELECT antiban.set_secret('app_secret', 'app-secret-for-tests');
-- Sign like Meta: HMAC-SHA256 of the exact bytes, keyed by the app secret.
CREATE FUNCTION pg_temp.post(body text) RETURNS TABLE (stored boolean, signature_valid boolean, duplicate boolean)
LANGUAGE sql AS $$
    SELECT stored, signature_valid, duplicate FROM antiban.ingest_webhook(convert_to(body, 'UTF8'),
        'sha256=' || encode(hmac(convert_to(body, 'UTF8'), 'app-secret-for-tests', 'sha256'), 'hex'))
$$;
CREATE FUNCTION pg_temp.envelope(field text, value text) RETURNS text LANGUAGE sql AS $$
    SELECT format('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"%s","value":%s}]}]}', field, value)
$$;
CREATE FUNCTION pg_temp.statuses(list text) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.envelope('messages', format('{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000001","phone_number_id":"1001"},"statuses":[%s]}', list))
$$;
-- Message N went to +55119876500NN through number 1001 (the healthiest).
CREATE FUNCTION pg_temp.status(id bigint, status text, extra text DEFAULT '') RETURNS text LANGUAGE sql AS $$
    SELECT format('{"id":"wamid.T%s","status":"%s","timestamp":"1893456000","recipient_id":"55119876500%s","biz_opaque_callback_data":"%s"%s}',
                  id, status, lpad(id::text, 2, '0'), id, extra)
$$;

-- Three messages in the outbox (the senders are off in pg_regress).
SELECT antiban.send_template('+55119876500' || lpad(i::text, 2, '0'), 'oferta', 'pt_BR') FROM generate_series(1, 3) i;
-- The sender has POSTed them (sending) and Meta's statuses come back before its
-- answers: only for such a send is our id in biz_opaque_callback_data evidence.
UPDATE antiban.outbox SET state = 'sending', attempts = 1 WHERE id <= 3;

-- A batch: out of order, with pricing, and a duplicate retry of the same body.
SELECT * FROM pg_temp.post(pg_temp.statuses(
    pg_temp.status(1, 'read') || ',' ||
    pg_temp.status(1, 'sent', ',"pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing"}') || ',' ||
    pg_temp.status(2, 'delivered', ',"pricing":{"billable":false,"pricing_model":"PMP","type":"free_customer_service","category":"utility"}')));
SELECT * FROM pg_temp.post(pg_temp.statuses(
    pg_temp.status(1, 'read') || ',' ||
    pg_temp.status(1, 'sent', ',"pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing"}') || ',' ||
    pg_temp.status(2, 'delivered', ',"pricing":{"billable":false,"pricing_model":"PMP","type":"free_customer_service","category":"utility"}')));
-- A late "sent" never downgrades; a status found by wamid alone.
SELECT * FROM pg_temp.post(pg_temp.statuses(pg_temp.status(2, 'sent')));
SELECT * FROM pg_temp.post(pg_temp.statuses('{"id":"wamid.T2","status":"read","timestamp":"1893456001","recipient_id":"5511987650002"}'));
SELECT id, state, wamid, billable, pricing_model, pricing_type, pricing_category, read_at IS NOT NULL AS read_stamped
FROM antiban.outbox ORDER BY id;
SELECT count(*) AS events, count(DISTINCT body_sha256) AS distinct_bodies FROM antiban.webhook_events;

-- Failures after sending go through the same classification as send errors.
SELECT * FROM pg_temp.post(pg_temp.statuses(pg_temp.status(3, 'failed',
    ',"errors":[{"code":131048,"title":"Spam rate limit hit","error_data":{"details":"Message failed to send because there are restrictions on how many messages can be sent from this phone number."}}]')));
SELECT id, state, error_code, error_title, reason FROM antiban.outbox WHERE id = 3;
SELECT phone_number_id, mode FROM antiban.numbers WHERE id = (SELECT number_id FROM antiban.outbox WHERE id = 3);
SELECT severity, phone_number_id, kind FROM antiban.alerts ORDER BY id;
UPDATE antiban.numbers SET mode = 'active';

-- Inbound: a lead writes; the contact, the interaction and the 24 h window follow.
SELECT antiban.send_text('+5511955550001', 'Olá!');
SELECT * FROM pg_temp.post(pg_temp.envelope('messages', '{"messaging_product":"whatsapp",
  "metadata":{"display_phone_number":"5511900000002","phone_number_id":"1002"},
  "contacts":[{"profile":{"name":"Ana Souza"},"wa_id":"5511955550001"}],
  "messages":[{"from":"5511955550001","id":"wamid.IN1","timestamp":"1893456000","type":"text","text":{"body":"Quanto rende o CDB?"}}]}'));
SELECT wa_id, user_id, profile_name, marketing_opt_out FROM antiban.contacts;
SELECT direction, wamid, phone_number_id, message_type, body FROM antiban.interactions;
SELECT antiban.send_text('+5511955550001', 'O CDB rende 12% a.a.') AS reply \gset
SELECT state, phone_number_id, reason FROM antiban.outbox WHERE id = :reply;

-- A reply to a template button, a reaction, an image, a location, an ad referral.
SELECT * FROM pg_temp.post(pg_temp.envelope('messages', '{"messaging_product":"whatsapp",
  "metadata":{"display_phone_number":"5511900000002","phone_number_id":"1002"},
  "contacts":[{"profile":{"name":"Ana Souza"},"wa_id":"5511955550001"}],
  "messages":[
   {"from":"5511955550001","id":"wamid.IN2","timestamp":"1893456010","type":"button","button":{"payload":"QUERO_SABER","text":"Quero saber mais"},"context":{"from":"5511900000002","id":"wamid.T1"}},
   {"from":"5511955550001","id":"wamid.IN3","timestamp":"1893456011","type":"reaction","reaction":{"message_id":"wamid.T1","emoji":"👍"}},
   {"from":"5511955550001","id":"wamid.IN4","timestamp":"1893456012","type":"image","image":{"id":"m1","mime_type":"image/jpeg","sha256":"x","caption":"meu comprovante"}},
   {"from":"5511955550001","id":"wamid.IN5","timestamp":"1893456013","type":"location","location":{"latitude":-23.56,"longitude":-46.65,"name":"Paulista"}},
   {"from":"5511955550001","id":"wamid.IN6","timestamp":"1893456014","type":"interactive","interactive":{"type":"list_reply","list_reply":{"id":"cdb","title":"CDB"}}}]}'));
SELECT wamid, message_type, body, context_wamid FROM antiban.interactions ORDER BY id;

-- A username user: no phone, only the business-scoped user id; an ad referral.
SELECT * FROM pg_temp.post(pg_temp.envelope('messages', '{"messaging_product":"whatsapp",
  "metadata":{"display_phone_number":"5511900000001","phone_number_id":"1001"},
  "contacts":[{"profile":{"name":"Bea"},"wa_id":"","user_id":"BR.8675309abc"}],
  "messages":[{"from":"","from_user_id":"BR.8675309abc","id":"wamid.IN7","timestamp":"1893456020","type":"text",
     "text":{"body":"Vi o anúncio"},"referral":{"source_type":"ad","source_id":"123","ctwa_clid":"abc"}}]}'));
SELECT wa_id, user_id, profile_name, free_entry_until IS NOT NULL AS free_entry FROM antiban.contacts ORDER BY id;
SELECT outcome, reason, phone_number_id FROM antiban.decide('BR.8675309abc', 'service', consume => false);

-- Opt-out: "PARAR" blocks marketing at once; utility still goes.
SELECT * FROM pg_temp.post(pg_temp.envelope('messages', '{"messaging_product":"whatsapp",
  "metadata":{"display_phone_number":"5511900000002","phone_number_id":"1002"},
  "contacts":[{"profile":{"name":"Ana Souza"},"wa_id":"5511955550001"}],
  "messages":[{"from":"5511955550001","id":"wamid.IN8","timestamp":"1893456030","type":"text","text":{"body":"PARAR"}}]}'));
SELECT wa_id, marketing_opt_out, opt_out_source FROM antiban.contacts WHERE wa_id = '5511955550001';
SELECT outcome, reason, detail FROM antiban.decide('+5511955550001', 'marketing', consume => false);
SELECT outcome, reason FROM antiban.decide('+5511955550001', 'utility', consume => false);
SELECT antiban.send_template('+5511955550001', 'oferta', 'pt_BR') AS promo \gset
SELECT state, reason FROM antiban.outbox WHERE id = :promo;
-- ... and user_preferences "resume" gives it back.
SELECT * FROM pg_temp.post(pg_temp.envelope('user_preferences', '{"messaging_product":"whatsapp",
  "user_preferences":[{"wa_id":"5511955550001","detail":"User requested to resume marketing messages","category":"marketing_messages","value":"resume","timestamp":1893456040}]}'));
SELECT outcome, reason FROM antiban.decide('+5511955550001', 'marketing', consume => false);

-- Stop requests as people write them, read by message type: a typed "não quero mais receber
-- mensagens" blocks; a tapped "Cancel" button (a normal answer) does not; "não tenho
-- interesse" is doubtful: a review row, nothing blocked until a person decides.
SELECT * FROM pg_temp.post(pg_temp.envelope('messages', '{"messaging_product":"whatsapp",
  "metadata":{"display_phone_number":"5511900000002","phone_number_id":"1002"},
  "contacts":[{"profile":{"name":"Caio"},"wa_id":"5511955550011"},{"profile":{"name":"Dora"},"wa_id":"5511955550012"},
              {"profile":{"name":"Edu"},"wa_id":"5511955550013"}],
  "messages":[
   {"from":"5511955550011","id":"wamid.IN11","timestamp":"1893456050","type":"text","text":{"body":"Não quero mais receber mensagens, obrigado"}},
   {"from":"5511955550012","id":"wamid.IN12","timestamp":"1893456051","type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"cancel_visit","title":"Cancel"}}},
   {"from":"5511955550013","id":"wamid.IN13","timestamp":"1893456052","type":"text","text":{"body":"não tenho interesse"}}]}'));
SELECT wa_id, marketing_opt_out, opt_out_source FROM antiban.contacts
WHERE wa_id IN ('5511955550011', '5511955550012', '5511955550013') ORDER BY wa_id;
SELECT r.outcome, r.reason FROM unnest(ARRAY['+5511955550011', '+5511955550012', '+5511955550013']) who,
       antiban.decide(who, 'marketing', consume => false) r;
SELECT wamid, source, verdict, rule, resolved_at IS NULL AS open FROM antiban.stop_reviews ORDER BY id;

-- Account-level fields.
SELECT * FROM pg_temp.post(pg_temp.envelope('phone_number_quality_update',
  '{"display_phone_number":"+55 11 90000-0003","event":"FLAGGED","current_limit":"TIER_2K"}'));
SELECT phone_number_id, status, quality_rating FROM antiban.numbers WHERE phone_number_id = '1003';
SELECT business_id, messaging_limit FROM antiban.portfolios;
SELECT * FROM pg_temp.post(pg_temp.envelope('business_capability_update',
  '{"max_daily_conversations_per_business":"TIER_10K","max_phone_numbers_per_business":20}'));
SELECT business_id, messaging_limit FROM antiban.portfolios;
SELECT * FROM pg_temp.post(pg_temp.envelope('message_template_status_update',
  '{"event":"PAUSED","message_template_id":987,"message_template_name":"oferta","message_template_language":"pt_BR","reason":"NONE","other_info":{"title":"FIRST_PAUSE"}}'));
SELECT * FROM pg_temp.post(pg_temp.envelope('message_template_quality_update',
  '{"previous_quality_score":"GREEN","new_quality_score":"RED","message_template_id":987,"message_template_name":"oferta","message_template_language":"pt_BR"}'));
SELECT * FROM pg_temp.post(pg_temp.envelope('template_category_update',
  '{"message_template_id":987,"message_template_name":"oferta","message_template_language":"pt_BR","previous_category":"UTILITY","new_category":"MARKETING"}'));
SELECT template_id, name, language, status, category, previous_category, quality FROM antiban.templates;
SELECT * FROM pg_temp.post(pg_temp.envelope('account_alerts',
  '{"entity_type":"BUSINESS","entity_id":"100","alert_info":{"alert_severity":"WARNING","alert_status":"ACTIVE","alert_type":"INCREASED_CAPABILITIES_ELIGIBILITY_DEFERRED","alert_description":"Your messaging limit increase was deferred."}}'));
SELECT * FROM pg_temp.post(pg_temp.envelope('account_update',
  '{"phone_number":"5511900000001","event":"ACCOUNT_RESTRICTION","restriction_info":[{"restriction_type":"RESTRICTED_BIZ_INITIATED_MESSAGING","expiration":1893542400}]}'));
SELECT phone_number_id, mode FROM antiban.numbers ORDER BY 1;
SELECT severity, phone_number_id, kind FROM antiban.alerts ORDER BY id;
SELECT count(*) AS flagged_history FROM antiban.quality_history WHERE event = 'FLAGGED';

-- What can not be applied is kept, with a reason, and does not block the rest.
SELECT * FROM pg_temp.post('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[
  {"field":"smb_app_state_sync","value":{}},
  {"field":"messages","value":{"statuses":"not a list"}},
  {"field":"messages","value":{"metadata":{"phone_number_id":"1001"},"statuses":[{"id":"wamid.T9","status":"read","biz_opaque_callback_data":"2"}]}}]}]}');
SELECT status, updates, problems FROM antiban.webhook_events ORDER BY id DESC LIMIT 1;
SELECT * FROM pg_temp.post('{"object":"page","entry":[]}');
SELECT status, problems FROM antiban.webhook_events ORDER BY id DESC LIMIT 1;

-- Bad signature, no signature, broken bodies: stored with the verdict, never applied.
SELECT stored, signature_valid, duplicate FROM antiban.ingest_webhook(convert_to(pg_temp.statuses(pg_temp.status(1, 'failed')), 'UTF8'), 'sha256=' || repeat('0', 64));
SELECT stored, signature_valid FROM antiban.ingest_webhook('\x7b7d', NULL);
SELECT stored, signature_valid FROM antiban.ingest_webhook(convert_to('{"object":"whatsapp_business_account","entry":[', 'UTF8'),
    'sha256=' || encode(hmac('{"object":"whatsapp_business_account","entry":['::bytea, 'app-secret-for-tests', 'sha256'), 'hex'));
SELECT stored, signature_valid FROM antiban.ingest_webhook('\x7b22613a22ff7d'::bytea,
    'sha256=' || encode(hmac('\x7b22613a22ff7d'::bytea, 'app-secret-for-tests', 'sha256'), 'hex'));
SELECT stored, signature_valid FROM antiban.ingest_webhook(convert_to(repeat('[', 100000) || repeat(']', 100000), 'UTF8'),
    'sha256=' || encode(hmac(convert_to(repeat('[', 100000) || repeat(']', 100000), 'UTF8'), 'app-secret-for-tests', 'sha256'), 'hex'));
SELECT status, signature_valid, problems, octet_length(body_raw) AS bytes FROM antiban.webhook_events ORDER BY id DESC LIMIT 5;
-- A long batch is wide, not deep: 200 statuses (nesting 6) parse, whatever the depth guard counts.
SELECT stored, signature_valid FROM pg_temp.post(pg_temp.statuses(
    (SELECT string_agg(pg_temp.status(900000 + i, 'delivered', ',"pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing"}'), ',')
     FROM generate_series(1, 200) i)));
SELECT status, problems::text LIKE '%deeper%' AS depth_problem FROM antiban.webhook_events ORDER BY id DESC LIMIT 1;
SELECT state FROM antiban.outbox WHERE id = 1;

-- The GET handshake.
SELECT antiban.set_secret('webhook_verify_token', 'verify-me-please');
SELECT antiban.webhook_verify('verify-me-please') AS right_token, antiban.webhook_verify('verify-me-pleasE') AS wrong_token,
       antiban.webhook_verify(NULL) AS no_token;

-- The receiver role may ingest and nothing else.
SET ROLE antiban_receiver;
SELECT stored FROM pg_temp.post(pg_temp.statuses(pg_temp.status(2, 'read')));
SELECT count(*) FROM antiban.outbox;
RESET ROLE;
