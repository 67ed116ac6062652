-- Found by tester9 (Trust issue): each block states what must hold.
\i regress/fixture.sql
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
RESET client_min_messages;
SELECT antiban.set_secret('app_secret', 'app-secret-for-tests');
UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED';
CREATE FUNCTION pg_temp.ingest(body text, signed boolean)
RETURNS TABLE (signature_valid boolean, duplicate boolean)
LANGUAGE sql AS $$
    SELECT signature_valid, duplicate FROM antiban.ingest_webhook(convert_to(body, 'UTF8'),
        CASE WHEN signed THEN 'sha256=' || encode(hmac(convert_to(body, 'UTF8'), 'app-secret-for-tests', 'sha256'), 'hex') END)
$$;

-- ==== 1. The payload can not choose its own recipient or callback id ====
-- The decision (opt-out, pair rate, window, portfolio reach) is made for the
-- recipient argument; the sender merges the payload over "to" and
-- "biz_opaque_callback_data", so a payload carrying them must be refused.
SELECT antiban.set_marketing_opt_out('+5511900001111', '1001', true);
-- free-form messages need the window of the recipient named (not of the one in "to")
SELECT count(*) AS windows FROM (SELECT antiban.open_service_window(r, '1001')
    FROM unnest(array['+5511987650000', '+5511987650001', '+5511987650002']) r) w;
-- the control: the same image without envelope keys is queued
SELECT antiban.send('+5511987650000', '{"type":"image","image":{"link":"https://example.com/a.png"}}') > 0 AS control_queued;
DO $$
BEGIN
    PERFORM antiban.send('+5511987650001',
        '{"type":"image","image":{"link":"https://example.com/a.png"},"to":"+5511900001111"}');
EXCEPTION WHEN others THEN NULL;
END $$;
DO $$
BEGIN
    PERFORM antiban.send('+5511987650002',
        '{"type":"image","image":{"link":"https://example.com/a.png"},"biz_opaque_callback_data":"1"}');
EXCEPTION WHEN others THEN NULL;
END $$;
SELECT count(*) AS payloads_overriding_envelope FROM antiban.outbox
WHERE payload ?| array['to', 'biz_opaque_callback_data', 'recipient_type', 'messaging_product'];

-- ==== 2. A body refused once (bad signature) is still applied when Meta retries it signed ====
-- Meta retries a 401 with the same bytes: storing the refused copy first must
-- not turn the signed retry into a "duplicate" that is answered 200 and never applied.
\set stop_body '{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000001","phone_number_id":"1001"},"contacts":[{"profile":{"name":"Bia"},"wa_id":"5511988887777"}],"messages":[{"from":"5511988887777","id":"wamid.T9STOP1","timestamp":"1893456000","type":"text","text":{"body":"PARAR"}}]}}]}]}'
SELECT signature_valid FROM pg_temp.ingest(:'stop_body', false);
SELECT signature_valid, duplicate FROM pg_temp.ingest(:'stop_body', true);
SELECT count(*) AS contacts_from_the_signed_retry FROM antiban.contacts WHERE wa_id = '5511988887777';
SELECT outcome, reason FROM antiban.decide('+5511988887777', 'marketing', consume => false);

-- ==== 3. A status matched only by callback id never settles a message that never left ====
-- A queued message (attempts = 0) has not been POSTed: another app's status
-- with the same recipient, number and callback id is not evidence about it.
SELECT antiban.send_template('+5511987650003', 'oferta', 'pt_BR', from_number => '1001') AS q \gset
SELECT state, attempts FROM antiban.outbox WHERE id = :q;
SELECT signature_valid FROM pg_temp.ingest(format(
    '{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000001","phone_number_id":"1001"},"statuses":[{"id":"wamid.OTHERAPP1","status":"failed","timestamp":"1893456000","recipient_id":"5511987650003","biz_opaque_callback_data":"%s","errors":[{"code":131050,"title":"stopped marketing"}]}]}}]}]}',
    lpad(:q::text, 4, '0')), true);
SELECT state, wamid FROM antiban.outbox WHERE id = :q;
SELECT outcome, reason FROM antiban.decide('+5511987650003', 'marketing', consume => false);

-- ==== 4. A read receipt is a read receipt ====
-- antiban.enqueue (granted to antiban_app) takes any payload as a
-- 'read_receipt', skips validation and the decision, and the sender POSTs it
-- to /messages: with "to" and "type": "text" it is a free-form message to
-- anyone (no window, opt-out, pair rate or reach). It must be refused.
DO $$
BEGIN
    PERFORM antiban.enqueue(NULL, 'read_receipt', 'service',
        '{"to":"+5511900001111","recipient_type":"individual","type":"text","text":{"body":"not a receipt"}}',
        from_number => '1001');
EXCEPTION WHEN others THEN NULL;
END $$;
SELECT antiban.mark_read('wamid.T9READ1', '1001') > 0 AS control_receipt_queued;
SELECT count(*) AS receipts_that_are_not_receipts FROM antiban.outbox
WHERE message_type = 'read_receipt'
  AND NOT (payload - array['status', 'message_id', 'typing_indicator'] = '{}'::jsonb AND payload ->> 'status' = 'read');

-- ==== 5. An admin configures numbers; their health, mode and blocks change only with an audit row ====
SET ROLE antiban_admin;
UPDATE antiban.numbers SET rate_override = 50, throughput_level = 'STANDARD' WHERE phone_number_id = '1001';
UPDATE antiban.numbers SET hard_block = false WHERE phone_number_id = '1001';
UPDATE antiban.numbers SET mode = 'active', rate_factor = 1 WHERE phone_number_id = '1001';
RESET ROLE;
SELECT phone_number_id, rate_override FROM antiban.numbers WHERE phone_number_id = '1001';

-- ==== 6. Arguments stay within what Meta allows ====
SELECT antiban.open_service_window('+5511987650009', '1001', 'infinity');
SELECT antiban.open_service_window('+5511987650009', '1001', antiban.now() + interval '48 hours');
SELECT antiban.mark_read(repeat('w', 300), '1001');
SELECT antiban.decide('+5511987650009', 'marketing', from_number => repeat('9', 200));
