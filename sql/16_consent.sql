-- Consent and contact policy: the consent registry (opt-ins with their
-- source and proof, opt-outs with their channel, one state per person that
-- decide(), antiban.consent and antiban.contacts agree on), opt-in required
-- for marketing, frequency caps, quiet hours in the recipient's local time,
-- and a person's data exported or erased on request.
\i regress/fixture.sql
UPDATE antiban.numbers SET rate_override = 1000, burst_override = 1000;
CREATE FUNCTION pg_temp.decide(who text, category text DEFAULT 'marketing', caps text DEFAULT NULL)
RETURNS text LANGUAGE sql AS $$
    SELECT outcome || ' ' || reason || coalesce(' until ' || not_before::text, '')
    FROM antiban.decide(who, category, from_number => '1001', consume => false, frequency_caps => caps)
$$;
CREATE FUNCTION pg_temp.send(who text, category text DEFAULT 'marketing') RETURNS text LANGUAGE sql AS $$
    SELECT outcome || ' ' || reason || coalesce(' until ' || not_before::text, '')
    FROM antiban.decide(who, category, from_number => '1001')
$$;
-- Decisions reach antiban.decisions behind the hot path: wait until this
-- many for the recipient are stored (the journal writer may hold some in a
-- transaction that has not committed yet when flush_journal returns).
CREATE FUNCTION pg_temp.decisions_stored(who text, n integer) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..600 LOOP
        PERFORM antiban.flush_journal();
        EXIT WHEN (SELECT count(*) FROM antiban.decisions d WHERE d.recipient = who) >= n;
        PERFORM pg_sleep(0.1);
    END LOOP;
    RETURN (SELECT count(*) = n FROM antiban.decisions d WHERE d.recipient = who);
END
$$;
CREATE FUNCTION pg_temp.consent(who text) RETURNS text LANGUAGE sql AS $$
    SELECT c.state || ' via ' || coalesce(c.channel, '-')
           || coalesce(' (opt-in: ' || c.opt_in_source || ', ' || c.opt_in_proof || ')', '')
    FROM antiban.consent c
    WHERE c.person_id = antiban.person_id((SELECT id FROM antiban.portfolios), who)
$$;

-- ---- the registry: bad input ----
SELECT antiban.record_opt_in('+5511911120001', '1001', 'billboard', 'seen on a wall');
SELECT antiban.record_opt_in('+5511911120001', '1001', 'form', NULL);
SELECT antiban.record_opt_in('+5511911120001', '1001', 'form', '   ');
SELECT antiban.record_opt_in('+5511911120001', '1001', 'form', 'https://example.com/f v1', purpose => 'utility');
SELECT antiban.record_opt_in('+5511911120001', '9999', 'form', 'https://example.com/f v1');
SELECT antiban.record_opt_in('not a number', '1001', 'form', 'https://example.com/f v1');
SELECT antiban.set_marketing_opt_out('+5511911120001', '1001', true, NULL, 'carrier pigeon');
SELECT count(*) AS nothing_recorded FROM antiban.consent_events;

-- ---- opt-in required for marketing ----
SET antiban.require_marketing_opt_in = on;
SELECT pg_temp.decide('+5511911120001') AS no_opt_in,
       pg_temp.decide('+5511911120001', 'utility') AS utility_goes,
       pg_temp.decide('+5511911120001', 'authentication') AS authentication_goes;
-- an opt-in rolled back never happened; the transaction itself sees it
BEGIN;
SELECT antiban.record_opt_in('+5511911120001', '1001', 'form', 'https://example.com/f v1') > 0 AS recorded;
SELECT pg_temp.decide('+5511911120001') AS inside;
ROLLBACK;
SELECT pg_temp.decide('+5511911120001') AS after_rollback, pg_temp.consent('+5511911120001') AS registry,
       (SELECT count(*) FROM antiban.consent_events) AS events;
-- committed: marketing goes
SELECT antiban.record_opt_in('+5511911120001', '1001', 'form', 'https://example.com/f v1',
                             at => '2029-12-31 12:00+00') > 0 AS recorded;
SELECT pg_temp.decide('+5511911120001') AS opted_in, pg_temp.consent('+5511911120001') AS registry;
-- the nine-digit and eight-digit forms of a Brazilian mobile are one person
SELECT pg_temp.decide('+551111120001') AS not_the_same_line, pg_temp.decide('+5511911120001') AS same;
-- a stop ends it; a resume does not bring the opt-in back; a new opt-in does
SELECT antiban.set_marketing_opt_out('+5511911120001', '1001', true);
SELECT pg_temp.decide('+5511911120001') AS stopped, pg_temp.consent('+5511911120001') AS registry;
SELECT antiban.set_marketing_opt_out('+5511911120001', '1001', false);
SELECT pg_temp.decide('+5511911120001') AS resumed, pg_temp.consent('+5511911120001') AS registry;
-- (a second later: on a pinned clock a stop and an opt-in at the same instant tie, and the stop wins)
SET antiban.pinned_now = '2030-01-01 00:00:01+00';
SELECT antiban.record_opt_in('+5511911120001', '1001', 'inbound_message', 'wamid.HBgM-opt-in') > 0 AS recorded;
SELECT pg_temp.decide('+5511911120001') AS opted_in_again, pg_temp.consent('+5511911120001') AS registry;
-- an opt-in older than the stop in force, arriving late, changes nothing
SELECT antiban.set_marketing_opt_out('+5511911120001', '1001', true);
SELECT antiban.record_opt_in('+5511911120001', '1001', 'import', 'crm export 2029-06', at => '2029-06-01 00:00+00') > 0;
SELECT pg_temp.decide('+5511911120001') AS still_stopped, pg_temp.consent('+5511911120001') AS registry;
-- without the requirement, a resumed person gets marketing
SELECT antiban.set_marketing_opt_out('+5511911120001', '1001', false);
RESET antiban.require_marketing_opt_in;
SELECT pg_temp.decide('+5511911120001') AS not_required;
SET antiban.pinned_now = '2030-01-01 00:00:00+00';
-- the history is every statement, in order, and stays as written
SELECT action, channel, proof, stated_at, as_of_now FROM antiban.consent_events ORDER BY id;
UPDATE antiban.consent_events SET proof = 'forged';
DELETE FROM antiban.consent_events;

-- ---- one source of truth: the contact follows the registry ----
INSERT INTO antiban.contacts (portfolio_id, person_id, wa_id, profile_name)
SELECT id, antiban.link_identifiers(id, ARRAY['+5511911120002'], 'inbound'), '5511911120002', 'Ana'
FROM antiban.portfolios;
SELECT antiban.set_marketing_opt_out('+5511911120002', '1001', true);
SELECT marketing_opt_out, opt_out_source, opt_out_at IS NOT NULL AS stop_seen FROM antiban.contacts WHERE wa_id = '5511911120002';
SELECT antiban.set_marketing_opt_out('+5511911120002', '1001', false);
-- decide, the registry and the contact say the same
SELECT pg_temp.decide('+5511911120002') AS decide, pg_temp.consent('+5511911120002') AS registry,
       (SELECT marketing_opt_out FROM antiban.contacts WHERE wa_id = '5511911120002') AS contact_opted_out;
-- and a rolled-back stop changes none of them
BEGIN;
SELECT antiban.set_marketing_opt_out('+5511911120002', '1001', true);
ROLLBACK;
SELECT pg_temp.decide('+5511911120002') AS decide, pg_temp.consent('+5511911120002') AS registry,
       (SELECT marketing_opt_out FROM antiban.contacts WHERE wa_id = '5511911120002') AS contact_opted_out;
-- a contact made after the person's stop starts from it
SELECT antiban.set_marketing_opt_out('+5511911120003', '1001', true);
INSERT INTO antiban.contacts (portfolio_id, person_id, wa_id)
SELECT id, antiban.person_id(id, '+5511911120003'), '5511911120003' FROM antiban.portfolios;
SELECT marketing_opt_out, opt_out_source FROM antiban.contacts WHERE wa_id = '5511911120003';
-- Meta's 131050 (the person stopped marketing) goes through the registry too
SELECT antiban.act_on_error((SELECT id FROM antiban.numbers WHERE phone_number_id = '1001'), NULL, 131050,
                            recipient => '+5511911120004') AS done;
SELECT pg_temp.decide('+5511911120004') AS decide, pg_temp.consent('+5511911120004') AS registry;
-- two persons found to be one: one consent, by the same rule
SELECT antiban.record_opt_in('+5511911120005', '1001', 'ad', 'ad 123, consent text v2') > 0;
SELECT antiban.set_marketing_opt_out('bsuid.BR.consent5', '1001', true);
SELECT antiban.link_identifiers(id, ARRAY['+5511911120005', 'bsuid.BR.consent5'], 'operator') > 0 AS linked
FROM antiban.portfolios;
SELECT count(*) AS one_state, min(state) AS state FROM antiban.consent
WHERE person_id IN (SELECT person_id FROM antiban.person_ids WHERE key IN ('+5511911120005', 'bsuid.BR.consent5'));
SELECT pg_temp.decide('+5511911120005') AS decide;

-- ---- frequency caps ----
SET antiban.frequency_caps = 'marketing=5/7d';
SET antiban.frequency_caps = 'marketing=2/7w';
SET antiban.frequency_caps = 'marketing=2/7d, utility=3/1d';
SHOW antiban.frequency_caps;
SELECT pg_temp.send('+5511911120010') AS first, pg_temp.send('+5511911120010') AS second;
SELECT pg_temp.decide('+5511911120010') AS third, pg_temp.decide('+5511911120010', 'utility') AS utility;
-- a campaign's own caps for one decision, and bad ones
SELECT pg_temp.decide('+5511911120010', caps => 'marketing=3/7d') AS campaign_allows_three,
       pg_temp.decide('+5511911120010', caps => 'marketing=1/30d') AS campaign_allows_one;
SELECT pg_temp.decide('+5511911120010', caps => 'marketing=two/7d');
-- the same person under another identifier is capped too
SELECT antiban.link_identifiers(id, ARRAY['+5511911120010', 'bsuid.BR.capped'], 'operator') > 0 AS linked
FROM antiban.portfolios;
SELECT pg_temp.decide('bsuid.BR.capped') AS capped_as_one_person;
-- a week after the first send, room again
SET antiban.pinned_now = '2030-01-08 00:00:00+00';
SELECT pg_temp.decide('+5511911120010') AS a_week_later;
SET antiban.pinned_now = '2030-01-01 00:00:00+00';
RESET antiban.frequency_caps;
SELECT pg_temp.decide('+5511911120010') AS no_caps;

-- ---- quiet hours, in the recipient's local time ----
SET antiban.quiet_hours = '21:00';
SET antiban.quiet_hours = '21:00-21:00';
SET antiban.default_time_zone = 'Mars/Olympus_Mons';
SET antiban.quiet_hours = '21:00-08:00';
-- 00:00 UTC: 21:00 in Sao Paulo (quiet until 08:00 there, 11:00 UTC), 20:00
-- in Manaus, 19:00 in Rio Branco
SELECT pg_temp.decide('+5511911120020') AS sao_paulo, pg_temp.decide('+5592911120020') AS manaus,
       pg_temp.decide('+5568911120020') AS rio_branco;
SELECT pg_temp.decide('+5511911120020', 'utility') AS utility_is_not_held;
-- a number that does not tell its zone: antiban.default_time_zone
SET antiban.default_time_zone = 'Europe/Lisbon';
SELECT pg_temp.decide('+12125550100') AS new_york_number_on_lisbon_time;
SET antiban.default_time_zone = 'Asia/Tokyo';
SELECT pg_temp.decide('+12125550100') AS on_tokyo_time;
-- the person's own zone, when known, wins over the number's (from commit on)
RESET antiban.default_time_zone;
SELECT antiban.set_person_time_zone('+5511911120022', '1001', 'Mars/Olympus_Mons');
BEGIN;
SELECT antiban.set_person_time_zone('+5511911120022', '1001', 'Asia/Tokyo');
SELECT pg_temp.decide('+5511911120022') AS inside;
ROLLBACK;
SELECT pg_temp.decide('+5511911120022') AS rolled_back;
SELECT antiban.set_person_time_zone('+5511911120022', '1001', 'Asia/Tokyo');
SELECT pg_temp.decide('+5511911120022') AS lives_in_tokyo;
SELECT antiban.set_person_time_zone('+5511911120022', '1001', NULL) IS NULL AS cleared;
SELECT pg_temp.decide('+5511911120022') AS by_the_number_again;
-- quiet hours and a frequency cap: the answer is when both admit it
SET antiban.frequency_caps = 'marketing=1/12h';
SET antiban.pinned_now = '2030-01-01 19:00:00+00';
SELECT pg_temp.send('+5511911120021') AS sent_at_16h_local;
SET antiban.pinned_now = '2030-01-01 20:00:00+00';
SELECT pg_temp.decide('+5511911120021') AS capped_until_04h_local_then_quiet;
SET antiban.pinned_now = '2030-01-01 00:00:00+00';
RESET antiban.frequency_caps;
RESET antiban.quiet_hours;
RESET antiban.default_time_zone;

-- ---- a person's data: export and erasure ----
SELECT antiban.export_person('+5511999999999', '1001');
SELECT antiban.export_person('+5511911120002', '9999');
SELECT antiban.export_person('', '1001');
SET antiban.pinned_now = '2030-01-01 00:00:02+00';
SELECT antiban.record_opt_in('+5511911120002', '1001', 'form', 'https://example.com/f v3') > 0;
SELECT antiban.send_template('+5511911120002', 'promo', 'pt_BR') > 0 AS queued;
INSERT INTO antiban.interactions (contact_id, direction, wamid, phone_number_id, message_type, body, payload, occurred_at)
SELECT id, 'in', 'wamid.consent-in-1', '1001', 'text', 'Quero saber mais', '{}', '2029-12-31 10:00+00'
FROM antiban.contacts WHERE wa_id = '5511911120002';
SELECT pg_temp.decisions_stored('+5511911120002', 3);
SELECT key, jsonb_typeof(value) AS kind, CASE jsonb_typeof(value) WHEN 'array' THEN jsonb_array_length(value) END AS n
FROM jsonb_each(antiban.export_person('+5511911120002', '1001'))
WHERE key NOT IN ('exported_at', 'portfolio_id', 'person_id')
ORDER BY key;
SELECT x -> 'contacts' -> 0 ->> 'profile_name' AS contact_name,
       x -> 'interactions' -> 0 ->> 'body' AS their_message,
       x -> 'messages' -> 0 -> 'payload' -> 'template' ->> 'name' AS our_message,
       x -> 'consent' -> 0 ->> 'opt_in_proof' AS proof,
       x -> 'identifiers' -> 0 ->> 'key' AS identifier
FROM antiban.export_person('+5511911120002', '1001') x;
SELECT antiban.erase_person('+5511911120002', '1001') - 'person_id';
-- only the opt-out is left, and decide honours it
SELECT pg_temp.decide('+5511911120002') AS decide, pg_temp.consent('+5511911120002') AS registry;
SELECT pg_temp.decisions_stored('+5511911120002', 1);
SELECT key, jsonb_typeof(value) AS kind, CASE jsonb_typeof(value) WHEN 'array' THEN jsonb_array_length(value) END AS n
FROM jsonb_each(antiban.export_person('+5511911120002', '1001'))
WHERE key NOT IN ('exported_at', 'portfolio_id', 'person_id')
ORDER BY key;
SELECT action, channel, proof FROM antiban.consent_events
WHERE person_id = antiban.person_id((SELECT id FROM antiban.portfolios), '+5511911120002') ORDER BY id;
SELECT state, recipient, payload FROM antiban.outbox WHERE payload = '{"erased": true}';
SET antiban.pinned_now = '2030-01-01 00:00:00+00';

-- ---- privileges: apps record opt-ins, only admins erase ----
SET ROLE antiban_app;
SELECT antiban.record_opt_in('+5511911120030', '1001', 'form', 'https://example.com/f v1') > 0 AS app_records_opt_in;
SELECT antiban.erase_person('+5511911120030', '1001');
SELECT antiban.export_person('+5511911120030', '1001');
SET ROLE antiban_admin;
SELECT antiban.export_person('+5511911120030', '1001') -> 'consent' -> 0 ->> 'state' AS admin_exports;
SELECT antiban.erase_person('+5511911120030', '1001') ->> 'consent_events_deleted' AS admin_erases;
SELECT DISTINCT c.state AS after_erasure FROM antiban.consent c JOIN antiban.consent_events e USING (person_id)
WHERE e.identifier = '+5511911120030';
UPDATE antiban.consent_events SET proof = NULL;
RESET ROLE;
