-- Leads, agents, assignment policies, the queue and the first-response SLA.
\i regress/fixture.sql
-- 2030-01-01 is a Tuesday; 12:00 UTC is 09:00 in Sao Paulo, 12:00 in Lisbon.
SET antiban.pinned_now = '2030-01-01 12:00:00+00';
SET intervalstyle = 'postgres';

-- ---- agents, and what is refused ----
INSERT INTO antiban.agents (portfolio_id, name, languages, products, capacity, tier, presence, time_zone)
VALUES (1, 'Ana', '{pt}', '{}', 3, 'senior', 'online', 'America/Sao_Paulo'),
       (1, 'Bia', '{pt-BR,en}', '{}', 2, 'standard', 'online', 'America/Sao_Paulo'),
       (1, 'Caio', '{es}', '{cdb}', 1, 'junior', 'online', 'Europe/Lisbon'),
       (1, 'Duda', '{pt}', '{fii}', 2, 'standard', 'offline', 'America/Sao_Paulo');
SELECT antiban.set_working_hours(1, '{"mon-fri": "09:00-18:00"}');
SELECT antiban.set_working_hours(3, '{"mon-fri": ["09:00-13:00", "14:00-18:00"], "sat": "22:00-06:00"}');
SELECT agent_id, weekday, starts, ends FROM antiban.agent_shifts ORDER BY 1, 2, 3;

\set VERBOSITY terse
INSERT INTO antiban.agents (portfolio_id, name, capacity) VALUES (1, 'Eva', -1);
INSERT INTO antiban.agents (portfolio_id, name, languages) VALUES (1, 'Eva', '{}');
INSERT INTO antiban.agents (portfolio_id, name, time_zone) VALUES (1, 'Eva', 'Brazil/Recife');
INSERT INTO antiban.agents (portfolio_id, name, login_role) VALUES (1, 'Eva', 'no_such_role');
UPDATE antiban.agents SET time_zone = 'America/Sao Paulo' WHERE name = 'Ana';
INSERT INTO antiban.agents (portfolio_id, name) VALUES (999, 'Eva');
INSERT INTO antiban.agent_shifts VALUES (1, 7, '09:00', '10:00');
SELECT antiban.set_agent_presence(999, 'online');
SELECT antiban.set_agent_presence(1, NULL);
SELECT antiban.set_working_hours(999, '{}');
SELECT antiban.set_working_hours(1, '[]');
SELECT antiban.set_working_hours(1, '{"mon-fry": "09:00-18:00"}');
SELECT antiban.set_working_hours(1, '{"mon": "9-18"}');
SELECT antiban.set_working_hours(1, '{"mon": "24:00-02:00"}');
SELECT antiban.set_working_hours(1, '{"mon": 9}');
SELECT antiban.agent_on_shift(999);
SELECT antiban.business_deadline(999, antiban.now(), '15 minutes');
INSERT INTO antiban.lead_routing (portfolio_id, first_response_sla) VALUES (1, '0 minutes');
INSERT INTO antiban.lead_routing (portfolio_id, senior_score, standard_score) VALUES (1, 40, 60);
\set VERBOSITY default
-- a failed call changed nothing
SELECT count(*) AS shifts_of_ana FROM antiban.agent_shifts WHERE agent_id = 1;

-- ---- business hours, read in each agent's time zone ----
-- Tuesday 12:00 UTC: Ana (09:00 Sao Paulo) on; Caio (12:00 Lisbon) on; Bia has no shifts: always
SELECT name, antiban.agent_on_shift(id) FROM antiban.agents ORDER BY id;
-- Caio's lunch hour, and Sao Paulo's evening
SELECT antiban.agent_on_shift(3, '2030-01-01 13:30+00') AS caio_at_lunch,
       antiban.agent_on_shift(1, '2030-01-01 21:00+00') AS ana_at_18_local;
-- Friday 17:30 in Sao Paulo + 1 h of business time = Monday 09:30 (12:30 UTC)
SELECT antiban.business_deadline(1, '2030-01-04 20:30+00', '1 hour');
-- Caio's Saturday night shift crosses midnight: Saturday 23:00 Lisbon + 3 h = Sunday 02:00
SELECT antiban.business_deadline(3, '2030-01-05 23:00+00', '3 hours');
SELECT antiban.agent_on_shift(3, '2030-01-06 05:59+00') AS sunday_05_59, antiban.agent_on_shift(3, '2030-01-06 06:00+00') AS sunday_06_00;
-- a week of each: 45 h; 40 h + 8 h
SELECT antiban.business_time(1, '2030-01-06 00:00+00', '2030-01-13 00:00+00') AS ana_week,
       antiban.business_time(3, '2030-01-06 00:00+00', '2030-01-13 00:00+00') AS caio_week;
-- Daylight saving from PostgreSQL's tz database: Sao Paulo's last change
-- (2018-11-04, midnight became 01:00) and Lisbon's of 2024.  A Sunday shift
-- 00:00-08:00 lasted 7 h in Sao Paulo that day; one 00:00-04:00 in Lisbon 3 h
-- in March and 5 h in October, as PostgreSQL's own arithmetic agrees.
SELECT antiban.set_working_hours(4, '{"sun": "00:00-08:00"}');
SELECT antiban.business_time(4, '2018-11-03 00:00+00', '2018-11-05 00:00+00') AS sao_paulo_dst_sunday,
       ('2018-11-04 08:00'::timestamp AT TIME ZONE 'America/Sao_Paulo')
       - ('2018-11-04 00:00'::timestamp AT TIME ZONE 'America/Sao_Paulo') AS postgres_agrees;
SELECT antiban.business_deadline(4, '2018-11-04 02:30+00', '1 hour') AS an_hour_after_the_gap;
UPDATE antiban.agents SET time_zone = 'Europe/Lisbon' WHERE id = 4;
SELECT antiban.set_working_hours(4, '{"sun": "00:00-04:00"}');
SELECT antiban.business_time(4, '2024-03-30 00:00+00', '2024-04-01 00:00+00') AS lisbon_march,
       antiban.business_time(4, '2024-10-26 00:00+00', '2024-10-28 00:00+00') AS lisbon_october,
       ('2024-10-27 04:00'::timestamp AT TIME ZONE 'Europe/Lisbon')
       - ('2024-10-27 00:00'::timestamp AT TIME ZONE 'Europe/Lisbon') AS postgres_agrees;
UPDATE antiban.agents SET time_zone = 'America/Sao_Paulo' WHERE id = 4;
SELECT antiban.set_working_hours(4, '{}');

-- ---- a qualified lead is assigned at once, with one explanation row ----
INSERT INTO antiban.leads (portfolio_id, person_id, stage, score, language, source)
VALUES (1, 501, 'qualified', 82, 'pt', 'ctwa');
SELECT id, owner_agent_id, assigned_at, sla_due_at, queued_at FROM antiban.leads ORDER BY id;
SELECT lead_id, agent_id, cause, policy, explanation, open_leads, capacity, sla_due_at
FROM antiban.lead_assignments ORDER BY id;
-- leads that are not qualified wait for assign_lead(); its answer is explained
INSERT INTO antiban.leads (portfolio_id, person_id, stage, score, language)
VALUES (1, 502, 'new', 30, 'es'), (1, 503, 'engaged', 91, 'pt'), (1, 504, 'new', 55, NULL);
SELECT * FROM antiban.assign_lead(2);
SELECT * FROM antiban.assign_lead(3, policy => 'score_aware');
SELECT * FROM antiban.assign_lead(4, policy => 'round_robin');
-- asked again: it keeps its owner and says why it got it
SELECT * FROM antiban.assign_lead(4);

-- ---- no agent speaks the lead's language: it queues with that reason ----
INSERT INTO antiban.leads (portfolio_id, person_id, stage, score, language) VALUES (1, 505, 'qualified', 70, 'de');
SELECT id, owner_agent_id, queued_at, queue_reason FROM antiban.leads WHERE id = 5;
SELECT kind, detail FROM antiban.lead_events WHERE lead_id = 5 ORDER BY id;
-- ... products nobody who speaks the language covers ...
INSERT INTO antiban.leads (portfolio_id, stage, score, language, products) VALUES (1, 'new', 60, 'es', '{fii}');
SELECT * FROM antiban.assign_lead(6);
-- ... and when everybody who could is full
INSERT INTO antiban.leads (portfolio_id, stage, score, language)
VALUES (1, 'new', 40, 'pt'), (1, 'new', 45, 'pt'), (1, 'new', 35, 'pt');
SELECT * FROM antiban.assign_lead(7);
SELECT * FROM antiban.assign_lead(8);
SELECT * FROM antiban.assign_lead(9);
-- a hot lead four minutes later waits too, and goes first
SET antiban.pinned_now = '2030-01-01 12:04:00+00';
INSERT INTO antiban.leads (portfolio_id, stage, score, language) VALUES (1, 'qualified', 85, 'pt');
SELECT lead_id, score, queued_at, waiting, queue_reason, round(priority::numeric, 1) AS priority
FROM antiban.lead_queue ORDER BY priority DESC;
SELECT name, presence, on_shift, open_leads, capacity, room, unanswered, assigned_in_window
FROM antiban.agent_load ORDER BY agent_id;

-- ---- capacity frees: the queue drains, best first ----
SET antiban.pinned_now = '2030-01-01 12:05:00+00';
SELECT antiban.close_lead(4, 'lost');
SELECT id, owner_agent_id, queued_at, queue_reason FROM antiban.leads WHERE id IN (9, 10) ORDER BY id;
-- Duda comes online and takes the next one she can (not German, not Spanish)
SELECT antiban.set_agent_presence(4, 'online');
SELECT lead_id, queue_reason FROM antiban.lead_queue ORDER BY lead_id;
SELECT lead_id, agent_id, cause, explanation FROM antiban.lead_assignments WHERE lead_id IN (9, 10) ORDER BY id;
-- a drain with nothing that fits assigns nothing
SELECT antiban.assign_queued(1);

-- ---- the first-response SLA (15 minutes of the owner's business hours) ----
SELECT antiban.record_first_response(1, '2030-01-01 12:03:00+00');
SELECT antiban.record_first_response(1, '2030-01-01 12:04:00+00');
-- 12:19: leads 2, 3, 7 and 8 (assigned at 12:00) are overdue; 9 and 10 are not
SET antiban.pinned_now = '2030-01-01 12:19:00+00';
SELECT lead_id, owner_agent_id, state, time_left, misses FROM antiban.lead_sla ORDER BY lead_id;
SELECT * FROM antiban.check_sla() ORDER BY lead_id;
SELECT lead_id, agent_id, previous_agent_id, cause, sla_outcome, sla_due_at
FROM antiban.lead_assignments ORDER BY id;
SELECT severity, kind, subject, detail FROM antiban.alerts ORDER BY id;
SELECT lead_id, kind, agent_id, detail FROM antiban.lead_events WHERE kind IN ('sla_missed', 'reassigned') ORDER BY id;
-- a second check finds nothing new
SELECT * FROM antiban.check_sla();
-- a late first reply is missed, a reply in time for the new owner is met (recorded once they
-- have left: a reply in the future is refused)
SET antiban.pinned_now = '2030-01-01 12:25:00+00';
SELECT antiban.record_first_response(2, '2030-01-01 12:25:00+00');
SELECT antiban.record_first_response(7, '2030-01-01 12:21:00+00');
SET antiban.pinned_now = '2030-01-01 12:19:00+00';
SELECT lead_id, state, misses FROM antiban.lead_sla ORDER BY lead_id;
SELECT name, with_sla, met, missed, moved, running, met_rate FROM antiban.agent_sla ORDER BY agent_id;

-- ---- going offline moves unanswered leads to whoever can take them ----
UPDATE antiban.agents SET capacity = 3 WHERE name = 'Duda';
SELECT id, owner_agent_id, first_response_at IS NOT NULL AS answered
FROM antiban.leads WHERE closed_at IS NULL AND owner_agent_id = 2 ORDER BY id;
SELECT antiban.set_agent_presence(2, 'offline');
SELECT lead_id, agent_id, previous_agent_id, cause, explanation FROM antiban.lead_assignments WHERE cause = 'agent_offline';
SELECT lead_id, sla_outcome FROM antiban.lead_assignments WHERE lead_id = 10 ORDER BY id;

-- ---- a returning person goes back to their owner ----
SELECT antiban.close_lead(1, 'won', 250000);
SELECT id, stage, owner_agent_id, closed_at, value FROM antiban.leads WHERE id = 1;
INSERT INTO antiban.leads (portfolio_id, person_id, stage, score, language) VALUES (1, 501, 'new', 20, 'pt');
SELECT * FROM antiban.assign_lead(11);
-- reopening a closed lead makes it assignable again, to its owner
SELECT antiban.set_lead_stage(3, 'disqualified');
SELECT antiban.set_lead_stage(3, 'qualified');
SELECT id, stage, owner_agent_id, closed_at FROM antiban.leads WHERE id = 3;
SELECT lead_id, policy, explanation FROM antiban.lead_assignments WHERE lead_id = 3 ORDER BY id DESC LIMIT 1;
SELECT kind, stage, agent_id, detail FROM antiban.lead_events WHERE lead_id = 3 ORDER BY id;

-- ---- fairness limit per window ----
-- Ana has room again, but had her share of the window
UPDATE antiban.agents SET capacity = 10 WHERE name = 'Ana';
UPDATE antiban.lead_routing SET fairness_limit = 1 WHERE portfolio_id = 1;
INSERT INTO antiban.leads (portfolio_id, stage, score, language) VALUES (1, 'new', 50, 'pt');
SELECT * FROM antiban.assign_lead(12);
UPDATE antiban.lead_routing SET fairness_limit = NULL WHERE portfolio_id = 1;
UPDATE antiban.agents SET capacity = 3 WHERE name = 'Ana';
-- a stage written directly is logged and closes the lead (it leaves the queue)
UPDATE antiban.leads SET stage = 'lost' WHERE id = 12;
SELECT id, stage, closed_at, queued_at, queue_reason FROM antiban.leads WHERE id = 12;

-- ---- closing, and what a closed lead refuses ----
\set VERBOSITY terse
SELECT antiban.set_lead_stage(1, 'won');
SELECT antiban.set_lead_stage(1, 'hot');
SELECT antiban.set_lead_stage(999, 'new');
SELECT antiban.close_lead(1, 'maybe');
SELECT antiban.close_lead(4, 'won');
SELECT * FROM antiban.assign_lead(4);
SELECT * FROM antiban.assign_lead(999);
SELECT * FROM antiban.assign_lead(NULL);
SELECT antiban.assign_queued(1, 0);
SELECT antiban.record_first_response(999);
SELECT antiban.close_lead(8, 'won', -5);
UPDATE antiban.leads SET score = 101 WHERE id = 8;
INSERT INTO antiban.leads (portfolio_id, stage, closed_at) VALUES (1, 'new', antiban.now());
INSERT INTO antiban.leads (portfolio_id, stage) VALUES (1, 'open');
INSERT INTO antiban.leads (portfolio_id, products) VALUES (1, '{fii,NULL}');
\set VERBOSITY default
SELECT kind, stage, detail FROM antiban.lead_events WHERE lead_id = 1 ORDER BY id;

-- ---- presence is the agent's own, or an admin's ----
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_agent_ana') THEN CREATE ROLE regress_agent_ana; END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_agent_bia') THEN CREATE ROLE regress_agent_bia; END IF;
END $$;
UPDATE antiban.agents SET login_role = 'regress_agent_ana' WHERE id = 1;
UPDATE antiban.agents SET login_role = 'regress_agent_bia' WHERE id = 2;
-- (the grants antiban's roles file is to give agents' roles)
GRANT USAGE ON SCHEMA antiban TO regress_agent_ana, regress_agent_bia;
GRANT EXECUTE ON FUNCTION antiban.set_agent_presence(bigint, antiban.agent_presence)
    TO regress_agent_ana, regress_agent_bia, antiban_admin;
SET ROLE regress_agent_ana;
SELECT antiban.set_agent_presence(1, 'away');
SELECT antiban.set_agent_presence(2, 'away');
RESET ROLE;
SET ROLE antiban_admin;
SELECT antiban.set_agent_presence(2, 'away');
RESET ROLE;

SELECT name, presence, presence_since FROM antiban.agents WHERE id IN (1, 2) ORDER BY id;
REVOKE ALL ON FUNCTION antiban.set_agent_presence(bigint, antiban.agent_presence) FROM regress_agent_ana, regress_agent_bia;
REVOKE USAGE ON SCHEMA antiban FROM regress_agent_ana, regress_agent_bia;
UPDATE antiban.agents SET login_role = NULL;
DROP ROLE regress_agent_ana, regress_agent_bia;

-- every public function says what it does
SELECT p.proname FROM pg_proc p
WHERE p.pronamespace = 'antiban'::regnamespace AND obj_description(p.oid, 'pg_proc') IS NULL
  AND p.proname IN ('assign_lead', 'assign_queued', 'check_sla', 'set_agent_presence', 'set_lead_stage',
                    'close_lead', 'record_first_response', 'set_working_hours', 'agent_on_shift',
                    'business_deadline', 'business_time');
