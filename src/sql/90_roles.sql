-- Roles. They are cluster-wide, so they may exist from an earlier install.
-- antiban_owner is the identity of antiban's own code: the C adapters switch to
-- it to read and write internal tables, and every SECURITY DEFINER function is
-- owned by it. It is NOLOGIN, never a superuser, and granted to no one.
DO $$
DECLARE
    r text;
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'antiban_owner'
               AND (rolsuper OR rolcanlogin OR rolbypassrls OR rolcreaterole OR rolcreatedb)) THEN
        RAISE EXCEPTION 'role antiban_owner exists with more rights than antiban gives it'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'antiban runs its own code as antiban_owner: it must be NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB.',
                  HINT = 'ALTER ROLE antiban_owner NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB, then try again.';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
               WHERE r.rolname = 'antiban_owner') THEN
        RAISE EXCEPTION 'role antiban_owner is granted to other roles'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'Every member of antiban_owner could read the secrets.',
                  HINT = 'REVOKE antiban_owner FROM each member, then try again.';
    END IF;
    FOREACH r IN ARRAY ARRAY['antiban_owner', 'antiban_admin', 'antiban_app', 'antiban_reader', 'antiban_receiver'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
END
$$;

REVOKE ALL ON ALL TABLES IN SCHEMA antiban FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA antiban FROM PUBLIC;

-- antiban's own identity: exactly the rights on antiban's objects, nothing else.
GRANT USAGE ON SCHEMA antiban TO antiban_owner;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA antiban TO antiban_owner;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA antiban TO antiban_owner;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA antiban TO antiban_owner;

-- Every function whose body is parsed when it runs (PL/pgSQL, SQL with a
-- string body) resolves names through pg_catalog, antiban and pg_temp, in that
-- order, whoever calls it: nothing a caller creates (an operator in their
-- schema, a pg_temp.text domain) is ever found first. SECURITY DEFINER
-- functions also run as antiban_owner, never as the superuser who installed
-- antiban. The C adapters do the same in src/pg/privileged.c.
DO $$
DECLARE
    f record;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure AS sig, p.prosecdef
        FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
        WHERE p.pronamespace = 'antiban'::regnamespace
          AND (p.prosecdef OR l.lanname = 'plpgsql' OR (l.lanname = 'sql' AND p.prosqlbody IS NULL))
    LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, antiban, pg_temp', f.sig);
        IF f.prosecdef THEN
            EXECUTE format('ALTER FUNCTION %s OWNER TO antiban_owner', f.sig);
        END IF;
    END LOOP;
END
$$;
GRANT USAGE ON SCHEMA antiban TO antiban_admin, antiban_app, antiban_reader, antiban_receiver;

-- Readers (BI tools, dashboards): every table and view but the secrets.
GRANT SELECT ON antiban.portfolios, antiban.wabas, antiban.numbers, antiban.recipient_state,
    antiban.decisions, antiban.buckets, antiban.portfolio_usage, antiban.secrets_status
    TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.now(), antiban.tier_limit(antiban.messaging_tier),
    antiban.bucket_states(), antiban.portfolio_usage_raw(), antiban.journal_stats(),
    antiban.shared_memory() TO antiban_reader;

-- Applications: decide and consume, and read what readers read.
GRANT antiban_reader TO antiban_app;
GRANT EXECUTE ON FUNCTION antiban.decide(text, text, text, timestamptz, text, text, boolean, text),
    antiban.try_consume(text, double precision, text, boolean),
    antiban.enqueue(text, text, text, jsonb, text, timestamptz, text, jsonb, text, text),
    antiban.template_object(text, text, jsonb),
    antiban.send_template(text, text, text, jsonb, text, text, timestamptz, text, jsonb, text, text),
    antiban.enqueue_many(text[], text, text, jsonb[], text, timestamptz, text[], jsonb, text, text),
    antiban.send_template_many(text[], text, text, jsonb[], text, text, timestamptz, text[], jsonb, text, text),
    antiban.refuse_set_length(text, integer, integer),
    antiban.send_text(text, text, boolean, text, text, timestamptz, text, jsonb, text, text),
    antiban.send(text, jsonb, text, text, timestamptz, text, jsonb, text, text),
    antiban.my_portfolios(),
    antiban.mark_read(text, text, boolean),
    antiban.cancel(bigint),
    antiban.check_message(text, text, jsonb, text),
    antiban.template_params_problem(text, text, jsonb, text),
    antiban.frequency_caps_check(text)
    TO antiban_app;
GRANT SELECT ON antiban.outbox, antiban.queue_depth, antiban.outbox_states TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.transition_allowed(text, text) TO antiban_reader;

-- Administrators: configuration and secrets. Secrets are write-only: set and
-- cleared through functions, seen only as antiban.secrets_status.
GRANT antiban_app TO antiban_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON antiban.portfolios, antiban.wabas TO antiban_admin;
-- A number's configuration is the admin's; its health, mode, rate, warm-up and
-- Meta's facts about it change only through functions that leave an audit row
-- (set_mode, release_mode, start_warmup) or from Meta (polls, webhooks).
GRANT SELECT, INSERT, DELETE ON antiban.numbers TO antiban_admin;
GRANT UPDATE (waba_id, display_phone_number, throughput_level, rate_override, burst_override)
    ON antiban.numbers TO antiban_admin;
-- Tenancy: admins map roles to portfolios; everyone may ask which are theirs.
-- The mapping changes only through grant_portfolio and revoke_portfolio
-- (SECURITY DEFINER), which keep a mapped administrator within its
-- portfolios: with INSERT or DELETE on the table it could delete its own
-- rows and become an unmapped, unrestricted administrator.  Admins read it
-- (row-level security shows a mapped one its portfolios' rows).
GRANT SELECT ON antiban.role_portfolios TO antiban_admin;
GRANT SELECT ON antiban.role_portfolio_grants TO antiban_admin;
GRANT EXECUTE ON FUNCTION antiban.grant_portfolio(name, text), antiban.revoke_portfolio(name, text),
    antiban.forget_dropped_roles() TO antiban_admin;
GRANT EXECUTE ON FUNCTION antiban.my_portfolios() TO antiban_reader;
-- (the check behind every function that takes a portfolio's id; those that
-- run with the caller's rights call it as the caller)
GRANT EXECUTE ON FUNCTION antiban.may_use_portfolio(bigint) TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.set_secret(antiban.secret_kind, text, text),
    antiban.clear_secret(antiban.secret_kind, text),
    antiban.reload_config(), antiban.flush_journal(),
    antiban.open_service_window(text, text, timestamptz)
    TO antiban_admin;

-- The webhook receiver: ingest (one POST, or many in one commit) and the GET
-- handshake, nothing else.
GRANT EXECUTE ON FUNCTION antiban.ingest_webhook(bytea, text), antiban.ingest_webhooks(bytea[], text[]),
    antiban.webhook_verify(text)
    TO antiban_receiver;
GRANT SELECT ON antiban.webhook_events, antiban.webhook_posts, antiban.webhook_outcomes, antiban.contacts, antiban.interactions, antiban.templates,
    antiban.quality_history, antiban.alerts TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.error_action(integer, integer), antiban.is_opt_out(text) TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.set_marketing_opt_out(text, text, boolean),
    antiban.acknowledge_alert(bigint) TO antiban_admin;

-- Consent: readers see the registry; apps record the opt-ins their forms
-- collect; admins record opt-outs and answer a person's requests for their
-- data (export, erasure).
GRANT SELECT ON antiban.consent, antiban.consent_events, antiban.consent_state TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.consent_channels(text),
    antiban.consent_statement_wins(timestamptz, boolean, timestamptz, boolean, boolean) TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.record_opt_in(text, text, text, text, timestamptz, text),
    antiban.set_person_time_zone(text, text, text) TO antiban_app;
GRANT EXECUTE ON FUNCTION antiban.set_marketing_opt_out(text, text, boolean, timestamptz, text),
    antiban.export_person(text, text), antiban.erase_person(text, text) TO antiban_admin;

-- Protection: everyone who reads sees health and why; operators steer modes.
GRANT SELECT ON antiban.number_health, antiban.health_events, antiban.send_errors, antiban.health_state,
    antiban.mgmt_calls, antiban.poll_state TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.warmup_schedule(integer), antiban.quality_rank(antiban.quality_rating)
    TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.set_mode(text, antiban.number_mode, text), antiban.release_mode(text, text),
    antiban.start_warmup(text, text, integer), antiban.evaluate_health()
    TO antiban_admin;

-- Stop requests and webhook evidence: readers see them; admins resolve reviews.
GRANT SELECT ON antiban.stop_reviews, antiban.webhook_changes TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.classify_stop(text, text), antiban.same_recipient(text, text),
    antiban.webhook_time(text, timestamptz), antiban.webhook_retry_horizon() TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.resolve_stop_review(bigint, boolean) TO antiban_admin;

-- People: readers see each person's identifiers and merges (the outbox and contacts name
-- them by person_id); apps resolve identifiers; admins link identifiers by hand.
GRANT SELECT ON antiban.persons, antiban.person_ids, antiban.person_merges, antiban.people TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.recipient_key(text), antiban.identifier_key(text, text),
    antiban.person_id(bigint, text) TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.link_identifiers(bigint, text[], text, text[], text) TO antiban_admin;

-- Account and template events: what blocks a WABA and in what order events were applied.
GRANT SELECT ON antiban.waba_blocks, antiban.event_order TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.template_language(text), antiban.meta_time(text) TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.lift_account_block(text, text, text) TO antiban_admin;

-- What each Meta code does, for whoever reads the docs or a dashboard.
GRANT EXECUTE ON FUNCTION antiban.meta_codes() TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.genuine_alert(text) TO antiban_reader;

-- The circuit breaker and requeue: readers see the breakers, their history and each
-- message's earlier lives; administrators requeue.
GRANT SELECT ON antiban.circuit_breakers, antiban.breaker_events, antiban.outbox_requeues TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.circuit_breaker_states() TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.requeue(bigint[], boolean) TO antiban_admin;

-- Policy lint of templates and texts: pure functions, for whoever writes or reviews a campaign.
GRANT EXECUTE ON FUNCTION antiban.lint_template(jsonb, text), antiban.lint_text(text, text)
    TO antiban_reader;

-- Costs, rate cards, maintenance: readers see them; apps price a dry run; admins load cards
-- and run maintenance.
GRANT SELECT ON antiban.rate_cards, antiban.rates, antiban.rate_card, antiban.message_costs,
    antiban.tier_volumes, antiban.costs, antiban.pricing_analytics, antiban.pricing_polls,
    antiban.pricing_reconciliation, antiban.daily_rollups, antiban.number_days, antiban.vacuum_hints,
    antiban.maintenance_runs, antiban.settings, antiban.dashboard_costs TO antiban_reader;
DO $$
DECLARE
    v text;
BEGIN
    FOR v IN SELECT format('%I.%I', schemaname, viewname) FROM pg_views
             WHERE schemaname = 'antiban' AND viewname LIKE 'cost\_by\_%' LOOP
        EXECUTE format('GRANT SELECT ON %s TO antiban_reader', v);
    END LOOP;
END
$$;
GRANT EXECUTE ON FUNCTION antiban.recipient_market, antiban.pricing_markets, antiban.is_pricing_market,
    antiban.pricing_rule, antiban.tier_band, antiban.tier_spread, antiban.tier_label,
    antiban.read_rate_card, antiban.read_volume_tiers, antiban.rate_card_prices, antiban.card_bands,
    antiban.unit_price, antiban.setting, antiban.setting_interval, antiban.maintenance_jobs,
    antiban.maintenance_job_runs TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.expected_cost TO antiban_app;
GRANT EXECUTE ON FUNCTION antiban.load_rate_card, antiban.load_volume_tiers, antiban.reprice_messages,
    antiban.schedule_maintenance, antiban.unschedule_maintenance, antiban.apply_retention,
    antiban.roll_up_days, antiban.reconcile_unconfirmed TO antiban_admin;
-- what those call as the caller: apply_retention drops the old partitions the
-- caller owns, then deletes rows as antiban_owner (delete_retained_rows);
-- schedule_maintenance checks pg_cron (jobs run as the role that schedules them)
GRANT EXECUTE ON FUNCTION antiban.retention_tables, antiban.drop_old_partitions, antiban.delete_retained_rows,
    antiban.require_pg_cron TO antiban_admin;
GRANT UPDATE ON antiban.settings TO antiban_admin;
-- Those act on every portfolio: each refuses a tenant's administrator (one
-- mapped to portfolios) through this check, which runs as the caller.
GRANT EXECUTE ON FUNCTION antiban.refuse_install_wide(text) TO antiban_admin;

-- The lead model: apps score and note events, admins train and activate, readers look.
GRANT EXECUTE ON FUNCTION antiban.score_conversation, antiban.note_lead_event, antiban.note_lead_events,
    antiban.lead_score, antiban.lead_text_features, antiban.lead_engagement_of, antiban.lead_engagement_note,
    antiban.active_lead_model TO antiban_app;
GRANT SELECT ON antiban.lead_scores TO antiban_app, antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.train_lead_model, antiban.activate_lead_model, antiban.rescore_leads
    TO antiban_admin;
GRANT SELECT, INSERT, DELETE ON antiban.lead_training_examples TO antiban_admin;
GRANT SELECT ON antiban.lead_model_versions TO antiban_reader;
-- The optional LLM step: readers see every call and its usage; admins ask for a lead to be read
-- again. The key is set with set_secret like the others; only the worker reads it.
GRANT SELECT ON antiban.lead_llm_calls, antiban.lead_llm_state, antiban.lead_llm_usage TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.lead_llm_answer_schema, antiban.lead_llm_calls_today, antiban.lead_llm_enabled
    TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.request_lead_llm TO antiban_admin;

-- Leads: agents, assignment and the SLA. Admins manage agents; apps create and move leads;
-- readers see everything; agents (login roles in antiban_agent) set their own presence.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'antiban_agent') THEN
        CREATE ROLE antiban_agent NOLOGIN;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA antiban TO antiban_agent;
GRANT SELECT, INSERT, UPDATE, DELETE ON antiban.agents, antiban.agent_shifts, antiban.lead_routing TO antiban_admin;
-- (the agents' triggers check a new agent's zone and role as the admin who writes it)
GRANT EXECUTE ON FUNCTION antiban.check_agent_settings(text, text) TO antiban_admin;
GRANT EXECUTE ON FUNCTION antiban.set_working_hours, antiban.set_agent_presence, antiban.check_sla,
    antiban.assign_queued TO antiban_admin;
-- Apps read leads but write them only through functions that keep the rules (upsert_lead finds the
-- person in the portfolio, set_lead_stage/close_lead check stages and value): a direct INSERT or
-- UPDATE could name another portfolio's person or mark a lead won without close_lead.
GRANT SELECT ON antiban.leads TO antiban_app;
GRANT EXECUTE ON FUNCTION antiban.assign_lead, antiban.set_lead_stage, antiban.close_lead,
    antiban.record_first_response TO antiban_app;
GRANT SELECT ON antiban.leads, antiban.lead_assignments, antiban.lead_events, antiban.agents,
    antiban.agent_shifts, antiban.lead_routing, antiban.agent_load, antiban.lead_queue, antiban.lead_sla,
    antiban.agent_sla TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.agent_on_shift, antiban.business_deadline, antiban.business_time
    TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.set_agent_presence TO antiban_agent;
GRANT EXECUTE ON FUNCTION antiban.may_use_portfolio(bigint) TO antiban_agent;

-- Every conversation a lead (84_lead_flow.sql): apps register leads, add notes and gate marketing
-- on a lead; readers see timelines and the sales views; agents read and annotate the leads they own.
GRANT EXECUTE ON FUNCTION antiban.upsert_lead(text, bigint, text, text, text, text, text[]),
    antiban.upsert_lead(text, text, text, text, text, text, text[]),
    antiban.lead_gate(bigint, integer, interval), antiban.lead_gate(text, bigint, integer, interval),
    antiban.add_lead_note(bigint, text) TO antiban_app;
GRANT EXECUTE ON FUNCTION antiban.lead_timeline(bigint) TO antiban_reader, antiban_agent;
GRANT EXECUTE ON FUNCTION antiban.add_lead_note(bigint, text) TO antiban_agent;
GRANT SELECT ON antiban.lead_timelines, antiban.lead_pipeline, antiban.lead_funnel, antiban.agent_performance,
    antiban.dashboard_leads TO antiban_reader;
GRANT SELECT ON antiban.my_leads TO antiban_agent;
GRANT EXECUTE ON FUNCTION antiban.process_lead_events(integer, bigint) TO antiban_admin;
GRANT SELECT ON antiban.lead_event_queue TO antiban_reader;

-- Campaigns: apps create, plan and steer them (the audience runs with their own
-- rights); pacing is an admin's (or pg_cron's) job; readers see funnels and logs.
GRANT SELECT ON antiban.campaigns, antiban.campaign_events, antiban.campaign_recipients,
    antiban.campaign_funnel TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.audience_query_check, antiban.campaign_waits_for,
    antiban.campaign_move_allowed, antiban.campaign_window_on, antiban.campaign_rate, antiban.campaign_finish
    TO antiban_reader;
-- The internals that write (campaign_store_members, campaign_move) are not
-- granted: start/pause/resume/cancel are SECURITY DEFINER and check what
-- they store.  A campaign row is INSERTed with the app's own right on the
-- columns it may choose; triggers set created_by and state.
GRANT INSERT (name, portfolio_id, template_name, language, category, audience, audience_kind,
    audience_search_path, recipient_column, params_column, window_start, window_end, time_zone,
    per_hour_cap, per_day_cap, reserve, min_score, engaged_within, frequency_caps) ON antiban.campaigns TO antiban_app;
GRANT EXECUTE ON FUNCTION antiban.create_campaign, antiban.create_campaign_as,
    antiban.campaign_audience, antiban.audience_run, antiban.campaign_members, antiban.campaign_plan_members,
    antiban.decide_many, antiban.campaign_budget, antiban.campaign_gate,
    antiban.plan_campaign, antiban.campaign_lint,
    antiban.start_campaign, antiban.pause_campaign, antiban.resume_campaign, antiban.cancel_campaign
    TO antiban_app;
GRANT EXECUTE ON FUNCTION antiban.pace_campaigns TO antiban_admin;

-- Make every backend drop numbers cached from an earlier install.
SELECT antiban.reload_config();
