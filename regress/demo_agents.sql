-- The demo's sales team (before the leads write in): two agents on
-- duty around the clock, the portfolio's routing with its defaults (a 15
-- minute first-response SLA, qualification at score 60).  Re-runnable.
INSERT INTO antiban.lead_routing (portfolio_id) SELECT id FROM antiban.portfolios ON CONFLICT DO NOTHING;
INSERT INTO antiban.agents (portfolio_id, name, languages, capacity, presence, tier)
SELECT p.id, a.name, '{pt,es}', 10, 'online', a.tier::antiban.agent_tier
FROM antiban.portfolios p, (VALUES ('Marina (senior)', 'senior'), ('Rafael', 'standard')) AS a(name, tier)
WHERE NOT EXISTS (SELECT 1 FROM antiban.agents g WHERE g.portfolio_id = p.id AND g.name = a.name);
