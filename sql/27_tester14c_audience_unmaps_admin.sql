-- A mapped administrator (a tenant's admin) may create campaigns (it is a
-- member of antiban_app).  Its audience runs as itself, but grant_portfolio
-- and revoke_portfolio judge the outer user (my_portfolios(),
-- caller_role()): when an unmapped administrator plans the campaign, the
-- tenant admin's audience revokes its own last grant and the tenant admin
-- becomes an unmapped, global administrator.  Harmless when the tenant
-- admin plans it itself (my_portfolios() is not NULL then).
\i regress/fixture.sql
INSERT INTO antiban.portfolios (business_id, name) VALUES ('101', 'Other tenant');
INSERT INTO antiban.wabas (waba_id, portfolio_id, name) SELECT '300', id, 'Other' FROM antiban.portfolios WHERE business_id = '101';
INSERT INTO antiban.numbers (phone_number_id, waba_id, display_phone_number, health)
SELECT '3001', w.id, '+55 21 90000-3001', 95 FROM antiban.wabas w WHERE w.waba_id = '300';
INSERT INTO antiban.templates (waba_id, name, language, status, category, components)
SELECT w.id, 'promo', 'pt_BR', 'APPROVED', 'MARKETING', '[{"type": "BODY", "text": "Oi"}]' FROM antiban.wabas w;
SELECT antiban.reload_config() IS NULL AS reloaded;
SET client_min_messages = warning;
DROP ROLE IF EXISTS t14c_admin_a, t14c_gadmin;
RESET client_min_messages;
CREATE ROLE t14c_admin_a LOGIN IN ROLE antiban_admin;
CREATE ROLE t14c_gadmin LOGIN IN ROLE antiban_admin;
SELECT antiban.grant_portfolio('t14c_admin_a', '100') AS mapped;
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'done';
EXCEPTION WHEN insufficient_privilege OR undefined_object OR invalid_parameter_value THEN
    RETURN 'refused';
END
$$;
SET ROLE t14c_admin_a;
SELECT antiban.create_campaign('spring', 'promo', 'pt_BR',
    $q$SELECT v.phone FROM (VALUES ('+5511987650001')) v(phone)
       WHERE (SELECT antiban.my_portfolios()) IS NULL AND antiban.revoke_portfolio('t14c_admin_a', '100')$q$,
    recipient_column => 'phone', portfolio => '100') > 0 AS created;
SELECT pg_temp.try($$SELECT antiban.plan_campaign((SELECT id FROM antiban.campaigns WHERE name = 'spring'))$$) AS planned_by_creator;
RESET ROLE;
SET ROLE t14c_gadmin;
SELECT pg_temp.try($$SELECT antiban.plan_campaign((SELECT id FROM antiban.campaigns WHERE name = 'spring'))$$) IN ('done', 'refused') AS planned_by_global_admin;
RESET ROLE;
-- the tenant admin is still mapped, to portfolio 100 alone
SELECT portfolio_id = (SELECT id FROM antiban.portfolios WHERE business_id = '100') AS grant_kept
FROM antiban.role_portfolios WHERE role = 't14c_admin_a';
SET ROLE t14c_admin_a;
SELECT antiban.my_portfolios() IS NOT NULL AS still_restricted;
SELECT count(*) AS other_portfolio_seen FROM antiban.portfolios WHERE business_id = '101';
RESET ROLE;
DELETE FROM antiban.campaign_events;
DELETE FROM antiban.campaigns;
DROP ROLE t14c_admin_a, t14c_gadmin;
