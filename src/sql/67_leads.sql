-- Leads, the agents who answer them, assignment and the first-response SLA.
--
-- antiban.leads is deliberately minimal: the rest of the leads work extends
-- it.  Identity adds the foreign key on person_id (persons are being built:
-- no foreign key yet) and the one-lead-per-person-and-portfolio rule; the
-- scoring model writes score and keeps its reasons; ingest fills the inbound
-- times; the outbox will call antiban.record_first_response() when an
-- agent's reply leaves.  What this file owns is who answers a lead, when,
-- and whether they did in time.
--
-- Rules: src/core/lead_assignment.c (filters, policies, fairness, the
-- explanation) and src/core/business_hours.c (shifts, deadlines); the C
-- adapters are src/pg/lead_assign*.c.

CREATE TYPE antiban.agent_presence AS ENUM ('online', 'away', 'offline');
COMMENT ON TYPE antiban.agent_presence IS
    'online agents get new leads; away agents keep theirs but get none; offline agents get none and their unanswered leads move.';

CREATE TYPE antiban.agent_tier AS ENUM ('junior', 'standard', 'senior');
COMMENT ON TYPE antiban.agent_tier IS
    'Seniority. The score_aware policy sends hot leads to seniors and cold ones to juniors (thresholds in antiban.lead_routing).';

CREATE TYPE antiban.assignment_policy AS ENUM ('round_robin', 'least_loaded', 'score_aware');
COMMENT ON TYPE antiban.assignment_policy IS
    'round_robin: furthest below its fair share, then longest since its last lead; least_loaded: lowest open/capacity; score_aware: the tier the score asks for, then the best win rate on leads of the same score band.';

-- ---------------------------------------------------------------- agents

CREATE TABLE antiban.agents (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    portfolio_id    bigint NOT NULL REFERENCES antiban.portfolios ON DELETE RESTRICT,
    name            text NOT NULL CONSTRAINT agents_name_present CHECK (btrim(name) <> ''),
    login_role      text UNIQUE,
    languages       text[] NOT NULL DEFAULT '{pt}'
                    CONSTRAINT agents_speak_a_language
                    CHECK (cardinality(languages) >= 1 AND array_position(languages, NULL) IS NULL),
    products        text[] NOT NULL DEFAULT '{}'
                    CONSTRAINT agents_products_not_null CHECK (array_position(products, NULL) IS NULL),
    capacity        integer NOT NULL DEFAULT 10
                    CONSTRAINT agents_capacity_not_negative CHECK (capacity >= 0),
    weight          integer NOT NULL DEFAULT 100
                    CONSTRAINT agents_weight_range CHECK (weight BETWEEN 1 AND 1000),
    tier            antiban.agent_tier NOT NULL DEFAULT 'standard',
    time_zone       text NOT NULL DEFAULT 'America/Sao_Paulo',
    presence        antiban.agent_presence NOT NULL DEFAULT 'offline',
    presence_since  timestamptz NOT NULL DEFAULT antiban.now(),
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT antiban.now(),
    updated_at      timestamptz NOT NULL DEFAULT antiban.now()
);
CREATE INDEX ON antiban.agents (portfolio_id, id);
COMMENT ON TABLE antiban.agents IS
    'The people who answer leads, per portfolio: languages, products (none: all), capacity in open leads, weight (share of new leads, 100 = normal), tier, working hours (antiban.agent_shifts) in time_zone, presence. active = false takes an agent out of rotation.';
COMMENT ON COLUMN antiban.agents.login_role IS
    'The agent''s own PostgreSQL role, if any: it may set its own presence with antiban.set_agent_presence().';
COMMENT ON COLUMN antiban.agents.languages IS 'Language tags; "pt" serves leads in "pt-BR" and the other way round.';

CREATE TABLE antiban.agent_shifts (
    agent_id  bigint NOT NULL REFERENCES antiban.agents ON DELETE CASCADE,
    weekday   smallint NOT NULL CONSTRAINT agent_shifts_weekday CHECK (weekday BETWEEN 0 AND 6),
    starts    time NOT NULL CONSTRAINT agent_shifts_starts_in_day CHECK (starts < '24:00'),
    ends      time NOT NULL,
    PRIMARY KEY (agent_id, weekday, starts)
);
COMMENT ON TABLE antiban.agent_shifts IS
    'Weekly working hours in the agent''s time zone. weekday 0 = Sunday (as extract(dow)); ends at or before starts crosses midnight (fri 22:00-06:00 ends Saturday morning); ends = starts is 24 h. An agent without shifts works around the clock. Set them with antiban.set_working_hours().';

-- Names checked against PostgreSQL's tz database, as the adapter reads them.
-- pg_timezone_names reads every zone file (tens of ms): once per distinct
-- value inserted, and on update only when the zone or role changes.
CREATE FUNCTION antiban.check_agent_settings(time_zone text, login_role text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_timezone_names z WHERE z.name = check_agent_settings.time_zone) THEN
        RAISE EXCEPTION 'unknown time zone "%"', check_agent_settings.time_zone
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'An agent''s working hours are read in a time zone of PostgreSQL''s tz database.',
                  HINT = 'Use a name from pg_timezone_names, such as America/Sao_Paulo.';
    END IF;
    IF check_agent_settings.login_role IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = check_agent_settings.login_role) THEN
        RAISE EXCEPTION 'role "%" does not exist', check_agent_settings.login_role
            USING ERRCODE = 'undefined_object',
                  HINT = 'login_role names the agent''s own PostgreSQL role; create it first, or leave it empty.';
    END IF;
END
$$;
COMMENT ON FUNCTION antiban.check_agent_settings(text, text) IS
    'Internal: an agent''s time zone is in pg_timezone_names and its login role exists.';

CREATE FUNCTION antiban.agents_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM antiban.check_agent_settings(d.time_zone, d.login_role)
    FROM (SELECT DISTINCT n.time_zone, n.login_role FROM new_agents n) d;
    RETURN NULL;
END
$$;
CREATE TRIGGER agents_inserted AFTER INSERT ON antiban.agents
    REFERENCING NEW TABLE AS new_agents FOR EACH STATEMENT EXECUTE FUNCTION antiban.agents_inserted();

CREATE FUNCTION antiban.agents_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM antiban.check_agent_settings(NEW.time_zone, NEW.login_role);
    RETURN NEW;
END
$$;
CREATE TRIGGER agents_changed BEFORE UPDATE OF time_zone, login_role ON antiban.agents
    FOR EACH ROW WHEN (NEW.time_zone IS DISTINCT FROM OLD.time_zone OR NEW.login_role IS DISTINCT FROM OLD.login_role)
    EXECUTE FUNCTION antiban.agents_changed();

CREATE FUNCTION antiban.agents_stamp() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.presence IS DISTINCT FROM OLD.presence THEN
        NEW.presence_since := antiban.now();
    END IF;
    NEW.updated_at := antiban.now();
    RETURN NEW;
END
$$;
CREATE TRIGGER agents_stamp BEFORE UPDATE ON antiban.agents
    FOR EACH ROW EXECUTE FUNCTION antiban.agents_stamp();

-- ---------------------------------------------------------------- routing

CREATE TABLE antiban.lead_routing (
    portfolio_id        bigint PRIMARY KEY REFERENCES antiban.portfolios ON DELETE CASCADE,
    policy              antiban.assignment_policy NOT NULL DEFAULT 'least_loaded',
    first_response_sla  interval NOT NULL DEFAULT '15 minutes'
                        CONSTRAINT lead_routing_sla_range
                        CHECK (first_response_sla > '0' AND first_response_sla <= '30 days'),
    fairness_window     interval NOT NULL DEFAULT '24 hours'
                        CONSTRAINT lead_routing_window_positive CHECK (fairness_window > '0'),
    fairness_limit      integer CONSTRAINT lead_routing_limit_positive CHECK (fairness_limit > 0),
    queue_aging         interval NOT NULL DEFAULT '5 minutes'
                        CONSTRAINT lead_routing_aging_positive CHECK (queue_aging >= '1 second'),
    senior_score        smallint NOT NULL DEFAULT 80,
    standard_score      smallint NOT NULL DEFAULT 50,
    conversion_window   interval NOT NULL DEFAULT '180 days'
                        CONSTRAINT lead_routing_conversion_positive CHECK (conversion_window > '0'),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT lead_routing_tiers CHECK (0 <= standard_score AND standard_score <= senior_score AND senior_score <= 101)
);
COMMENT ON TABLE antiban.lead_routing IS
    'How a portfolio''s leads are assigned: default policy; first-response SLA in the owner''s business hours; fairness window and limit (assignments per agent per window at weight 100, NULL: none); queue aging (each period waited counts one score point); score thresholds for senior and standard agents; how far back win rates look. Every portfolio has its row, with the defaults, from its creation: change it with UPDATE.';

-- Every portfolio has its routing row from the start, so that the README's
-- UPDATE antiban.lead_routing ... WHERE portfolio_id = 1 before any lead
-- finds a row instead of silently updating none.  (An upgrade adds the rows
-- of older portfolios in src/sql/upgrade/after.sql.)
CREATE FUNCTION antiban.portfolios_add_lead_routing() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, antiban, pg_temp
AS $$
BEGIN
    INSERT INTO antiban.lead_routing (portfolio_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION antiban.portfolios_add_lead_routing() IS
    'Trigger: a new portfolio gets its antiban.lead_routing row with the defaults.';
CREATE TRIGGER portfolios_add_lead_routing AFTER INSERT ON antiban.portfolios
    FOR EACH ROW EXECUTE FUNCTION antiban.portfolios_add_lead_routing();

-- The routing of a portfolio (a row removed by hand comes back with the defaults).
CREATE FUNCTION antiban.lead_routing_of(portfolio bigint) RETURNS antiban.lead_routing
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    r antiban.lead_routing;
BEGIN
    SELECT * INTO r FROM antiban.lead_routing WHERE portfolio_id = portfolio;
    IF NOT FOUND THEN
        INSERT INTO antiban.lead_routing (portfolio_id) VALUES (portfolio) ON CONFLICT DO NOTHING;
        SELECT * INTO STRICT r FROM antiban.lead_routing WHERE portfolio_id = portfolio;
    END IF;
    RETURN r;
END
$$;
COMMENT ON FUNCTION antiban.lead_routing_of(bigint) IS
    'A portfolio''s antiban.lead_routing row, inserted with the defaults if it has none.';

-- ---------------------------------------------------------------- leads

CREATE TABLE antiban.leads (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    portfolio_id      bigint NOT NULL REFERENCES antiban.portfolios ON DELETE RESTRICT,
    person_id         bigint,
    stage             text NOT NULL DEFAULT 'new'
                      CONSTRAINT leads_stage
                      CHECK (stage IN ('new', 'engaged', 'qualified', 'disqualified', 'won', 'lost')),
    source            text,
    source_ad_id      text,
    campaign          text,
    owner_agent_id    bigint REFERENCES antiban.agents ON DELETE RESTRICT,
    score             smallint CONSTRAINT leads_score_range CHECK (score BETWEEN 0 AND 100),
    language          text,
    products          text[] NOT NULL DEFAULT '{}'
                      CONSTRAINT leads_products_not_null CHECK (array_position(products, NULL) IS NULL),
    created_at        timestamptz NOT NULL DEFAULT antiban.now(),
    first_inbound_at  timestamptz,
    first_response_at timestamptz,
    last_inbound_at   timestamptz,
    closed_at         timestamptz,
    -- numeric NaN and Infinity pass "value >= 0" and turn every sum of won value into NaN/Infinity
    value             numeric CONSTRAINT leads_value_not_negative CHECK (value >= 0)
                      CONSTRAINT leads_value_finite CHECK (value < 'Infinity'),
    -- assignment state, kept by antiban.assign_lead() and friends
    assigned_at       timestamptz,
    assignment_id     bigint,
    queued_at         timestamptz,
    queue_reason      text CONSTRAINT leads_queue_reason
                      CHECK (queue_reason IN ('no_agents', 'no_language', 'no_product', 'nobody_available',
                                              'all_full', 'fairness_limit')),
    sla_due_at        timestamptz,
    CONSTRAINT leads_stage_closed_at
        CHECK ((closed_at IS NULL) = (stage IN ('new', 'engaged', 'qualified'))),
    CONSTRAINT leads_queued_unowned_open
        CHECK (queued_at IS NULL OR (owner_agent_id IS NULL AND closed_at IS NULL)),
    CONSTRAINT leads_queued_with_reason CHECK ((queue_reason IS NULL) = (queued_at IS NULL))
);
CREATE INDEX leads_queue ON antiban.leads (portfolio_id, queued_at) WHERE queued_at IS NOT NULL;
CREATE INDEX leads_open_by_owner ON antiban.leads (portfolio_id, owner_agent_id)
    WHERE closed_at IS NULL AND owner_agent_id IS NOT NULL;
CREATE INDEX leads_sla_running ON antiban.leads (portfolio_id, sla_due_at) WHERE sla_due_at IS NOT NULL;
CREATE INDEX leads_person ON antiban.leads (portfolio_id, person_id) WHERE person_id IS NOT NULL;
CREATE INDEX leads_closed ON antiban.leads (portfolio_id, closed_at) WHERE closed_at IS NOT NULL;
COMMENT ON TABLE antiban.leads IS
    'Sales leads, one per conversation with a person in a portfolio (the minimal table the leads work extends). A qualified lead without an owner is assigned at once (antiban.assign_lead); one nobody can take waits in the queue (queued_at, queue_reason) until antiban.assign_queued() places it.';
COMMENT ON COLUMN antiban.leads.person_id IS 'The person, one of the lead''s portfolio (a trigger refuses a person of another portfolio; no foreign key: a lead may name a person identity does not know yet).';

-- A lead of portfolio 2 on a person of portfolio 1 would show portfolio 1's conversation on
-- portfolio 2's timeline and route it to portfolio 2's agents: refused, whoever writes the row.
CREATE FUNCTION antiban.lead_person_in_portfolio() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, antiban, pg_temp AS $$
DECLARE
    theirs bigint;
BEGIN
    SELECT p.portfolio_id INTO theirs FROM antiban.persons p WHERE p.id = NEW.person_id;
    IF theirs IS DISTINCT FROM NEW.portfolio_id AND theirs IS NOT NULL THEN
        RAISE EXCEPTION 'person % belongs to portfolio %, not to the lead''s portfolio %',
                        NEW.person_id, theirs, NEW.portfolio_id
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = 'A lead is a person in a portfolio: persons, their identifiers and consent are per portfolio.',
                  HINT = 'Use antiban.upsert_lead(recipient, portfolio), which finds or makes the person in that portfolio.';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION antiban.lead_person_in_portfolio() IS
    'Trigger: a lead''s person_id names a person of the lead''s own portfolio (or one identity does not know).';
CREATE TRIGGER leads_person_in_portfolio BEFORE INSERT OR UPDATE OF person_id, portfolio_id ON antiban.leads
    FOR EACH ROW WHEN (NEW.person_id IS NOT NULL) EXECUTE FUNCTION antiban.lead_person_in_portfolio();
COMMENT ON COLUMN antiban.leads.owner_agent_id IS 'The agent answering it; kept after closing (who won or lost it).';
COMMENT ON COLUMN antiban.leads.assignment_id IS 'Its current (or last) row of antiban.lead_assignments.';
COMMENT ON COLUMN antiban.leads.sla_due_at IS 'When the owner''s first reply is due (business hours); NULL when no first-response clock runs.';

CREATE TABLE antiban.lead_assignments (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lead_id            bigint NOT NULL REFERENCES antiban.leads ON DELETE CASCADE,
    portfolio_id       bigint NOT NULL,
    agent_id           bigint NOT NULL REFERENCES antiban.agents ON DELETE RESTRICT,
    previous_agent_id  bigint,
    assigned_at        timestamptz NOT NULL,
    cause              text NOT NULL CONSTRAINT lead_assignments_cause
                       CHECK (cause IN ('assign', 'queue', 'sla_missed', 'agent_offline', 'agent_inactive', 'off_shift')),
    policy             text NOT NULL CONSTRAINT lead_assignments_policy
                       CHECK (policy IN ('round_robin', 'least_loaded', 'score_aware', 'returning')),
    explanation        text NOT NULL,
    score              smallint,
    open_leads         integer NOT NULL,
    capacity           integer NOT NULL,
    fairness           real NOT NULL,
    sla_due_at         timestamptz,
    first_response_at  timestamptz,
    sla_outcome        text CONSTRAINT lead_assignments_sla_outcome
                       CHECK (sla_outcome IN ('met', 'missed', 'moved', 'closed')),
    ended_at           timestamptz
);
CREATE INDEX ON antiban.lead_assignments (agent_id, id);
CREATE INDEX ON antiban.lead_assignments (lead_id, id);
CREATE INDEX ON antiban.lead_assignments (portfolio_id, assigned_at);
ALTER TABLE antiban.leads ADD CONSTRAINT leads_assignment_fk
    FOREIGN KEY (assignment_id) REFERENCES antiban.lead_assignments ON DELETE SET NULL;
COMMENT ON TABLE antiban.lead_assignments IS
    'One row per assignment, with why: cause (a new lead, the queue, a missed SLA, the owner offline, inactive or off shift), policy, and an explanation such as "online, 3/8 open, score 82 => senior tier, wins 66% of similar leads (10 closed), fairness -2" (open/capacity before this lead; fairness: assignments in the window minus the fair share). sla_due_at is the first-response deadline in the agent''s business hours; sla_outcome: met, missed (late, or moved for it), moved (before it was due), closed.';

CREATE TABLE antiban.lead_events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lead_id       bigint NOT NULL REFERENCES antiban.leads ON DELETE CASCADE,
    portfolio_id  bigint NOT NULL,
    at            timestamptz NOT NULL DEFAULT antiban.now(),
    kind          text NOT NULL CONSTRAINT lead_events_kind
                  CHECK (kind IN ('stage', 'assigned', 'reassigned', 'queued', 'first_response', 'sla_missed')),
    agent_id      bigint,
    stage         text,
    detail        text
);
CREATE INDEX ON antiban.lead_events (lead_id, id);
COMMENT ON TABLE antiban.lead_events IS
    'A lead''s log: stage changes, assignments and reassignments (with the explanation), entering the queue (with the reason), the first response, missed SLAs.';

-- ---------------------------------------------------------------- C adapters

-- One lock per portfolio serializes everything that assigns or moves its
-- leads (assign_lead, assign_queued, check_sla, set_agent_presence): each
-- counts the agents' open leads after taking it, so two sessions never both
-- see the last free place.  An advisory lock, not the agents' rows: one
-- lock instead of a row lock (and a WAL record) per agent.  Lock order: a
-- lead the caller names first, then this; leads found while holding it are
-- claimed with SKIP LOCKED, never waited for.
CREATE FUNCTION antiban.lock_lead_assignment(portfolio bigint) RETURNS void
LANGUAGE sql VOLATILE
RETURN pg_advisory_xact_lock(1279607108, (portfolio % 2147483647)::integer);
COMMENT ON FUNCTION antiban.lock_lead_assignment(bigint) IS
    'Internal: the transaction lock that serializes assignment in a portfolio (advisory lock 1279607108 = ''LEAD'', portfolio id).';

CREATE FUNCTION antiban.assign_lead(lead bigint, policy antiban.assignment_policy DEFAULT NULL,
                                    OUT agent_id bigint, OUT assignment_id bigint,
                                    OUT queue_reason text, OUT explanation text)
AS 'MODULE_PATHNAME', 'antiban_assign_lead' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.assign_lead(bigint, antiban.assignment_policy) IS
    'Give a lead to an agent by policy (default: the portfolio''s), within capacity and fairness; a returning person goes back to their owner. Returns the agent and the assignment, or queue_reason when it waits in the queue; explanation says why either way. A lead that already has an owner keeps it.';

CREATE FUNCTION antiban.assign_queued(portfolio bigint DEFAULT NULL, max_leads integer DEFAULT NULL,
                                      policy antiban.assignment_policy DEFAULT NULL)
RETURNS integer
AS 'MODULE_PATHNAME', 'antiban_assign_queued' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.assign_queued(bigint, integer, antiban.assignment_policy) IS
    'Drain the queue (one portfolio, or all) in order of score plus waiting time, while agents have room; returns how many leads were assigned. For a worker or pg_cron, every minute. A caller mapped to portfolios (an administrator too) drains only its own portfolios'' queues: all of them for NULL, none for another''s.';

CREATE FUNCTION antiban.sweep_leads(portfolio bigint)
RETURNS TABLE (lead_id bigint, from_agent bigint, to_agent bigint, cause text, explanation text)
AS 'MODULE_PATHNAME', 'antiban_sweep_leads' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.sweep_leads(bigint) IS
    'Internal (antiban.check_sla, antiban.set_agent_presence): move unanswered leads whose first response is overdue, or whose owner is offline, inactive or off shift.';

CREATE FUNCTION antiban.assign_new_leads(leads bigint[]) RETURNS integer
AS 'MODULE_PATHNAME', 'antiban_assign_new_leads' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.assign_new_leads(bigint[]) IS
    'Internal (triggers on antiban.leads): assign qualified leads that have no owner.';

CREATE FUNCTION antiban.agent_on_shift(agent bigint, at timestamptz DEFAULT NULL) RETURNS boolean
AS 'MODULE_PATHNAME', 'antiban_agent_on_shift' LANGUAGE C STABLE;
COMMENT ON FUNCTION antiban.agent_on_shift(bigint, timestamptz) IS
    'Is the agent inside one of its weekly shifts at this instant (default: antiban.now()), read in its time zone?';

CREATE FUNCTION antiban.business_deadline(agent bigint, start timestamptz, business interval)
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'antiban_business_deadline' LANGUAGE C STABLE;
COMMENT ON FUNCTION antiban.business_deadline(bigint, timestamptz, interval) IS
    'The instant at which this much of the agent''s shift time has passed since start (weekends, shifts across midnight and daylight saving in its time zone); infinity if not within 400 days.';

CREATE FUNCTION antiban.business_time(agent bigint, since timestamptz, until timestamptz) RETURNS interval
AS 'MODULE_PATHNAME', 'antiban_business_time' LANGUAGE C STABLE;
COMMENT ON FUNCTION antiban.business_time(bigint, timestamptz, timestamptz) IS
    'How much of the agent''s shift time lies between two instants.';

CREATE FUNCTION antiban.may_act_for_agent(login_role text) RETURNS boolean
AS 'MODULE_PATHNAME', 'antiban_may_act_for_agent' LANGUAGE C STABLE;
COMMENT ON FUNCTION antiban.may_act_for_agent(text) IS
    'Internal: is the session''s role (outside any SECURITY DEFINER function) an antiban_admin, or the agent''s login role?';

-- ---------------------------------------------------------------- triggers on leads

-- A stage change: closing ends the queue and the SLA clock; reopening (a
-- returning person) starts unowned, so it is assigned again (to the owner
-- if they can take it).
CREATE FUNCTION antiban.leads_stage_normalize() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.stage IN ('disqualified', 'won', 'lost') THEN
        NEW.closed_at := coalesce(NEW.closed_at, antiban.now());
        NEW.queued_at := NULL;
        NEW.queue_reason := NULL;
        NEW.sla_due_at := NULL;
    ELSIF TG_OP = 'UPDATE' AND OLD.closed_at IS NOT NULL THEN
        NEW.closed_at := NULL;
        NEW.owner_agent_id := NULL;
        NEW.assigned_at := NULL;
        NEW.sla_due_at := NULL;
        NEW.value := NULL;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER leads_stage_normalize BEFORE INSERT OR UPDATE OF stage ON antiban.leads
    FOR EACH ROW EXECUTE FUNCTION antiban.leads_stage_normalize();

CREATE FUNCTION antiban.leads_stage_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    INSERT INTO antiban.lead_events (lead_id, portfolio_id, kind, agent_id, stage, detail)
    VALUES (NEW.id, NEW.portfolio_id, 'stage', NEW.owner_agent_id, NEW.stage,
            OLD.stage || ' -> ' || NEW.stage
            || CASE WHEN NEW.value IS NOT NULL AND NEW.stage = 'won' THEN ', value ' || NEW.value ELSE '' END);
    IF NEW.closed_at IS NOT NULL AND OLD.closed_at IS NULL THEN
        UPDATE antiban.lead_assignments
        SET ended_at = NEW.closed_at,
            sla_outcome = CASE WHEN sla_outcome IS NULL AND sla_due_at IS NOT NULL AND first_response_at IS NULL
                               THEN 'closed' ELSE sla_outcome END
        WHERE id = NEW.assignment_id AND ended_at IS NULL;
    END IF;
    IF NEW.stage = 'qualified' AND NEW.owner_agent_id IS NULL THEN
        PERFORM antiban.assign_new_leads(ARRAY[NEW.id]);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER leads_stage_changed AFTER UPDATE OF stage ON antiban.leads
    FOR EACH ROW WHEN (OLD.stage IS DISTINCT FROM NEW.stage)
    EXECUTE FUNCTION antiban.leads_stage_changed();

-- New qualified leads are assigned at once, a whole INSERT in one run.
CREATE FUNCTION antiban.leads_inserted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    ids bigint[];
BEGIN
    SELECT array_agg(n.id ORDER BY n.id) INTO ids FROM new_leads n
    WHERE n.stage = 'qualified' AND n.owner_agent_id IS NULL;
    IF ids IS NOT NULL THEN
        PERFORM antiban.assign_new_leads(ids);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER leads_inserted AFTER INSERT ON antiban.leads
    REFERENCING NEW TABLE AS new_leads FOR EACH STATEMENT EXECUTE FUNCTION antiban.leads_inserted();

-- ---------------------------------------------------------------- functions

CREATE FUNCTION antiban.agent_or_error(agent bigint) RETURNS antiban.agents
LANGUAGE plpgsql STABLE AS $$
DECLARE
    a antiban.agents;
BEGIN
    -- another portfolio's agent is as unknown as a missing one
    SELECT * INTO a FROM antiban.agents WHERE id = agent AND antiban.may_use_portfolio(portfolio_id);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown agent %', coalesce(agent::text, 'NULL')
            USING ERRCODE = 'undefined_object',
                  HINT = 'Agents are rows of antiban.agents.';
    END IF;
    RETURN a;
END
$$;
COMMENT ON FUNCTION antiban.agent_or_error(bigint) IS 'Internal: the agent''s row, or an error naming it (also for an agent of a portfolio the caller may not use: antiban.may_use_portfolio, an administrator mapped to portfolios included).';

CREATE FUNCTION antiban.lead_or_error(lead bigint) RETURNS antiban.leads
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    l antiban.leads;
BEGIN
    -- another portfolio's lead is as unknown as a missing one
    SELECT * INTO l FROM antiban.leads WHERE id = lead AND antiban.may_use_portfolio(portfolio_id) FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown lead %', coalesce(lead::text, 'NULL')
            USING ERRCODE = 'undefined_object';
    END IF;
    RETURN l;
END
$$;
COMMENT ON FUNCTION antiban.lead_or_error(bigint) IS 'Internal: the lead''s row, locked, or an error naming it (also for a lead of a portfolio the caller may not use: antiban.may_use_portfolio).';

-- {"mon-fri": "09:00-18:00", "sat": ["09:00-12:00", "22:00-06:00"]}
CREATE FUNCTION antiban.set_working_hours(agent bigint, hours jsonb) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
DECLARE
    day_names constant text[] := ARRAY['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
    a antiban.agents := antiban.agent_or_error(agent);
    days text;
    spans jsonb;
    span text;
    m text[];
    first_day int;
    last_day int;
    starts time;
    ends time;
    stored integer := 0;
BEGIN
    IF hours IS NULL OR jsonb_typeof(hours) <> 'object' THEN
        RAISE EXCEPTION 'working hours must be a JSON object'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'For example {"mon-fri": "09:00-18:00", "sat": ["09:00-12:00", "22:00-06:00"]}; {} means around the clock.';
    END IF;
    DELETE FROM antiban.agent_shifts WHERE agent_id = a.id;
    FOR days, spans IN SELECT key, value FROM jsonb_each(hours) LOOP
        m := regexp_match(lower(days), '^\s*(sun|mon|tue|wed|thu|fri|sat)\s*(?:-\s*(sun|mon|tue|wed|thu|fri|sat)\s*)?$');
        IF m IS NULL THEN
            RAISE EXCEPTION 'unknown day "%" in working hours', days
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Days are sun, mon, tue, wed, thu, fri, sat, or a range such as mon-fri.';
        END IF;
        first_day := array_position(day_names, m[1]) - 1;
        last_day := array_position(day_names, coalesce(m[2], m[1])) - 1;
        IF jsonb_typeof(spans) = 'string' THEN
            spans := jsonb_build_array(spans);
        ELSIF jsonb_typeof(spans) IS DISTINCT FROM 'array' THEN
            RAISE EXCEPTION 'working hours for "%" must be "HH:MM-HH:MM" or a list of them', days
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        FOR span IN SELECT jsonb_array_elements_text(spans) LOOP
            m := regexp_match(span, '^\s*([0-9]{1,2}):([0-9]{2})\s*-\s*([0-9]{1,2}):([0-9]{2})\s*$');
            IF m IS NULL OR m[1]::int > 23 OR m[2]::int > 59 OR m[3]::int > 24 OR m[4]::int > 59
               OR (m[3]::int = 24 AND m[4]::int > 0) THEN
                RAISE EXCEPTION 'working hours "%" are not "HH:MM-HH:MM"', span
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = 'An end at or before the start crosses midnight: "22:00-06:00".';
            END IF;
            starts := make_time(m[1]::int, m[2]::int, 0);
            ends := make_time(m[3]::int, m[4]::int, 0);
            FOR d IN 0 .. ((last_day - first_day + 7) % 7) LOOP
                INSERT INTO antiban.agent_shifts (agent_id, weekday, starts, ends)
                VALUES (a.id, (first_day + d) % 7, starts, ends);
                stored := stored + 1;
            END LOOP;
        END LOOP;
    END LOOP;
    RETURN stored;
END
$$;
COMMENT ON FUNCTION antiban.set_working_hours(bigint, jsonb) IS
    'Replace an agent''s weekly shifts: {"mon-fri": "09:00-18:00", "sat": ["09:00-12:00", "22:00-06:00"]} in its time zone (an end at or before the start crosses midnight; {} means around the clock). Returns the shifts stored. An administrator mapped to portfolios sets only its portfolios'' agents'' hours (another''s agent is unknown).';

CREATE FUNCTION antiban.set_agent_presence(agent bigint, presence antiban.agent_presence) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
DECLARE
    a antiban.agents := antiban.agent_or_error(agent);
    moved integer := 0;
BEGIN
    IF presence IS NULL THEN
        RAISE EXCEPTION 'presence must not be null' USING ERRCODE = 'null_value_not_allowed',
            HINT = 'One of online, away, offline.';
    END IF;
    IF NOT antiban.may_act_for_agent(a.login_role) THEN
        RAISE EXCEPTION 'permission denied to set the presence of agent %', a.id
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'Agents set their own presence (their login_role); antiban_admin sets anyone''s.';
    END IF;
    PERFORM antiban.lock_lead_assignment(a.portfolio_id);
    UPDATE antiban.agents g SET presence = set_agent_presence.presence WHERE g.id = a.id
      AND g.presence IS DISTINCT FROM set_agent_presence.presence;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    IF set_agent_presence.presence = 'offline' THEN
        SELECT count(*) INTO moved FROM antiban.sweep_leads(a.portfolio_id) s WHERE s.to_agent IS NOT NULL;
    ELSIF set_agent_presence.presence = 'online' THEN
        moved := antiban.assign_queued(a.portfolio_id);
    END IF;
    RETURN moved;
END
$$;
COMMENT ON FUNCTION antiban.set_agent_presence(bigint, antiban.agent_presence) IS
    'Set an agent online, away or offline (the agent''s own login role, or an admin). Going offline moves its unanswered leads to colleagues who can take them; coming online drains the queue. Returns the leads moved or assigned. An administrator mapped to portfolios sets only its portfolios'' agents (another''s agent is unknown).';

CREATE FUNCTION antiban.set_lead_stage(lead bigint, stage text) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
DECLARE
    l antiban.leads := antiban.lead_or_error(lead);
BEGIN
    IF set_lead_stage.stage IS NULL OR set_lead_stage.stage NOT IN ('new', 'engaged', 'qualified', 'disqualified', 'won', 'lost') THEN
        RAISE EXCEPTION 'unknown lead stage "%"', set_lead_stage.stage
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'One of new, engaged, qualified, disqualified; won and lost through antiban.close_lead().';
    END IF;
    IF set_lead_stage.stage IN ('won', 'lost') THEN
        RAISE EXCEPTION 'a lead is won or lost through antiban.close_lead()'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'SELECT antiban.close_lead(lead, ''won'', value).';
    END IF;
    IF l.stage = set_lead_stage.stage THEN
        RETURN l.stage;
    END IF;
    UPDATE antiban.leads x SET stage = set_lead_stage.stage WHERE x.id = l.id;
    IF set_lead_stage.stage = 'disqualified' AND l.owner_agent_id IS NOT NULL AND l.closed_at IS NULL THEN
        PERFORM antiban.assign_queued(l.portfolio_id);
    END IF;
    RETURN l.stage;
END
$$;
COMMENT ON FUNCTION antiban.set_lead_stage(bigint, text) IS
    'Move a lead to new, engaged, qualified or disqualified; returns the stage it had. Qualified leads without an owner are assigned; disqualifying frees the owner''s capacity for the queue; a closed lead set back to an open stage is reopened (and goes back to its owner if they can take it).';

CREATE FUNCTION antiban.close_lead(lead bigint, outcome text, value numeric DEFAULT NULL) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
DECLARE
    l antiban.leads := antiban.lead_or_error(lead);
BEGIN
    IF outcome IS NULL OR outcome NOT IN ('won', 'lost') THEN
        RAISE EXCEPTION 'a lead closes as won or lost, not "%"', outcome
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use antiban.set_lead_stage(lead, ''disqualified'') for a lead that was never a prospect.';
    END IF;
    -- (numeric NaN sorts above Infinity: one comparison refuses both)
    IF close_lead.value < 0 OR close_lead.value >= 'Infinity' THEN
        RAISE EXCEPTION 'a lead''s value must be a finite amount of at least 0, not %', close_lead.value
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The value is summed into the won value of lead_pipeline, lead_funnel and agent_performance; NaN or Infinity would make every sum it joins NaN or Infinity.',
                  HINT = 'Pass the deal''s amount (0 or more), or NULL when it is not known.';
    END IF;
    IF l.closed_at IS NOT NULL THEN
        RAISE EXCEPTION 'lead % is already closed (%)', l.id, l.stage
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Reopen it with antiban.set_lead_stage() first.';
    END IF;
    UPDATE antiban.leads x SET stage = outcome, value = close_lead.value WHERE x.id = l.id;
    IF l.owner_agent_id IS NOT NULL THEN
        PERFORM antiban.assign_queued(l.portfolio_id);
    END IF;
    RETURN l.stage;
END
$$;
COMMENT ON FUNCTION antiban.close_lead(bigint, text, numeric) IS
    'Close a lead as won or lost (with its value); its owner keeps it (win rates count it) and the freed capacity goes to the queue. Returns the stage it had.';

CREATE FUNCTION antiban.record_first_response(lead bigint, response_at timestamptz DEFAULT NULL) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
DECLARE
    l antiban.leads := antiban.lead_or_error(lead);
    t timestamptz := coalesce(response_at, antiban.now());
    outcome text;
    since timestamptz;
BEGIN
    -- A reply answers the lead it was assigned (or, unowned, since it was known) and has left by
    -- now, allowing Meta's clock to run ahead of ours as much as a webhook's event time may
    -- (EVENT_CLOCK_SKEW_SECONDS, src/core/event_time.h): anything else is a caller's bug, and
    -- would be counted as met or missed in agent_sla.
    since := coalesce(l.assigned_at, least(l.created_at, l.first_inbound_at));
    IF NOT (t >= since AND t <= antiban.now() + interval '5 minutes') THEN
        RAISE EXCEPTION 'a first response to lead % at % is %', l.id, t,
                        CASE WHEN t < since THEN 'before the lead was ' || CASE WHEN l.assigned_at IS NULL
                                 THEN 'created' ELSE 'assigned' END
                             ELSE 'in the future' END
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('A reply counts between the lead''s %s (%s) and now (%s, plus 5 minutes of clock skew); it stops the SLA clock and counts as met or missed for the owner.',
                                  CASE WHEN l.assigned_at IS NULL THEN 'creation' ELSE 'assignment' END, since, antiban.now()),
                  HINT = 'Pass the time the reply left (the message''s sent time), or NULL for now.';
    END IF;
    IF l.first_response_at IS NOT NULL THEN
        IF t < l.first_response_at THEN
            UPDATE antiban.leads x SET first_response_at = t WHERE x.id = l.id;
        END IF;
        RETURN 'already_answered';
    END IF;
    UPDATE antiban.leads x SET first_response_at = t, sla_due_at = NULL WHERE x.id = l.id;
    IF l.owner_agent_id IS NOT NULL THEN
        UPDATE antiban.lead_assignments s
        SET first_response_at = t,
            sla_outcome = coalesce(s.sla_outcome, CASE WHEN s.sla_due_at IS NULL THEN NULL
                                                       WHEN t <= s.sla_due_at THEN 'met' ELSE 'missed' END)
        WHERE s.id = l.assignment_id
        RETURNING s.sla_outcome INTO outcome;
    END IF;
    INSERT INTO antiban.lead_events (lead_id, portfolio_id, at, kind, agent_id, detail)
    VALUES (l.id, l.portfolio_id, t, 'first_response', l.owner_agent_id,
            CASE outcome WHEN 'met' THEN 'within the SLA' WHEN 'missed' THEN 'after the SLA'
                         ELSE 'no SLA clock running' END);
    RETURN coalesce(outcome, 'none');
END
$$;
COMMENT ON FUNCTION antiban.record_first_response(bigint, timestamptz) IS
    'The first reply to a lead left (at response_at, default now): stops its SLA clock. Returns met or missed for the owner''s clock, none when no clock ran, already_answered for a repeat (the earliest time is kept). A time before the lead''s assignment (unowned: its creation) or after now plus 5 minutes of clock skew is refused.';

CREATE FUNCTION antiban.check_sla(portfolio bigint DEFAULT NULL)
RETURNS TABLE (lead_id bigint, from_agent bigint, to_agent bigint, cause text, explanation text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
DECLARE
    p bigint;
BEGIN
    FOR p IN
        SELECT DISTINCT a.portfolio_id FROM antiban.agents a
        WHERE (check_sla.portfolio IS NULL OR a.portfolio_id = check_sla.portfolio) AND antiban.may_use_portfolio(a.portfolio_id)
        ORDER BY 1
    LOOP
        RETURN QUERY SELECT * FROM antiban.sweep_leads(p);
    END LOOP;
END
$$;
COMMENT ON FUNCTION antiban.check_sla(bigint) IS
    'Move unanswered leads whose first response is overdue in the owner''s business hours (raising an alert, even when nobody else can take it and it stays), or whose owner is offline, inactive or off shift (when a colleague can take them). Returns each move; to_agent is NULL when the lead stayed. For a worker or pg_cron, every minute, before antiban.assign_queued(). An administrator mapped to portfolios checks only its own portfolios (all of them for NULL; another''s moves nothing).';

-- ---------------------------------------------------------------- views

CREATE VIEW antiban.agent_load AS
SELECT a.id AS agent_id, a.portfolio_id, a.name, a.presence, a.presence_since, a.active, a.tier,
       antiban.agent_on_shift(a.id) AS on_shift,
       coalesce(o.open_leads, 0) AS open_leads, a.capacity,
       greatest(a.capacity - coalesce(o.open_leads, 0), 0) AS room,
       coalesce(o.unanswered, 0) AS unanswered,
       (SELECT count(*) FROM antiban.lead_assignments s
        WHERE s.agent_id = a.id
          AND s.assigned_at > antiban.now() - coalesce((SELECT r.fairness_window FROM antiban.lead_routing r
                                                        WHERE r.portfolio_id = a.portfolio_id), '24 hours'))
           AS assigned_in_window
FROM antiban.agents a
LEFT JOIN LATERAL (
    SELECT count(*) AS open_leads, count(*) FILTER (WHERE l.first_response_at IS NULL) AS unanswered
    FROM antiban.leads l
    WHERE l.portfolio_id = a.portfolio_id AND l.owner_agent_id = a.id AND l.closed_at IS NULL) o ON true;
COMMENT ON VIEW antiban.agent_load IS
    'Each agent now: presence, on shift, open leads against capacity, room left, unanswered leads, assignments in the portfolio''s fairness window.';

CREATE VIEW antiban.lead_queue AS
SELECT l.id AS lead_id, l.portfolio_id, l.score, l.language, l.products, l.queued_at,
       antiban.now() - l.queued_at AS waiting, l.queue_reason,
       coalesce(l.score, 0) + extract(epoch FROM antiban.now() - l.queued_at)
           / extract(epoch FROM coalesce(r.queue_aging, '5 minutes')) AS priority
FROM antiban.leads l
LEFT JOIN antiban.lead_routing r ON r.portfolio_id = l.portfolio_id
WHERE l.queued_at IS NOT NULL;
COMMENT ON VIEW antiban.lead_queue IS
    'Leads waiting for an agent, with why (the reason found when they were last tried) and their priority: score plus one point per queue_aging period waited (highest first).';

CREATE VIEW antiban.lead_sla AS
SELECT l.id AS lead_id, l.portfolio_id, l.stage, l.owner_agent_id, l.assigned_at, s.sla_due_at,
       l.first_response_at,
       CASE
           WHEN l.first_response_at IS NOT NULL THEN coalesce(s.sla_outcome, 'no_sla')
           WHEN l.closed_at IS NOT NULL THEN 'closed'
           WHEN l.owner_agent_id IS NULL THEN 'unassigned'
           WHEN s.sla_outcome = 'missed' THEN 'missed'
           WHEN l.sla_due_at IS NULL THEN 'no_sla'
           WHEN l.sla_due_at > antiban.now() THEN 'running'
           ELSE 'overdue'
       END AS state,
       CASE WHEN l.sla_due_at IS NOT NULL AND l.first_response_at IS NULL
            THEN l.sla_due_at - antiban.now() END AS time_left,
       (SELECT count(*) FROM antiban.lead_assignments m
        WHERE m.lead_id = l.id AND m.sla_outcome = 'missed') AS misses
FROM antiban.leads l
LEFT JOIN antiban.lead_assignments s ON s.id = l.assignment_id;
COMMENT ON VIEW antiban.lead_sla IS
    'The first-response SLA of each lead: unassigned, running (time_left in wall-clock time), overdue (antiban.check_sla has not moved it yet), met, missed, closed (without a reply) or no_sla; misses counts the owners who let it pass.';

CREATE VIEW antiban.agent_sla AS
SELECT a.id AS agent_id, a.portfolio_id, a.name,
       count(s.id) FILTER (WHERE s.sla_due_at IS NOT NULL) AS with_sla,
       count(s.id) FILTER (WHERE s.sla_outcome = 'met') AS met,
       count(s.id) FILTER (WHERE s.sla_outcome = 'missed') AS missed,
       count(s.id) FILTER (WHERE s.sla_outcome = 'moved') AS moved,
       count(s.id) FILTER (WHERE s.sla_due_at IS NOT NULL AND s.sla_outcome IS NULL) AS running,
       round(count(s.id) FILTER (WHERE s.sla_outcome = 'met')::numeric
             / nullif(count(s.id) FILTER (WHERE s.sla_outcome IN ('met', 'missed')), 0), 3) AS met_rate
FROM antiban.agents a
LEFT JOIN antiban.lead_assignments s ON s.agent_id = a.id
GROUP BY a.id;
COMMENT ON VIEW antiban.agent_sla IS
    'First-response SLA per agent over its assignments: met, missed (replied late, or the lead was moved for it), moved (taken away before it was due: offline, off shift), running; met_rate = met / (met + missed).';

-- What the functions above without one do (every SQL function has a comment).
COMMENT ON FUNCTION antiban.agents_inserted() IS
    'Statement trigger: checks the time zone and login role of new agents in one pass.';
COMMENT ON FUNCTION antiban.agents_changed() IS
    'Trigger: checks an agent''s time zone (pg_timezone_names) and login role when they change.';
COMMENT ON FUNCTION antiban.agents_stamp() IS
    'Trigger: stamps an agent''s presence_since when the presence changes, and updated_at.';
COMMENT ON FUNCTION antiban.leads_stage_normalize() IS
    'Trigger: closing a lead ends its queue place and SLA clock; reopening one (a returning person) leaves it unowned so it is assigned again, to its owner if they can take it.';
COMMENT ON FUNCTION antiban.leads_stage_changed() IS
    'Trigger: logs every stage change in antiban.lead_events.';
COMMENT ON FUNCTION antiban.leads_inserted() IS
    'Statement trigger: new qualified leads are assigned at once, a whole INSERT in one assignment run.';
