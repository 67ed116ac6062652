-- A campaign's audience runs as its creator, but inside plan_campaign and
-- start_campaign (SECURITY DEFINER, antiban_owner).  A plain SET made by the
-- audience (set_config(..., false)) outlives the function SET clauses that
-- pin search_path, so the rest of plan_campaign resolves names through the
-- creator's search_path: a function the creator put in its own schema
-- (round(numeric, integer) here) then runs as antiban_owner and can read
-- antiban.secrets.  The audience must not be able to change antiban's
-- search_path, nor the caller's session after the call.
\i regress/fixture.sql
SELECT antiban.set_secret('access_token', 'token-not-for-apps', '200') IS NOT NULL AS token_set;
INSERT INTO antiban.templates (waba_id, name, language, status, category, components)
SELECT id, 'promo', 'pt_BR', 'APPROVED', 'MARKETING', '[{"type": "BODY", "text": "Oi"}]' FROM antiban.wabas WHERE waba_id = '200';
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS tester14b_shop CASCADE;
DROP ROLE IF EXISTS tester14b_app;
RESET client_min_messages;
CREATE ROLE tester14b_app LOGIN IN ROLE antiban_app;
-- an application keeps its audiences in a schema of its own
CREATE SCHEMA tester14b_shop AUTHORIZATION tester14b_app;
SET ROLE tester14b_app;
CREATE TABLE tester14b_shop.ran_as (who name, secrets_read bigint);
GRANT USAGE ON SCHEMA tester14b_shop TO PUBLIC;
GRANT INSERT ON tester14b_shop.ran_as TO PUBLIC;
CREATE FUNCTION tester14b_shop.round(numeric, integer) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    BEGIN
        SELECT pg_catalog.count(*) INTO n FROM antiban.secrets;
    EXCEPTION WHEN insufficient_privilege THEN
        n := NULL;
    END;
    INSERT INTO tester14b_shop.ran_as VALUES (current_user, n);
    RETURN pg_catalog.round($1, $2);
END
$$;
SHOW search_path;
SELECT antiban.create_campaign('c', 'promo', 'pt_BR',
    $q$SELECT r.recipient FROM (VALUES ('+5511988887777')) r(recipient),
       (SELECT pg_catalog.set_config('search_path', 'tester14b_shop, pg_catalog', false)) s$q$) AS campaign \gset
SELECT audience, eligible FROM antiban.plan_campaign(:campaign);
-- the caller's session is as it was, and nothing ran as antiban_owner
SHOW search_path;
RESET search_path;
SELECT who, secrets_read FROM tester14b_shop.ran_as WHERE who <> current_user;
RESET ROLE;
DROP SCHEMA tester14b_shop CASCADE;
DROP ROLE tester14b_app;
