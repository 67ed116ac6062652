-- A campaign's audience runs as its creator, but inside plan_campaign and
-- start_campaign (SECURITY DEFINER, antiban_owner).  A plain SET made by the
-- audience (set_config(..., false)) outlives the function SET clauses that
-- pin search_path, so the rest of plan_campaign resolves names through the
-- creator's search_path.  With 'pg_temp' first, a type name such as date
-- (plan_campaign's finish_local::date) is the creator's temporary domain,
-- whose CHECK runs the creator's function as antiban_owner: it can read
-- antiban.secrets.  Needs nothing but antiban_app and the default TEMP right;
-- with a schema of its own the creator may also shadow functions (round()).
-- The audience must not change antiban's search_path, nor the caller's
-- session after the call.
\i regress/fixture.sql
SELECT antiban.set_secret('access_token', 'token-not-for-apps', '200') IS NOT NULL AS token_set;
INSERT INTO antiban.templates (waba_id, name, language, status, category, components)
SELECT id, 'promo', 'pt_BR', 'APPROVED', 'MARKETING', '[{"type": "BODY", "text": "Oi"}]' FROM antiban.wabas WHERE waba_id = '200';
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS tester14b_shop CASCADE;
DROP ROLE IF EXISTS tester14b_app;
RESET client_min_messages;
CREATE ROLE tester14b_app LOGIN IN ROLE antiban_app;
SET ROLE tester14b_app;
SHOW search_path;
-- 1. no privilege but TEMP: a temporary domain named date
CREATE TEMP TABLE ran_as (who name, secrets_read bigint);
GRANT INSERT ON ran_as TO PUBLIC;
CREATE FUNCTION pg_temp.note_caller(pg_catalog.date) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    BEGIN
        SELECT pg_catalog.count(*) INTO n FROM antiban.secrets;
    EXCEPTION WHEN insufficient_privilege THEN
        n := NULL;
    END;
    INSERT INTO pg_temp.ran_as VALUES (current_user, n);
    RETURN true;
END
$$;
CREATE DOMAIN pg_temp.date AS pg_catalog.date CHECK (pg_temp.note_caller(VALUE));
SELECT antiban.create_campaign('temp_domain', 'promo', 'pt_BR',
    $q$SELECT r.recipient FROM (VALUES ('+5511988887777')) r(recipient),
       (SELECT pg_catalog.set_config('search_path', 'pg_temp, pg_catalog, antiban', false)) s$q$) AS campaign \gset
SELECT audience, eligible FROM antiban.plan_campaign(:campaign);
-- the caller's session is as it was, and nothing ran as antiban_owner
SHOW search_path;
RESET search_path;
SELECT DISTINCT who, secrets_read FROM pg_temp.ran_as WHERE who <> current_user;
RESET ROLE;
-- 2. an application that keeps its audiences in a schema of its own
CREATE SCHEMA tester14b_shop AUTHORIZATION tester14b_app;
SET ROLE tester14b_app;
DROP DOMAIN pg_temp.date;
TRUNCATE pg_temp.ran_as;
CREATE FUNCTION tester14b_shop.round(numeric, integer) RETURNS numeric LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_temp.note_caller(CURRENT_DATE);
    RETURN pg_catalog.round($1, $2);
END
$$;
GRANT USAGE ON SCHEMA tester14b_shop TO PUBLIC;
SELECT antiban.create_campaign('own_schema', 'promo', 'pt_BR',
    $q$SELECT r.recipient FROM (VALUES ('+5511988887777')) r(recipient),
       (SELECT pg_catalog.set_config('search_path', 'tester14b_shop, pg_catalog', false)) s$q$) AS campaign \gset
SELECT audience, eligible FROM antiban.plan_campaign(:campaign);
SHOW search_path;
RESET search_path;
SELECT DISTINCT who, secrets_read FROM pg_temp.ran_as WHERE who <> current_user;
DISCARD TEMP;
RESET ROLE;
DROP SCHEMA tester14b_shop CASCADE;
DROP ROLE tester14b_app;
