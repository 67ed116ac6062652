-- tester10 (issue 10): identity claims tried as Meta's real payloads and
-- the documented roles would.  Each block names the finding in
-- /work/notes/tester10-findings.md it pins.
\i regress/fixture.sql
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
RESET client_min_messages;
SELECT antiban.set_secret('app_secret', 'app-secret-for-tests');
UPDATE antiban.numbers SET rate_override = 1000, burst_override = 1000;
CREATE FUNCTION pg_temp.post(body text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    event bigint;
BEGIN
    SELECT i.event_id INTO event FROM antiban.ingest_webhook(convert_to(body, 'UTF8'),
        'sha256=' || encode(hmac(convert_to(body, 'UTF8'), 'app-secret-for-tests', 'sha256'), 'hex')) i;
    RETURN (SELECT w.status || coalesce(' ' || nullif(array_to_string(w.problems, '; '), ''), '')
            FROM antiban.webhook_events w WHERE w.id = event);
END
$$;
CREATE FUNCTION pg_temp.statuses(number text, status text) RETURNS text LANGUAGE sql AS $$
    SELECT format('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000000","phone_number_id":"%s"},"statuses":[%s]}}]}]}', number, status)
$$;

-- ==== F4: Meta names a username user in a status as recipient_user_id ====
-- (statuses of a message sent to a BSUID carry recipient_user_id, and no
-- recipient_id when the user hides their phone).  The send's answer was
-- lost: the status, ours by callback, recipient and number, must settle it.
SELECT antiban.send_template('BR.555abc', 'oferta', 'pt_BR', category => 'utility', from_number => '1001') AS sent_ok \gset
UPDATE antiban.outbox SET state = 'sending', attempts = 1 WHERE id = :sent_ok;
SELECT pg_temp.post(pg_temp.statuses('1001', format('{"id":"wamid.T10-555","status":"sent","timestamp":"1893456010","recipient_user_id":"BR.555abc","biz_opaque_callback_data":"%s"}', :sent_ok)));
SELECT state, wamid FROM antiban.outbox WHERE id = :sent_ok;
-- the same for a failure that says the person stopped marketing (131050):
-- it must stop marketing to them, as it does when the status names recipient_id
SELECT antiban.send_template('BR.556abc', 'oferta', 'pt_BR', from_number => '1001') AS failed_one \gset
UPDATE antiban.outbox SET state = 'sending', attempts = 1 WHERE id = :failed_one;
SELECT pg_temp.post(pg_temp.statuses('1001', format('{"id":"wamid.T10-556","status":"failed","timestamp":"1893456020","recipient_user_id":"BR.556abc","biz_opaque_callback_data":"%s","errors":[{"code":131050,"title":"Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business."}]}', :failed_one)));
SELECT state FROM antiban.outbox WHERE id = :failed_one;
SELECT outcome, reason FROM antiban.decide('BR.556abc', 'marketing', consume => false);

-- ==== F6: a user_preferences stop that names the person by parent_user_id only ====
-- (the person is known: phone, BSUID and parent BSUID from an earlier message)
SELECT pg_temp.post('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"1001"},"contacts":[{"profile":{"name":"Pia"},"wa_id":"5511955550300","user_id":"BR.300abc","parent_user_id":"BR.ENT.300abc"}],"messages":[{"from":"5511955550300","from_user_id":"BR.300abc","from_parent_user_id":"BR.ENT.300abc","id":"wamid.T10-P1","timestamp":"1893456040","type":"text","text":{"body":"oi"}}]}}]}]}');
SELECT pg_temp.post('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"user_preferences","value":{"messaging_product":"whatsapp","user_preferences":[{"parent_user_id":"BR.ENT.300abc","detail":"","category":"marketing_messages","value":"stop","timestamp":1893456050}]}}]}]}');
SELECT outcome, reason FROM antiban.decide('+5511955550300', 'marketing', consume => false);

-- ==== F7: a stop review resolved as a stop leaves the contact's consent time stale ====
-- (a doubtful message, a later resume, then a reviewer says it was a stop: decisions
-- block; the contact row keeps the resume's time, so a merge with a person who resumed
-- a little later turns the contact back to opted in while decisions still block)
SELECT pg_temp.post(format('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"1001"},"contacts":[{"profile":{"name":"Rui"},"wa_id":"5511955551111"}],"messages":[{"from":"5511955551111","id":"wamid.T10-R1","timestamp":"%s","type":"text","text":{"body":"não tenho interesse"}}]}}]}]}', 1893456000 - 300));
SELECT pg_temp.post(format('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"user_preferences","value":{"messaging_product":"whatsapp","user_preferences":[{"wa_id":"5511955551111","category":"marketing_messages","value":"resume","timestamp":%s}]}}]}]}', 1893456000 - 200));
SELECT antiban.resolve_stop_review(id, true) FROM antiban.stop_reviews WHERE wamid = 'wamid.T10-R1';
SELECT pg_temp.post(format('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"user_preferences","value":{"messaging_product":"whatsapp","user_preferences":[{"wa_id":"","user_id":"BR.1111r","category":"marketing_messages","value":"resume","timestamp":%s}]}}]}]}', 1893456000 - 100));
SELECT pg_temp.post(format('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"1001"},"contacts":[{"profile":{"name":"Rui"},"wa_id":"5511955551111","user_id":"BR.1111r"}],"messages":[{"from":"5511955551111","from_user_id":"BR.1111r","id":"wamid.T10-R2","timestamp":"%s","type":"text","text":{"body":"ok"}}]}}]}]}', 1893456000 - 50));
-- what decisions say and what the contact says agree
SELECT d.outcome, d.reason, k.marketing_opt_out AS contact_opted_out
FROM antiban.decide('+5511955551111', 'marketing', consume => false) d,
     antiban.contacts k WHERE k.wa_id = '5511955551111';

-- ==== F8: a system message naming the person's new parent BSUID ====
-- (user_changed_user_id: system.user_id is the new BSUID, system.parent_user_id the new
-- parent; a system message has no contacts[]).  The person said stop before.
SELECT pg_temp.post('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"1001"},"contacts":[{"profile":{"name":"Ugo","username":"@ugo"},"user_id":"BR.old9"}],"messages":[{"from_user_id":"BR.old9","id":"wamid.T10-Y1","timestamp":"1893456010","type":"text","text":{"body":"PARAR"}}]}}]}]}');
SELECT pg_temp.post('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"1001"},"messages":[{"from_user_id":"BR.old9","id":"wamid.T10-Y2","timestamp":"1893456020","type":"system","system":{"body":"User Ugo changed their user id","user_id":"BR.new9","parent_user_id":"BR.ENT.new9","type":"user_changed_user_id"}}]}}]}]}');
SELECT v AS identifier, d.outcome, d.reason
FROM unnest(ARRAY['BR.new9', 'BR.ENT.new9']) v, antiban.decide(v, 'marketing', consume => false) d;

-- ==== F5: operators can not see or make the links the README tells them about ====
-- ("antiban.people lists each person", "antiban.link_identifiers(portfolio_id, ids, 'operator')")
SET client_min_messages = warning;
DROP ROLE IF EXISTS t10_operator;
RESET client_min_messages;
CREATE ROLE t10_operator;
GRANT antiban_admin TO t10_operator;
SELECT pg_temp.post('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"1001"},"contacts":[{"profile":{"name":"Caio"},"wa_id":"5511955550100","user_id":"BR.100abc"}],"messages":[{"from":"5511955550100","from_user_id":"BR.100abc","id":"wamid.T10-IN1","timestamp":"1893456030","type":"text","text":{"body":"oi"}}]}}]}]}');
SET ROLE t10_operator;
SELECT identifiers FROM antiban.people WHERE 'BR.100abc' = ANY (identifiers);
SELECT antiban.link_identifiers(1, ARRAY['+5511955550700', 'BR.700abc'], 'operator') IS NOT NULL AS linked;
RESET ROLE;
DROP OWNED BY t10_operator;
DROP ROLE t10_operator;
