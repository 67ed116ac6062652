-- A campaign's audience runs as its creator (audience_run switches the
-- current user), but antiban's tenancy checks judge the outer user
-- (my_portfolios(), may_use_portfolio(): GetOuterUserId), which stays the
-- role that plans the campaign.  An app of portfolio 100 stores an audience
-- that calls antiban.cancel(<a message of portfolio 101>) only when
-- my_portfolios() is NULL: when an unmapped administrator plans it, the
-- app's code runs with that admin's scope and cancels another tenant's
-- message.  The audience must be judged as its creator, whoever plans it.
\i regress/fixture.sql
INSERT INTO antiban.portfolios (business_id, name) VALUES ('101', 'Other tenant');
INSERT INTO antiban.wabas (waba_id, portfolio_id, name) SELECT '300', id, 'Other' FROM antiban.portfolios WHERE business_id = '101';
INSERT INTO antiban.numbers (phone_number_id, waba_id, display_phone_number, health)
SELECT '3001', w.id, '+55 21 90000-3001', 95 FROM antiban.wabas w WHERE w.waba_id = '300';
INSERT INTO antiban.templates (waba_id, name, language, status, category, components)
SELECT w.id, 'promo', 'pt_BR', 'APPROVED', 'MARKETING', '[{"type": "BODY", "text": "Oi"}]' FROM antiban.wabas w;
SELECT antiban.reload_config() IS NULL AS reloaded;
SET client_min_messages = warning;
DROP ROLE IF EXISTS t14c_app_a, t14c_app_b, t14c_gadmin;
RESET client_min_messages;
CREATE ROLE t14c_app_a LOGIN IN ROLE antiban_app;
CREATE ROLE t14c_app_b LOGIN IN ROLE antiban_app;
CREATE ROLE t14c_gadmin LOGIN IN ROLE antiban_admin;
SELECT antiban.grant_portfolio('t14c_app_a', '100') AND antiban.grant_portfolio('t14c_app_b', '101') AS mapped;
-- a template message of portfolio 101, queued
SET ROLE t14c_app_b;
SELECT antiban.send_template('+5521987650101', 'promo', 'pt_BR', from_number => '3001') AS msg_b \gset
RESET ROLE;
SELECT state AS state_before FROM antiban.outbox WHERE id = :msg_b;
-- app 100's audience: harmless when its creator runs it (my_portfolios() is {100})
SET ROLE t14c_app_a;
SELECT antiban.create_campaign('trojan', 'promo', 'pt_BR',
    format($q$SELECT v.phone FROM (VALUES ('+5511987650001')) v(phone)
              WHERE (SELECT antiban.my_portfolios()) IS NULL AND antiban.cancel(%s)$q$, :msg_b),
    recipient_column => 'phone', portfolio => '100') > 0 AS created;
SELECT audience FROM antiban.plan_campaign((SELECT id FROM antiban.campaigns WHERE name = 'trojan'));
RESET ROLE;
-- the global administrator plans it
SET ROLE t14c_gadmin;
SELECT audience FROM antiban.plan_campaign((SELECT id FROM antiban.campaigns WHERE name = 'trojan'));
RESET ROLE;
-- portfolio 101's message is still queued
SELECT state AS state_after FROM antiban.outbox WHERE id = :msg_b;
DROP OWNED BY t14c_app_a, t14c_app_b, t14c_gadmin;
DELETE FROM antiban.campaign_events;
DELETE FROM antiban.campaigns;
DROP ROLE t14c_app_a, t14c_app_b, t14c_gadmin;
