-- Maintenance with pg_cron: named jobs scheduled and removed, a real run
-- visible in antiban.maintenance_runs, retention (only old rows, in bounded
-- batches, old partitions dropped), daily rollups, lease housekeeping.
\i regress/fixture.sql
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
RESET client_min_messages;
SELECT antiban.set_secret('app_secret', 'app-secret-for-tests');
CREATE FUNCTION pg_temp.statuses(VARIADIC list text[]) RETURNS boolean LANGUAGE sql AS $$
    SELECT i.stored AND i.signature_valid AND NOT i.duplicate
    FROM (SELECT format('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000001","phone_number_id":"1001"},"statuses":[%s]}}]}]}',
                        array_to_string(list, ',')) AS b) x,
         LATERAL antiban.ingest_webhook(convert_to(x.b, 'UTF8'),
                     'sha256=' || encode(hmac(convert_to(x.b, 'UTF8'), 'app-secret-for-tests', 'sha256'), 'hex')) i
$$;
CREATE FUNCTION pg_temp.status(id bigint, status text, extra text DEFAULT '') RETURNS text LANGUAGE sql AS $$
    SELECT format('{"id":"wamid.M%s","status":"%s","timestamp":"1893456000","recipient_id":"%s","biz_opaque_callback_data":"%s"%s}',
                  o.id, $2, antiban.digits(o.recipient), o.id, $3)
    FROM antiban.outbox o WHERE o.id = $1
$$;

-- 1. Without pg_cron in the database: a clear error, and the view still works.
SELECT antiban.schedule_maintenance();
SELECT job_name, last_status FROM antiban.maintenance_runs ORDER BY 1;

-- 2. With it: named jobs, scheduled again without duplicates, then removed.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_cron;
RESET client_min_messages;
SELECT job_name, schedule FROM antiban.schedule_maintenance() ORDER BY 1;
SELECT count(*) AS scheduled_again FROM antiban.schedule_maintenance();
SELECT jobname, schedule, command, active FROM cron.job WHERE jobname LIKE 'antiban-%' ORDER BY jobname;
SELECT job_name, schedule, active, last_status, runs FROM antiban.maintenance_runs ORDER BY 1;

-- A real run: pg_cron starts antiban-leases at the next minute (at most ~2 min here).
CREATE FUNCTION pg_temp.wait_for_a_run(job text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. 240 LOOP
        IF EXISTS (SELECT 1 FROM antiban.maintenance_runs WHERE job_name = job AND last_end IS NOT NULL) THEN
            RETURN true;
        END IF;
        PERFORM pg_sleep(0.5);
    END LOOP;
    RETURN false;
END
$$;
SELECT pg_temp.wait_for_a_run('antiban-leases') AS ran;
SELECT job_name, last_status, last_message, runs >= 1 AS counted FROM antiban.maintenance_runs
WHERE job_name = 'antiban-leases';

SELECT antiban.unschedule_maintenance() AS removed;
SELECT count(*) AS left_behind FROM cron.job WHERE jobname LIKE 'antiban-%';
SELECT job_name, last_status FROM antiban.maintenance_runs ORDER BY 1;

-- 3. Leases: a message left in 'sending' is never requeued blindly; after
-- antiban.unconfirmed_grace it becomes unknown (antiban.on_unconfirmed).
SELECT antiban.send_template('+5511987650100', 'oferta', 'pt_BR', from_number => '1001') AS lost \gset
SELECT antiban.send_template('+5511987650101', 'oferta', 'pt_BR', from_number => '1001') AS busy \gset
UPDATE antiban.outbox SET state = 'sending', lease_until = antiban.now() - interval '1 second' WHERE id = :lost;
UPDATE antiban.outbox SET state = 'sending', lease_until = antiban.now() + interval '1 minute' WHERE id = :busy;
SELECT antiban.reconcile_unconfirmed();
SELECT id - :lost AS message, state, reason FROM antiban.outbox WHERE id IN (:lost, :busy) ORDER BY id;

-- 4. Rollups and retention.  On 2029-09-01 three messages: two delivered
-- (one read), one failed; on 2029-12-31 one more delivered.
SET antiban.pinned_now = '2029-09-01 15:00:00+00';
SELECT min(antiban.send_template('+55119876502' || i, 'oferta', 'pt_BR', from_number => '1001')) AS old_first
FROM generate_series(10, 12) i \gset
UPDATE antiban.outbox SET state = 'sending', attempts = attempts + 1 WHERE state = 'queued'; -- the sender POSTed them
SELECT pg_temp.statuses(pg_temp.status(:old_first, 'delivered', ',"pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing"}'),
                        pg_temp.status(:old_first + 1, 'read', ',"pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing"}'),
                        pg_temp.status(:old_first + 2, 'failed', ',"errors":[{"code":131049,"title":"ecosystem"}]'));
SET antiban.pinned_now = '2029-09-02 12:00:00+00';
-- (the days are found by index, never by reading the whole outbox: with
-- sequential scans made the last resort, the rollup makes none)
SELECT pg_stat_force_next_flush();
BEGIN;
SET LOCAL enable_seqscan = off;
SELECT antiban.roll_up_days() AS rows_rolled_up;
SELECT seq_scan AS outbox_read_whole FROM pg_stat_xact_all_tables WHERE relid = 'antiban.outbox'::regclass;
COMMIT;
SELECT day, phone_number_id, sent, delivered, read, failed, failed_by_code, billed, cost, currency, delivery_rate
FROM antiban.number_days ORDER BY day;

SET antiban.pinned_now = '2029-12-31 15:00:00+00';
SELECT antiban.send_template('+5511987650213', 'oferta', 'pt_BR', from_number => '1001') AS recent \gset
UPDATE antiban.outbox SET state = 'sending', attempts = attempts + 1 WHERE state = 'queued'; -- the sender POSTed them
SELECT pg_temp.statuses(pg_temp.status(:recent, 'delivered', ',"pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing"}'));

SET antiban.pinned_now = '2030-01-01 00:00:00+00';
-- old and new rows in the other tables (the decisions above put aside)
-- (every send above made one decision; the journal writer may still hold
-- some in a transaction not committed when flush_journal returns: wait)
DO $$
BEGIN
    FOR i IN 1..600 LOOP
        PERFORM antiban.flush_journal();
        EXIT WHEN (SELECT count(*) FROM antiban.decisions) >= (SELECT count(*) FROM antiban.outbox);
        PERFORM pg_sleep(0.1);
    END LOOP;
END
$$;
SELECT (SELECT count(*) FROM antiban.decisions) >= (SELECT count(*) FROM antiban.outbox) AS journal_flushed;
DELETE FROM antiban.decisions;
INSERT INTO antiban.decisions (decided_at, recipient, category, priority, outcome, reason, consumed, detail)
SELECT at, '+5511987650001', 'marketing', 'normal', 'SEND', 'test', true, 'retention test'
FROM generate_series(timestamptz '2029-09-01', '2029-12-31', interval '10 days') at;
INSERT INTO antiban.health_events (at, number_id, phone_number_id, health_before, health_after, mode_before, mode_after,
                                   factor_before, factor_after, reason)
SELECT at, 1, '1001', 90, 90, 'active', 'active', 1, 1, 'retention test'
FROM generate_series(timestamptz '2029-07-01', '2029-12-31', interval '1 month') at;
UPDATE antiban.webhook_events SET received_at = antiban.now() - interval '40 days' WHERE id <= 2;
SELECT 'decisions' AS t, count(*) FROM antiban.decisions
UNION ALL SELECT 'health_events', count(*) FROM antiban.health_events
UNION ALL SELECT 'webhook_events', count(*) FROM antiban.webhook_events
UNION ALL SELECT 'outbox', count(*) FROM antiban.outbox;
-- bounded runs: at most 3 rows per table, deleted 2 at a time
UPDATE antiban.settings SET value = '2' WHERE name = 'retention.batch_rows';
UPDATE antiban.settings SET value = '3' WHERE name = 'retention.max_rows_per_run';
SELECT what, cutoff, deleted, partitions_dropped FROM antiban.apply_retention() ORDER BY what;
SELECT what, deleted FROM antiban.apply_retention() ORDER BY what;
SELECT what, deleted FROM antiban.apply_retention() ORDER BY what;
-- what is left: only rows younger than their retention, and the old failed message
SELECT 'decisions' AS t, count(*), min(decided_at) AS oldest FROM antiban.decisions
UNION ALL SELECT 'health_events', count(*), min(at) FROM antiban.health_events
UNION ALL SELECT 'webhook_events', count(*), min(received_at) FROM antiban.webhook_events;
SELECT id - :old_first AS message, state FROM antiban.outbox WHERE id >= :old_first ORDER BY id;
-- costs and rollups outlive the rows they came from; old days are not recounted
SELECT count(*) AS costs_kept FROM antiban.message_costs;
SELECT antiban.roll_up_days('2029-09-01', '2030-01-02') AS rows_rolled_up;
SELECT day, sent, delivered, read, failed, billed, cost FROM antiban.number_days ORDER BY day;

-- 5. A partitioned table: whole old partitions are dropped, the rest deleted by row.
CREATE SCHEMA retention_test;
CREATE TABLE retention_test.events (at timestamptz NOT NULL, note text) PARTITION BY RANGE (at);
CREATE TABLE retention_test.events_2029_09 PARTITION OF retention_test.events FOR VALUES FROM ('2029-09-01') TO ('2029-10-01');
CREATE TABLE retention_test.events_2029_10 PARTITION OF retention_test.events FOR VALUES FROM ('2029-10-01') TO ('2029-11-01');
CREATE TABLE retention_test.events_2029_11 PARTITION OF retention_test.events FOR VALUES FROM ('2029-11-01') TO ('2029-12-01');
CREATE TABLE retention_test.events_rest PARTITION OF retention_test.events DEFAULT;
INSERT INTO retention_test.events SELECT at, 'x' FROM generate_series(timestamptz '2029-09-15', '2029-12-15', interval '5 days') at;
SELECT * FROM antiban.delete_old_rows('retention_test.events', 'at', '2029-11-15', max_rows => 100);
SELECT tableoid::regclass AS partition, count(*), min(at) AS oldest FROM retention_test.events GROUP BY 1 ORDER BY 1;
-- with an extra condition old partitions are kept whole and only matching rows go
SELECT * FROM antiban.delete_old_rows('retention_test.events', 'at', '2030-01-01', $$note = 'y'$$);
DROP SCHEMA retention_test CASCADE;

-- Alerts come from antiban only: a NOTIFY payload is believed when it names
-- antiban's own alert row and says what the row says.
SELECT antiban.raise_alert('warning', NULL, 'probe_alert', 'a genuine alert') IS NOT NULL AS raised;
SELECT (antiban.genuine_alert(antiban.alert_payload(a))).kind AS genuine
FROM antiban.alerts a WHERE a.kind = 'probe_alert';
SELECT antiban.genuine_alert(jsonb_set(antiban.alert_payload(a)::jsonb, '{detail}', '"pay to this account"')::text) IS NULL AS changed_detail,
       antiban.genuine_alert(replace(antiban.alert_payload(a), format('"id" : %s', a.id), '"id" : 999999')) IS NULL AS unknown_id,
       antiban.genuine_alert('{"id": "1; DROP TABLE x", "kind": "probe_alert"}') IS NULL AS bad_id,
       antiban.genuine_alert('not json') IS NULL AS not_json,
       antiban.genuine_alert('[1]') IS NULL AS not_object,
       antiban.genuine_alert(NULL) IS NULL AS nothing
FROM antiban.alerts a WHERE a.kind = 'probe_alert';
