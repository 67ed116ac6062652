-- README, "Leads: agents, assignment and SLA", run in its order on a new
-- portfolio: the UPDATE of antiban.lead_routing ("the row appears with
-- defaults on first use") finds no row yet (UPDATE 0), so the documented
-- policy score_aware, 10-minute SLA and fairness limit 40 are silently not
-- set, and the first assignment runs on the defaults (least_loaded, 15 min).
-- The example must take effect (a row per portfolio from the start, or an
-- example that writes it: INSERT ... ON CONFLICT DO UPDATE).
\i regress/fixture.sql
INSERT INTO antiban.agents (portfolio_id, name, languages, products, capacity, tier, time_zone, presence)
VALUES (1, 'Ana', '{pt}', '{}', 8, 'senior', 'America/Sao_Paulo', 'online'),
       (1, 'Caio', '{es,pt}', '{fii,cdb}', 5, 'junior', 'Europe/Lisbon', 'online');
SELECT count(*) AS shifts FROM antiban.set_working_hours(1, '{"mon-fri": "09:00-18:00"}');
UPDATE antiban.lead_routing SET policy = 'score_aware', first_response_sla = '10 minutes',
       fairness_limit = 40 WHERE portfolio_id = 1;   -- the row appears with defaults on first use
SELECT policy = 'score_aware' AND first_response_sla = '10 minutes' AND fairness_limit IS NOT DISTINCT FROM 40 AS example_took_effect
    FROM antiban.lead_routing_of(1);
