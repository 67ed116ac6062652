-- The demo, part three: what happened.
\pset footer off
\echo
\echo '== Outbox states (antiban.outbox_states)'
SELECT state, messages FROM antiban.outbox_states ORDER BY messages DESC;
\echo '== Messages per sending number, and the numbers now (in rotation: health above antiban.min_health and not paused)'
SELECT n.phone_number_id, count(o.sent_at) AS sent, n.mode, n.rate_factor, n.health,
       n.health > current_setting('antiban.min_health')::int AND n.mode <> 'paused' AS in_rotation
FROM antiban.numbers n LEFT JOIN antiban.outbox o USING (phone_number_id)
GROUP BY n.phone_number_id, n.mode, n.rate_factor, n.health ORDER BY 1;
\echo '== Errors met on the way (the last one per message), and where the message ended'
SELECT error_code, left(error_title, 50) AS error_title, state, count(*) FROM antiban.outbox
WHERE error_code IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 4 DESC LIMIT 6;
\echo '== Webhooks stored by the receiver and applied (antiban.webhook_events; lag: applied_at - received_at)'
SELECT status, count(*) AS posts, sum(updates) AS updates,
       round(1000 * percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM applied_at - received_at)))::int
           AS apply_lag_p99_ms
FROM antiban.webhook_events GROUP BY 1;
\echo '== What the messages cost: each delivered one charged once, at the rate card in force, in the WABA''s currency'
SELECT m.pricing_category AS category, m.pricing_type AS type, count(*) AS delivered,
       count(*) FILTER (WHERE m.charged) AS billed, m.currency, sum(m.cost) AS cost,
       max(m.card_effective) AS card, max(m.unit_price) AS unit_price
FROM antiban.message_costs m GROUP BY 1, 2, m.currency ORDER BY 1, 2;
SELECT count(*) FILTER (WHERE charged) AS messages_billed, currency, sum(cost) AS total_cost,
       count(*) FILTER (WHERE charged AND cost IS NULL) AS unpriced
FROM antiban.message_costs GROUP BY currency;
\echo '== Leads who wrote in: contacts, their 24 h window, marketing opt-out'
SELECT wa_id, profile_name, last_inbound_at + interval '24 hours' AS window_open_until, marketing_opt_out, opt_out_source FROM antiban.contacts ORDER BY id;
SELECT left(recipient, 14) AS recipient, message_type, state, reason FROM antiban.outbox
WHERE recipient IN ('+5521900000001', '+5521900000002') ORDER BY id;
\echo '== Health: score, mode and why (antiban.number_health; every change in antiban.health_events)'
SELECT phone_number_id, health, mode, rate_factor, left(change_reason, 80) AS why
FROM antiban.number_health ORDER BY 1;
\echo '== Alerts for a person'
SELECT severity, phone_number_id, kind, detail FROM antiban.alerts ORDER BY id;
\echo '== Time from queue to Meta (ms)'
SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - queued_at) * 1000)::numeric, 1) AS p50,
       round(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - queued_at) * 1000)::numeric, 1) AS p99
FROM antiban.outbox WHERE sent_at IS NOT NULL AND message_type = 'template';
\echo '== Shared memory (antiban.shared_memory(): on 4 kB pages every decision pays TLB misses; README, "Huge pages")'
SELECT pg_size_pretty(antiban_bytes) AS antiban_state, pg_size_pretty(page_bytes) AS page_size, huge_pages
FROM antiban.shared_memory();
