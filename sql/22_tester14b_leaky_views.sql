-- The operator's views that run with their owner's rights (dashboard_*,
-- outbox_live, prometheus_metrics) filter to the caller's portfolios in
-- their own WHERE clause.  They are not security_barrier views, so a
-- caller's cheap function in the outer WHERE is pushed down below that
-- filter and sees every tenant's rows: a mapped reader must not learn
-- another portfolio's numbers, display phone numbers or queue this way.
\i regress/fixture.sql
INSERT INTO antiban.portfolios (business_id, name) VALUES ('101', 'Other tenant');
INSERT INTO antiban.wabas (waba_id, portfolio_id, name) SELECT '300', id, 'Other' FROM antiban.portfolios WHERE business_id = '101';
INSERT INTO antiban.numbers (phone_number_id, waba_id, display_phone_number, health)
SELECT '3001', w.id, '+55 21 90000-3001', 95 FROM antiban.wabas w WHERE w.waba_id = '300';
SELECT antiban.send_template('+5511987650001', 'boas_vindas', 'pt_BR', portfolio => '100') IS NOT NULL AS victim_queued;
SET client_min_messages = warning;
DROP ROLE IF EXISTS tester14b_reader;
RESET client_min_messages;
CREATE ROLE tester14b_reader LOGIN IN ROLE antiban_reader;
SELECT antiban.grant_portfolio('tester14b_reader', '101') AS granted;
SET ROLE tester14b_reader;
CREATE TEMP TABLE seen (v text);
CREATE FUNCTION pg_temp.peek(VARIADIC v text[]) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS $$
BEGIN
    INSERT INTO seen SELECT unnest(v);
    RETURN true;
END
$$;
-- what the views show: the reader's own number only
SELECT phone_number_id FROM antiban.dashboard_numbers;
SELECT count(*) AS own_live FROM antiban.outbox_live;
-- what a cheap function in the WHERE clause sees must be no more than that
SELECT count(*) AS shown FROM antiban.dashboard_numbers
WHERE pg_temp.peek(phone_number_id, display_phone_number);
SELECT count(*) AS shown FROM antiban.outbox_live WHERE pg_temp.peek(phone_number_id);
SELECT count(*) AS shown FROM antiban.dashboard_queue WHERE pg_temp.peek(phone_number_id);
SELECT count(*) AS shown FROM antiban.dashboard_budget WHERE pg_temp.peek(business_id);
SELECT DISTINCT v AS other_tenant_value_seen FROM seen
WHERE v IN ('1001', '1002', '1003', '1004', '+55 11 90000-0001', '200', '100') ORDER BY 1;
DISCARD TEMP;
RESET ROLE;
DROP ROLE tester14b_reader;
