-- The demo, part three: a campaign planned, then paced over the simulator.
-- 150 new leads plus three rows that must not get it: Bruno (he answered
-- PARE), a mistyped number, and Lead 1 again under another spelling.
\pset footer off
\echo
-- (the monitor syncs templates from the simulator; the demo does not wait for it)
INSERT INTO antiban.templates (waba_id, name, language, status, category)
SELECT w.id, 'oferta_cdb', 'pt_BR', 'APPROVED', 'MARKETING' FROM antiban.wabas w WHERE w.waba_id = '2000000001'
ON CONFLICT (waba_id, name, language) DO NOTHING;
CREATE TABLE demo_leads AS
SELECT '+552187' || lpad(i::text, 7, '0') AS phone, jsonb_build_array('Lead ' || i, '13% a.a.') AS params
FROM generate_series(1, 150) i
UNION ALL VALUES ('+5521900000002', '["Bruno", "13% a.a."]'::jsonb), ('21 not a phone', '["?", "13% a.a."]'),
                 ('+55 21 87000-0001', '["Lead 1 again", "13% a.a."]');
-- A window of five minutes from now (UTC), so that the demo shows a day's
-- pacing in seconds: the day's allowance (the budget less the reserve) over
-- five minutes, at most 10 a second (per_hour_cap).
SELECT least(date_trunc('minute', (now() AT TIME ZONE 'UTC')::time), '23:54')::time AS window_start \gset
\echo '== A campaign: the audience is a SELECT run with the caller''s rights; allowed from' :window_start 'UTC for five minutes'
SELECT antiban.create_campaign('cdb-dezembro', 'oferta_cdb', 'pt_BR',
    'SELECT phone AS recipient, params FROM demo_leads', params => 'params',
    window_start => :'window_start',
    window_end => CASE WHEN :'window_start' = '23:54' THEN '24:00' ELSE :'window_start'::time + interval '5 minutes' END,
    per_hour_cap => 36000, reserve => 0.2) AS campaign \gset
\echo '== Its plan (a dry run: the same decision send_template makes, for everyone in one call)'
SELECT audience, eligible, excluded, needs, budget, budget_left, numbers FROM antiban.plan_campaign(:campaign);
SELECT summary FROM antiban.plan_campaign(:campaign);
SELECT antiban.start_campaign(:campaign) AS state;
