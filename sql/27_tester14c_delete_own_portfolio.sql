-- A mapped administrator (a tenant's administrator) must not become an
-- unmapped, unrestricted one.  It may not revoke its own grant, but it has
-- DELETE on antiban.portfolios, wabas and numbers (its own rows under RLS):
-- deleting its own portfolio cascades to role_portfolio_grants (ON DELETE
-- CASCADE), its last grant goes, and it is then global: it sees and sets
-- the other tenant's access token.
\i regress/fixture.sql
INSERT INTO antiban.portfolios (business_id, name) VALUES ('101', 'Other tenant');
INSERT INTO antiban.wabas (waba_id, portfolio_id, name) SELECT '300', id, 'Other' FROM antiban.portfolios WHERE business_id = '101';
INSERT INTO antiban.numbers (phone_number_id, waba_id, display_phone_number, health)
SELECT '3001', w.id, '+55 21 90000-3001', 95 FROM antiban.wabas w WHERE w.waba_id = '300';
SELECT antiban.set_secret('access_token', 'token-of-portfolio-101', '300') IS NULL AS set_101;
SET client_min_messages = warning;
DROP ROLE IF EXISTS t14c_admin_a;
RESET client_min_messages;
CREATE ROLE t14c_admin_a LOGIN IN ROLE antiban_admin;
SELECT antiban.grant_portfolio('t14c_admin_a', '100') AS granted;
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'done';
EXCEPTION WHEN insufficient_privilege OR undefined_object OR foreign_key_violation OR restrict_violation
               OR raise_exception OR check_violation THEN
    RETURN 'refused';
END
$$;
SELECT updated_at AS token_at FROM antiban.secrets_status WHERE waba_id = '300' \gset
SET ROLE t14c_admin_a;
-- whether each delete is refused or not, the admin must stay a tenant's admin
SELECT pg_temp.try($$DELETE FROM antiban.numbers$$) IN ('done', 'refused') AS numbers_tried;
SELECT pg_temp.try($$DELETE FROM antiban.wabas$$) IN ('done', 'refused') AS wabas_tried;
SELECT pg_temp.try($$DELETE FROM antiban.portfolios$$) IN ('done', 'refused') AS portfolio_tried;
SELECT antiban.my_portfolios() IS NOT NULL AS still_restricted;
SELECT count(*) AS other_portfolio_seen FROM antiban.portfolios WHERE business_id = '101';
SELECT count(*) AS other_secret_seen FROM antiban.secrets_status WHERE waba_id = '300';
SELECT pg_temp.try($$SELECT antiban.set_secret('access_token', 'stolen-by-100', '300')$$) AS set_other_token;
RESET ROLE;
SELECT updated_at = :'token_at' AS other_token_untouched FROM antiban.secrets_status WHERE waba_id = '300';
DROP ROLE t14c_admin_a;
