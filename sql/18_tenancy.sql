-- Tenancy: two portfolios in one database. A role mapped to a portfolio
-- (antiban.role_portfolios) sends only from its numbers; a call that could
-- reach two portfolios without naming one is an error; a WABA without an
-- access token is out of rotation, with an alert.
\i regress/fixture.sql
INSERT INTO antiban.portfolios (business_id, name) VALUES ('101', 'Seguros BR');
INSERT INTO antiban.wabas (waba_id, portfolio_id, name) SELECT '300', id, 'Seguros' FROM antiban.portfolios WHERE business_id = '101';
INSERT INTO antiban.numbers (phone_number_id, waba_id, display_phone_number, health)
SELECT v.pid, w.id, v.display, 95 FROM antiban.wabas w,
    (VALUES ('3001', '+55 21 90000-3001'), ('3002', '+55 21 90000-3002')) AS v(pid, display) WHERE w.waba_id = '300';

SET client_min_messages = warning;
DROP ROLE IF EXISTS tenancy_app_a, tenancy_app_b, tenancy_analyst, tenancy_admin;
RESET client_min_messages;
CREATE ROLE tenancy_app_a LOGIN IN ROLE antiban_app;
CREATE ROLE tenancy_app_b LOGIN IN ROLE antiban_app;
CREATE ROLE tenancy_analyst LOGIN IN ROLE antiban_reader;
CREATE ROLE tenancy_admin LOGIN IN ROLE antiban_admin;

-- ==== 1. who may use what ====
SET ROLE tenancy_admin;
SELECT antiban.grant_portfolio('tenancy_app_a', '100') AS granted, antiban.grant_portfolio('tenancy_app_a', '100') AS again,
       antiban.grant_portfolio('tenancy_app_b', '101') AS b;
SELECT antiban.grant_portfolio('nobody_at_all', '100');
SELECT antiban.grant_portfolio('tenancy_app_a', '999');
SELECT role, p.business_id FROM antiban.role_portfolios r JOIN antiban.portfolios p ON p.id = r.portfolio_id ORDER BY 1, 2;
RESET ROLE;
SET ROLE tenancy_app_a;
SELECT p.business_id FROM antiban.portfolios p WHERE p.id = ANY (antiban.my_portfolios());
RESET ROLE;
SELECT antiban.my_portfolios() IS NULL AS superuser_unrestricted;

-- ==== 2. an unrestricted caller must say which portfolio ====
SELECT antiban.send_template('+5511987650001', 'boas_vindas', 'pt_BR');
SELECT outcome FROM antiban.decide('+5511987650001', 'utility', consume => false);
SELECT antiban.send_template('+5511987650001', 'boas_vindas', 'pt_BR', portfolio => '101') AS named \gset
SELECT antiban.send_template('+5511987650002', 'boas_vindas', 'pt_BR', from_number => '1002') AS pinned \gset
SELECT o.id = :named AS named, p.business_id, o.phone_number_id FROM antiban.outbox o JOIN antiban.portfolios p ON p.id = o.portfolio_id
WHERE o.id IN (:named, :pinned) ORDER BY o.id;

-- ==== 3. the app of portfolio 100 never reaches 101's numbers ====
SET ROLE tenancy_app_a;
SELECT antiban.send_template('+5511987650003', 'boas_vindas', 'pt_BR', from_number => '3001');
SELECT antiban.send_template('+5511987650003', 'boas_vindas', 'pt_BR', portfolio => '101');
SELECT outcome FROM antiban.decide('+5511987650003', 'utility', from_number => '3001', consume => false);
SELECT antiban.send_text('+5511987650003', 'oi', from_number => '3002');
SELECT antiban.mark_read('wamid.X', '3001');
-- without from_number: always its own portfolio's numbers (3001/3002 have the best health)
SELECT count(*) AS sends, count(*) FILTER (WHERE id IS NOT NULL) AS queued
FROM (SELECT antiban.send_template('+55119876510' || lpad(i::text, 2, '0'), 'boas_vindas', 'pt_BR', valid_until => NULL) AS id
      FROM generate_series(10, 29) i) s;
SELECT DISTINCT d.phone_number_id LIKE '100%' AS own_number
FROM generate_series(10, 29) i, antiban.decide('+55119876520' || lpad(i::text, 2, '0'), 'utility', consume => false) d;
RESET ROLE;
SELECT p.business_id, count(*) AS messages, bool_and(o.phone_number_id IS NULL OR o.phone_number_id LIKE '100%') AS own_numbers
FROM antiban.outbox o JOIN antiban.portfolios p ON p.id = o.portfolio_id
WHERE o.recipient LIKE '+55119876510%' GROUP BY 1;
SET ROLE tenancy_app_b;
SELECT antiban.send_template('+5511987653001', 'boas_vindas', 'pt_BR') AS b_sent \gset
RESET ROLE;
SELECT o.phone_number_id LIKE '300%' AS own_number FROM antiban.outbox o WHERE o.id = :b_sent;

-- ==== 4. a WABA without an access token is out of rotation, with an alert ====
SELECT antiban.set_secret('access_token', 'token-of-waba-200', '200');
SELECT outcome, reason, detail FROM antiban.decide('+5511987654001', 'utility', portfolio => '101', consume => false);
SELECT kind, waba_id, severity FROM antiban.alerts WHERE kind = 'no_access_token';
SELECT outcome, phone_number_id FROM antiban.decide('+5511987654001', 'utility', portfolio => '100', consume => false);
SELECT antiban.set_secret('access_token', 'token-of-waba-300', '300');
SELECT outcome, phone_number_id FROM antiban.decide('+5511987654001', 'utility', portfolio => '101', consume => false);

-- ==== 5. revoking the last grant lifts the restriction ====
SET ROLE tenancy_admin;
SELECT antiban.revoke_portfolio('tenancy_app_b', '101') AS revoked, antiban.revoke_portfolio('tenancy_app_b', '101') AS again;
RESET ROLE;
SET ROLE tenancy_app_b;
SELECT antiban.my_portfolios() IS NULL AS unrestricted;
RESET ROLE;
