-- An administrator mapped to portfolios keeps at least one: its last grant
-- never goes by itself, also when it is mapped through a group (a grant to
-- a group maps its members).
\i regress/fixture.sql
SET client_min_messages = warning;
DROP ROLE IF EXISTS keep_group, keep_admin;
RESET client_min_messages;
CREATE ROLE keep_group NOLOGIN;
CREATE ROLE keep_admin LOGIN IN ROLE antiban_admin, keep_group;
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'done';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
SELECT antiban.grant_portfolio('keep_group', '100') AS group_mapped;
-- the group's grant is the admin's only one
SELECT pg_temp.try($$SELECT antiban.revoke_portfolio('keep_group', '100')$$) AS revoke_group;
SELECT count(*) AS grants_left FROM antiban.role_portfolio_grants;
-- mapped directly as well: the group's grant may go
SELECT antiban.grant_portfolio('keep_admin', '100') AS admin_mapped;
SELECT pg_temp.try($$SELECT antiban.revoke_portfolio('keep_group', '100')$$) AS revoke_group_now;
-- and once it is no administrator, its last grant too
REVOKE antiban_admin FROM keep_admin;
SELECT pg_temp.try($$SELECT antiban.revoke_portfolio('keep_admin', '100')$$) AS revoke_former_admin;
SELECT count(*) AS grants_left FROM antiban.role_portfolio_grants;
DROP ROLE keep_admin, keep_group;
