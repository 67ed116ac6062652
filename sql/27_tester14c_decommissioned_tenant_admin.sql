-- An unmapped administrator decommissions a tenant: it deletes the
-- tenant's numbers, WABA and portfolio.  role_portfolio_grants references
-- portfolios ON DELETE CASCADE, so the tenant's mapped administrator loses
-- its last grant and becomes an unmapped administrator: global, it sees
-- and changes every other tenant (its apps and readers fail closed, it
-- fails open).  Whether the delete is refused or not, the tenant's admin
-- must not gain any other portfolio.
\i regress/fixture.sql
INSERT INTO antiban.portfolios (business_id, name) VALUES ('101', 'Leaving tenant');
INSERT INTO antiban.wabas (waba_id, portfolio_id, name) SELECT '300', id, 'Other' FROM antiban.portfolios WHERE business_id = '101';
INSERT INTO antiban.numbers (phone_number_id, waba_id, display_phone_number, health)
SELECT '3001', w.id, '+55 21 90000-3001', 95 FROM antiban.wabas w WHERE w.waba_id = '300';
SELECT antiban.set_secret('access_token', 'token-of-portfolio-100', '200') IS NULL AS set_100;
SET client_min_messages = warning;
DROP ROLE IF EXISTS t14c_admin_b, t14c_gadmin;
RESET client_min_messages;
CREATE ROLE t14c_admin_b LOGIN IN ROLE antiban_admin;
CREATE ROLE t14c_gadmin LOGIN IN ROLE antiban_admin;
SELECT antiban.grant_portfolio('t14c_admin_b', '101') AS granted;
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'done';
EXCEPTION WHEN insufficient_privilege OR undefined_object OR foreign_key_violation OR restrict_violation
               OR raise_exception OR check_violation THEN
    RETURN 'refused';
END
$$;
SELECT updated_at AS token_at FROM antiban.secrets_status WHERE waba_id = '200' \gset
-- the global administrator removes tenant 101
SET ROLE t14c_gadmin;
SELECT antiban.my_portfolios() IS NULL AS gadmin_global;
SELECT pg_temp.try($$DELETE FROM antiban.numbers WHERE phone_number_id = '3001'$$) IN ('done', 'refused') AS numbers_tried;
SELECT pg_temp.try($$DELETE FROM antiban.wabas WHERE waba_id = '300'$$) IN ('done', 'refused') AS waba_tried;
SELECT pg_temp.try($$DELETE FROM antiban.portfolios WHERE business_id = '101'$$) IN ('done', 'refused') AS portfolio_tried;
RESET ROLE;
-- tenant 101's administrator gains nothing
SET ROLE t14c_admin_b;
SELECT antiban.my_portfolios() IS NOT NULL AS still_restricted;
SELECT count(*) AS portfolio_100_seen FROM antiban.portfolios WHERE business_id = '100';
SELECT count(*) AS token_100_seen FROM antiban.secrets_status WHERE waba_id = '200';
SELECT pg_temp.try($$SELECT antiban.set_secret('access_token', 'stolen-by-101', '200')$$) AS set_token_100;
SELECT pg_temp.try($$SELECT antiban.set_mode('1001', 'paused', 'not mine')$$) AS pause_number_100;
RESET ROLE;
SELECT updated_at = :'token_at' AS token_100_untouched FROM antiban.secrets_status WHERE waba_id = '200';
SELECT mode <> 'paused' AS number_100_not_paused FROM antiban.numbers WHERE phone_number_id = '1001';
DROP ROLE t14c_admin_b, t14c_gadmin;
