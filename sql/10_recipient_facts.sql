-- Opt-outs and service windows follow the transaction that states them:
-- effective at commit, gone on rollback, seen by that transaction at once.
\i regress/fixture.sql
UPDATE antiban.numbers SET rate_override = 1000, burst_override = 1000;
CREATE FUNCTION pg_temp.marketing(who text) RETURNS text LANGUAGE sql AS $$
    SELECT outcome || ' ' || reason FROM antiban.decide(who, 'marketing', from_number => '1001', consume => false)
$$;
CREATE FUNCTION pg_temp.reply(who text) RETURNS text LANGUAGE sql AS $$
    SELECT outcome || ' ' || reason FROM antiban.decide(who, 'service', from_number => '1002', consume => false)
$$;

-- Opted out, then opted in again in a transaction that rolls back: still out.
SELECT antiban.set_marketing_opt_out('+5511911110001', '1001', true);
BEGIN;
SELECT antiban.set_marketing_opt_out('+5511911110001', '1001', false);
SELECT pg_temp.marketing('+5511911110001') AS inside;
ROLLBACK;
SELECT pg_temp.marketing('+5511911110001') AS after_rollback;

-- Opted in, opted out in a transaction that rolls back: still in.
BEGIN;
SELECT antiban.set_marketing_opt_out('+5511911110002', '1001', true);
SELECT pg_temp.marketing('+5511911110002') AS inside;
ROLLBACK;
SELECT pg_temp.marketing('+5511911110002') AS after_rollback;

-- The same committed: effective from then on.
BEGIN;
SELECT antiban.set_marketing_opt_out('+5511911110002', '1001', true);
COMMIT;
SELECT pg_temp.marketing('+5511911110002') AS after_commit;

-- A window opened in a transaction that rolls back never opened.
BEGIN;
SELECT antiban.open_service_window('+5511911110003', '1002');
SELECT pg_temp.reply('+5511911110003') AS inside;
SELECT antiban.send_text('+5511911110003', 'Oi!') > 0 AS queued_inside;
ROLLBACK;
SELECT pg_temp.reply('+5511911110003') AS after_rollback;
SELECT antiban.send_text('+5511911110003', 'Oi!');
SELECT count(*) AS queued FROM antiban.outbox WHERE recipient = '+5511911110003';

-- A savepoint rolled back drops only its own changes.
BEGIN;
SELECT antiban.set_marketing_opt_out('+5511911110004', '1001', true);
SAVEPOINT s1;
SELECT antiban.set_marketing_opt_out('+5511911110005', '1001', true);
SELECT antiban.open_service_window('+5511911110004', '1002');
ROLLBACK TO SAVEPOINT s1;
SELECT pg_temp.marketing('+5511911110004') AS kept, pg_temp.marketing('+5511911110005') AS dropped,
       pg_temp.reply('+5511911110004') AS window_dropped;
COMMIT;
SELECT pg_temp.marketing('+5511911110004') AS kept, pg_temp.marketing('+5511911110005') AS dropped,
       pg_temp.reply('+5511911110004') AS window_dropped;

-- A released savepoint hands its changes to the enclosing one, which may
-- still roll them back; nested, each level keeps what it should.
BEGIN;
SAVEPOINT outer_sp;
SAVEPOINT inner_sp;
SELECT antiban.set_marketing_opt_out('+5511911110006', '1001', true);
RELEASE SAVEPOINT inner_sp;
ROLLBACK TO SAVEPOINT outer_sp;
SAVEPOINT again;
SELECT antiban.set_marketing_opt_out('+5511911110007', '1001', true);
RELEASE SAVEPOINT again;
COMMIT;
SELECT pg_temp.marketing('+5511911110006') AS rolled_back_with_outer,
       pg_temp.marketing('+5511911110007') AS released_and_committed;

-- A PL/pgSQL exception block is a subtransaction too.
DO $$
BEGIN
    BEGIN
        PERFORM antiban.set_marketing_opt_out('+5511911110008', '1001', true);
        RAISE EXCEPTION 'the webhook was malformed after all';
    EXCEPTION WHEN raise_exception THEN
        NULL;
    END;
    PERFORM antiban.open_service_window('+5511911110008', '1002');
END
$$;
SELECT pg_temp.marketing('+5511911110008') AS not_opted_out, pg_temp.reply('+5511911110008') AS window_kept;

-- An error aborts the whole transaction: nothing it stated remains.
BEGIN;
SELECT antiban.set_marketing_opt_out('+5511911110009', '1001', true);
SELECT antiban.open_service_window('+5511911110009', '1002');
SELECT 1 / 0;
COMMIT;
SELECT pg_temp.marketing('+5511911110009') AS marketing, pg_temp.reply('+5511911110009') AS reply;

-- Templates sent at once inside a window this transaction opened still count
-- against the messaging limit (the send stays if the window is rolled back);
-- inside a committed window they do not.
SELECT used AS used_before FROM antiban.portfolio_usage;
BEGIN;
SELECT antiban.open_service_window('+5511911110010', '1002');
SELECT outcome FROM antiban.decide('+5511911110010', 'utility', from_number => '1002');
ROLLBACK;
SELECT antiban.open_service_window('+5511911110011', '1002');
SELECT outcome FROM antiban.decide('+5511911110011', 'utility', from_number => '1002');
SELECT used AS used_after FROM antiban.portfolio_usage;

-- On the real clock the stored row follows the transaction too.
RESET antiban.pinned_now;
SELECT antiban.set_marketing_opt_out('+5511911110012', '1001', true);
BEGIN;
SELECT antiban.set_marketing_opt_out('+5511911110012', '1001', false);
SELECT antiban.open_service_window('+5511911110012', '1002') > now() AS window_opened;
SELECT antiban.set_marketing_opt_out('+5511911110013', '1001', true);
ROLLBACK;
SELECT recipient, marketing_opt_out, window_until FROM antiban.recipient_facts ORDER BY recipient;
SELECT reason AS marketing_reason FROM antiban.decide('+5511911110012', 'marketing', from_number => '1001', consume => false);
SELECT reason <> 'opted_out' AS not_opted_out FROM antiban.decide('+5511911110013', 'marketing', from_number => '1001', consume => false);
