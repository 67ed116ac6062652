-- An administrator mapped to portfolios (a tenant's administrator) is
-- scoped in every admin function that names something a portfolio owns,
-- is refused what belongs to the whole install, and cannot widen its own
-- scope: the mapping changes only through grant_portfolio/revoke_portfolio,
-- which keep it to its own portfolios' tenant roles.  An unmapped
-- administrator stays global (22_tester14b_mapped_admin has the first cases).
\i regress/fixture.sql
INSERT INTO antiban.portfolios (business_id, name) VALUES ('101', 'Other tenant');
INSERT INTO antiban.wabas (waba_id, portfolio_id, name) SELECT '300', id, 'Other' FROM antiban.portfolios WHERE business_id = '101';
INSERT INTO antiban.numbers (phone_number_id, waba_id, display_phone_number, health)
SELECT '3001', w.id, '+55 21 90000-3001', 95 FROM antiban.wabas w WHERE w.waba_id = '300';
SELECT id AS p100 FROM antiban.portfolios WHERE business_id = '100' \gset
SELECT id AS p101 FROM antiban.portfolios WHERE business_id = '101' \gset
SELECT id AS default_model FROM antiban.lead_models WHERE portfolio_id IS NULL AND active \gset
INSERT INTO antiban.agents (portfolio_id, name) VALUES (:p100, 'Ana of 100') RETURNING id AS agent_100 \gset
SET client_min_messages = warning;
DROP ROLE IF EXISTS scope_admin_b, scope_admin_g, scope_app_a, scope_app_b, scope_app_new, scope_group_b;
RESET client_min_messages;
CREATE ROLE scope_admin_b LOGIN IN ROLE antiban_admin;
CREATE ROLE scope_admin_g LOGIN IN ROLE antiban_admin;
CREATE ROLE scope_app_a LOGIN IN ROLE antiban_app;
CREATE ROLE scope_app_b LOGIN IN ROLE antiban_app;
CREATE ROLE scope_app_new LOGIN IN ROLE antiban_app;
-- a group with a member of another portfolio
CREATE ROLE scope_group_b IN ROLE antiban_app;
GRANT scope_group_b TO scope_app_a;
SELECT antiban.grant_portfolio('scope_admin_b', '101') AND antiban.grant_portfolio('scope_app_b', '101')
   AND antiban.grant_portfolio('scope_app_a', '100') AS mapped;
-- the SQLSTATE of a statement, or done
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'done';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END
$$;

-- no role but a superuser writes the mapping directly, mapped or not
SET ROLE scope_admin_g;
SELECT pg_temp.try($$INSERT INTO antiban.role_portfolio_grants (role, portfolio_id) VALUES ('scope_app_new', $$ || :p101 || $$)$$) AS unmapped_insert,
       pg_temp.try($$DELETE FROM antiban.role_portfolio_grants$$) AS unmapped_delete;
SET ROLE scope_admin_b;
SELECT pg_temp.try($$DELETE FROM antiban.role_portfolio_grants WHERE role = 'scope_admin_b'::regrole$$) AS own_row_delete,
       pg_temp.try($$INSERT INTO antiban.role_portfolio_grants (role, portfolio_id) VALUES ('scope_admin_b', $$ || :p100 || $$)$$) AS own_row_insert;
-- its own mapping, another tenant's roles, admins and groups with outsiders: refused
SELECT pg_temp.try($$SELECT antiban.revoke_portfolio('scope_admin_b', '101')$$) AS revoke_own,
       pg_temp.try($$SELECT antiban.grant_portfolio('scope_admin_b', '101')$$) AS grant_own,
       pg_temp.try($$SELECT antiban.grant_portfolio('scope_admin_g', '101')$$) AS restrict_global_admin,
       pg_temp.try($$SELECT antiban.grant_portfolio('antiban_app', '101')$$) AS grant_to_every_app,
       pg_temp.try($$SELECT antiban.grant_portfolio('scope_app_a', '101')$$) AS grant_to_other_tenant,
       pg_temp.try($$SELECT antiban.grant_portfolio('scope_group_b', '101')$$) AS group_with_outsider,
       pg_temp.try($$SELECT antiban.grant_portfolio('scope_app_b', '100')$$) AS grant_other_portfolio;
SELECT antiban.revoke_portfolio('scope_app_a', '100') AS revoke_other_portfolio;
-- its own portfolio to an unmapped app (which sees nothing until then): granted and revoked
SELECT antiban.grant_portfolio('scope_app_new', '101') AS granted_new_app,
       antiban.revoke_portfolio('scope_app_new', '101') AS revoked_new_app;
SELECT antiban.my_portfolios() = ARRAY[:p101]::bigint[] AS still_only_101;
SELECT role FROM antiban.role_portfolios ORDER BY 1;
RESET ROLE;
SET ROLE scope_app_new;
SELECT antiban.my_portfolios() AS new_app_after_revoke;
RESET ROLE;
SELECT role, portfolio_id = :p100 AS of_100 FROM antiban.role_portfolios ORDER BY 1;

-- what another portfolio owns, or the whole install: refused (or unknown)
SET ROLE scope_admin_b;
SELECT pg_temp.try($$SELECT antiban.set_secret('app_secret', 'app-secret-of-everyone')$$) AS set_app_secret,
       pg_temp.try($$SELECT antiban.clear_secret('webhook_verify_token')$$) AS clear_verify_token,
       pg_temp.try($$SELECT antiban.release_mode('1001', 'not mine')$$) AS release_other_number,
       pg_temp.try($$SELECT antiban.lift_account_block('200', 'account_disabled', 'not mine')$$) AS lift_other_waba,
       pg_temp.try($$SELECT antiban.link_identifiers($$ || :p100 || $$, ARRAY['+5511987650009'], 'operator')$$) AS link_in_other;
SELECT pg_temp.try($$SELECT antiban.activate_lead_model($$ || :default_model || $$)$$) AS activate_default_model,
       pg_temp.try($$SELECT antiban.rescore_leads()$$) AS rescore_everyone,
       pg_temp.try($$SELECT antiban.rescore_leads($$ || :p100 || $$)$$) AS rescore_other,
       pg_temp.try($$SELECT antiban.train_lead_model()$$) AS train_default_model,
       pg_temp.try($$SELECT antiban.train_lead_model($$ || :p100 || $$)$$) AS train_other,
       pg_temp.try($$SELECT antiban.evaluate_health()$$) AS evaluate_every_number;
SELECT pg_temp.try($$SELECT antiban.set_working_hours($$ || :agent_100 || $$, '{}')$$) AS hours_of_other_agent,
       pg_temp.try($$SELECT antiban.set_agent_presence($$ || :agent_100 || $$, 'offline')$$) AS presence_of_other_agent,
       antiban.assign_queued(:p100) AS assigned_in_other,
       (SELECT count(*) FROM antiban.check_sla(:p100)) AS sla_moves_in_other;
-- its own: done
SELECT pg_temp.try($$SELECT antiban.set_secret('access_token', 'token-of-portfolio-101', '300')$$) AS set_own_token,
       pg_temp.try($$SELECT antiban.set_mode('3001', 'paused', 'mine')$$) AS pause_own_number,
       pg_temp.try($$SELECT antiban.release_mode('3001', 'mine')$$) AS release_own_number;
RESET ROLE;
SELECT count(*) FILTER (WHERE kind = 'app_secret') AS app_secrets,
       count(*) FILTER (WHERE kind = 'access_token') AS tokens FROM antiban.secrets_status;
SELECT phone_number_id, mode, mode_forced FROM antiban.numbers WHERE phone_number_id IN ('1001', '3001') ORDER BY 1;
SELECT count(*) AS persons_made_in_100 FROM antiban.person_ids WHERE key = '+5511987650009';
SELECT presence, (SELECT count(*) FROM antiban.agent_shifts WHERE agent_id = :agent_100) AS shifts
FROM antiban.agents WHERE id = :agent_100;

-- an unmapped administrator stays global
SET ROLE scope_admin_g;
SELECT antiban.my_portfolios() IS NULL AS unrestricted,
       pg_temp.try($$SELECT antiban.set_mode('1001', 'paused', 'global admin')$$) AS pause_any_number,
       pg_temp.try($$SELECT antiban.release_mode('1001', 'global admin')$$) AS release_any_number,
       pg_temp.try($$SELECT antiban.set_secret('app_secret', 'app-secret-of-everyone')$$) AS set_app_secret,
       pg_temp.try($$SELECT antiban.set_working_hours($$ || :agent_100 || $$, '{}')$$) AS hours_of_any_agent;
-- a tenant administrator's last portfolio does not go by itself (it would be
-- global): the unmapped admin makes it global only once it is no admin
SELECT antiban.grant_portfolio('scope_app_new', '100') AND antiban.revoke_portfolio('scope_app_new', '100') AS maps_anyone,
       pg_temp.try($$SELECT antiban.revoke_portfolio('scope_admin_b', '101')$$) AS unmaps_a_tenant_admin;
RESET ROLE;
SET ROLE scope_admin_b;
SELECT antiban.my_portfolios() IS NULL AS admin_b_now_global;
RESET ROLE;
REVOKE antiban_admin FROM scope_admin_b;
SET ROLE scope_admin_g;
SELECT antiban.revoke_portfolio('scope_admin_b', '101') AS unmaps_a_former_admin;
RESET ROLE;
DROP OWNED BY scope_admin_b, scope_admin_g, scope_app_a, scope_app_b, scope_app_new, scope_group_b;
DROP ROLE scope_admin_b, scope_admin_g, scope_app_a, scope_app_b, scope_app_new, scope_group_b;
