-- Account and template events do what they say, in the order they happened.
\i regress/fixture.sql
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
RESET client_min_messages;
SELECT antiban.set_secret('app_secret', 'app-secret-for-tests');
UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED';
-- A second portfolio with one WABA, its two numbers registered without display numbers.
INSERT INTO antiban.portfolios (business_id, name, messaging_limit) VALUES ('101', 'Seguros BR', 'TIER_250');
INSERT INTO antiban.wabas (waba_id, portfolio_id, name) SELECT '300', id, 'Seguros' FROM antiban.portfolios WHERE business_id = '101';
INSERT INTO antiban.numbers (phone_number_id, waba_id, health)
SELECT v.pid, w.id, 85 FROM antiban.wabas w, (VALUES ('3001'), ('3002')) AS v(pid) WHERE w.waba_id = '300';
-- Post a body signed like Meta; what became of it (one row per problem).
CREATE FUNCTION pg_temp.post(body text) RETURNS TABLE (outcome text, problem text) LANGUAGE plpgsql AS $$
DECLARE
    stored_as bigint;
BEGIN
    SELECT i.event_id INTO stored_as FROM antiban.ingest_webhook(convert_to(body, 'UTF8'),
        'sha256=' || encode(hmac(convert_to(body, 'UTF8'), 'app-secret-for-tests', 'sha256'), 'hex')) i;
    RETURN QUERY SELECT e.status::text, p FROM antiban.webhook_events e LEFT JOIN LATERAL unnest(e.problems) p ON true
                 WHERE e.id = stored_as;
END
$$;
-- One change of WABA 'waba' that Meta stamped 'sent' (unix seconds; now is 1893456000).
CREATE FUNCTION pg_temp.event(waba text, sent bigint, field text, value text) RETURNS text LANGUAGE sql AS $$
    SELECT format('{"object":"whatsapp_business_account","entry":[{"id":"%s","time":%s,"changes":[{"field":"%s","value":%s}]}]}',
                  waba, sent, field, value)
$$;
CREATE FUNCTION pg_temp.ban(state text) RETURNS text LANGUAGE sql AS $$
    SELECT format('{"event":"DISABLED_UPDATE","ban_info":{"waba_ban_state":"%s","waba_ban_date":"January 1, 2030"}}', state)
$$;
CREATE FUNCTION pg_temp.inbound(number text, wa text, wamid text, message text) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.event('200', 1893455000, 'messages', format('{"messaging_product":"whatsapp",'
        '"metadata":{"display_phone_number":"55119000000%s","phone_number_id":"%s"},'
        '"contacts":[{"profile":{"name":"Cliente"},"wa_id":"%s"}],'
        '"messages":[{"from":"%s","id":"%s","timestamp":"1893455000",%s}]}', right(number, 2), number, wa, wa, wamid, message))
$$;
CREATE FUNCTION pg_temp.decide(recipient text, category text, portfolio text DEFAULT '100')
RETURNS TABLE (outcome text, reason text, phone_number_id text, not_before timestamptz) LANGUAGE sql AS $$
    SELECT d.outcome, d.reason, d.phone_number_id, d.not_before
    FROM antiban.decide(recipient, category, portfolio => portfolio, consume => false) d
$$;

-- ==== 1. A disable takes the WABA out of rotation; REINSTATE lifts the pause it caused ====
SELECT * FROM pg_temp.post(pg_temp.event('200', 1893452400, 'account_update', pg_temp.ban('DISABLE')));
SELECT outcome, reason, detail FROM antiban.decide('+5511987650001', 'utility', portfolio => '100', consume => false);
SELECT phone_number_id, mode, account_blocks FROM antiban.number_health ORDER BY 1;
SELECT * FROM pg_temp.post(pg_temp.event('200', 1893454200, 'account_update', pg_temp.ban('REINSTATE')));
SELECT outcome, reason, phone_number_id FROM pg_temp.decide('+5511987650001', 'utility');
SELECT count(account_blocks) AS blocked FROM antiban.number_health;
-- A DISABLE Meta stamped before the REINSTATE, arriving after it, changes nothing.
SELECT * FROM pg_temp.post(pg_temp.event('200', 1893453600, 'account_update', pg_temp.ban('DISABLE')));
SELECT outcome, reason, phone_number_id FROM pg_temp.decide('+5511987650001', 'utility');
SELECT severity, waba_id, kind, subject FROM antiban.alerts ORDER BY id;

-- ==== 2. PARTNER_REMOVED takes that WABA's numbers out of rotation, PARTNER_ADDED brings them back ====
SELECT outcome, reason, phone_number_id FROM pg_temp.decide('+5511987650002', 'utility', '101');
SELECT * FROM pg_temp.post(pg_temp.event('300', 1893452400, 'account_update',
    '{"event":"PARTNER_REMOVED","waba_info":{"waba_id":"300","owner_business_id":"101"}}'));
SELECT outcome, reason FROM pg_temp.decide('+5511987650002', 'utility', '101');
SELECT outcome, reason, phone_number_id FROM pg_temp.decide('+5511987650002', 'utility');
SELECT phone_number_id, account_blocks FROM antiban.number_health WHERE account_blocks IS NOT NULL ORDER BY 1;
SELECT * FROM pg_temp.post(pg_temp.event('300', 1893454200, 'account_update',
    '{"event":"PARTNER_ADDED","waba_info":{"waba_id":"300","owner_business_id":"101"}}'));
SELECT outcome, reason, phone_number_id FROM pg_temp.decide('+5511987650002', 'utility', '101');

-- ==== 3. A restriction holds only business-initiated messages, and lifts at its expiry ====
-- A customer writes to 1002 first: their service window is open there.
SELECT * FROM pg_temp.post(pg_temp.inbound('1002', '5511955550001', 'wamid.IN1', '"type":"text","text":{"body":"Oi"}'));
SELECT * FROM pg_temp.post(pg_temp.event('200', 1893454800, 'account_update',
    '{"event":"ACCOUNT_RESTRICTION","restriction_info":[{"restriction_type":"RESTRICTED_BIZ_INITIATED_MESSAGING","expiration":1893542400}]}'));
-- Starting a conversation waits for the expiry; replies inside the open window still go.
SELECT * FROM pg_temp.decide('+5511987650003', 'utility');
SELECT * FROM pg_temp.decide('+5511987650003', 'marketing');
SELECT * FROM pg_temp.decide('+5511955550001', 'service');
SELECT * FROM pg_temp.decide('+5511955550001', 'utility');
SELECT antiban.send_template('+5511987650004', 'oferta', 'pt_BR', from_number => '1001') AS held \gset
SELECT state, reason, not_before, detail FROM antiban.outbox WHERE id = :held;
-- The other WABA is not restricted: the portfolio's own numbers carry its templates.
SELECT outcome, reason, phone_number_id FROM pg_temp.decide('+5511987650003', 'utility', '101');
SELECT phone_number_id, restricted_until FROM antiban.number_health ORDER BY 1;
SELECT severity, waba_id, kind, subject, detail FROM antiban.alerts WHERE kind = 'account_restricted';
-- At the expiry it lifts by itself: the clock decides, no worker has run.
SET antiban.pinned_now = '2030-01-02 00:00:01+00';
SELECT * FROM pg_temp.decide('+5511987650003', 'utility');
SELECT count(restricted_until) AS restricted FROM antiban.number_health;
SET antiban.pinned_now = '2030-01-01 00:00:00+00';
-- Before it, a person can lift it (Meta's own lifting may never arrive).
SELECT antiban.lift_account_block('200', 'RESTRICTED_BIZ_INITIATED_MESSAGING', 'appeal accepted in WhatsApp Manager');
SELECT outcome, reason, phone_number_id FROM pg_temp.decide('+5511987650003', 'utility');

-- ==== 4. Account-level alerts name the WABA; the same alert on two WABAs is two alerts ====
SELECT w AS waba, p.* FROM unnest(ARRAY['200', '300']) w, pg_temp.post(pg_temp.event(w, 1893455000, 'account_alerts',
    '{"entity_type":"BUSINESS","entity_id":"100","alert_info":{"alert_severity":"WARNING","alert_status":"ACTIVE","alert_type":"INCREASED_CAPABILITIES_ELIGIBILITY_DEFERRED","alert_description":"Your messaging limit increase was deferred."}}')) p;
SELECT w AS waba, p.* FROM unnest(ARRAY['200', '300']) w, pg_temp.post(pg_temp.event(w, 1893455000, 'account_update',
    '{"event":"ACCOUNT_VIOLATION","violation_info":{"violation_type":"SCAM"}}')) p;
SELECT kind, count(*) FROM antiban.alerts
WHERE kind IN ('increased_capabilities_eligibility_deferred', 'account_violation') GROUP BY 1 ORDER BY 1;
SELECT severity, waba_id, kind, subject, detail FROM antiban.alerts
WHERE kind IN ('increased_capabilities_eligibility_deferred', 'account_violation') ORDER BY id;

-- ==== 5. A messaging limit reaches the number's portfolio, whatever entry.id says ====
-- The monitor's poll teaches 3001 its display number; entry.id is a placeholder.
SELECT antiban.apply_number_poll('3001', '{"id":"3001","display_phone_number":"+1 555-010-0001","quality_rating":"GREEN"}');
SELECT * FROM pg_temp.post(pg_temp.event('0', 1893455000, 'phone_number_quality_update',
    '{"display_phone_number":"15550100001","event":"ONBOARDING","max_daily_conversations_per_business":"TIER_10K"}'));
SELECT business_id, messaging_limit FROM antiban.portfolios ORDER BY 1;
-- A value naming the number by Meta's id finds it without any display number.
SELECT * FROM pg_temp.post(pg_temp.event('300', 1893455000, 'phone_number_quality_update',
    '{"phone_number_id":"3002","display_phone_number":"15550100002","event":"THROUGHPUT_UPGRADE","max_daily_conversations_per_business":"TIER_10K"}'));
SELECT phone_number_id, display_phone_number, throughput_level FROM antiban.numbers WHERE phone_number_id LIKE '300%' ORDER BY 1;
SELECT phone_number_id, waba_id, event, messaging_limit FROM antiban.quality_history WHERE source = 'webhook' ORDER BY id;
-- A limit Meta reported after these, then an older one arriving late: the newer stays.
SELECT * FROM pg_temp.post(pg_temp.event('300', 1893455900, 'business_capability_update',
    '{"max_daily_conversations_per_business":"TIER_100K","max_phone_numbers_per_business":20}'));
SELECT * FROM pg_temp.post(pg_temp.event('300', 1893455500, 'phone_number_quality_update',
    '{"display_phone_number":"+1 555 010 0001","event":"DOWNGRADE","max_daily_conversations_per_business":"TIER_2K"}'));
SELECT business_id, messaging_limit FROM antiban.portfolios ORDER BY 1;
-- A number antiban does not know, under a placeholder WABA: kept and said, nothing guessed.
SELECT * FROM pg_temp.post(pg_temp.event('0', 1893455950, 'phone_number_quality_update',
    '{"display_phone_number":"15559990000","event":"ONBOARDING","max_daily_conversations_per_business":"TIER_250"}'));
SELECT business_id, messaging_limit FROM antiban.portfolios ORDER BY 1;
SELECT count(*) AS kept FROM antiban.quality_history WHERE detail ->> 'display_phone_number' = '15559990000';

-- ==== 6. Template events keep what Meta said: reasons, dates, what will change and when ====
SELECT * FROM pg_temp.post(pg_temp.event('200', 1893455000, 'message_template_status_update',
    '{"event":"REJECTED","message_template_id":7001,"message_template_name":"promo_natal","message_template_language":"pt_BR","reason":"INVALID_FORMAT","message_template_category":"MARKETING","rejection_info":{"reason":"Variables can not be at the start or end of the body.","recommendation":"Add text after {{1}}."}}'));
SELECT * FROM pg_temp.post(pg_temp.event('200', 1893455000, 'message_template_status_update',
    '{"event":"FLAGGED","message_template_id":7002,"message_template_name":"lembrete","message_template_language":"pt_BR","reason":"NONE","message_template_category":"UTILITY","disable_info":{"disable_date":"1893715200"}}'));
SELECT * FROM pg_temp.post(pg_temp.event('200', 1893455000, 'template_category_update',
    '{"message_template_id":7002,"message_template_name":"lembrete","message_template_language":"pt_BR","correct_category":"MARKETING","new_category":"UTILITY","category_update_timestamp":1893542400}'));
SELECT name, language, status, reason, rejection_reason, rejection_recommendation, disable_at, category, pending_category,
       pending_category_at
FROM antiban.templates ORDER BY name;
SELECT kind, subject, waba_id, detail FROM antiban.alerts WHERE kind LIKE 'template%' ORDER BY id;
-- A day later Meta posts the completed change.
SELECT * FROM pg_temp.post(pg_temp.event('200', 1893455900, 'template_category_update',
    '{"message_template_id":7002,"message_template_name":"lembrete","message_template_language":"pt_BR","previous_category":"UTILITY","new_category":"MARKETING"}'));
SELECT name, category, previous_category, pending_category, pending_category_at FROM antiban.templates WHERE name = 'lembrete';
SELECT detail FROM antiban.alerts WHERE kind = 'template_category_changed';
-- An approval, then the pause Meta stamped before it arriving late: it stays approved.
SELECT * FROM pg_temp.post(pg_temp.event('200', 1893455900, 'message_template_status_update',
    '{"event":"APPROVED","message_template_id":7001,"message_template_name":"promo_natal","message_template_language":"pt_BR","reason":null}'));
SELECT * FROM pg_temp.post(pg_temp.event('200', 1893455600, 'message_template_status_update',
    '{"event":"PAUSED","message_template_id":7001,"message_template_name":"promo_natal","message_template_language":"pt_BR","reason":"NONE"}'));
SELECT name, status FROM antiban.templates WHERE name = 'promo_natal';
SELECT rejection_reason, rejection_recommendation FROM antiban.templates WHERE name = 'promo_natal';

-- ==== 7. Template languages compare normalised: a pause spelled one way holds sends spelled the other ====
SELECT code, antiban.template_language(code)
FROM (VALUES ('en-US'), ('en_US'), ('EN_us'), (' pt-br '), ('pt'), ('fil'), ('es_419'), ('zh_Hant')) AS v(code);
SELECT * FROM pg_temp.post(pg_temp.event('200', 1893455000, 'message_template_status_update',
    '{"event":"PAUSED","message_template_id":7003,"message_template_name":"boas_vindas","message_template_language":"pt-BR","reason":"NONE"}'));
SELECT * FROM pg_temp.post(pg_temp.event('200', 1893455000, 'message_template_status_update',
    '{"event":"PAUSED","message_template_id":7004,"message_template_name":"welcome","message_template_language":"en_US","reason":"NONE"}'));
SELECT antiban.send_template('+5511987650005', 'boas_vindas', 'pt_BR', portfolio => '100') AS pt \gset
SELECT antiban.send_template('+5511987650006', 'welcome', 'en-US', portfolio => '100') AS en \gset
SELECT antiban.hold_unapproved_templates('1 hour', 100) AS held;
SELECT id - :pt AS message, state, reason, detail FROM antiban.outbox WHERE id IN (:pt, :en) ORDER BY id;
-- The monitor's poll (en_US) and the webhook (en-US) are the same template.
SELECT antiban.apply_template_poll('200', '{"data":[{"id":"7003","name":"boas_vindas","language":"pt_BR","status":"PAUSED","category":"MARKETING"},
    {"id":"7002","name":"lembrete","language":"pt_BR","status":"APPROVED","category":"MARKETING"}]}');
SELECT name, language, count(*) FROM antiban.templates WHERE name IN ('boas_vindas', 'welcome') GROUP BY 1, 2 ORDER BY 1;
-- Seen approved again by the poll, a template no longer carries its disable date.
SELECT name, status, disable_at FROM antiban.templates WHERE name = 'lembrete';

-- ==== 8. A Flow completion keeps its response_json parsed ====
SELECT * FROM pg_temp.post(pg_temp.inbound('1002', '5511955550001', 'wamid.FLOW1',
    '"type":"interactive","interactive":{"type":"nfm_reply","nfm_reply":{"name":"flow","body":"Sent","response_json":"{\"flow_token\":\"T-42\",\"plano\":\"ouro\"}"}}'));
SELECT * FROM pg_temp.post(pg_temp.inbound('1002', '5511955550001', 'wamid.FLOW2',
    '"type":"interactive","interactive":{"type":"nfm_reply","nfm_reply":{"name":"flow","body":"Sent","response_json":"not json"}}'));
SELECT wamid, jsonb_typeof(payload -> 'interactive' -> 'nfm_reply' -> 'response_json') AS kind,
       payload -> 'interactive' -> 'nfm_reply' -> 'response_json' ->> 'flow_token' AS flow_token,
       payload -> 'interactive' -> 'nfm_reply' -> 'response_json' ->> 'plano' AS plano
FROM antiban.interactions WHERE wamid LIKE 'wamid.FLOW%' ORDER BY wamid;

-- Times inside values (expiries, disable dates) as Meta writes them, unclamped.
SELECT v, antiban.meta_time(v)
FROM (VALUES ('1893542400'), ('1893542400.5'), ('2030-01-02T00:00:00Z'), ('2030-01-02T03:00:00+03:00'), ('October 9, 2023'),
             ('soon'), (''), (NULL)) AS x(v);

-- What was applied last, per subject.
SELECT subject, event_at FROM antiban.event_order ORDER BY subject;
