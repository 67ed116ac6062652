-- Campaigns: one template to an audience, planned before it starts and paced
-- over its window within the portfolio's 24 h budget.
--
-- A campaign is a row: a template, an audience (a SELECT or a table the
-- caller can read), the column holding each recipient's parameters, a window
-- of allowed hours, caps and a lead-score gate.  The audience always runs
-- with the rights of the role that created the campaign (created_by, set by
-- the table itself, never by the caller), never antiban's own nor those of
-- whoever plans or starts it: it is checked to be one plain SELECT
-- (antiban.audience_query_check, in C, with PostgreSQL's own parser) and run
-- as a subquery by antiban.audience_run, as the creator inside a
-- security-restricted operation (as PostgreSQL refreshes a materialized view
-- as its owner: no SET ROLE back to the caller), under the search_path the
-- creator had.  start_campaign takes a snapshot of the
-- audience (one row per person), and antiban.pace_campaigns() releases it
-- slice by slice with send_template, exactly once per (campaign, person).
--
-- The plan and the snapshot decide every recipient with the same decision
-- as send_template (antiban.decide_many, a dry run that takes nothing), so a
-- rule added to the decision shows up here with its own reason.

CREATE TYPE antiban.campaign_state AS ENUM ('draft', 'running', 'paused', 'completed', 'cancelled');
COMMENT ON TYPE antiban.campaign_state IS
    'draft -> running <-> paused -> completed (nothing left to release); cancelled from draft, running or paused.';

CREATE TABLE antiban.campaigns (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                 text NOT NULL CONSTRAINT campaigns_name_present CHECK (btrim(name) <> ''),
    portfolio_id         bigint NOT NULL REFERENCES antiban.portfolios ON DELETE RESTRICT,
    template_name        text NOT NULL,
    language             text NOT NULL,
    category             antiban.category NOT NULL CONSTRAINT campaigns_template_category CHECK (category <> 'service'),
    audience             text NOT NULL,
    audience_kind        text NOT NULL CONSTRAINT campaigns_audience_kind CHECK (audience_kind IN ('query', 'table')),
    audience_search_path text NOT NULL,
    recipient_column     text NOT NULL,
    params_column        text,
    window_start         time NOT NULL,
    window_end           time NOT NULL,
    time_zone            text NOT NULL,
    per_hour_cap         integer CONSTRAINT campaigns_per_hour_cap CHECK (per_hour_cap > 0),
    per_day_cap          integer CONSTRAINT campaigns_per_day_cap CHECK (per_day_cap > 0),
    reserve              real NOT NULL CONSTRAINT campaigns_reserve CHECK (reserve >= 0 AND reserve < 1),
    min_score            smallint CONSTRAINT campaigns_min_score CHECK (min_score BETWEEN 0 AND 100),
    engaged_within       interval,
    frequency_caps       text,
    state                antiban.campaign_state NOT NULL DEFAULT 'draft',
    created_by           name NOT NULL DEFAULT current_user,
    created_at           timestamptz NOT NULL DEFAULT antiban.now(),
    started_at           timestamptz,
    paced_at             timestamptz,
    carry                double precision NOT NULL DEFAULT 0,
    finished_at          timestamptz,
    CONSTRAINT campaigns_window CHECK (window_start < window_end)
);
CREATE INDEX campaigns_running ON antiban.campaigns (id) WHERE state = 'running';
-- names are unique within a portfolio: across portfolios, a name taken would
-- tell one tenant what another calls its campaigns
ALTER TABLE antiban.campaigns ADD CONSTRAINT campaigns_name_key UNIQUE (portfolio_id, name);
COMMENT ON TABLE antiban.campaigns IS
    'Campaigns: a template sent to an audience, paced over the allowed hours [window_start, window_end) in time_zone within the portfolio''s 24 h budget, leaving reserve (a share of the budget) to other traffic, within per_hour_cap and per_day_cap, optionally only to leads with score >= min_score that wrote within engaged_within.';
COMMENT ON COLUMN antiban.campaigns.audience IS 'The SELECT (audience_kind query) or the schema-qualified table or view (table) the recipients come from.';
COMMENT ON COLUMN antiban.campaigns.audience_search_path IS 'The search_path its creator had: the audience''s names are resolved with it.';
COMMENT ON COLUMN antiban.campaigns.frequency_caps IS
    'The campaign''s own frequency caps (the form of antiban.frequency_caps, e.g. ''marketing=1/7d''), in place of the server''s for its plan, its releases and the sender''s decision (they travel in the outbox row''s metadata.frequency_caps); NULL: the server''s.';
COMMENT ON COLUMN antiban.campaigns.carry IS 'Pacing: the fraction of a message the rate allowed but not yet released.';

CREATE TABLE antiban.campaign_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id  bigint NOT NULL REFERENCES antiban.campaigns ON DELETE CASCADE,
    at           timestamptz NOT NULL,
    from_state   antiban.campaign_state,
    to_state     antiban.campaign_state NOT NULL,
    by_role      name NOT NULL,
    detail       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX campaign_events_campaign ON antiban.campaign_events (campaign_id, id);
COMMENT ON TABLE antiban.campaign_events IS 'Every state a campaign went through, who moved it and why (lint findings, counts).';

CREATE TABLE antiban.campaign_recipients (
    campaign_id  bigint NOT NULL REFERENCES antiban.campaigns ON DELETE CASCADE,
    person       bigint NOT NULL,
    ord          integer NOT NULL,
    recipient    text NOT NULL,
    person_key   text NOT NULL,
    params       jsonb,
    status       text NOT NULL CONSTRAINT campaign_recipients_status CHECK (status IN ('pending', 'released', 'skipped')),
    reason       text,
    error        text,
    outbox_id    bigint,
    released_at  timestamptz,
    PRIMARY KEY (campaign_id, person)
);
CREATE INDEX campaign_recipients_pending ON antiban.campaign_recipients (campaign_id, ord) WHERE status = 'pending';
COMMENT ON TABLE antiban.campaign_recipients IS
    'A started campaign''s audience, one row per person (the key every person rule reads: two identifiers of one person are one row): pending, released (with its outbox message) or skipped (with the reason; error: the message a send refused it with). Released once: the outbox idempotency key is campaign:<id>:<person>.';

-- ---- the audience ----

CREATE FUNCTION antiban.audience_query_check(query text) RETURNS text
AS 'MODULE_PATHNAME', 'antiban_audience_query_check' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION antiban.audience_query_check(text) IS
    'The audience query alone (without a trailing semicolon) if it is one plain SELECT (no SELECT INTO, no FOR UPDATE, no data-modifying WITH), else an error. Parses, runs nothing.';

CREATE FUNCTION antiban.decide_many(recipients text[], category text, portfolio text, frequency_caps text DEFAULT NULL,
    OUT ord integer, OUT recipient text, OUT person_key text, OUT person bigint, OUT counts boolean,
    OUT outcome text, OUT reason text, OUT phone_number_id text, OUT not_before timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'antiban_decide_many' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.decide_many(text[], text, text, text) IS
    'antiban.decide() for a whole array of recipients in one call, as a dry run (takes no tokens, journals nothing) from one portfolio (its business_id): per recipient (ord = position) its canonical key, its person (the anchor every person rule reads), whether a template now would count as new against the 24 h limit, and the decision (with frequency_caps, a campaign''s own, in place of antiban.frequency_caps).';

-- The reasons pacing itself waits out: a recipient held by them is eligible.
CREATE FUNCTION antiban.campaign_waits_for(reason text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN reason IN ('number_throughput', 'pair_rate', 'portfolio_limit', 'table_full', 'warmup_cap');
COMMENT ON FUNCTION antiban.campaign_waits_for(text) IS
    'Whether a QUEUE for this reason is one a paced campaign waits out (throughput, pair rate, the 24 h budget, warm-up): such a recipient is eligible. Any other QUEUE reason (a frequency cap, quiet hours, Meta''s marketing cap) holds the person and is shown as such.';

-- The score gate.  Until antiban.lead_gate (the leads work) exists, a
-- campaign gates on antiban.leads directly: replace the body with a call to
-- it, the signature stays.
-- (SECURITY DEFINER: apps may not read antiban.person_ids; it answers a
-- yes or no about one person the caller named, nothing else)
CREATE FUNCTION antiban.campaign_gate(portfolio bigint, person_key text, min_score integer, engaged_within interval)
RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER
RETURN (min_score IS NULL AND engaged_within IS NULL)
    OR coalesce((SELECT (antiban.lead_gate(i.person_id, coalesce(min_score, 0), engaged_within)).allowed
                 FROM antiban.person_ids i
                 WHERE i.portfolio_id = portfolio AND i.key = person_key
                   AND antiban.may_use_portfolio(portfolio)), false);
COMMENT ON FUNCTION antiban.campaign_gate(bigint, text, integer, interval) IS
    'Whether the person with this canonical key passes a campaign''s score gate: antiban.lead_gate(person, min_score, engaged_within) on their lead in the portfolio (each NULL: not checked; a person without a lead, or of a portfolio the caller may not use, does not pass a gate).';

CREATE FUNCTION antiban.audience_run(creator name, search_path text, query text)
RETURNS TABLE (ord integer, recipient text, params jsonb)
AS 'MODULE_PATHNAME', 'antiban_audience_run' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.audience_run(name, text, text) IS
    'Internal to campaign_audience: run an audience query (returning ord, recipient, params) read-only as the campaign''s creator, in a security-restricted operation (no SET ROLE back to the caller), with the creator''s search_path. Only the creator, a role with its privileges or antiban''s own functions may call it.';

-- The audience as its creator sees it: (ord, recipient, params).  Runs the
-- stored query with the creator's rights and search_path, whoever calls.
CREATE FUNCTION antiban.campaign_audience(campaign bigint, probe boolean DEFAULT false)
RETURNS TABLE (ord integer, recipient text, params jsonb)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    c antiban.campaigns;
    source text;
    params_expr text;
    rel regclass;
BEGIN
    SELECT * INTO c FROM antiban.campaigns x WHERE x.id = campaign AND antiban.may_use_portfolio(x.portfolio_id);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no campaign %', campaign USING ERRCODE = 'undefined_object';
    END IF;
    IF c.audience_kind = 'table' THEN
        -- a name, never SQL: resolved again and quoted from the catalog
        rel := to_regclass(c.audience);
        IF rel IS NULL THEN
            RAISE EXCEPTION 'the audience of campaign "%" can not be read: no table or view %', c.name, c.audience
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        SELECT 'TABLE ' || format('%I.%I', n.nspname, r.relname) INTO source
        FROM pg_catalog.pg_class r JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace WHERE r.oid = rel;
    ELSE
        source := antiban.audience_query_check(c.audience);
    END IF;
    params_expr := CASE WHEN c.params_column IS NULL THEN 'NULL::jsonb'
                        ELSE format('pg_catalog.to_jsonb(a.%I)', c.params_column) END;
    BEGIN
        RETURN QUERY SELECT * FROM antiban.audience_run(c.created_by, c.audience_search_path, format(
            'SELECT (pg_catalog.row_number() OVER ())::pg_catalog.int4, (a.%I)::pg_catalog.text, %s FROM (%s'
            || E'\n' || ') AS a%s',
            c.recipient_column, params_expr, source, CASE WHEN probe THEN ' LIMIT 0' ELSE '' END));
    EXCEPTION WHEN undefined_column OR undefined_table OR syntax_error OR insufficient_privilege
                   OR undefined_function OR datatype_mismatch THEN
        RAISE EXCEPTION 'the audience of campaign "%" can not be read: %', c.name, SQLERRM
            USING ERRCODE = CASE WHEN SQLSTATE = '42501' THEN '42501' ELSE '22023' END,
                  DETAIL = format('The audience runs with the rights of its creator, %s, as: %s', c.created_by, source),
                  HINT = format('It needs a column %I (the recipient)%s, readable by %s.', c.recipient_column,
                                CASE WHEN c.params_column IS NOT NULL
                                     THEN format(' and a column %I (the parameters)', c.params_column) ELSE '' END,
                                c.created_by);
    END;
    -- a scalar parameter is the one positional body parameter
    RETURN;
END
$$;
COMMENT ON FUNCTION antiban.campaign_audience(bigint, boolean) IS
    'A campaign''s audience as its creator sees it: (ord, recipient, params as JSON). Runs the audience with its creator''s rights (antiban.audience_run: never antiban''s, never the caller''s), and the search_path its creator had; only the creator or a role with its privileges may call it directly; probe => true only checks that it can run (no row).';

-- ---- writes: SECURITY DEFINER, fed only with what the caller could see ----

-- The table guards itself: apps INSERT campaigns with their own rights
-- (only the columns a caller chooses are granted), and these triggers set
-- what no caller may choose (who created it, its state) and re-check the
-- audience, whatever path the row came by.
CREATE FUNCTION antiban.campaign_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, antiban, pg_temp AS $$
DECLARE
    rel regclass;
BEGIN
    -- a trigger without SECURITY DEFINER: current_user is the inserting role
    NEW.created_by := current_user;
    NEW.state := 'draft';
    NEW.created_at := antiban.now();
    NEW.started_at := NULL;
    NEW.paced_at := NULL;
    NEW.finished_at := NULL;
    NEW.carry := 0;
    IF NEW.audience_kind = 'query' THEN
        NEW.audience := antiban.audience_query_check(NEW.audience);
    ELSE
        BEGIN
            rel := to_regclass(NEW.audience);
        EXCEPTION WHEN OTHERS THEN
            rel := NULL;
        END;
        IF rel IS NULL THEN
            RAISE EXCEPTION 'the audience "%" is not a schema-qualified table or view', NEW.audience
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Create campaigns with antiban.create_campaign.';
        END IF;
        SELECT format('%I.%I', n.nspname, r.relname) INTO NEW.audience
        FROM pg_class r JOIN pg_namespace n ON n.oid = r.relnamespace WHERE r.oid = rel;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM antiban.templates x JOIN antiban.wabas w ON w.id = x.waba_id
                   WHERE w.portfolio_id = NEW.portfolio_id AND x.name = NEW.template_name AND x.language = NEW.language) THEN
        RAISE EXCEPTION 'unknown template "%" (%)', NEW.template_name, NEW.language USING ERRCODE = 'undefined_object',
            HINT = 'Create campaigns with antiban.create_campaign.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_timezone_names z WHERE z.name = NEW.time_zone) THEN
        RAISE EXCEPTION 'unknown time zone "%"', NEW.time_zone USING ERRCODE = 'invalid_parameter_value';
    END IF;
    NEW.frequency_caps := antiban.frequency_caps_check(NEW.frequency_caps);
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION antiban.campaign_guard() IS
    'Trigger: a new campaign is a draft created by the inserting role (created_by can not be chosen), with an audience that is one plain SELECT or an existing table or view (stored quoted), a known template and time zone, frequency caps that parse.';
CREATE TRIGGER campaigns_guard BEFORE INSERT ON antiban.campaigns
    FOR EACH ROW EXECUTE FUNCTION antiban.campaign_guard();

CREATE FUNCTION antiban.campaign_created() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, antiban, pg_temp AS $$
BEGIN
    INSERT INTO antiban.campaign_events (campaign_id, at, from_state, to_state, by_role)
    VALUES (NEW.id, antiban.now(), NULL, 'draft', NEW.created_by);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION antiban.campaign_created() IS 'Trigger: log a new campaign''s draft state and its creator.';
CREATE TRIGGER campaigns_created AFTER INSERT ON antiban.campaigns
    FOR EACH ROW EXECUTE FUNCTION antiban.campaign_created();

-- Which moves are allowed, in one place.
CREATE FUNCTION antiban.campaign_move_allowed(from_state antiban.campaign_state, to_state antiban.campaign_state)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (from_state, to_state) IN (('draft', 'running'), ('running', 'paused'), ('paused', 'running'),
                                  ('running', 'completed'), ('draft', 'cancelled'), ('running', 'cancelled'),
                                  ('paused', 'cancelled'));
COMMENT ON FUNCTION antiban.campaign_move_allowed(antiban.campaign_state, antiban.campaign_state) IS
    'The campaign state machine: draft -> running <-> paused, running -> completed, draft/running/paused -> cancelled.';

CREATE FUNCTION antiban.campaign_move(campaign bigint, to_state antiban.campaign_state, detail jsonb DEFAULT '{}')
RETURNS antiban.campaign_state
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
DECLARE
    c antiban.campaigns;
BEGIN
    -- another portfolio's campaign is as unknown as a missing one (it is
    -- the check behind pause, resume, cancel and start)
    SELECT * INTO c FROM antiban.campaigns x WHERE x.id = campaign AND antiban.may_use_portfolio(x.portfolio_id) FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no campaign %', campaign USING ERRCODE = 'undefined_object';
    END IF;
    IF NOT antiban.campaign_move_allowed(c.state, to_state) THEN
        RAISE EXCEPTION 'campaign "%" is %: it can not become %', c.name, c.state, to_state
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'Campaigns go draft -> running <-> paused -> completed; cancelled from draft, running or paused; cancelled and completed are final.',
                  HINT = CASE WHEN c.state IN ('cancelled', 'completed') THEN 'Create a new campaign.'
                              WHEN c.state = 'paused' THEN 'Use antiban.resume_campaign.'
                              ELSE 'antiban.campaign_events has its history.' END;
    END IF;
    UPDATE antiban.campaigns x
    SET state = to_state,
        started_at = CASE WHEN to_state = 'running' AND x.started_at IS NULL THEN antiban.now() ELSE x.started_at END,
        -- a (re)started campaign paces from now: no catching up on time it was stopped
        paced_at = CASE WHEN to_state = 'running' THEN antiban.now() ELSE x.paced_at END,
        carry = 0,
        finished_at = CASE WHEN to_state IN ('completed', 'cancelled') THEN antiban.now() END
    WHERE x.id = campaign;
    INSERT INTO antiban.campaign_events (campaign_id, at, from_state, to_state, by_role, detail)
    VALUES (campaign, antiban.now(), c.state, to_state, session_user, coalesce(detail, '{}'));
    IF to_state = 'cancelled' THEN
        -- what was released but has not left yet stays home
        UPDATE antiban.outbox o SET state = 'cancelled'
        FROM antiban.campaign_recipients r
        WHERE r.campaign_id = campaign AND r.outbox_id = o.id AND o.state IN ('queued', 'retry_wait');
        UPDATE antiban.campaign_recipients r SET status = 'skipped', reason = 'cancelled'
        WHERE r.campaign_id = campaign AND r.status = 'pending';
    END IF;
    RETURN to_state;
END
$$;
COMMENT ON FUNCTION antiban.campaign_move(bigint, antiban.campaign_state, jsonb) IS
    'Internal: move a campaign to a state if the state machine allows it, and log who and why. Cancelling also cancels its messages still queued.';

CREATE TYPE antiban.campaign_member AS (
    ord integer, recipient text, person bigint, person_key text, params jsonb, status text, reason text);
COMMENT ON TYPE antiban.campaign_member IS 'One audience member as start_campaign stores it.';

CREATE FUNCTION antiban.campaign_store_members(campaign bigint, members antiban.campaign_member[])
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
DECLARE
    stored bigint;
BEGIN
    IF (SELECT state FROM antiban.campaigns WHERE id = campaign FOR UPDATE) IS DISTINCT FROM 'draft' THEN
        RAISE EXCEPTION 'campaign % is not a draft: its audience is already taken', campaign
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    INSERT INTO antiban.campaign_recipients (campaign_id, person, ord, recipient, person_key, params, status, reason)
    SELECT campaign, m.person, m.ord, m.recipient, m.person_key, m.params, m.status, m.reason
    FROM unnest(members) m
    WHERE m.person IS NOT NULL AND m.reason IS DISTINCT FROM 'duplicate_person'
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS stored = ROW_COUNT;
    RETURN stored;
END
$$;
COMMENT ON FUNCTION antiban.campaign_store_members(bigint, antiban.campaign_member[]) IS
    'Internal to start_campaign: store a draft campaign''s audience snapshot, one row per person.';

-- ---- creating ----

CREATE FUNCTION antiban.create_campaign_as(
    name text, template text, language text, audience text, params text, category text,
    window_start time, window_end time, time_zone text, per_hour_cap integer, per_day_cap integer,
    reserve real, min_score integer, engaged_within interval, recipient_column text, portfolio text,
    caller_search_path text, frequency_caps text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    c antiban.campaigns;
    cat antiban.category;
    rel regclass;
    t record;
BEGIN
    IF name IS NULL OR btrim(name) = '' THEN
        RAISE EXCEPTION 'a campaign needs a name' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- the portfolio: named, or the only one
    IF portfolio IS NULL THEN
        IF (SELECT count(*) FROM antiban.portfolios) <> 1 THEN
            RAISE EXCEPTION 'which portfolio sends this campaign?' USING ERRCODE = 'invalid_parameter_value',
                HINT = 'Pass portfolio => its business_id.';
        END IF;
        SELECT p.id INTO c.portfolio_id FROM antiban.portfolios p;
    ELSE
        SELECT p.id INTO c.portfolio_id FROM antiban.portfolios p WHERE p.business_id = portfolio;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'unknown portfolio %', portfolio USING ERRCODE = 'undefined_object',
                HINT = 'Pass the business_id of a row of antiban.portfolios.';
        END IF;
    END IF;
    IF EXISTS (SELECT 1 FROM antiban.campaigns x WHERE x.portfolio_id = c.portfolio_id
               AND x.name = create_campaign_as.name) THEN
        RAISE EXCEPTION 'campaign "%" already exists', name USING ERRCODE = 'duplicate_object',
            HINT = 'Campaign names are unique within a portfolio: pick another one.';
    END IF;
    BEGIN
        cat := category::antiban.category;
    EXCEPTION WHEN invalid_text_representation THEN
        cat := NULL;
    END;
    IF cat IS NULL OR cat = 'service' THEN
        RAISE EXCEPTION 'a campaign''s category is marketing, utility or authentication, not %', coalesce(category, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT x.status, x.category INTO t FROM antiban.templates x JOIN antiban.wabas w ON w.id = x.waba_id
    WHERE w.portfolio_id = c.portfolio_id AND x.name = template
      AND x.language = antiban.template_language(create_campaign_as.language)
    ORDER BY x.status = 'APPROVED' DESC LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown template "%" (%)', template, language USING ERRCODE = 'undefined_object',
            DETAIL = 'No WABA of the campaign''s portfolio has this template in this language in antiban.templates.',
            HINT = 'Create it in WhatsApp Manager and let the monitor sync it, or check the name and language.';
    END IF;
    IF window_start IS NULL OR window_end IS NULL OR window_start >= window_end THEN
        RAISE EXCEPTION 'the campaign window must start before it ends' USING ERRCODE = 'invalid_parameter_value',
            DETAIL = format('Allowed hours %s to %s.', window_start, window_end),
            HINT = 'For example window_start => ''09:00'', window_end => ''18:00'' (an overnight window is two campaigns).';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_timezone_names z WHERE z.name = time_zone) THEN
        RAISE EXCEPTION 'unknown time zone "%"', time_zone USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Use a name from pg_timezone_names, such as America/Sao_Paulo.';
    END IF;
    IF per_hour_cap <= 0 OR per_day_cap <= 0 OR reserve < 0 OR reserve >= 1 OR min_score NOT BETWEEN 0 AND 100
       OR engaged_within <= interval '0' THEN
        RAISE EXCEPTION 'invalid campaign limits' USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'Caps are positive, reserve is a share in [0, 1), min_score is 0 to 100, engaged_within is positive.';
    END IF;
    IF recipient_column IS NULL OR params = '' THEN
        RAISE EXCEPTION 'invalid audience column name' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- the audience: a SELECT, or a table or view name resolved as the caller would
    IF audience IS NULL OR btrim(audience) = '' THEN
        RAISE EXCEPTION 'a campaign needs an audience' USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Pass a SELECT returning a recipient column, or a table name.';
    END IF;
    IF audience ~* '^\s*(\(|select\M|with\M|values\M|table\M)' THEN
        c.audience_kind := 'query';
        c.audience := antiban.audience_query_check(audience);
    ELSE
        c.audience_kind := 'table';
        PERFORM set_config('search_path', caller_search_path, true);
        BEGIN
            rel := to_regclass(audience);
        EXCEPTION WHEN OTHERS THEN
            rel := NULL;
        END;
        PERFORM set_config('search_path', 'pg_catalog, antiban, pg_temp', true);
        IF rel IS NULL THEN
            RAISE EXCEPTION 'the audience "%" is neither a SELECT nor a table or view', audience
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Pass a SELECT returning a recipient column, or the name of a table or view you can read.';
        END IF;
        SELECT format('%I.%I', n.nspname, r.relname) INTO c.audience
        FROM pg_class r JOIN pg_namespace n ON n.oid = r.relnamespace WHERE r.oid = rel;
    END IF;
    c.name := name; c.template_name := template; c.language := antiban.template_language(language);
    c.category := cat; c.audience_search_path := caller_search_path;
    c.recipient_column := recipient_column; c.params_column := params;
    c.window_start := window_start; c.window_end := window_end; c.time_zone := time_zone;
    c.per_hour_cap := per_hour_cap; c.per_day_cap := per_day_cap; c.reserve := coalesce(reserve, 0.2);
    c.min_score := min_score; c.engaged_within := engaged_within;
    -- with the caller's own INSERT right: the table sets created_by and state
    INSERT INTO antiban.campaigns (name, portfolio_id, template_name, language, category, audience, audience_kind,
        audience_search_path, recipient_column, params_column, window_start, window_end, time_zone,
        per_hour_cap, per_day_cap, reserve, min_score, engaged_within, frequency_caps)
    VALUES (c.name, c.portfolio_id, c.template_name, c.language, c.category, c.audience, c.audience_kind,
        c.audience_search_path, c.recipient_column, c.params_column, c.window_start, c.window_end, c.time_zone,
        c.per_hour_cap, c.per_day_cap, c.reserve, c.min_score, c.engaged_within,
        antiban.frequency_caps_check(create_campaign_as.frequency_caps))
    RETURNING id INTO c.id;
    -- the audience must be readable by its creator, with the columns it names
    PERFORM count(*) FROM antiban.campaign_audience(c.id, probe => true);
    RETURN c.id;
END
$$;
COMMENT ON FUNCTION antiban.create_campaign_as(text, text, text, text, text, text, time, time, text, integer, integer, real, integer, interval, text, text, text, text) IS
    'Internal to create_campaign, which passes the caller''s search_path: validate and store a draft campaign.';

-- A SQL-standard body: it is not pinned to antiban's search_path, so
-- current_setting('search_path') is the caller's, the path the audience's
-- names are resolved with.
CREATE FUNCTION antiban.create_campaign(
    name text, template text, language text, audience text, params text DEFAULT NULL,
    category text DEFAULT 'marketing', window_start time DEFAULT '00:00', window_end time DEFAULT '24:00',
    time_zone text DEFAULT 'UTC', per_hour_cap integer DEFAULT NULL, per_day_cap integer DEFAULT NULL,
    reserve real DEFAULT 0.2, min_score integer DEFAULT NULL, engaged_within interval DEFAULT NULL,
    recipient_column text DEFAULT 'recipient', portfolio text DEFAULT NULL, frequency_caps text DEFAULT NULL)
RETURNS bigint LANGUAGE sql VOLATILE
BEGIN ATOMIC
    SELECT antiban.create_campaign_as(name, template, language, audience, params, category, window_start,
        window_end, time_zone, per_hour_cap, per_day_cap, reserve, min_score, engaged_within, recipient_column,
        portfolio, pg_catalog.current_setting('search_path'), frequency_caps);
END;
COMMENT ON FUNCTION antiban.create_campaign(text, text, text, text, text, text, time, time, text, integer, integer, real, integer, interval, text, text, text) IS
    'Create a draft campaign: template and language (synced in antiban.templates), audience (one SELECT or a table/view name, run with YOUR rights and search_path; column recipient_column holds the phone or BSUID, column params the template parameters as for send_template), category, allowed hours [window_start, window_end) in time_zone, per_hour_cap and per_day_cap, reserve (share of the portfolio''s 24 h budget left to other traffic, default 0.2), score gate (min_score, engaged_within), frequency_caps (its own, e.g. ''marketing=1/7d'', in place of antiban.frequency_caps for its plan, releases and the sender''s decision). Returns its id.';

-- ---- planning ----

-- Every audience row decided and classified: the base of the plan and of
-- the snapshot start_campaign takes.
CREATE FUNCTION antiban.campaign_members(campaign bigint)
RETURNS TABLE (ord integer, recipient text, person bigint, person_key text, params jsonb, counts boolean,
               phone_number_id text, status text, reason text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    c antiban.campaigns;
    business text;
    gated boolean;
BEGIN
    SELECT * INTO c FROM antiban.campaigns x WHERE x.id = campaign AND antiban.may_use_portfolio(x.portfolio_id);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no campaign %', campaign USING ERRCODE = 'undefined_object';
    END IF;
    gated := c.min_score IS NOT NULL OR c.engaged_within IS NOT NULL;
    SELECT p.business_id INTO business FROM antiban.portfolios p WHERE p.id = c.portfolio_id;
    RETURN QUERY
    WITH a AS MATERIALIZED (SELECT * FROM antiban.campaign_audience(campaign)),
    d AS (SELECT * FROM antiban.decide_many((SELECT array_agg(a.recipient ORDER BY a.ord) FROM a),
                                            c.category::text, business, c.frequency_caps)),
    j AS (SELECT a.ord, a.recipient, d.person, d.person_key,
                 CASE WHEN jsonb_typeof(a.params) IN ('string', 'number') THEN jsonb_build_array(a.params)
                      ELSE a.params END AS params,
                 d.counts, d.phone_number_id, d.outcome, d.reason,
                 d.outcome <> 'QUEUE' OR antiban.campaign_waits_for(d.reason) AS waits,
                 row_number() OVER (PARTITION BY d.person ORDER BY a.ord) AS nth
          FROM a JOIN d ON d.ord = a.ord),
    g AS (SELECT j.*, CASE WHEN gated AND j.person IS NOT NULL AND j.nth = 1 AND j.outcome <> 'REJECT'
                           THEN antiban.campaign_gate(c.portfolio_id, j.person_key, c.min_score, c.engaged_within)
                           ELSE true END AS passes,
                      -- what send_template would refuse: the parameters against the synced template
                      CASE WHEN j.person IS NOT NULL AND j.nth = 1 AND j.outcome <> 'REJECT'
                           THEN antiban.template_params_problem(c.template_name, c.language, j.params, c.category::text)
                           END AS params_problem
          FROM j)
    SELECT j.ord, j.recipient, j.person, j.person_key, j.params, j.counts, j.phone_number_id,
           CASE WHEN j.person IS NULL OR j.nth > 1 OR j.outcome = 'REJECT' OR j.params_problem IS NOT NULL
                     OR NOT j.passes THEN 'excluded'
                WHEN NOT j.waits THEN 'held'
                ELSE 'eligible' END,
           CASE WHEN j.person IS NULL THEN 'invalid_recipient'
                WHEN j.nth > 1 THEN 'duplicate_person'
                WHEN j.outcome = 'REJECT' THEN j.reason
                WHEN j.params_problem IS NOT NULL THEN 'invalid_params'
                WHEN NOT j.passes THEN 'score_gate'
                WHEN NOT j.waits THEN j.reason
                END
    FROM g j;
END
$$;
COMMENT ON FUNCTION antiban.campaign_members(bigint) IS
    'Each audience row of a campaign decided now (dry run) and classified: eligible; held (a QUEUE pacing does not wait out: frequency cap, quiet hours, Meta''s marketing cap; with the reason); excluded (invalid_recipient, duplicate_person, invalid_params (parameters send_template would refuse for the synced template), score_gate, or the decision''s REJECT reason: opted_out, no_opt_in...).';

-- When does a campaign's window open and close on the local day of 'at'?
CREATE FUNCTION antiban.campaign_window_on(c antiban.campaigns, at timestamptz,
    OUT opens timestamptz, OUT closes timestamptz)
LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT ((at AT TIME ZONE c.time_zone)::date + c.window_start) AT TIME ZONE c.time_zone,
           ((at AT TIME ZONE c.time_zone)::date + c.window_end) AT TIME ZONE c.time_zone;
END;
COMMENT ON FUNCTION antiban.campaign_window_on(antiban.campaigns, timestamptz) IS
    'When a campaign''s allowed hours open and close on the local day (its time zone) of a moment.';

-- The portfolio's 24 h budget as pacing sees it: the limit (NULL: unlimited),
-- what other traffic keeps (reserve) and what campaigns may still take now.
CREATE FUNCTION antiban.campaign_budget(c antiban.campaigns,
    OUT messaging_limit bigint, OUT used bigint, OUT waiting bigint, OUT kept bigint, OUT available bigint)
LANGUAGE sql VOLATILE
BEGIN ATOMIC
    SELECT nullif(u.messaging_limit, -1), u.used, w.n, ceil(c.reserve::numeric * nullif(u.messaging_limit, -1))::bigint,
           greatest(nullif(u.messaging_limit, -1) - u.used - w.n - ceil(c.reserve::numeric * nullif(u.messaging_limit, -1))::bigint, 0)
    FROM antiban.portfolio_usage_raw() u,
         LATERAL (SELECT count(*) AS n FROM antiban.outbox o
                  WHERE o.portfolio_id = c.portfolio_id AND o.category <> 'service'
                    AND o.state IN ('queued', 'retry_wait', 'sending')) w
    WHERE u.portfolio_id = c.portfolio_id;
END;
COMMENT ON FUNCTION antiban.campaign_budget(antiban.campaigns) IS
    'A campaign''s portfolio budget now: messaging limit (NULL: unlimited), unique people used in the moving 24 h, templates waiting in the outbox (they will count), the reserve kept for other traffic, and what a campaign may still take.';

-- The hourly rate pacing releases at: a day's allowance over the window.
CREATE FUNCTION antiban.campaign_rate(c antiban.campaigns, messaging_limit bigint, kept bigint, remaining bigint)
RETURNS double precision LANGUAGE sql IMMUTABLE
RETURN (SELECT least(c.per_hour_cap::double precision,
                     greatest(coalesce(least(c.per_day_cap::bigint, messaging_limit - kept), remaining), 1)
                     / (extract(epoch FROM c.window_end - c.window_start) / 3600.0)));
COMMENT ON FUNCTION antiban.campaign_rate(antiban.campaigns, bigint, bigint, bigint) IS
    'Messages per hour a campaign is released at: its day''s allowance (per_day_cap, the portfolio limit less the reserve, or all that remains when both are unlimited) spread over the window, within per_hour_cap.';

-- When 'needed' releases at 'rate' per hour finish, given the window and a
-- per-day allowance ('today' for the rest of today, 'daily' after).
CREATE FUNCTION antiban.campaign_finish(c antiban.campaigns, start timestamptz, needed bigint,
    rate double precision, today bigint, daily bigint)
RETURNS timestamptz LANGUAGE plpgsql STABLE AS $$
DECLARE
    t timestamptz := start;
    w record;
    left_over double precision := needed;
    n double precision;
    room double precision;
BEGIN
    IF needed <= 0 THEN
        RETURN start;
    END IF;
    FOR day IN 0 .. 730 LOOP
        SELECT * INTO w FROM antiban.campaign_window_on(c, t);
        IF t < w.closes THEN
            t := greatest(t, w.opens);
            room := CASE WHEN day = 0 THEN today ELSE daily END;
            n := least(rate * extract(epoch FROM w.closes - t) / 3600.0, coalesce(room, 'infinity'));
            IF n >= left_over THEN
                RETURN t + make_interval(secs => ceil(3600.0 * left_over / rate));
            END IF;
            left_over := left_over - greatest(n, 0);
        END IF;
        t := ((t AT TIME ZONE c.time_zone)::date + 1)::timestamp AT TIME ZONE c.time_zone;
    END LOOP;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION antiban.campaign_finish(antiban.campaigns, timestamptz, bigint, double precision, bigint, bigint) IS
    'When a campaign that still needs this many releases finishes at this hourly rate within its window and the per-day allowances (NULL: none); NULL past two years.';

-- What a plan counts: a draft's whole audience, or what a started campaign
-- still has pending, decided now.
CREATE FUNCTION antiban.campaign_plan_members(campaign bigint)
RETURNS TABLE (ord integer, recipient text, person bigint, person_key text, params jsonb, counts boolean,
               phone_number_id text, status text, reason text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    c antiban.campaigns;
BEGIN
    SELECT * INTO c FROM antiban.campaigns x WHERE x.id = campaign AND antiban.may_use_portfolio(x.portfolio_id);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no campaign %', campaign USING ERRCODE = 'undefined_object';
    END IF;
    IF c.state = 'draft' THEN
        RETURN QUERY SELECT * FROM antiban.campaign_members(campaign);
        RETURN;
    END IF;
    RETURN QUERY
    WITH r AS MATERIALIZED (
        SELECT x.*, (row_number() OVER (ORDER BY x.ord))::integer AS i
        FROM antiban.campaign_recipients x WHERE x.campaign_id = campaign AND x.status = 'pending')
    SELECT r.ord, r.recipient, r.person, r.person_key, r.params, d.counts, d.phone_number_id,
           CASE WHEN d.outcome = 'REJECT' THEN 'excluded'
                WHEN d.outcome = 'QUEUE' AND NOT antiban.campaign_waits_for(d.reason) THEN 'held'
                ELSE 'eligible' END,
           CASE WHEN d.outcome = 'REJECT' OR (d.outcome = 'QUEUE' AND NOT antiban.campaign_waits_for(d.reason))
                THEN d.reason END
    FROM r JOIN antiban.decide_many((SELECT array_agg(r.recipient ORDER BY r.i) FROM r), c.category::text,
                                    (SELECT p.business_id FROM antiban.portfolios p WHERE p.id = c.portfolio_id),
                                    c.frequency_caps) d
      ON d.ord = r.i;
END
$$;
COMMENT ON FUNCTION antiban.campaign_plan_members(bigint) IS
    'What plan_campaign counts: a draft''s audience as antiban.campaign_members classifies it, or a started campaign''s pending people decided now.';

CREATE FUNCTION antiban.plan_campaign(campaign bigint,
    OUT audience bigint, OUT eligible bigint, OUT held jsonb, OUT excluded jsonb,
    OUT needs bigint, OUT budget bigint, OUT budget_left bigint, OUT rate_per_hour numeric,
    OUT numbers jsonb, OUT finishes_at timestamptz, OUT lint jsonb, OUT summary text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, antiban, pg_temp AS $$
DECLARE
    c antiban.campaigns;
    b record;
    released bigint;
    today bigint;
    top_body bigint;
    top_share numeric;
    rate double precision;
    finish_local timestamp;
    now_local timestamp;
BEGIN
    SELECT * INTO c FROM antiban.campaigns x WHERE x.id = campaign AND antiban.may_use_portfolio(x.portfolio_id);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no campaign %', campaign USING ERRCODE = 'undefined_object';
    END IF;
    WITH m AS MATERIALIZED (SELECT * FROM antiban.campaign_plan_members(campaign))
    SELECT count(*), count(*) FILTER (WHERE m.status = 'eligible'),
           count(*) FILTER (WHERE m.status = 'eligible' AND m.counts),
           (SELECT coalesce(jsonb_object_agg(k.reason, k.n), '{}')
            FROM (SELECT x.reason, count(*) AS n FROM m x WHERE x.status = 'held' GROUP BY x.reason) k),
           (SELECT coalesce(jsonb_object_agg(k.reason, k.n), '{}')
            FROM (SELECT x.reason, count(*) AS n FROM m x WHERE x.status = 'excluded' GROUP BY x.reason) k),
           (SELECT coalesce(jsonb_object_agg(k.phone_number_id, k.n), '{}')
            FROM (SELECT coalesce(x.phone_number_id, '(none)') AS phone_number_id, count(*) AS n
                  FROM m x WHERE x.status = 'eligible' GROUP BY 1) k),
           (SELECT max(k.n) FROM (SELECT count(*) AS n FROM m x WHERE x.status = 'eligible' GROUP BY x.params) k)
    INTO audience, eligible, needs, held, excluded, numbers, top_body
    FROM m;
    SELECT * INTO b FROM antiban.campaign_budget(c);
    budget := b.messaging_limit;
    budget_left := b.available;
    SELECT count(*) INTO released FROM antiban.campaign_recipients r
    WHERE r.campaign_id = campaign AND r.status = 'released' AND r.released_at > antiban.now() - interval '24 hours';
    rate := antiban.campaign_rate(c, b.messaging_limit, b.kept, eligible);
    rate_per_hour := round(rate::numeric, 1);
    today := least(b.available, c.per_day_cap - released);
    -- budget counts new people only: scale what a day allows to all releases
    finishes_at := antiban.campaign_finish(c, greatest(antiban.now(), coalesce(c.started_at, antiban.now())), eligible, rate,
        CASE WHEN needs > 0 THEN floor(today * eligible::numeric / needs)::bigint END,
        CASE WHEN needs > 0 THEN floor(least(c.per_day_cap::bigint, b.messaging_limit - b.kept) * eligible::numeric / needs)::bigint END);
    -- the lint: the template's own rules, and a body identical for most people
    SELECT coalesce(jsonb_agg(f), '[]') INTO lint FROM antiban.campaign_lint(campaign) f;
    top_share := coalesce(top_body, 0)::numeric / greatest(eligible, 1);
    IF eligible >= 20 AND top_share > 0.5 THEN
        lint := lint || jsonb_build_object('severity', 'warning', 'rule', 'identical_body', 'where', 'params',
            'detail', format('%s%% of the eligible recipients get the same rendered body', round(100 * top_share)));
    END IF;
    now_local := antiban.now() AT TIME ZONE c.time_zone;
    finish_local := finishes_at AT TIME ZONE c.time_zone;
    summary := format('%s of %s eligible; needs %s new recipients, %s left %s: finishes %s',
        to_char(eligible, 'FM999,999,999'), to_char(audience, 'FM999,999,999'), to_char(needs, 'FM999,999,999'),
        CASE WHEN budget_left IS NULL THEN 'unlimited' ELSE to_char(budget_left, 'FM999,999,999') END,
        'today', CASE WHEN finishes_at IS NULL THEN 'not within two years'
                      WHEN finish_local::date = now_local::date THEN 'today ' || to_char(finish_local, 'HH24:MI')
                      WHEN finish_local::date = now_local::date + 1 THEN 'tomorrow ' || to_char(finish_local, 'HH24:MI')
                      ELSE to_char(finish_local, 'YYYY-MM-DD HH24:MI') END);
END
$$;
COMMENT ON FUNCTION antiban.plan_campaign(bigint) IS
    'Dry run of a campaign (a draft: its audience now; a started one: what is still pending): audience size, eligible people, those held (frequency cap, quiet hours...) and excluded (invalid, duplicate person, opted out, no opt-in, score gate...) by reason, new people it needs against the portfolio''s 24 h budget (limit) and what campaigns may still take (after the reserve and queued templates), release rate, numbers it would use, when it would finish in its window, lint findings, and one sentence. Takes nothing, sends nothing.';

-- ---- lint ----

CREATE FUNCTION antiban.campaign_lint(campaign bigint)
RETURNS TABLE (severity text, rule text, "where" text, detail text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    c antiban.campaigns;
    t record;
    f record;
BEGIN
    SELECT * INTO c FROM antiban.campaigns x WHERE x.id = campaign AND antiban.may_use_portfolio(x.portfolio_id);
    SELECT x.status, x.category, x.components INTO t FROM antiban.templates x JOIN antiban.wabas w ON w.id = x.waba_id
    WHERE w.portfolio_id = c.portfolio_id AND x.name = c.template_name AND x.language = c.language
    ORDER BY x.status = 'APPROVED' DESC LIMIT 1;
    IF t.status IS DISTINCT FROM 'APPROVED' THEN
        RETURN QUERY SELECT 'error', 'template_not_approved', 'template',
            format('template %s (%s) is %s', c.template_name, c.language, coalesce(t.status, 'unknown'));
    END IF;
    IF t.category IS NOT NULL AND lower(t.category) <> c.category::text THEN
        RETURN QUERY SELECT 'error', 'category_mismatch', 'category',
            format('the template is %s, the campaign %s: Meta bills and limits it as %s', lower(t.category), c.category, lower(t.category));
    END IF;
    -- the template policy lint, when installed (the templates work)
    IF to_regprocedure('antiban.lint_template(jsonb)') IS NOT NULL AND t.components IS NOT NULL THEN
        FOR f IN EXECUTE 'SELECT to_jsonb(l) AS j FROM antiban.lint_template($1) l' USING t.components LOOP
            RETURN QUERY SELECT coalesce(f.j ->> 'severity', 'warning'), coalesce(f.j ->> 'rule', 'template_lint'),
                                coalesce(f.j ->> 'where', f.j ->> 'location', 'template'), f.j::text;
        END LOOP;
    END IF;
END
$$;
COMMENT ON FUNCTION antiban.campaign_lint(bigint) IS
    'Findings about a campaign''s template (severity, rule, where, detail): not approved, a category other than the template''s, and antiban.lint_template''s findings when it is installed. plan_campaign adds identical_body when one rendered body goes to most recipients.';

-- ---- the life of a campaign ----

CREATE FUNCTION antiban.start_campaign(campaign bigint, force boolean DEFAULT false)
RETURNS antiban.campaign_state
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, antiban, pg_temp AS $$
DECLARE
    c antiban.campaigns;
    p record;
    errors jsonb;
    stored bigint;
BEGIN
    SELECT * INTO c FROM antiban.campaigns x WHERE x.id = campaign AND antiban.may_use_portfolio(x.portfolio_id);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no campaign %', campaign USING ERRCODE = 'undefined_object';
    END IF;
    IF c.state <> 'draft' THEN
        PERFORM antiban.campaign_move(campaign, 'running');   -- says why not
    END IF;
    SELECT * INTO p FROM antiban.plan_campaign(campaign);
    SELECT jsonb_agg(f) INTO errors FROM jsonb_array_elements(p.lint) f WHERE f ->> 'severity' = 'error';
    IF errors IS NOT NULL AND NOT force THEN
        RAISE EXCEPTION 'campaign "%" does not pass the lint', c.name USING ERRCODE = 'check_violation',
            DETAIL = errors::text,
            HINT = 'Fix the template or the campaign; force => true starts it anyway.';
    END IF;
    stored := antiban.campaign_store_members(campaign,
        (SELECT array_agg(ROW(m.ord, m.recipient, m.person, m.person_key, m.params,
                              CASE WHEN m.status = 'excluded' THEN 'skipped' ELSE 'pending' END,
                              CASE WHEN m.status = 'excluded' THEN m.reason END)::antiban.campaign_member)
         FROM antiban.campaign_members(campaign) m));
    RETURN antiban.campaign_move(campaign, 'running',
        jsonb_build_object('audience', p.audience, 'eligible', p.eligible, 'held', p.held, 'excluded', p.excluded,
                           'stored', stored, 'lint', p.lint, 'plan', p.summary, 'forced', force AND errors IS NOT NULL));
END
$$;
COMMENT ON FUNCTION antiban.start_campaign(bigint, boolean) IS
    'Start a draft campaign: plan it, refuse it if the lint finds an error (unless force), take a snapshot of its audience as you can read it (one row per person; excluded people skipped with their reason) and let antiban.pace_campaigns() release it.';

CREATE FUNCTION antiban.pause_campaign(campaign bigint) RETURNS antiban.campaign_state
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, antiban, pg_temp
RETURN antiban.campaign_move(campaign, 'paused');
COMMENT ON FUNCTION antiban.pause_campaign(bigint) IS
    'Stop releasing a running campaign (messages already released still go).';

CREATE FUNCTION antiban.resume_campaign(campaign bigint) RETURNS antiban.campaign_state
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, antiban, pg_temp
RETURN antiban.campaign_move(campaign, 'running');
COMMENT ON FUNCTION antiban.resume_campaign(bigint) IS 'Resume releasing a paused campaign.';

CREATE FUNCTION antiban.cancel_campaign(campaign bigint) RETURNS antiban.campaign_state
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, antiban, pg_temp
RETURN antiban.campaign_move(campaign, 'cancelled');
COMMENT ON FUNCTION antiban.cancel_campaign(bigint) IS
    'Cancel a campaign for good: nothing more is released, and its messages still queued are cancelled.';

-- ---- pacing ----

-- One campaign's next slice: what the rate allows since the last call,
-- within the window, the budget after the reserve, and the caps.
CREATE FUNCTION antiban.pace_campaign(c antiban.campaigns) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    t_now timestamptz := antiban.now();
    w record;
    b record;
    pending bigint;
    hour_used bigint;
    day_used bigint;
    rate double precision;
    since timestamptz;
    allow double precision;
    n bigint;
    persons bigint[];
    recipients text[];
    params jsonb[];
    meta jsonb;
    business text;
    msg bigint;
    released integer := 0;
BEGIN
    SELECT count(*) INTO pending FROM antiban.campaign_recipients r WHERE r.campaign_id = c.id AND r.status = 'pending';
    IF pending = 0 THEN
        PERFORM antiban.campaign_move(c.id, 'completed', jsonb_build_object('released',
            (SELECT count(*) FROM antiban.campaign_recipients r WHERE r.campaign_id = c.id AND r.status = 'released')));
        RETURN 0;
    END IF;
    SELECT * INTO w FROM antiban.campaign_window_on(c, t_now);
    IF t_now < w.opens OR t_now >= w.closes THEN
        UPDATE antiban.campaigns SET paced_at = t_now, carry = 0 WHERE id = c.id;
        RETURN 0;
    END IF;
    SELECT * INTO b FROM antiban.campaign_budget(c);
    SELECT count(*) FILTER (WHERE r.released_at > t_now - interval '1 hour'), count(*)
    INTO hour_used, day_used FROM antiban.campaign_recipients r
    WHERE r.campaign_id = c.id AND r.status = 'released' AND r.released_at > t_now - interval '24 hours';
    rate := antiban.campaign_rate(c, b.messaging_limit, b.kept, pending);
    -- at most ten minutes of catching up: a late tick is no burst
    since := greatest(coalesce(c.paced_at, c.started_at), w.opens, t_now - interval '10 minutes');
    allow := c.carry + rate * extract(epoch FROM t_now - since) / 3600.0;
    n := least(floor(allow)::bigint, pending, coalesce(b.available, pending),
               coalesce(c.per_hour_cap - hour_used, pending), coalesce(c.per_day_cap - day_used, pending));
    n := greatest(n, 0);
    -- the slice, locked outside the block below so a fallback keeps the locks
    SELECT array_agg(x.person ORDER BY x.ord), array_agg(x.recipient ORDER BY x.ord),
           array_agg(x.params ORDER BY x.ord)
    INTO persons, recipients, params
    FROM (SELECT r.person, r.recipient, r.params, r.ord FROM antiban.campaign_recipients r
          WHERE r.campaign_id = c.id AND r.status = 'pending' ORDER BY r.ord LIMIT n
          FOR UPDATE SKIP LOCKED) x;
    meta := jsonb_build_object('campaign', c.name, 'campaign_id', c.id)
        || CASE WHEN c.frequency_caps IS NULL THEN '{}'::jsonb
                ELSE jsonb_build_object('frequency_caps', c.frequency_caps) END;
    business := (SELECT p.business_id FROM antiban.portfolios p WHERE p.id = c.portfolio_id);
    IF persons IS NULL THEN
        persons := '{}';
    END IF;
    -- the whole slice in one call (the same rules as one send_template each)
    BEGIN
        WITH s AS (SELECT * FROM antiban.send_template_many(recipients, c.template_name, c.language, params,
                       c.category::text, 'low', w.closes,
                       ARRAY(SELECT format('campaign:%s:%s', c.id, p.v) FROM unnest(persons) WITH ORDINALITY AS p(v, i)
                             ORDER BY p.i),
                       meta, portfolio => business))
        UPDATE antiban.campaign_recipients r SET status = 'released', outbox_id = s.id, released_at = t_now
        FROM s WHERE r.campaign_id = c.id AND r.person = persons[s.ord];
        GET DIAGNOSTICS released = ROW_COUNT;
    EXCEPTION WHEN data_exception OR undefined_object OR check_violation THEN
        -- a row the send refuses (its parameters, a template changed since
        -- the snapshot) failed the set: release the slice row by row, so
        -- that row alone is skipped with the error and the tick goes on
        released := 0;
        FOR k IN 1 .. cardinality(persons) LOOP
            BEGIN
                msg := antiban.send_template(recipients[k], c.template_name, c.language, params[k], c.category::text, 'low',
                    w.closes, format('campaign:%s:%s', c.id, persons[k]), meta, portfolio => business);
            EXCEPTION WHEN data_exception OR undefined_object OR check_violation THEN
                UPDATE antiban.campaign_recipients r
                SET status = 'skipped', error = SQLERRM,
                    reason = CASE WHEN SQLSTATE = '22023' THEN 'invalid_params' ELSE 'refused' END
                WHERE r.campaign_id = c.id AND r.person = persons[k];
                CONTINUE;
            END;
            UPDATE antiban.campaign_recipients r SET status = 'released', outbox_id = msg, released_at = t_now
            WHERE r.campaign_id = c.id AND r.person = persons[k];
            released := released + 1;
        END LOOP;
    END;
    UPDATE antiban.campaigns
    SET paced_at = t_now, carry = CASE WHEN released = floor(allow) THEN least(allow - released, 1) ELSE 0 END
    WHERE id = c.id;
    RETURN released;
END
$$;
COMMENT ON FUNCTION antiban.pace_campaign(antiban.campaigns) IS
    'Internal to pace_campaigns: release one running campaign''s next slice, in one antiban.send_template_many call. A row the send refuses is skipped (reason invalid_params or refused, error: the message; the slice is then released row by row) and the others go on.';

CREATE FUNCTION antiban.pace_campaigns(OUT campaign bigint, OUT name text, OUT released integer)
RETURNS SETOF record
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
DECLARE
    c antiban.campaigns;
BEGIN
    -- (an administrator mapped to portfolios paces its own portfolios' campaigns)
    FOR c IN SELECT * FROM antiban.campaigns x WHERE x.state = 'running' AND antiban.may_use_portfolio(x.portfolio_id) ORDER BY x.id FOR UPDATE SKIP LOCKED LOOP
        campaign := c.id;
        name := c.name;
        released := antiban.pace_campaign(c);
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION antiban.pace_campaigns() IS
    'Release the next slice of every running campaign into the outbox (send_template, priority low, valid until the window closes, idempotency key campaign:<id>:<person>): a day''s allowance spread evenly over the allowed hours, never more than the portfolio''s 24 h budget leaves after the campaign''s reserve for other traffic and the templates already queued, within per_hour_cap and per_day_cap. Completes a campaign with nothing left. Run it every minute (pg_cron: SELECT cron.schedule(''antiban-campaigns'', ''* * * * *'', ''SELECT antiban.pace_campaigns()'')). Returns what each campaign released. An administrator mapped to portfolios releases (and sees) only its own portfolios'' campaigns.';

-- ---- the funnel ----

CREATE VIEW antiban.campaign_funnel AS
SELECT c.id AS campaign_id, c.name, c.state, c.template_name,
       count(r.*) AS audience,
       count(r.*) FILTER (WHERE r.status = 'skipped') AS skipped,
       count(r.*) FILTER (WHERE r.status = 'pending') AS pending,
       count(o.id) AS queued,
       count(o.sent_at) AS sent,
       count(o.delivered_at) AS delivered,
       count(o.read_at) AS read,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM antiban.contacts k JOIN antiban.interactions i ON i.contact_id = k.id
                                      WHERE k.person_id = o.person_id AND i.direction = 'in' AND i.occurred_at >= o.sent_at)) AS replied,
       -- the consent registry, the one source of truth: every opt-out path
       -- (operator, stop request, user_preferences, 131050) writes it, with or
       -- without a contacts row (a message queued before the person was known
       -- has no person_id: its recipient names them)
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM antiban.consent_events e
                                      WHERE e.person_id = coalesce(o.person_id, antiban.person_id(o.portfolio_id, o.recipient))
                                        AND e.action = 'opt_out'
                                        AND e.stated_at >= o.sent_at)) AS opted_out,
       count(o.id) FILTER (WHERE o.state IN ('failed', 'dead', 'rejected', 'expired', 'cancelled', 'unknown')) AS failed,
       (SELECT coalesce(jsonb_object_agg(f.k, f.n), '{}') FROM (
            SELECT coalesce(o2.error_code::text,
                            o2.state::text || CASE WHEN o2.state = 'rejected' THEN ':' || o2.reason ELSE '' END) AS k,
                   count(*) AS n
            FROM antiban.campaign_recipients r2 JOIN antiban.outbox o2 ON o2.id = r2.outbox_id
            WHERE r2.campaign_id = c.id AND o2.state IN ('failed', 'dead', 'rejected', 'expired', 'cancelled', 'unknown')
            GROUP BY 1) f) AS failed_by_code,
       sum(mc.cost) AS cost,
       min(mc.currency) AS currency
FROM antiban.campaigns c
LEFT JOIN antiban.campaign_recipients r ON r.campaign_id = c.id
LEFT JOIN antiban.outbox o ON o.id = r.outbox_id
LEFT JOIN antiban.message_costs mc ON mc.message_id = o.id
GROUP BY c.id;
COMMENT ON VIEW antiban.campaign_funnel IS
    'Per campaign: audience (people in the snapshot), skipped, pending, queued (released into the outbox), sent, delivered, read, replied (the person wrote after the send), opted out (an opt-out in antiban.consent_events stated after the send), failed (with counts by Meta error code, or reason/state), and cost from message_costs.';
