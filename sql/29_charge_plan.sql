-- Charging reads one key per message, whatever the plan.  The webhook path
-- runs with generic plans and no sequential scans (antiban.apply_webhooks);
-- its plan of antiban.charge_messages was once made while message_costs was
-- empty and read the whole key per message (an anti-join whose inner side
-- was not a probe, or a pass over the whole key): 640,000 entries for a batch
-- of 1,470 after 60,000 deliveries in bench/webhooks.sh, 4,102 for these 200
-- messages, growing with the table.  Counted on the key's own statistics.
\i regress/fixture.sql
-- a fresh install: the table vacuumed and analyzed while empty
VACUUM ANALYZE antiban.message_costs;
SET plan_cache_mode = force_generic_plan;
SET enable_seqscan = off;
-- 2,101 delivered marketing messages with Meta's pricing
INSERT INTO antiban.outbox (recipient, message_type, category, payload, state, not_before, number_id,
                            phone_number_id, portfolio_id, pricing_model, pricing_type, pricing_category)
SELECT '+55119' || lpad(i::text, 8, '0'), 'template', 'marketing', '{}', 'delivered', antiban.now(), n.id,
       n.phone_number_id, w.portfolio_id, 'PMP', 'regular', 'marketing'
FROM generate_series(1, 2101) i, antiban.numbers n JOIN antiban.wabas w ON w.id = n.waba_id
WHERE n.phone_number_id = '1002';
-- the first while nothing is charged (this session's plan is made now), then 2,000
SELECT antiban.charge_messages(ARRAY(SELECT id FROM antiban.outbox ORDER BY id LIMIT 1)) AS charged;
SELECT antiban.charge_messages(ARRAY(SELECT id FROM antiban.outbox ORDER BY id OFFSET 1 LIMIT 2000)) AS charged;
SELECT pg_stat_force_next_flush();
SELECT idx_tup_read AS read_before FROM pg_stat_user_indexes WHERE indexrelname = 'message_costs_pkey' \gset
-- 100 more, and again the 100 (charged already: nothing new)
SELECT antiban.charge_messages(ARRAY(SELECT id FROM antiban.outbox ORDER BY id OFFSET 2001 LIMIT 100)) AS charged;
SELECT antiban.charge_messages(ARRAY(SELECT id FROM antiban.outbox ORDER BY id OFFSET 2001 LIMIT 100)) AS charged;
SELECT pg_stat_force_next_flush();
SELECT idx_tup_read - :read_before <= 400 AS one_probe_per_message
FROM pg_stat_user_indexes WHERE indexrelname = 'message_costs_pkey';
SELECT count(*) AS costs, count(DISTINCT message_id) AS messages FROM antiban.message_costs;
RESET enable_seqscan;
RESET plan_cache_mode;
