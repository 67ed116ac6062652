-- An administrator mapped to portfolios (a tenant's admin: RLS shows it its
-- portfolios only, grant_portfolio refuses another portfolio, requeue and
-- acknowledge_alert check it) must not act on another portfolio either: not
-- on its WABA's secrets, its numbers' modes, its persons (export, erasure),
-- and it must not escape its mapping by revoking its own last grant (an
-- unmapped admin is unrestricted).
\i regress/fixture.sql
INSERT INTO antiban.portfolios (business_id, name) VALUES ('101', 'Other tenant');
INSERT INTO antiban.wabas (waba_id, portfolio_id, name) SELECT '300', id, 'Other' FROM antiban.portfolios WHERE business_id = '101';
INSERT INTO antiban.numbers (phone_number_id, waba_id, display_phone_number, health)
SELECT '3001', w.id, '+55 21 90000-3001', 95 FROM antiban.wabas w WHERE w.waba_id = '300';
SELECT antiban.set_secret('access_token', 'token-of-portfolio-100', '200') IS NOT NULL AS set_100;
-- a person of portfolio 100, with a lead and a note
SELECT antiban.upsert_lead('+5511987650001', '1001') AS lead_100 \gset
SELECT antiban.add_lead_note(:lead_100, 'private note of portfolio 100') IS NOT NULL AS noted;
SET client_min_messages = warning;
DROP ROLE IF EXISTS tester14b_admin;
RESET client_min_messages;
CREATE ROLE tester14b_admin LOGIN IN ROLE antiban_admin;
SELECT antiban.grant_portfolio('tester14b_admin', '101') AS granted;
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'done';
EXCEPTION WHEN insufficient_privilege OR undefined_object OR no_data_found OR invalid_parameter_value THEN
    RETURN 'refused';
END
$$;
CREATE TEMP TABLE before AS
SELECT s.updated_at AS token_at, s.length AS token_length, n.mode, n.mode_since,
       (SELECT count(*) FROM antiban.leads WHERE id = :lead_100) AS leads
FROM antiban.numbers n LEFT JOIN antiban.secrets_status s ON s.waba_id = '200' WHERE n.phone_number_id = '1001';
GRANT SELECT ON before TO PUBLIC;
SET ROLE tester14b_admin;
SELECT business_id FROM antiban.portfolios ORDER BY 1;
-- refused: 42501, or the answer for a WABA, number or person that does not exist
SELECT pg_temp.try($$SELECT antiban.set_secret('access_token', 'replaced-by-101', '200')$$) AS set_other_token;
SELECT pg_temp.try($$SELECT antiban.clear_secret('access_token', '200')$$) AS clear_other_token;
SELECT pg_temp.try($$SELECT antiban.set_mode('1001', 'paused', 'not mine')$$) AS pause_other_number;
SELECT pg_temp.try($$SELECT antiban.start_warmup('1001', 'not mine', 10)$$) AS warm_other_number;
SELECT pg_temp.try($$SELECT antiban.export_person('+5511987650001', '1001')$$) AS export_other_person;
SELECT pg_temp.try($$SELECT antiban.erase_person('+5511987650001', '1001')$$) AS erase_other_person;
RESET ROLE;
SELECT b.token_length IS NOT DISTINCT FROM s.length AND b.token_at IS NOT DISTINCT FROM s.updated_at AS token_untouched,
       b.mode = n.mode AND b.mode_since IS NOT DISTINCT FROM n.mode_since AS mode_untouched,
       b.leads = (SELECT count(*) FROM antiban.leads WHERE id = :lead_100) AS lead_kept
FROM before b, antiban.numbers n LEFT JOIN antiban.secrets_status s ON s.waba_id = '200' WHERE n.phone_number_id = '1001';
-- revoking its own last portfolio must not make it an unrestricted administrator
SET ROLE tester14b_admin;
SELECT pg_temp.try($$SELECT antiban.revoke_portfolio('tester14b_admin', '101')$$) IN ('done', 'refused') AS revoked_or_refused;
SELECT antiban.my_portfolios() IS NOT NULL AS still_restricted;
SELECT count(*) AS portfolios_seen FROM antiban.portfolios WHERE business_id = '100';
RESET ROLE;
DROP ROLE tester14b_admin;
