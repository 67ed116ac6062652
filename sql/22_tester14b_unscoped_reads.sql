-- A reader mapped to one portfolio must not see what belongs to another:
-- secrets_status names another portfolio's WABA (and its token's length),
-- event_order names another portfolio's WABAs, numbers and templates with the
-- times of their bans and quality changes, and portfolio_usage_raw() gives
-- another portfolio's unique users of the last 24 h.  README (Tenancy) says
-- these owner-rights views filter by the caller's portfolios themselves.
\i regress/fixture.sql
INSERT INTO antiban.portfolios (business_id, name) VALUES ('101', 'Other tenant');
INSERT INTO antiban.wabas (waba_id, portfolio_id, name) SELECT '300', id, 'Other' FROM antiban.portfolios WHERE business_id = '101';
INSERT INTO antiban.numbers (phone_number_id, waba_id, display_phone_number, health)
SELECT '3001', w.id, '+55 21 90000-3001', 95 FROM antiban.wabas w WHERE w.waba_id = '300';
SELECT antiban.set_secret('access_token', 'token-of-portfolio-100', '200') IS NOT NULL AS set_100,
       antiban.set_secret('access_token', 'token-of-portfolio-101', '300') IS NOT NULL AS set_101;
-- what webhooks record about portfolio 100 (antiban.claim_event_order's subjects)
INSERT INTO antiban.event_order (subject, event_at, applied_at) VALUES
    ('waba 200 ban', '2030-01-01', '2030-01-01'), ('number 1001 quality', '2030-01-01', '2030-01-01'),
    ('template 200 segredo pt_BR status', '2030-01-01', '2030-01-01');
SELECT antiban.send_template('+5511987650001', 'boas_vindas', 'pt_BR', portfolio => '100') IS NOT NULL AS queued_100;
SET client_min_messages = warning;
DROP ROLE IF EXISTS tester14b_reader;
RESET client_min_messages;
CREATE ROLE tester14b_reader LOGIN IN ROLE antiban_reader;
SELECT antiban.grant_portfolio('tester14b_reader', '101') AS granted;
SET ROLE tester14b_reader;
SELECT kind, waba_id FROM antiban.secrets_status ORDER BY 1, 2;
SELECT subject FROM antiban.event_order ORDER BY 1;
SELECT p.business_id FROM antiban.portfolio_usage_raw() u LEFT JOIN antiban.portfolios p ON p.id = u.portfolio_id
ORDER BY 1;
RESET ROLE;
DROP ROLE tester14b_reader;
