-- Webhooks are believed only when they are ours, and only once.
\i regress/fixture.sql
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
RESET client_min_messages;
SELECT antiban.set_secret('app_secret', 'app-secret-for-tests');
UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED';
-- Sign like Meta (HMAC-SHA256 of the exact bytes); bytes, so a body may hold anything.
CREATE FUNCTION pg_temp.post_bytes(body bytea) RETURNS TABLE (stored boolean, signature_valid boolean, duplicate boolean)
LANGUAGE sql AS $$
    SELECT stored, signature_valid, duplicate FROM antiban.ingest_webhook(body,
        'sha256=' || encode(hmac(body, 'app-secret-for-tests', 'sha256'), 'hex'))
$$;
CREATE FUNCTION pg_temp.post(body text) RETURNS TABLE (stored boolean, signature_valid boolean, duplicate boolean)
LANGUAGE sql AS $$ SELECT * FROM pg_temp.post_bytes(convert_to(body, 'UTF8')) $$;
-- One entry of the test WABA with the given changes.
CREATE FUNCTION pg_temp.entry(VARIADIC changes text[]) RETURNS text LANGUAGE sql AS $$
    SELECT format('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[%s]}]}', array_to_string(changes, ','))
$$;
-- The same, with Meta's entry time (non-messages fields carry one).
CREATE FUNCTION pg_temp.entry_at(sent bigint, VARIADIC changes text[]) RETURNS text LANGUAGE sql AS $$
    SELECT format('{"object":"whatsapp_business_account","entry":[{"id":"200","time":%s,"changes":[%s]}]}', sent, array_to_string(changes, ','))
$$;
CREATE FUNCTION pg_temp.change(field text, value text) RETURNS text LANGUAGE sql AS $$
    SELECT format('{"field":"%s","value":%s}', field, value)
$$;
-- A statuses change posted by number 'number'.
CREATE FUNCTION pg_temp.statuses(number text, list text) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.change('messages', format('{"messaging_product":"whatsapp","metadata":{"display_phone_number":"55119000000%s","phone_number_id":"%s"},"statuses":[%s]}',
                                             right(number, 2), number, list))
$$;
CREATE FUNCTION pg_temp.status(wamid text, status text, recipient text, callback bigint, extra text DEFAULT '') RETURNS text
LANGUAGE sql AS $$
    SELECT format('{"id":"%s","status":"%s","timestamp":"1893456000","recipient_id":"%s"%s%s}',
                  wamid, status, recipient, CASE WHEN callback IS NOT NULL THEN format(',"biz_opaque_callback_data":"%s"', callback) END, extra)
$$;
CREATE FUNCTION pg_temp.inbound(number text, wa text, wamid text, body text, ts text DEFAULT '1893456000') RETURNS text
LANGUAGE sql AS $$
    SELECT pg_temp.change('messages', format('{"messaging_product":"whatsapp","metadata":{"display_phone_number":"55119000000%s","phone_number_id":"%s"},'
        '"contacts":[{"profile":{"name":"Cliente"},"wa_id":"%s"}],"messages":[{"from":"%s","id":"%s","timestamp":"%s","type":"text","text":{"body":"%s"}}]}',
        right(number, 2), number, wa, wa, wamid, ts, body))
$$;
-- What the sender does when Meta accepts a message: sending, then sent with its wamid.
CREATE FUNCTION pg_temp.accepted(message bigint, wamid text) RETURNS text LANGUAGE sql AS $$
    UPDATE antiban.outbox SET state = 'sending' WHERE id = message;
    UPDATE antiban.outbox SET state = 'sent', wamid = accepted.wamid WHERE id = message RETURNING state::text;
$$;
CREATE FUNCTION pg_temp.last_event() RETURNS TABLE (status antiban.webhook_status, updates integer, problem text)
LANGUAGE sql AS $$
    SELECT e.status, e.updates, p FROM (SELECT * FROM antiban.webhook_events ORDER BY id DESC LIMIT 1) e
    LEFT JOIN LATERAL unnest(e.problems) p ON true
$$;
CREATE FUNCTION pg_temp.error(code integer) RETURNS text LANGUAGE sql AS $$
    SELECT format(',"errors":[{"code":%s,"title":"error %s","error_data":{"details":"from the test"}}]', code, code)
$$;

-- ==== 1. Foreign statuses: evidence must agree with the row ====
-- A: sent with its wamid, then delivered. B: waiting to retry, no wamid yet
-- (its send was refused: nothing of it reached Meta). C: in flight, its answer
-- not back yet; a Brazilian mobile written with the ninth digit, whose
-- recipient_id from Meta lacks it.
SELECT antiban.send_template('+5511987650011', 'oferta', 'pt_BR', from_number => '1001') AS a \gset
SELECT antiban.send_template('+5511987650012', 'oferta', 'pt_BR', from_number => '1001') AS b \gset
SELECT antiban.send_template('+5531988880301', 'oferta', 'pt_BR', from_number => '1002') AS c \gset
SELECT pg_temp.accepted(:a, 'wamid.A');
UPDATE antiban.outbox SET state = 'sending' WHERE id = :b;
UPDATE antiban.outbox SET state = 'retry_wait' WHERE id = :b;
UPDATE antiban.outbox SET state = 'sending' WHERE id = :c;
SELECT stored, duplicate FROM pg_temp.post(pg_temp.entry(pg_temp.statuses('1001',
    pg_temp.status('wamid.A', 'delivered', '5511987650011', :a))));
-- Another app on the WABA: its callback data happens to be our ids, its wamids are not ours.
SELECT stored, duplicate FROM pg_temp.post(pg_temp.entry(pg_temp.statuses('1001',
    pg_temp.status('wamid.OTHER-APP-1', 'failed', '5511987650011', :a, pg_temp.error(131031)) || ',' ||
    pg_temp.status('wamid.OTHER-APP-2', 'delivered', '5511999990000', :b) || ',' ||
    pg_temp.status('wamid.OTHER-APP-3', 'sent', '5511999990000', :c)),
    pg_temp.statuses('1003', pg_temp.status('wamid.OTHER-APP-4', 'read', '5511987650012', :b)),
    pg_temp.statuses('1002', pg_temp.status('wamid.OTHER-APP-5', 'delivered', '5511999990000', :c))));
SELECT * FROM pg_temp.last_event();
SELECT id - :a AS message, state, wamid, error_code FROM antiban.outbox WHERE id IN (:a, :b, :c) ORDER BY id;
SELECT phone_number_id, mode, hard_block FROM antiban.numbers WHERE phone_number_id = '1001';
SELECT count(*) AS send_errors FROM antiban.send_errors;
SELECT count(*) AS alerts FROM antiban.alerts;
-- An app numbering its callbacks like us: ten named, the rest counted.
SELECT stored FROM pg_temp.post(pg_temp.entry(pg_temp.statuses('1001',
    (SELECT string_agg(pg_temp.status('wamid.OTHER-BULK-' || i, 'read', '5511999990000', :a), ',') FROM generate_series(1, 13) i))));
SELECT status, updates, cardinality(problems) AS problems, problems[11] AS summary FROM antiban.webhook_events ORDER BY id DESC LIMIT 1;
SELECT state FROM antiban.outbox WHERE id = :a;
-- Ours, before the sender recorded the wamid: recipient (without the ninth digit) and number agree.
SELECT stored, duplicate FROM pg_temp.post(pg_temp.entry(pg_temp.statuses('1002',
    pg_temp.status('wamid.C', 'delivered', '553188880301', :c))));
SELECT * FROM pg_temp.last_event();
SELECT id - :a AS message, state, wamid FROM antiban.outbox WHERE id = :c;
-- The rule itself, from src/core.
SELECT a, b, antiban.same_recipient(a, b)
FROM (VALUES ('+5531988880301', '553188880301'), ('5531988880301', '+553188880301'),
             ('+551140000001', '5511940000001'), ('+5511987650011', '5511987650012'),
             ('BR.8675309abc', 'BR.8675309abc'), ('BR.8675309abc', 'BR.8675309ABC'),
             ('+5511987650011', ''), ('+55 11 98765-0011', '5511987650011'),
             -- (formatted as a recipient may be, with its "+"; not without it)
             ('55 11 98765-0011', '5511987650011')) AS v(a, b);

-- ==== 2. Retries: stored once, applied once, whatever the envelope ====
-- D is sent; Meta posts its failure (130429 halves the number's rate) three times ...
SELECT antiban.send_template('+5511987650013', 'oferta', 'pt_BR', from_number => '1003') AS d \gset
SELECT pg_temp.accepted(:d, 'wamid.D');
SELECT pg_temp.entry(pg_temp.statuses('1003', pg_temp.status('wamid.D', 'failed', '5511987650013', :d, pg_temp.error(130429)))) AS failed_body \gset
SELECT stored, duplicate FROM pg_temp.post(:'failed_body');
SELECT stored, duplicate FROM pg_temp.post(:'failed_body');
SELECT stored, duplicate FROM pg_temp.post(:'failed_body');
-- ... and once more batched with another message's status in a new envelope.
SELECT stored, duplicate FROM pg_temp.post(pg_temp.entry(pg_temp.statuses('1003',
    pg_temp.status('wamid.OTHER-APP-5', 'read', '5511999990000', NULL) || ',' ||
    pg_temp.status('wamid.D', 'failed', '5511987650013', :d, pg_temp.error(130429)))));
SELECT state, error_code FROM antiban.outbox WHERE id = :d;
SELECT count(*) AS send_errors, min(code) AS code FROM antiban.send_errors WHERE message_id = :d;
SELECT phone_number_id, mode, rate_factor FROM antiban.numbers WHERE phone_number_id = '1003';
SELECT count(*) AS events FROM antiban.webhook_events WHERE body::text LIKE '%wamid.D%';
-- Acting on a failure's code fails: the status still applies
-- (a trigger refuses every send_errors row; the event says what was not done)
CREATE FUNCTION public.refuse_send_error() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'send_errors refused by the test';
END $$;
CREATE TRIGGER refuse_send_error BEFORE INSERT ON antiban.send_errors
    FOR EACH ROW EXECUTE FUNCTION public.refuse_send_error();
SELECT antiban.send_template('+5511987650019', 'oferta', 'pt_BR', from_number => '1003') AS g \gset
SELECT pg_temp.accepted(:g, 'wamid.G');
SELECT stored FROM pg_temp.post(pg_temp.entry(pg_temp.statuses('1003',
    pg_temp.status('wamid.G', 'failed', '5511987650019', :g, pg_temp.error(131050)))));
SELECT state, error_code FROM antiban.outbox WHERE id = :g;
SELECT status, updates, regexp_replace(problem, 'outbox [0-9]+', 'outbox <g>') AS problem FROM pg_temp.last_event();
SELECT count(*) AS send_errors FROM antiban.send_errors WHERE message_id = :g;
DROP TRIGGER refuse_send_error ON antiban.send_errors;
DROP FUNCTION public.refuse_send_error();
-- An account restriction holds the WABA's numbers; an operator lifts it;
-- Meta's retry of the same change in another envelope must not hold them again.
SELECT pg_temp.change('account_update', '{"event":"ACCOUNT_RESTRICTION","restriction_info":[{"restriction_type":"RESTRICTED_BIZ_INITIATED_MESSAGING","expiration":1893542400}]}') AS restriction \gset
SELECT stored, duplicate FROM pg_temp.post(pg_temp.entry_at(1893455990, :'restriction'));
SELECT count(restricted_until) AS restricted FROM antiban.number_health;
SELECT antiban.lift_account_block('200', 'RESTRICTED_BIZ_INITIATED_MESSAGING', 'appeal accepted');
SELECT stored, duplicate FROM pg_temp.post(pg_temp.entry_at(1893455990, :'restriction',
    pg_temp.change('account_alerts', '{"entity_type":"BUSINESS","entity_id":"100","alert_info":{"alert_severity":"INFORMATIONAL","alert_status":"NONE","alert_type":"OBA_APPROVED","alert_description":"ok"}}')));
SELECT * FROM pg_temp.last_event();
SELECT count(restricted_until) AS restricted FROM antiban.number_health;
SELECT kind, count(*) FROM antiban.alerts WHERE kind IN ('number_paused', 'account_restricted', 'oba_approved') GROUP BY 1 ORDER BY 1;
SELECT field, event_id > 0 AS traced FROM antiban.webhook_changes ORDER BY event_id, field;
-- The same restriction again, at a later time: a new event, applied.
SELECT stored, duplicate FROM pg_temp.post(pg_temp.entry_at(1893455999, :'restriction'));
SELECT count(restricted_until) AS restricted FROM antiban.number_health;
SELECT antiban.lift_account_block('200', 'RESTRICTED_BIZ_INITIATED_MESSAGING', 'appeal accepted');
UPDATE antiban.numbers SET mode = 'active', hard_block = false, mode_forced = false, rate_factor = 1;
-- A quality update retried in another envelope is one observation, not two.
SELECT pg_temp.change('phone_number_quality_update', '{"display_phone_number":"+55 11 90000-0004","event":"THROUGHPUT_UPGRADE","max_daily_conversations_per_business":"TIER_UNLIMITED"}') AS upgrade \gset
SELECT stored FROM pg_temp.post(pg_temp.entry(:'upgrade'));
SELECT stored FROM pg_temp.post(pg_temp.entry(pg_temp.change('smb_app_state_sync', '{}'), :'upgrade'));
SELECT count(*) AS observations FROM antiban.quality_history WHERE phone_number_id = '1004';
-- An inbound message delivered twice in different envelopes: one interaction.
SELECT stored FROM pg_temp.post(pg_temp.entry(pg_temp.inbound('1002', '5511955550021', 'wamid.IN21', 'Oi')));
SELECT stored FROM pg_temp.post(pg_temp.entry(pg_temp.change('smb_app_state_sync', '{}'),
                                              pg_temp.inbound('1002', '5511955550021', 'wamid.IN21', 'Oi')));
SELECT count(*) AS interactions FROM antiban.interactions WHERE wamid = 'wamid.IN21';

-- ==== 3. One bad string loses only itself ====
-- E and F are sent; each body also holds an opt-out, and one change with a bad escape.
SELECT antiban.send_template('+5511987650014', 'oferta', 'pt_BR', from_number => '1001') AS e \gset
SELECT antiban.send_template('+5511987650015', 'oferta', 'pt_BR', from_number => '1001') AS f \gset
SELECT pg_temp.accepted(:e, 'wamid.E'), pg_temp.accepted(:f, 'wamid.F');
-- (the numbers are all active)
SELECT string_agg(DISTINCT mode::text, ',') AS modes FROM antiban.numbers;
-- \u0000 in a text body (change 1); "PARAR" from another person (change 2).
SELECT pg_temp.entry(pg_temp.statuses('1001', pg_temp.status('wamid.E', 'read', '5511987650014', :e)),
                     pg_temp.inbound('1002', '5511955550031', 'wamid.IN31', 'oi\u0000tudo bem'),
                     pg_temp.inbound('1002', '5511955550032', 'wamid.IN32', 'PARAR')) AS nul_body \gset
SELECT stored, signature_valid FROM pg_temp.post(:'nul_body');
SELECT * FROM pg_temp.last_event();
SELECT state FROM antiban.outbox WHERE id = :e;
SELECT wamid, body FROM antiban.interactions WHERE wamid IN ('wamid.IN31', 'wamid.IN32') ORDER BY wamid;
SELECT outcome, reason FROM antiban.decide('+5511955550032', 'marketing', consume => false);
SELECT body_raw = convert_to(:'nul_body', 'UTF8') AS raw_bytes_kept FROM antiban.webhook_events ORDER BY id DESC LIMIT 1;
-- A lone high surrogate in a profile name (entry 1, change 0); a read and a stop elsewhere.
SELECT stored, signature_valid FROM pg_temp.post(
    '{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[' ||
    pg_temp.statuses('1001', pg_temp.status('wamid.F', 'read', '5511987650015', :f)) || ']},{"id":"200","changes":[' ||
    '{"field":"messages","value":{"metadata":{"phone_number_id":"1002"},"contacts":[{"profile":{"name":"Jo\ud83d"},"wa_id":"5511955550041"}],' ||
    '"messages":[{"from":"5511955550041","id":"wamid.IN41","timestamp":"1893456000","type":"text","text":{"body":"ok \ud83d\ude00"}}]}},' ||
    pg_temp.change('user_preferences', '{"user_preferences":[{"wa_id":"5511955550042","category":"marketing_messages","value":"stop","timestamp":"1893456000"}]}') || ']}]}');
SELECT * FROM pg_temp.last_event();
SELECT state FROM antiban.outbox WHERE id = :f;
SELECT wa_id, profile_name, marketing_opt_out FROM antiban.contacts WHERE wa_id IN ('5511955550041', '5511955550042') ORDER BY 1;
SELECT body FROM antiban.interactions WHERE wamid = 'wamid.IN41';
SELECT outcome, reason FROM antiban.decide('+5511955550042', 'marketing', consume => false);
-- Bytes that are not UTF-8 inside a string are the same kind of fault (0xe9: Latin-1 "é").
SELECT stored, signature_valid FROM pg_temp.post_bytes(decode(replace(encode(convert_to(pg_temp.entry(
    pg_temp.inbound('1002', '5511955550052', 'wamid.IN52', 'PARAR'),
    pg_temp.inbound('1002', '5511955550053', 'wamid.IN53', 'caf__X__ com leite')), 'UTF8'), 'hex'),
    encode('__X__', 'hex'), 'e9'), 'hex'));
SELECT * FROM pg_temp.last_event();
SELECT wamid, body FROM antiban.interactions WHERE wamid IN ('wamid.IN52', 'wamid.IN53') ORDER BY wamid;
-- Broken JSON is still malformed, kept and not applied.
SELECT stored, signature_valid FROM pg_temp.post(pg_temp.entry(pg_temp.inbound('1002', '5511955550061', 'wamid.IN61', 'x')) || ']');
SELECT status, problems FROM antiban.webhook_events ORDER BY id DESC LIMIT 1;

-- ==== 4. Event times: within Meta's retry horizon of the receipt time ====
SELECT stored FROM pg_temp.post(pg_temp.entry(pg_temp.inbound('1001', '5511955550071', 'wamid.IN71', 'oi', '999999999999'),
                                              pg_temp.inbound('1001', '5511955550072', 'wamid.IN72', 'oi', '1')));
SELECT * FROM pg_temp.last_event();
SELECT wamid, occurred_at FROM antiban.interactions WHERE wamid IN ('wamid.IN71', 'wamid.IN72') ORDER BY wamid;
-- user_preferences read their time through the same rule.
SELECT stored FROM pg_temp.post(pg_temp.entry(pg_temp.change('user_preferences',
    '{"user_preferences":[{"wa_id":"5511955550073","category":"marketing_messages","value":"stop","timestamp":99999999999}]}')));
SELECT * FROM pg_temp.last_event();
SELECT wa_id, marketing_opt_out, opt_out_at FROM antiban.contacts WHERE wa_id = '5511955550073';
SELECT wa_id, last_inbound_at FROM antiban.contacts WHERE wa_id IN ('5511955550071', '5511955550072') ORDER BY 1;
-- Two days later the window that year-33658 timestamp would have opened is closed.
SET antiban.pinned_now = '2030-01-03 00:00:00+00';
SELECT outcome, reason FROM antiban.decide('+5511955550071', 'service', from_number => '1001', consume => false);
SET antiban.pinned_now = '2030-01-01 00:00:00+00';
SELECT seconds, (antiban.webhook_time(seconds, '2030-01-01 00:00:00+00')).*
FROM (VALUES ('1893456000'), ('1893456240.5'), ('1893456301'), ('1892851200'), ('1892851199'), ('not-a-time'), (NULL)) AS v(seconds);

-- ==== 5. Unsigned bodies: what an investigation needs, not the body ====
SELECT stored, signature_valid, duplicate FROM antiban.ingest_webhook(convert_to(repeat('{"x":"' || repeat('y', 1000) || '"}', 3000), 'UTF8'),
    'sha256=' || repeat('0', 64));
SELECT stored, signature_valid, duplicate FROM antiban.ingest_webhook(convert_to(repeat('{"x":"' || repeat('y', 1000) || '"}', 3000), 'UTF8'), NULL);
SELECT status, signature_valid, body_size, octet_length(body_raw) AS kept, body_sha256 = sha256(convert_to(repeat('{"x":"' || repeat('y', 1000) || '"}', 3000), 'UTF8')) AS sha_of_whole,
       body_raw = substring(convert_to(repeat('{"x":"' || repeat('y', 1000) || '"}', 3000), 'UTF8') FROM 1 FOR 1024) AS first_kb
FROM antiban.webhook_events ORDER BY id DESC LIMIT 1;
SELECT count(*) AS rejected_events, sum(octet_length(body_raw)) <= 2048 AS small FROM antiban.webhook_events WHERE status = 'rejected';
-- A signed body is kept whole, however long.
SELECT stored, signature_valid FROM pg_temp.post(pg_temp.entry(pg_temp.inbound('1002', '5511955550081', 'wamid.IN81', repeat('texto longo ', 400))));
SELECT status, body_size > 4096 AS long, octet_length(body_raw) = body_size AS whole FROM antiban.webhook_events ORDER BY id DESC LIMIT 1;

