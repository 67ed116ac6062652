-- Every conversation becomes a lead: the flow that ties webhooks, the lead
-- model (66_lead_model.sql) and assignment (67_leads.sql) together.
--
--  - One lead per person and portfolio.  An inbound message (any type but a
--    system event) from a person without a lead makes one, with its source:
--    a click-to-WhatsApp ad (the message's referral: ad id and ctwa_clid), a
--    campaign (the message quotes, or the person was sent, one of our
--    marketing templates in the last 7 days), or organic.  Apps register
--    leads with antiban.upsert_lead().
--  - The lead model's "conversation" is the lead: lead_features and
--    lead_scores are keyed by antiban.leads.id.
--  - Which lead a person's message belongs to: their open lead, whatever
--    identifier it came from; else their latest lead if it closed less than
--    lead_routing.new_lead_after ago (default 30 days: the message is added
--    to it, its stage does not change, an agent may reopen it); else a new
--    lead (a returning person goes back to their owner: assign_lead).
--  - Messages, our sends, reads, button taps, opt-outs and 131049/131026
--    failures are noted on the lead as they arrive, one call to
--    antiban.note_lead_events per webhook change (statuses: per outbox
--    UPDATE statement), and one UPDATE brings the leads up to date
--    (antiban.apply_lead_scores: score with its reasons, times, stage);
--    antiban.rescore_leads() ends with the same for every lead.  A new lead that engages (writes again, answers our message or
--    taps a button) becomes engaged; one whose score reaches
--    lead_routing.qualify_score (default 60) becomes qualified and is
--    assigned.  Stages only move forward by themselves.
--  - Two persons found to be one fold their open leads into one.
--  - antiban.lead_flow = off (a GUC) leaves leads alone on the webhook path;
--    antiban.lead_scoring = deferred leaves the webhook path one INSERT of
--    queue rows (antiban.lead_event_queue: the inbound messages by id, our
--    messages' sends, reads and failures by person) and nothing else;
--    antiban.process_lead_events(), run by the "antiban leads"
--    worker every antiban.lead_scoring_interval, makes the leads and scores
--    them in batches, in the order the events arrived.

-- ---------------------------------------------------------------- schema

ALTER TABLE antiban.leads
    ADD COLUMN ctwa_clid text,
    ADD COLUMN merged_into bigint REFERENCES antiban.leads ON DELETE SET NULL,
    ADD CONSTRAINT leads_source CHECK (source IN ('ctwa', 'ctwa_post', 'campaign', 'organic', 'app'));
COMMENT ON COLUMN antiban.leads.source IS
    'Where the lead came from: ctwa (a click-to-WhatsApp ad: source_ad_id, ctwa_clid), ctwa_post (a click-to-WhatsApp Facebook or Instagram post, referral source_type post: no ad id; the post''s referral is on the first message of the timeline), campaign (a reply to our marketing template: campaign), organic (wrote on their own), app (registered by antiban.upsert_lead without a source).';
COMMENT ON COLUMN antiban.leads.ctwa_clid IS 'The click id of the click-to-WhatsApp ad the lead came from (referral.ctwa_clid), for conversion reporting.';
COMMENT ON COLUMN antiban.leads.merged_into IS
    'Set when two persons turned out to be one and this lead was folded into that one (then disqualified; its history shows on the other lead''s timeline).';
-- one open lead per person: what makes a lead's creation safe when two webhooks race
CREATE UNIQUE INDEX leads_one_open_per_person ON antiban.leads (portfolio_id, person_id)
    WHERE closed_at IS NULL AND person_id IS NOT NULL;
CREATE INDEX leads_merged_into ON antiban.leads (merged_into) WHERE merged_into IS NOT NULL;

ALTER TABLE antiban.lead_routing
    ADD COLUMN qualify_score smallint NOT NULL DEFAULT 60
        CONSTRAINT lead_routing_qualify_range CHECK (qualify_score BETWEEN 0 AND 101),
    ADD COLUMN new_lead_after interval NOT NULL DEFAULT '30 days'
        CONSTRAINT lead_routing_new_lead_after_positive CHECK (new_lead_after >= '0');
COMMENT ON COLUMN antiban.lead_routing.qualify_score IS
    'A new or engaged lead whose score reaches this becomes qualified and is assigned (101: never by score).';
COMMENT ON COLUMN antiban.lead_routing.new_lead_after IS
    'A person whose latest lead closed longer ago than this who writes again starts a new lead; sooner, the message is added to the closed lead.';

ALTER TABLE antiban.lead_events
    DROP CONSTRAINT lead_events_kind,
    ADD CONSTRAINT lead_events_kind
        CHECK (kind IN ('stage', 'assigned', 'reassigned', 'queued', 'first_response', 'sla_missed',
                        'created', 'score', 'note', 'merged')),
    ADD COLUMN data jsonb;
COMMENT ON COLUMN antiban.lead_events.data IS
    'What a score event scored (score, previous, model, reasons) or who wrote a note.';

-- The rules (src/core/lead_flow.c, unit-tested in regress/unit/test_lead_flow.c)
CREATE FUNCTION antiban.lead_source(referral_type text, answers_campaign boolean) RETURNS text
AS 'MODULE_PATHNAME', 'antiban_lead_source' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION antiban.lead_source(text, boolean) IS
    'The source of a lead from the message that starts it, given its referral''s source_type (NULL: no referral; '''': a referral without a type): ctwa for an ad (source_type ad), ctwa_post for a post (or any other type), else campaign if it answers our marketing template, else organic.';

CREATE FUNCTION antiban.lead_engaged(messages integer, taps double precision, last_inbound timestamptz,
                                     last_outbound timestamptz) RETURNS boolean
AS 'MODULE_PATHNAME', 'antiban_lead_engaged' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION antiban.lead_engaged(integer, double precision, timestamptz, timestamptz) IS
    'Has a lead engaged: a second message (messages >= 2), a button tap (decayed taps > 0), or a message after our last one? NULL times: never.';

CREATE FUNCTION antiban.lead_stage_after(stage text, engaged boolean, score smallint, qualify_score smallint,
                                         merged boolean DEFAULT false) RETURNS text
AS 'MODULE_PATHNAME', 'antiban_lead_stage_after' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION antiban.lead_stage_after(text, boolean, smallint, smallint, boolean) IS
    'The stage a lead moves to by itself: new or engaged with a score (0-100) at or above qualify_score -> qualified; new that engaged -> engaged; any other stage, or a lead merged into another, stays. NULL score: none yet; NULL qualify_score: never by score.';

CREATE FUNCTION antiban.lead_score_news(previous smallint, score smallint, qualify smallint) RETURNS boolean
AS 'MODULE_PATHNAME', 'antiban_lead_score_news' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION antiban.lead_score_news(smallint, smallint, smallint) IS
    'Is a score change worth a line on the lead''s timeline? The first score, a move of 5 points or more, or a crossing of the qualification threshold (decay moves scores a point now and then, which is not news).';

CREATE FUNCTION antiban.lead_flow_on() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
RETURN coalesce(current_setting('antiban.lead_flow', true), 'on') IN ('on', 'true', '1', 'yes');
COMMENT ON FUNCTION antiban.lead_flow_on() IS
    'Internal: is antiban.lead_flow on (webhooks create and rescore leads)?';

CREATE FUNCTION antiban.lead_qualify_score(portfolio bigint) RETURNS smallint
LANGUAGE sql STABLE PARALLEL SAFE
RETURN coalesce((SELECT r.qualify_score FROM antiban.lead_routing r WHERE r.portfolio_id = portfolio), 60);
COMMENT ON FUNCTION antiban.lead_qualify_score(bigint) IS
    'Internal: the score at which a portfolio''s leads qualify (antiban.lead_routing.qualify_score, default 60).';

-- ---------------------------------------------------------------- which lead

-- (PL/pgSQL: its plan is kept for the session; a SQL function with ORDER BY
-- and LIMIT is never inlined and would be planned again on every call)
CREATE FUNCTION antiban.lead_of_person(portfolio bigint, person bigint) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
    found_id bigint;
BEGIN
    SELECT l.id INTO found_id FROM antiban.leads l
    WHERE l.portfolio_id = lead_of_person.portfolio AND l.person_id = lead_of_person.person
      AND l.merged_into IS NULL
      AND (l.closed_at IS NULL
           OR l.closed_at > antiban.now() - coalesce((SELECT r.new_lead_after FROM antiban.lead_routing r
                                                     WHERE r.portfolio_id = lead_of_person.portfolio), '30 days'))
    ORDER BY l.closed_at IS NULL DESC, l.closed_at DESC, l.id DESC
    LIMIT 1;
    RETURN found_id;
END
$$;
COMMENT ON FUNCTION antiban.lead_of_person(bigint, bigint) IS
    'The lead a person''s messages go to: their open lead, else their latest lead if it closed less than lead_routing.new_lead_after ago (default 30 days); NULL: a new message starts a new lead.';

-- A person's lead, made if they have none (the unique index on open leads
-- settles two webhooks racing for the same person).
CREATE FUNCTION antiban.open_lead(portfolio bigint, person bigint, at timestamptz, source text,
                                  ad_id text DEFAULT NULL, clid text DEFAULT NULL, campaign text DEFAULT NULL,
                                  language text DEFAULT NULL, why text DEFAULT NULL, absent boolean DEFAULT false,
                                  OUT lead bigint, OUT created boolean)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    created := false;
    FOR attempt IN 1 .. 3 LOOP
        -- (absent: the caller just found none)
        IF attempt > 1 OR NOT absent THEN
            lead := antiban.lead_of_person(portfolio, person);
            EXIT WHEN lead IS NOT NULL;
        END IF;
        INSERT INTO antiban.leads AS l (portfolio_id, person_id, source, source_ad_id, ctwa_clid, campaign, language)
        VALUES (portfolio, person, open_lead.source, ad_id, clid, open_lead.campaign, open_lead.language)
        ON CONFLICT (portfolio_id, person_id) WHERE closed_at IS NULL AND person_id IS NOT NULL DO NOTHING
        RETURNING l.id INTO lead;
        IF lead IS NOT NULL THEN
            created := true;
            INSERT INTO antiban.lead_events (lead_id, portfolio_id, at, kind, stage, detail)
            VALUES (lead, portfolio, coalesce(at, antiban.now()), 'created', 'new',
                    concat_ws(', ', why, 'source ' || open_lead.source,
                              'ad ' || ad_id, 'campaign ' || open_lead.campaign));
            EXIT;
        END IF;
    END LOOP;
    IF lead IS NULL THEN
        RAISE EXCEPTION 'the lead of person % kept changing while it was being made', person
            USING ERRCODE = 'serialization_failure', HINT = 'Try again.';
    END IF;
END
$$;
COMMENT ON FUNCTION antiban.open_lead(bigint, bigint, timestamptz, text, text, text, text, text, text, boolean) IS
    'Internal: the lead of a person (antiban.lead_of_person; absent: the caller just found none), or a new one with this source, logged as created at "at" with why.';

-- The campaign a person's first message answers: the marketing message it
-- quotes, else the last one we sent them in the 7 days before.
CREATE FUNCTION antiban.lead_campaign_of(portfolio bigint, person bigint, quoted text, at timestamptz) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    name text;
BEGIN
    IF quoted IS NOT NULL THEN
        SELECT coalesce(o.metadata ->> 'campaign', o.payload -> 'template' ->> 'name', 'outbox ' || o.id) INTO name
        FROM antiban.outbox o
        WHERE o.wamid = quoted AND o.portfolio_id = lead_campaign_of.portfolio AND o.category = 'marketing';
        IF name IS NOT NULL THEN
            RETURN name;
        END IF;
    END IF;
    SELECT coalesce(o.metadata ->> 'campaign', o.payload -> 'template' ->> 'name', 'outbox ' || o.id) INTO name
    FROM antiban.person_ids i
         JOIN antiban.outbox o ON o.recipient = i.key
    WHERE i.person_id = lead_campaign_of.person     -- (person ids are unique across portfolios)
      AND o.created_at BETWEEN lead_campaign_of.at - interval '7 days' AND lead_campaign_of.at
      AND o.portfolio_id = lead_campaign_of.portfolio AND o.category = 'marketing'
      AND o.state IN ('sent', 'delivered', 'read')
    ORDER BY o.created_at DESC
    LIMIT 1;
    RETURN name;
END
$$;
COMMENT ON FUNCTION antiban.lead_campaign_of(bigint, bigint, text, timestamptz) IS
    'Internal: the campaign a person''s first message answers: the marketing message of ours it quotes (context.id), else the last one sent to them in the 7 days before; its metadata.campaign, else its template name.';

-- ---------------------------------------------------------------- scoring, inline or deferred

-- Events waiting to be scored when antiban.lead_scoring = deferred.  An
-- inbound message is queued by its interaction (its lead is found or made
-- when the queue is processed); our messages' sends, reads and failures
-- by their person (and lead, when the person had an open one).
CREATE TABLE antiban.lead_event_queue (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lead_id         bigint,
    person_id       bigint,
    interaction_id  bigint,
    portfolio_id    bigint NOT NULL,
    kind            text NOT NULL,
    at              timestamptz NOT NULL,
    body            text,
    code            integer,
    queued_at       timestamptz NOT NULL DEFAULT now(),
    -- times it failed alone (antiban.note_lead_event_failure), the last
    -- one's error and time: retried after 5 s per failure, set aside at 3
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text,
    failed_at       timestamptz,
    CONSTRAINT lead_event_queue_whose CHECK (lead_id IS NOT NULL OR person_id IS NOT NULL),
    CONSTRAINT lead_event_queue_message CHECK ((kind = 'message') = (interaction_id IS NOT NULL))
);
-- (a status of a person whose first message still waits here is queued too)
CREATE INDEX lead_event_queue_waiting_person ON antiban.lead_event_queue (portfolio_id, person_id)
    WHERE kind = 'message';
COMMENT ON TABLE antiban.lead_event_queue IS
    'Lead events waiting to be scored, with antiban.lead_scoring = deferred: inbound messages (kind message, by interaction: the lead is found or made when processed), our sends, reads, taps, failures and opt-outs (by lead, or by person when the lead is still to be made). antiban.process_lead_events() takes them in batches, in arrival order. Empty with inline scoring. An event that failed alone is retried later (5 s per failure, the events behind it going on meanwhile); one that failed alone 3 times (attempts, last_error; a WARNING and an alert lead_event_set_aside) is set aside: process_lead_events skips it and it stays here for an operator (fix the cause, then UPDATE antiban.lead_event_queue SET attempts = 0 to take it again, or DELETE it).';

-- A batch of events on leads (one array element each): scored now, or queued.
CREATE FUNCTION antiban.score_lead_events(leads bigint[], kinds text[], ats timestamptz[], bodies text[],
                                          codes integer[], portfolios bigint[]) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF current_setting('antiban.lead_scoring') = 'deferred' THEN
        INSERT INTO antiban.lead_event_queue (lead_id, portfolio_id, kind, at, body, code)
        SELECT u.lead, u.portfolio, u.kind, u.at, u.body, u.code
        FROM unnest(leads, portfolios, kinds, ats, coalesce(bodies, array_fill(NULL::text, ARRAY[cardinality(leads)])),
                    coalesce(codes, array_fill(NULL::integer, ARRAY[cardinality(leads)])))
             AS u(lead, portfolio, kind, at, body, code);
        RETURN 0;
    END IF;
    RETURN antiban.score_lead_events_now(leads, kinds, ats, bodies, codes, portfolios);
END
$$;
COMMENT ON FUNCTION antiban.score_lead_events(bigint[], text[], timestamptz[], text[], integer[], bigint[]) IS
    'Internal: events on leads (as antiban.note_lead_events takes them, the conversation being the lead) scored at once (antiban.score_lead_events_now), or with antiban.lead_scoring = deferred queued in antiban.lead_event_queue. Returns the leads updated (0 when queued).';

CREATE FUNCTION antiban.score_lead_events_now(leads bigint[], kinds text[], ats timestamptz[], bodies text[],
                                              codes integer[], portfolios bigint[]) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM antiban.note_lead_events(leads, kinds, ats, bodies, codes, portfolios);
    -- (inbound times from the messages and taps of the batch)
    RETURN antiban.apply_lead_scores(x.leads, x.firsts, x.lasts)
    FROM (SELECT array_agg(u.lead) AS leads, array_agg(u.first_at) AS firsts, array_agg(u.last_at) AS lasts
          FROM (SELECT u.lead, min(u.at) FILTER (WHERE u.kind IN ('inbound', 'tap')) AS first_at,
                       max(u.at) FILTER (WHERE u.kind IN ('inbound', 'tap')) AS last_at
                FROM unnest(leads, kinds, ats) AS u(lead, kind, at) GROUP BY u.lead) u) x;
END
$$;
COMMENT ON FUNCTION antiban.score_lead_events_now(bigint[], text[], timestamptz[], text[], integer[], bigint[]) IS
    'Internal: events on leads noted in one antiban.note_lead_events call and brought to the leads in one antiban.apply_lead_scores (inbound times from the messages and taps). Returns the leads updated.';

-- ---------------------------------------------------------------- inbound messages

-- Inbound messages (antiban.interactions ids, in the order they happened):
-- each person's lead found or made, and the events they are on it (a
-- message, or a tap for a button or list reply; an opt-out when the message
-- was a stop).  Inline scoring calls it for the messages a webhook change
-- applied; deferred scoring for the messages it queued.
CREATE FUNCTION antiban.lead_message_events(interactions bigint[])
RETURNS TABLE (ev_lead bigint, ev_kind text, ev_at timestamptz, ev_body text, ev_portfolio bigint)
LANGUAGE plpgsql VOLATILE
-- (generic plans: the webhook path runs these statements for every POST;
-- planning them each time would cost more than running them.  No
-- sequential scans: a plan made once while a table was empty would keep
-- reading it whole per row as it grows, and no JIT for plans so costed;
-- see antiban.apply_webhooks)
SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET jit = off AS $$
DECLARE
    p record;
    lead bigint;
    pos integer;
    campaign text;
    persons bigint[] := '{}';
    person_leads bigint[] := '{}';
BEGIN
    FOR p IN
        SELECT k.portfolio_id, k.person_id, i.occurred_at, i.payload, i.context_wamid, i.body, i.wamid,
               i.message_type, l.id AS lead,
               -- a stop in this message (its contact changed before the lead existed)
               k.marketing_opt_out AND k.opt_out_source LIKE 'message ' || i.wamid || ' (%' AS stopped_here
        FROM antiban.interactions i
             -- (each contact and open lead by its key, one probe per message
             -- (LIMIT: never flattened into a join over a whole table),
             -- whatever the statistics say of these tables)
             CROSS JOIN LATERAL (SELECT c.portfolio_id, c.person_id, c.marketing_opt_out, c.opt_out_source
                                 FROM antiban.contacts c WHERE c.id = i.contact_id LIMIT 1) k
             LEFT JOIN LATERAL (SELECT x.id FROM antiban.leads x
                                WHERE x.portfolio_id = k.portfolio_id AND x.person_id = k.person_id
                                  AND x.closed_at IS NULL LIMIT 1) l ON true
        WHERE i.id = ANY (lead_message_events.interactions)
          AND k.person_id IS NOT NULL AND k.portfolio_id IS NOT NULL
        ORDER BY i.occurred_at, i.id
    LOOP
        lead := p.lead;
        IF lead IS NULL THEN
            pos := array_position(persons, p.person_id);
            lead := person_leads[pos];
        END IF;
        IF lead IS NULL THEN
            -- closed lately? (antiban.lead_of_person's query, without a call per message)
            SELECT l.id INTO lead FROM antiban.leads l
            WHERE l.portfolio_id = p.portfolio_id AND l.person_id = p.person_id AND l.merged_into IS NULL
              AND l.closed_at > antiban.now() - coalesce((SELECT r.new_lead_after FROM antiban.lead_routing r
                                                           WHERE r.portfolio_id = p.portfolio_id), '30 days')
            ORDER BY l.closed_at DESC, l.id DESC
            LIMIT 1;
        END IF;
        IF lead IS NULL THEN
            -- the message that starts a lead says where it came from
            campaign := CASE WHEN NOT p.payload ? 'referral'
                             THEN antiban.lead_campaign_of(p.portfolio_id, p.person_id, p.context_wamid, p.occurred_at) END;
            SELECT o.lead INTO lead
            FROM antiban.open_lead(p.portfolio_id, p.person_id, p.occurred_at,
                antiban.lead_source(CASE WHEN p.payload ? 'referral'
                                         THEN coalesce(p.payload -> 'referral' ->> 'source_type', '') END,
                                    campaign IS NOT NULL),
                -- only an ad's source_id is an ad id (a post's is not)
                CASE WHEN antiban.lead_source(coalesce(p.payload -> 'referral' ->> 'source_type', ''), false) = 'ctwa'
                     THEN nullif(p.payload -> 'referral' ->> 'source_id', '') END,
                nullif(p.payload -> 'referral' ->> 'ctwa_clid', ''),
                campaign, CASE WHEN p.body IS NOT NULL THEN antiban.lead_language(p.body) END,
                format('message %s', p.wamid), absent => true) o;
        END IF;
        persons := persons || p.person_id;
        person_leads := person_leads || lead;
        ev_lead := lead;
        ev_kind := CASE WHEN p.message_type IN ('button', 'interactive') THEN 'tap' ELSE 'inbound' END;
        ev_at := p.occurred_at;
        ev_body := p.body;
        ev_portfolio := p.portfolio_id;
        RETURN NEXT;
        IF p.stopped_here THEN
            ev_kind := 'opt_out';
            ev_body := NULL;
            RETURN NEXT;
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION antiban.lead_message_events(bigint[]) IS
    'Internal: the inbound messages given (antiban.interactions ids) make or find each person''s lead (their open lead; one closed less than lead_routing.new_lead_after ago; else a new one with its source: ctwa referral with its ad id, a campaign, or organic); returns the lead events they are (inbound, tap for button and list replies, opt_out for a stop), in the order they happened.';

-- The inbound messages of one webhook change this transaction applied
-- (antiban.interactions ids, in the order they happened).
-- (PL/pgSQL, whose plan is kept for the session: an SQL function with a
-- subquery is never inlined, and was parsed and planned again per message)
CREATE FUNCTION antiban.change_inbound_messages(value jsonb) RETURNS bigint[]
LANGUAGE plpgsql STABLE AS $$
BEGIN
    -- (by wamid: the only index that finds them; "received in this
    -- transaction" would look selective to the planner and cost a scan)
    RETURN ARRAY(SELECT i.id FROM antiban.interactions i
                 WHERE i.wamid = ANY (ARRAY(SELECT m ->> 'id' FROM jsonb_array_elements(value -> 'messages') m
                                            WHERE m ? 'id'))
                   AND i.received_at = now() AND i.direction = 'in'
                   AND i.message_type NOT IN ('system', 'request_welcome')
                 ORDER BY i.occurred_at, i.id);
END
$$;
COMMENT ON FUNCTION antiban.change_inbound_messages(jsonb) IS
    'Internal: the inbound messages (antiban.interactions ids, in the order they happened, system events left out) of a messages change this transaction applied.';

-- Inline scoring: the change's inbound messages make their leads and are
-- scored now.
CREATE FUNCTION antiban.leads_from_messages(interactions bigint[]) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET jit = off AS $$
DECLARE
    ev record;
BEGIN
    SELECT array_agg(e.ev_lead) AS leads, array_agg(e.ev_kind) AS kinds, array_agg(e.ev_at) AS ats,
           array_agg(e.ev_body) AS bodies, array_agg(e.ev_portfolio) AS portfolios
    INTO ev
    FROM antiban.lead_message_events(interactions) e;
    IF ev.leads IS NULL THEN
        RETURN 0;
    END IF;
    -- every message to the model in one call, then every lead in one UPDATE
    PERFORM antiban.score_lead_events_now(ev.leads, ev.kinds, ev.ats, ev.bodies, NULL, ev.portfolios);
    RETURN cardinality(ARRAY(SELECT DISTINCT unnest(ev.leads)));
END
$$;
COMMENT ON FUNCTION antiban.leads_from_messages(bigint[]) IS
    'Internal (antiban.note_inbound_messages, inline scoring): inbound messages (antiban.interactions ids) make or find their leads (antiban.lead_message_events) and are scored in one antiban.note_lead_events call and one antiban.apply_lead_scores. Returns the leads touched.';

-- Deferred scoring: the change's inbound messages queued by id in one
-- statement; their leads are made when the queue is processed.
CREATE FUNCTION antiban.queue_lead_messages(interactions bigint[]) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET jit = off AS $$
DECLARE
    queued integer;
BEGIN
    INSERT INTO antiban.lead_event_queue (interaction_id, person_id, portfolio_id, kind, at)
    SELECT i.id, k.person_id, k.portfolio_id, 'message', i.occurred_at
    FROM antiban.interactions i
         -- (each contact by its key, as in antiban.lead_message_events)
         CROSS JOIN LATERAL (SELECT c.person_id, c.portfolio_id FROM antiban.contacts c
                             WHERE c.id = i.contact_id LIMIT 1) k
    WHERE i.id = ANY (interactions) AND k.person_id IS NOT NULL AND k.portfolio_id IS NOT NULL
    ORDER BY i.occurred_at, i.id;
    GET DIAGNOSTICS queued = ROW_COUNT;
    RETURN queued;
END
$$;
COMMENT ON FUNCTION antiban.queue_lead_messages(bigint[]) IS
    'Internal (antiban.note_inbound_messages, antiban.lead_scoring = deferred): inbound messages (antiban.interactions ids) queued in antiban.lead_event_queue by their interaction, in one INSERT: the webhook path makes no lead and scores nothing. Returns the messages queued.';

CREATE FUNCTION antiban.defer_lead_scoring(deferred boolean) RETURNS void
AS 'MODULE_PATHNAME', 'antiban_defer_lead_scoring' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION antiban.defer_lead_scoring(boolean) IS
    'Internal (antiban.apply_webhooks): antiban.lead_scoring deferred (true) or inline (false) until the end of the transaction, as SET LOCAL (a rollback undoes it), although that parameter is a superuser''s. Granted to no role.';

CREATE FUNCTION antiban.note_inbound_messages(value jsonb) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    ids bigint[];
BEGIN
    IF NOT antiban.lead_flow_on() OR jsonb_typeof(value -> 'messages') IS DISTINCT FROM 'array' THEN
        RETURN 0;
    END IF;
    ids := antiban.change_inbound_messages(value);
    IF cardinality(ids) = 0 THEN
        RETURN 0;
    END IF;
    IF current_setting('antiban.lead_scoring') = 'deferred' THEN
        -- (one INSERT: no subtransaction needed to keep the messages)
        RETURN antiban.queue_lead_messages(ids);
    END IF;
    BEGIN
        RETURN antiban.leads_from_messages(ids);
    EXCEPTION
        WHEN deadlock_detected OR serialization_failure OR lock_not_available OR query_canceled THEN
            RAISE;
        WHEN OTHERS THEN
            -- the messages matter more than the leads: they stay applied
            RAISE WARNING 'antiban: leads of % inbound messages not noted: %',
                jsonb_array_length(value -> 'messages'), SQLERRM;
            RETURN 0;
    END;
END
$$;
COMMENT ON FUNCTION antiban.note_inbound_messages(jsonb) IS
    'Internal (antiban.apply_messages calls it once per messages change, after applying them): with antiban.lead_flow on, antiban.leads_from_messages in a subtransaction (an error there is a warning, never a lost message; a deadlock is raised, for the webhook''s retry), or with antiban.lead_scoring = deferred antiban.queue_lead_messages. Returns the leads touched (deferred: the messages queued).';

-- A queued event that failed alone waits 5 s per failure before it is taken
-- again (what made it fail may pass), and after 3 failures is set aside.
CREATE FUNCTION antiban.lead_event_due(attempts integer, failed_at timestamptz) RETURNS boolean
LANGUAGE sql STABLE
RETURN attempts = 0 OR (attempts < 3 AND failed_at <= now() - attempts * interval '5 seconds');
COMMENT ON FUNCTION antiban.lead_event_due(integer, timestamptz) IS
    'Internal: whether a queued lead event with these failures (antiban.lead_event_queue.attempts, failed_at) is taken by antiban.process_lead_events: never failed, or failed fewer than 3 times and 5 s per failure ago.';

-- Deferred scoring's other half: the oldest queued events, in the order
-- they arrived: messages make their leads first, then events queued by
-- person find the lead those made.
CREATE FUNCTION antiban.process_lead_events(max_events integer DEFAULT 10000, after_id bigint DEFAULT 0) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET jit = off AS $$
DECLARE
    batch record;
    made record;
    ev record;
BEGIN
    PERFORM antiban.refuse_install_wide('process every portfolio''s queued lead events');
    IF max_events IS NULL OR max_events < 1 THEN
        RAISE EXCEPTION 'max_events must be at least 1, not %', coalesce(max_events::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Call it again to take more: it returns how many it took.';
    END IF;
    -- the oldest events, claimed so that two runs never take the same ones
    WITH t AS (
        DELETE FROM antiban.lead_event_queue q
        WHERE q.id IN (SELECT x.id FROM antiban.lead_event_queue x WHERE x.id > coalesce(after_id, 0)
                         AND antiban.lead_event_due(x.attempts, x.failed_at)
                       ORDER BY x.id LIMIT max_events FOR UPDATE SKIP LOCKED)
        RETURNING q.*
    )
    SELECT count(*)::integer AS taken,
           array_agg(t.interaction_id ORDER BY t.id) FILTER (WHERE t.kind = 'message') AS messages,
           array_agg(t.id ORDER BY t.id) FILTER (WHERE t.kind <> 'message') AS ids,
           array_agg(t.lead_id ORDER BY t.id) FILTER (WHERE t.kind <> 'message') AS leads,
           array_agg(t.person_id ORDER BY t.id) FILTER (WHERE t.kind <> 'message') AS persons,
           array_agg(t.portfolio_id ORDER BY t.id) FILTER (WHERE t.kind <> 'message') AS portfolios,
           array_agg(t.kind ORDER BY t.id) FILTER (WHERE t.kind <> 'message') AS kinds,
           array_agg(t.at ORDER BY t.id) FILTER (WHERE t.kind <> 'message') AS ats,
           array_agg(t.body ORDER BY t.id) FILTER (WHERE t.kind <> 'message') AS bodies,
           array_agg(t.code ORDER BY t.id) FILTER (WHERE t.kind <> 'message') AS codes
    INTO batch
    FROM t;
    IF batch.taken = 0 THEN
        RETURN 0;
    END IF;
    -- messages first, in their own statement: the events queued by person
    -- below must see the leads they make
    SELECT array_agg(m.ev_lead ORDER BY m.n) AS leads, array_agg(m.ev_kind ORDER BY m.n) AS kinds,
           array_agg(m.ev_at ORDER BY m.n) AS ats, array_agg(m.ev_body ORDER BY m.n) AS bodies,
           array_agg(m.ev_portfolio ORDER BY m.n) AS portfolios
    INTO made
    FROM antiban.lead_message_events(coalesce(batch.messages, '{}')) WITH ORDINALITY AS m(ev_lead, ev_kind, ev_at,
                                                                                        ev_body, ev_portfolio, n);
    WITH events AS (
        SELECT m.lead, m.kind, m.at, m.body, NULL::integer AS code, m.portfolio, 0::bigint AS queued, m.n
        FROM unnest(made.leads, made.kinds, made.ats, made.bodies, made.portfolios)
             WITH ORDINALITY AS m(lead, kind, at, body, portfolio, n)
        UNION ALL
        -- (by person: the lead their message above made, or their open one)
        SELECT coalesce(u.lead, (SELECT l.id FROM antiban.leads l
                                 WHERE l.portfolio_id = u.portfolio AND l.person_id = u.person
                                   AND l.closed_at IS NULL)),
               u.kind, u.at, u.body, u.code, u.portfolio, u.id, 0
        FROM unnest(batch.ids, batch.leads, batch.persons, batch.portfolios, batch.kinds, batch.ats, batch.bodies, batch.codes)
             AS u(id, lead, person, portfolio, kind, at, body, code)
    )
    SELECT array_agg(e.lead ORDER BY e.at, e.queued, e.n) AS leads, array_agg(e.kind ORDER BY e.at, e.queued, e.n) AS kinds,
           array_agg(e.at ORDER BY e.at, e.queued, e.n) AS ats, array_agg(e.body ORDER BY e.at, e.queued, e.n) AS bodies,
           array_agg(e.code ORDER BY e.at, e.queued, e.n) AS codes,
           array_agg(e.portfolio ORDER BY e.at, e.queued, e.n) AS portfolios
    INTO ev
    FROM events e
    WHERE e.lead IS NOT NULL;
    IF ev.leads IS NOT NULL THEN
        PERFORM antiban.score_lead_events_now(ev.leads, ev.kinds, ev.ats, ev.bodies, ev.codes, ev.portfolios);
    END IF;
    RETURN batch.taken;
END
$$;
COMMENT ON FUNCTION antiban.process_lead_events(integer, bigint) IS
    'Take the oldest queued lead events (antiban.lead_scoring = deferred; with after_id, only those queued after that id), at most max_events (>= 1; else invalid_parameter_value): their inbound messages make or find their leads, events queued by person find the lead, and all are scored in one antiban.note_lead_events call and one UPDATE of their leads (score with reasons, inbound times, stage; qualified leads are assigned). Returns how many were taken (0: the queue is empty). The "antiban lead scorer" worker calls it every antiban.lead_scoring_interval; two calls at once take different events.';

-- A queued event that failed in a batch of its own (the antiban leads worker
-- halves a failing batch down to one event): counted, retried later, and at
-- the third time set aside, so that one event that always fails no longer holds up those
-- queued behind it.  It stays in the queue, named in the log and in an alert.
CREATE FUNCTION antiban.note_lead_event_failure(event_id bigint, error text) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    q record;
BEGIN
    UPDATE antiban.lead_event_queue x SET attempts = x.attempts + 1, last_error = error, failed_at = now()
    WHERE x.id = event_id
    RETURNING x.id, x.attempts, x.kind, x.portfolio_id, x.person_id, x.lead_id, x.interaction_id INTO q;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    IF q.attempts = 3 THEN
        RAISE WARNING 'antiban: queued lead event % set aside after failing 3 times: %', q.id, error
            USING DETAIL = format('kind %s, portfolio %s, person %s, lead %s, interaction %s', q.kind, q.portfolio_id,
                                  coalesce(q.person_id::text, '-'), coalesce(q.lead_id::text, '-'),
                                  coalesce(q.interaction_id::text, '-')),
                  HINT = 'It stays in antiban.lead_event_queue (attempts, last_error); fix the cause, then set its attempts to 0 to score it again.';
        PERFORM antiban.raise_alert('warning', NULL, 'lead_event_set_aside',
                                    format('queued lead event %s (%s) set aside after failing 3 times: %s', q.id, q.kind, error),
                                    q.portfolio_id::text);
    END IF;
    RETURN q.attempts;
END
$$;
COMMENT ON FUNCTION antiban.note_lead_event_failure(bigint, text) IS
    'Internal (the antiban leads worker, when a batch of that one event failed): counts a failure of a queued lead event and keeps its error and time (it is retried 5 s per failure later, antiban.lead_event_due); at the third the event is set aside (antiban.process_lead_events skips it), with a WARNING and an alert lead_event_set_aside. Returns its failures (0: no longer queued).';

-- What a lead's new score and messages do to it, in one UPDATE per batch:
-- the score (and a timeline line with its reasons when it is news), the
-- inbound times, and the stage: a new or engaged lead at or above the
-- portfolio's qualify_score becomes qualified (the stage trigger assigns it);
-- a new lead that engaged (wrote a second message, answered one of ours,
-- tapped a button) becomes engaged.  leads NULL: every lead (of one
-- portfolio) whose score differs from its conversation's, as after
-- antiban.rescore_leads.
CREATE FUNCTION antiban.apply_lead_scores(leads bigint[], first_inbound timestamptz[] DEFAULT NULL,
                                          last_inbound timestamptz[] DEFAULT NULL, portfolio bigint DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    moved integer;
BEGIN
    IF leads IS NULL THEN
        -- after a bulk rescore: every lead whose score moved, in batches of ids
        SELECT array_agg(l.id) INTO leads
        FROM antiban.leads l JOIN antiban.lead_scores s ON s.conversation_id = l.id
        WHERE (apply_lead_scores.portfolio IS NULL OR l.portfolio_id = apply_lead_scores.portfolio)
          AND l.score IS DISTINCT FROM s.score;
        IF leads IS NULL THEN
            RETURN 0;
        END IF;
    END IF;
    -- each lead by its key (the webhook path touches one or a few): index
    -- lookups, never a scan of the tables it reads
    WITH d AS (
        SELECT l.id, l.portfolio_id, l.score AS previous, s.score, s.model_id, s.reasons, s.scored_at,
               coalesce((SELECT r.qualify_score FROM antiban.lead_routing r WHERE r.portfolio_id = l.portfolio_id),
                        60)::smallint AS qualify,
               t.first_at, t.last_at, l.stage, l.merged_into IS NOT NULL AS merged,
               antiban.lead_engaged(f.messages, (f.engagement).taps, (f.engagement).last_inbound_at,
                                    (f.engagement).last_outbound_at) AS engaged
        FROM unnest(leads, coalesce(first_inbound, array_fill(NULL::timestamptz, ARRAY[cardinality(leads)])),
                    coalesce(last_inbound, array_fill(NULL::timestamptz, ARRAY[cardinality(leads)])))
                 AS t(id, first_at, last_at)
             JOIN LATERAL (SELECT * FROM antiban.leads x WHERE x.id = t.id) l ON true
             LEFT JOIN LATERAL (SELECT * FROM antiban.lead_scores x WHERE x.conversation_id = t.id) s ON true
             LEFT JOIN LATERAL (SELECT * FROM antiban.lead_features x WHERE x.conversation_id = t.id) f ON true
    ), logged AS (
        INSERT INTO antiban.lead_events (lead_id, portfolio_id, at, kind, detail, data)
        SELECT d.id, d.portfolio_id, d.scored_at, 'score',
               format('score %s -> %s', coalesce(d.previous::text, 'none'), d.score)
               || coalesce(': ' || (SELECT string_agg(x, '; ' ORDER BY o)
                                    FROM jsonb_array_elements_text(coalesce(d.reasons -> 'positive', '[]')
                                                                   || coalesce(d.reasons -> 'negative', '[]'))
                                         WITH ORDINALITY AS r(x, o)), ''),
               jsonb_build_object('score', d.score, 'previous', d.previous, 'model', d.model_id, 'reasons', d.reasons)
        FROM d
        WHERE d.score IS DISTINCT FROM d.previous AND d.score IS NOT NULL
          AND antiban.lead_score_news(d.previous, d.score, d.qualify)
    )
    UPDATE antiban.leads l
    SET score = coalesce(d.score, l.score),
        first_inbound_at = coalesce(least(l.first_inbound_at, d.first_at), l.first_inbound_at),
        last_inbound_at = coalesce(greatest(l.last_inbound_at, d.last_at), l.last_inbound_at),
        stage = d.stage_after
    FROM (SELECT d.*, antiban.lead_stage_after(d.stage, d.engaged, d.score, d.qualify, d.merged) AS stage_after
          FROM d) d
    WHERE l.id = d.id
      AND (l.score IS DISTINCT FROM coalesce(d.score, l.score) OR d.first_at IS NOT NULL OR d.stage_after <> l.stage);
    GET DIAGNOSTICS moved = ROW_COUNT;
    RETURN moved;
END
$$;
COMMENT ON FUNCTION antiban.apply_lead_scores(bigint[], timestamptz[], timestamptz[], bigint) IS
    'Internal: brings leads up to date with their conversations in one statement: the score from antiban.lead_scores (a timeline line with its reasons when antiban.lead_score_news says so), the inbound times given, and the stage (new or engaged at or above lead_routing.qualify_score: qualified, then assigned; new that engaged: engaged). leads NULL: every lead, of one portfolio or all, whose score differs (after antiban.rescore_leads). Returns the leads updated.';

-- ---------------------------------------------------------------- our messages, reads, failures

-- Statuses and sends change outbox rows: what the lead's person saw of us
-- (sent, read) and what failed, one call to the model per statement.  A
-- free-form (service) message sent to the person after the lead was
-- assigned is the owner's first response.
CREATE FUNCTION antiban.outbox_lead_events() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
-- (generic plans: the webhook path runs these statements for every POST;
-- planning them each time would cost more than running them.  No
-- sequential scans: a plan made once while a table was empty would keep
-- reading it whole per row as it grows; see antiban.apply_webhooks)
SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET jit = off AS $$
DECLARE
    ev_leads bigint[];
    ev_kinds text[];
    ev_ats timestamptz[];
    ev_codes integer[];
    ev_portfolios bigint[];
    ev_categories antiban.category[];
    deferred boolean;
    r record;
BEGIN
    IF NOT antiban.lead_flow_on() THEN
        RETURN NULL;
    END IF;
    -- Every event below needs a row that is now sent, read or failed: a
    -- sender's claim (queued to sending) and a requeue have none, and skip
    -- the grouping of both transition tables (a sixth of a claim's cost).
    IF NOT EXISTS (SELECT FROM new_rows nr
                   WHERE nr.sent_at IS NOT NULL OR nr.read_at IS NOT NULL OR nr.failed_at IS NOT NULL) THEN
        RETURN NULL;
    END IF;
    deferred := current_setting('antiban.lead_scoring') = 'deferred';
    -- only the open leads of the persons these messages went to: one join
    -- through the unique index on open leads, no call per message.
    -- Deferred: queued in the same statement (also for a person whose first
    -- message waits in the queue, by person); the arrays then hold only what
    -- must happen now, a free-form message sent to an assigned lead.
    -- (each person and lead by its key, one index probe per row: a join
    -- planned once, generic, while antiban.leads looked empty would scan it
    -- for every row)
    -- Each row's old and new values side by side by grouping on id, never
    -- by joining the two transition tables: the generic plan is made once,
    -- often while they hold one row, and a nested loop made then costs n²
    -- comparisons for n rows (22 ms for a sender's 256; TAP 101).
    WITH n AS (
        SELECT s.id,
               max(s.portfolio_id) AS portfolio_id, max(s.person_id) AS person_id,
               max(s.recipient) AS recipient, max(s.category) AS category, max(s.error_code) AS error_code,
               max(s.sent_at) FILTER (WHERE s.is_new) AS sent_at,
               max(s.read_at) FILTER (WHERE s.is_new) AS read_at,
               max(s.failed_at) FILTER (WHERE s.is_new) AS failed_at,
               bool_or(NOT s.is_new AND s.sent_at IS NOT NULL) AS was_sent,
               bool_or(NOT s.is_new AND s.read_at IS NOT NULL) AS was_read,
               bool_or(NOT s.is_new AND s.failed_at IS NOT NULL) AS was_failed
        FROM (SELECT nr.id, true AS is_new, nr.portfolio_id, nr.person_id, nr.recipient, nr.category,
                     nr.error_code, nr.sent_at, nr.read_at, nr.failed_at
              FROM new_rows nr
              UNION ALL
              SELECT o.id, false, NULL, NULL, NULL, NULL, NULL, o.sent_at, o.read_at, o.failed_at
              FROM old_rows o) s
        GROUP BY s.id
        -- both halves, as the join had: a row whose id changed (SET id =
        -- DEFAULT) has no old values and is no news (21_tester13c)
        HAVING bool_or(s.is_new) AND bool_or(NOT s.is_new)
    ), c AS MATERIALIZED (
        SELECT n.portfolio_id,
               coalesce(n.person_id, (SELECT i.person_id FROM antiban.person_ids i
                                      WHERE i.portfolio_id = n.portfolio_id
                                        AND i.key = antiban.recipient_key(n.recipient))) AS person,
               e.kind, e.at, e.code, n.category
        FROM n
             CROSS JOIN LATERAL (VALUES
                 ('outbound', n.sent_at, NULL::integer, NOT n.was_sent AND n.sent_at IS NOT NULL),
                 ('read', n.read_at, NULL, NOT n.was_read AND n.read_at IS NOT NULL),
                 (CASE WHEN n.error_code = 131050 THEN 'opt_out' ELSE 'failure' END, n.failed_at, n.error_code,
                  NOT n.was_failed AND n.failed_at IS NOT NULL AND n.error_code IS NOT NULL))
                 AS e(kind, at, code, happened)
        WHERE e.happened AND n.portfolio_id IS NOT NULL AND n.recipient IS NOT NULL
    ), ev AS (
        SELECT (SELECT l.id FROM antiban.leads l
                WHERE l.portfolio_id = c.portfolio_id AND l.person_id = c.person AND l.closed_at IS NULL) AS lead,
               c.*
        FROM c
    ), queued AS (
        INSERT INTO antiban.lead_event_queue (lead_id, person_id, portfolio_id, kind, at, code)
        SELECT ev.lead, ev.person, ev.portfolio_id, ev.kind, ev.at, ev.code
        FROM ev
        WHERE deferred
          AND (ev.lead IS NOT NULL
               OR EXISTS (SELECT 1 FROM antiban.lead_event_queue q
                          WHERE q.portfolio_id = ev.portfolio_id AND q.person_id = ev.person AND q.kind = 'message'))
        ORDER BY ev.at
    )
    SELECT array_agg(ev.lead ORDER BY ev.at), array_agg(ev.kind ORDER BY ev.at), array_agg(ev.at ORDER BY ev.at),
           array_agg(ev.code ORDER BY ev.at), array_agg(ev.portfolio_id ORDER BY ev.at),
           array_agg(ev.category ORDER BY ev.at)
    INTO ev_leads, ev_kinds, ev_ats, ev_codes, ev_portfolios, ev_categories
    FROM ev
    WHERE ev.lead IS NOT NULL AND (NOT deferred OR (ev.kind = 'outbound' AND ev.category = 'service'));
    IF ev_leads IS NULL THEN
        RETURN NULL;
    END IF;
    BEGIN
        IF NOT deferred THEN
            PERFORM antiban.score_lead_events_now(ev_leads, ev_kinds, ev_ats, NULL, ev_codes, ev_portfolios);
        END IF;
        FOR r IN
            SELECT u.lead, min(u.at) AS at
            FROM unnest(ev_leads, ev_kinds, ev_ats, ev_categories) AS u(lead, kind, at, category)
                 JOIN antiban.leads l ON l.id = u.lead
            WHERE u.kind = 'outbound' AND u.category = 'service' AND l.owner_agent_id IS NOT NULL
              AND l.first_response_at IS NULL AND l.closed_at IS NULL AND u.at >= l.assigned_at
            GROUP BY u.lead ORDER BY u.lead
        LOOP
            PERFORM antiban.record_first_response(r.lead, r.at);
        END LOOP;
    EXCEPTION
        WHEN deadlock_detected OR serialization_failure OR lock_not_available OR query_canceled THEN
            RAISE;
        WHEN OTHERS THEN
            -- a message's state matters more than a lead's score: keep the update
            RAISE WARNING 'antiban: lead events of % outbox changes not noted: %', cardinality(ev_leads), SQLERRM;
    END;
    RETURN NULL;
END
$$;
CREATE TRIGGER outbox_lead_events AFTER UPDATE ON antiban.outbox
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION antiban.outbox_lead_events();
COMMENT ON FUNCTION antiban.outbox_lead_events() IS
    'Statement trigger on antiban.outbox: messages that became sent, read or failed (131050: an opt-out) are noted on their person''s open lead in one antiban.note_lead_events call (antiban.lead_scoring = deferred: queued in one INSERT, also for a person whose first message is still queued); a free-form message sent after the lead was assigned records its first response.';

-- An opt-out (or a resume) of the person stated in a message or a preference.
CREATE FUNCTION antiban.contact_lead_consent() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    lead bigint;
BEGIN
    IF NOT antiban.lead_flow_on() OR NEW.person_id IS NULL OR NEW.portfolio_id IS NULL THEN
        RETURN NULL;
    END IF;
    lead := antiban.lead_of_person(NEW.portfolio_id, NEW.person_id);
    IF lead IS NOT NULL THEN
        BEGIN
            PERFORM antiban.score_lead_events(ARRAY[lead], ARRAY[CASE WHEN NEW.marketing_opt_out THEN 'opt_out' ELSE 'opt_in' END],
                                              ARRAY[coalesce(NEW.consent_at, antiban.now())], NULL, NULL, ARRAY[NEW.portfolio_id]);
        EXCEPTION
            WHEN deadlock_detected OR serialization_failure OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                RAISE WARNING 'antiban: the opt-out of person % not noted on lead %: %', NEW.person_id, lead, SQLERRM;
        END;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER contact_lead_consent AFTER UPDATE OF marketing_opt_out ON antiban.contacts
    FOR EACH ROW WHEN (NEW.marketing_opt_out IS DISTINCT FROM OLD.marketing_opt_out)
    EXECUTE FUNCTION antiban.contact_lead_consent();
COMMENT ON FUNCTION antiban.contact_lead_consent() IS
    'Trigger on antiban.contacts: a person''s stop (or resume) of marketing is noted on their lead as an opt_out (opt_in) at the time they said it.';

-- ---------------------------------------------------------------- merges

-- Two persons were one: their leads become the kept person's; two open
-- leads fold into one (the one with an owner, else the older), the other
-- is disqualified with merged_into set, and its words join the survivor's
-- features.
CREATE FUNCTION antiban.fold_leads(portfolio bigint, kept bigint, merged bigint) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    open_ids bigint[];
    survivor bigint;
    other bigint;
    folded antiban.lead_features;
BEGIN
    SELECT array_agg(l.id ORDER BY l.owner_agent_id IS NULL, l.id) INTO open_ids
    FROM (SELECT x.id, x.owner_agent_id FROM antiban.leads x
          WHERE x.portfolio_id = portfolio AND x.person_id IN (kept, merged) AND x.closed_at IS NULL
          ORDER BY x.id FOR UPDATE) l;
    survivor := open_ids[1];
    FOREACH other IN ARRAY coalesce(open_ids[2:], '{}') LOOP
        UPDATE antiban.leads SET merged_into = survivor, stage = 'disqualified' WHERE id = other;
        UPDATE antiban.leads s SET first_inbound_at = least(s.first_inbound_at, o.first_inbound_at),
               last_inbound_at = greatest(s.last_inbound_at, o.last_inbound_at),
               source_ad_id = coalesce(s.source_ad_id, o.source_ad_id), campaign = coalesce(s.campaign, o.campaign),
               products = ARRAY(SELECT DISTINCT unnest(s.products || o.products))
        FROM antiban.leads o WHERE s.id = survivor AND o.id = other;
        INSERT INTO antiban.lead_events (lead_id, portfolio_id, kind, detail)
        VALUES (survivor, portfolio, 'merged', format('lead %s folded in: persons %s and %s are one', other, kept, merged)),
               (other, portfolio, 'merged', format('folded into lead %s: persons %s and %s are one', survivor, kept, merged));
        SELECT * INTO folded FROM antiban.lead_features WHERE conversation_id = other;
        IF FOUND THEN
            INSERT INTO antiban.lead_features AS s (conversation_id, portfolio_id, features, feature_values, engagement, messages)
            VALUES (survivor, portfolio, folded.features, folded.feature_values, folded.engagement, folded.messages)
            ON CONFLICT (conversation_id) DO UPDATE
            SET (features, feature_values) = (SELECT v.features, v.feature_values
                                              FROM antiban.lead_vector_add(s.features, s.feature_values,
                                                                           excluded.features, excluded.feature_values) v),
                engagement = CASE WHEN (excluded.engagement).last_inbound_at > (s.engagement).last_inbound_at
                                       OR s.engagement IS NULL
                                  THEN excluded.engagement ELSE s.engagement END,
                messages = s.messages + excluded.messages, updated_at = now();
        END IF;
    END LOOP;
    UPDATE antiban.leads SET person_id = kept WHERE portfolio_id = portfolio AND person_id = merged;
    IF cardinality(open_ids) > 1 THEN
        INSERT INTO antiban.lead_scores AS l (conversation_id, model_id, score, probability, reasons, scored_at)
        SELECT f.conversation_id, s.model_id, s.score, s.probability, s.reasons, antiban.now()
        FROM antiban.lead_features f
             CROSS JOIN LATERAL antiban.lead_score(antiban.active_lead_model(portfolio), f.features, f.feature_values,
                                                   f.engagement, antiban.now()) s
        WHERE f.conversation_id = survivor AND s.model_id IS NOT NULL
        ON CONFLICT (conversation_id) DO UPDATE
        SET model_id = excluded.model_id, score = excluded.score, probability = excluded.probability,
            reasons = excluded.reasons, scored_at = excluded.scored_at;
        PERFORM antiban.apply_lead_scores(ARRAY[survivor]);
    END IF;
    RETURN survivor;
END
$$;
COMMENT ON FUNCTION antiban.fold_leads(bigint, bigint, bigint) IS
    'Internal (merging persons): every lead of person "merged" becomes person "kept"''s; if both had an open lead, the one with an owner (else the older) survives, the other is disqualified with merged_into set, both log the merge, and the survivor gets the other''s words and is rescored. Returns the surviving open lead.';

CREATE FUNCTION antiban.persons_merged_leads() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    BEGIN
        PERFORM antiban.fold_leads(NEW.portfolio_id, NEW.merged_into, NEW.id);
    EXCEPTION
        WHEN deadlock_detected OR serialization_failure OR lock_not_available OR query_canceled THEN
            RAISE;
        WHEN OTHERS THEN
            -- the identities matter more than the leads: the merge stands
            RAISE WARNING 'antiban: leads of person % not folded into person %: %', NEW.id, NEW.merged_into, SQLERRM;
    END;
    RETURN NULL;
END
$$;
CREATE TRIGGER persons_merged_leads AFTER UPDATE OF merged_into ON antiban.persons
    FOR EACH ROW WHEN (OLD.merged_into IS NULL AND NEW.merged_into IS NOT NULL)
    EXECUTE FUNCTION antiban.persons_merged_leads();
COMMENT ON FUNCTION antiban.persons_merged_leads() IS
    'Trigger on antiban.persons: a person merged into another folds their leads (antiban.fold_leads).';

-- ---------------------------------------------------------------- the app's calls

-- A role mapped to portfolios notes events only on its portfolios' leads (a
-- conversation is a lead; an id that is not, or a features row of another
-- portfolio, is unknown: a new id could be another portfolio's next lead).
CREATE FUNCTION antiban.caller_conversations_check(conversations bigint[], portfolios bigint[]) RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE
    refused bigint;
BEGIN
    IF antiban.my_portfolios() IS NULL THEN
        RETURN;
    END IF;
    SELECT c.id INTO refused
    FROM unnest(conversations, portfolios) AS c(id, portfolio)
    WHERE (c.portfolio IS NOT NULL AND NOT antiban.may_use_portfolio(c.portfolio))
       OR NOT (EXISTS (SELECT 1 FROM antiban.leads l WHERE l.id = c.id AND antiban.may_use_portfolio(l.portfolio_id))
               OR EXISTS (SELECT 1 FROM antiban.lead_features f
                          WHERE f.conversation_id = c.id AND antiban.may_use_portfolio(f.portfolio_id)))
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'unknown lead %', coalesce(refused::text, 'NULL') USING ERRCODE = 'undefined_object';
    END IF;
END
$$;
COMMENT ON FUNCTION antiban.caller_conversations_check(bigint[], bigint[]) IS
    'Internal (antiban.note_lead_events called with the caller''s own rights): for a role mapped to portfolios, every conversation must be a lead (or a lead_features row) of its portfolios and every portfolio given its own, else "unknown lead", as for a missing id.';

CREATE FUNCTION antiban.upsert_lead(recipient text, portfolio bigint, source text DEFAULT 'app',
                                    ad_id text DEFAULT NULL, campaign text DEFAULT NULL,
                                    language text DEFAULT NULL, products text[] DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
DECLARE
    person bigint;
    found record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM antiban.portfolios p WHERE p.id = portfolio AND antiban.may_use_portfolio(p.id)) THEN
        RAISE EXCEPTION 'unknown portfolio %', coalesce(portfolio::text, 'NULL')
            USING ERRCODE = 'undefined_object',
                  HINT = 'Portfolios are rows of antiban.portfolios; or pass the phone_number_id of one of its numbers.';
    END IF;
    IF upsert_lead.source IS NULL OR upsert_lead.source NOT IN ('ctwa', 'ctwa_post', 'campaign', 'organic', 'app') THEN
        RAISE EXCEPTION 'unknown lead source "%"', upsert_lead.source
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'One of ctwa (with ad_id), ctwa_post, campaign (with campaign), organic, app.';
    END IF;
    IF array_position(products, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'products must not contain NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- one that names nobody is refused, saying why
    IF antiban.identifier_key(recipient, 'recipient') IS NULL THEN
        RAISE EXCEPTION 'recipient must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    person := antiban.link_identifiers(portfolio, ARRAY[recipient], 'operator', NULL, 'antiban.upsert_lead');
    SELECT * INTO found
    FROM antiban.open_lead(portfolio, person, antiban.now(), upsert_lead.source, ad_id, NULL, upsert_lead.campaign,
                           upsert_lead.language, 'registered by the app');
    IF NOT found.created THEN
        UPDATE antiban.leads l
        SET source_ad_id = coalesce(l.source_ad_id, ad_id), campaign = coalesce(l.campaign, upsert_lead.campaign),
            language = coalesce(upsert_lead.language, l.language),
            products = CASE WHEN upsert_lead.products IS NULL THEN l.products
                            ELSE ARRAY(SELECT DISTINCT unnest(l.products || upsert_lead.products) ORDER BY 1) END
        WHERE l.id = found.lead;
    ELSIF products IS NOT NULL THEN
        UPDATE antiban.leads l SET products = ARRAY(SELECT DISTINCT unnest(upsert_lead.products) ORDER BY 1)
        WHERE l.id = found.lead;
    END IF;
    RETURN found.lead;
END
$$;
COMMENT ON FUNCTION antiban.upsert_lead(text, bigint, text, text, text, text, text[]) IS
    'The lead of the person a recipient names (phone in any form, or BSUID) in a portfolio: their open lead (or one closed less than lead_routing.new_lead_after ago), else a new one with this source (ctwa, campaign, organic or app), ad id, campaign, language (pt, es, en...) and products. An existing lead keeps its source; missing ad id and campaign are filled, language replaced, products added. Returns the lead id. Errors: unknown portfolio (also one the caller may not use), unknown source, a recipient that names nobody.';

CREATE FUNCTION antiban.upsert_lead(recipient text, phone_number_id text, source text DEFAULT 'app',
                                    ad_id text DEFAULT NULL, campaign text DEFAULT NULL,
                                    language text DEFAULT NULL, products text[] DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
DECLARE
    portfolio bigint;
BEGIN
    SELECT w.portfolio_id INTO portfolio
    FROM antiban.numbers n JOIN antiban.wabas w ON w.id = n.waba_id
    WHERE n.phone_number_id = upsert_lead.phone_number_id AND antiban.may_use_portfolio(w.portfolio_id);
    IF portfolio IS NULL THEN
        RAISE EXCEPTION 'unknown number "%"', coalesce(phone_number_id, 'NULL')
            USING ERRCODE = 'undefined_object',
                  HINT = 'Pass the phone_number_id of a number in antiban.numbers, or the portfolio id.';
    END IF;
    -- one of the caller's numbers, as for a send (refused for another portfolio's)
    PERFORM antiban.caller_number_portfolio(upsert_lead.phone_number_id);
    RETURN antiban.upsert_lead(recipient, portfolio, source, ad_id, campaign, language, products);
END
$$;
COMMENT ON FUNCTION antiban.upsert_lead(text, text, text, text, text, text, text[]) IS
    'antiban.upsert_lead in the portfolio of one of its numbers (phone_number_id). Error: unknown number (also one of a portfolio the caller may not use).';

CREATE FUNCTION antiban.add_lead_note(lead bigint, note text) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
DECLARE
    l antiban.leads;
    owner_role text;
    agent bigint;
    made bigint;
BEGIN
    SELECT * INTO l FROM antiban.leads x WHERE x.id = lead AND antiban.may_use_portfolio(x.portfolio_id);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown lead %', coalesce(lead::text, 'NULL') USING ERRCODE = 'undefined_object';
    END IF;
    IF note IS NULL OR btrim(note) = '' THEN
        RAISE EXCEPTION 'a lead note must say something' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF length(note) > 10000 THEN
        RAISE EXCEPTION 'a lead note is at most 10000 characters, not %', length(note)
            USING ERRCODE = 'string_data_right_truncation';
    END IF;
    SELECT a.login_role INTO owner_role FROM antiban.agents a WHERE a.id = l.owner_agent_id;
    IF NOT (antiban.may_act_for_agent('antiban_app') OR antiban.may_act_for_agent(owner_role)) THEN
        RAISE EXCEPTION 'permission denied to add a note to lead %', l.id
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'The lead''s owner (its login_role) and antiban_app may add notes.';
    END IF;
    SELECT a.id INTO agent FROM antiban.agents a
    WHERE a.portfolio_id = l.portfolio_id AND a.login_role = session_user;
    INSERT INTO antiban.lead_events (lead_id, portfolio_id, kind, agent_id, stage, detail, data)
    VALUES (l.id, l.portfolio_id, 'note', agent, l.stage, note, jsonb_build_object('author', session_user))
    RETURNING id INTO made;
    RETURN made;
END
$$;
COMMENT ON FUNCTION antiban.add_lead_note(bigint, text) IS
    'Add a note (up to 10000 characters) to a lead''s timeline, by the lead''s owner (their login role, noted as the agent) or an app; returns the antiban.lead_events id. Errors: unknown lead (also one of a portfolio the caller may not use), empty note, not the owner.';

-- ---------------------------------------------------------------- the gate

CREATE FUNCTION antiban.lead_gate(person bigint, min_score integer DEFAULT 0, engaged_within interval DEFAULT NULL,
                                  OUT allowed boolean, OUT reason text, OUT detail text,
                                  OUT lead_id bigint, OUT score smallint)
LANGUAGE plpgsql STABLE SECURITY DEFINER AS $$
DECLARE
    p antiban.persons;
    l antiban.leads;
    f antiban.lead_features;
    last_engaged timestamptz;
BEGIN
    IF min_score IS NULL OR min_score NOT BETWEEN 0 AND 100 THEN
        RAISE EXCEPTION 'min_score must be between 0 and 100, not %', coalesce(min_score::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF engaged_within < interval '0' THEN
        RAISE EXCEPTION 'engaged_within must not be negative' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- another portfolio's person has no lead, as a missing one has none
    SELECT * INTO p FROM antiban.persons x WHERE x.id = person AND antiban.may_use_portfolio(x.portfolio_id);
    IF p.merged_into IS NOT NULL THEN
        SELECT * INTO p FROM antiban.persons x WHERE x.id = p.merged_into;
    END IF;
    SELECT * INTO l FROM antiban.leads x
    WHERE x.portfolio_id = p.portfolio_id AND x.person_id = p.id AND x.merged_into IS NULL
    ORDER BY x.closed_at IS NULL DESC, x.id DESC LIMIT 1;
    IF NOT FOUND THEN
        allowed := false; reason := 'no_lead';
        detail := format('person %s has no lead', coalesce(person::text, 'NULL'));
        RETURN;
    END IF;
    lead_id := l.id;
    score := l.score;
    SELECT * INTO f FROM antiban.lead_features x WHERE x.conversation_id = l.id;
    last_engaged := greatest(l.last_inbound_at, (f.engagement).last_inbound_at);
    allowed := false;
    IF (f.engagement).opted_out THEN
        reason := 'opted_out'; detail := 'the lead asked to stop marketing';
    ELSIF (f.engagement).blocked THEN
        reason := 'blocked'; detail := 'the lead blocked or reported us';
    ELSIF l.stage = 'disqualified' THEN
        reason := 'disqualified'; detail := format('lead %s is disqualified', l.id);
    ELSIF coalesce(l.score, 0) < min_score THEN
        reason := 'low_score'; detail := format('score %s < %s', coalesce(l.score::text, 'none'), min_score);
    ELSIF engaged_within IS NOT NULL AND (last_engaged IS NULL OR last_engaged < antiban.now() - engaged_within) THEN
        reason := 'not_engaged';
        detail := CASE WHEN last_engaged IS NULL THEN 'never wrote to us'
                       ELSE format('last wrote %s ago (more than %s)',
                                   date_trunc('minute', antiban.now() - last_engaged), engaged_within) END;
    ELSE
        allowed := true; reason := 'ok';
        detail := format('score %s >= %s', coalesce(l.score::text, 'none'), min_score)
                  || CASE WHEN last_engaged IS NOT NULL
                          THEN format(', last wrote %s ago', date_trunc('minute', antiban.now() - last_engaged)) ELSE '' END;
    END IF;
END
$$;
COMMENT ON FUNCTION antiban.lead_gate(bigint, integer, interval) IS
    'May marketing go to this person by their lead? allowed only if their lead (open, else latest) has score >= min_score (0-100), wrote or tapped within engaged_within (an interval; NULL: not checked), has not opted out or blocked us and is not disqualified. reason: ok, no_lead (also for a person of a portfolio the caller may not use), opted_out, blocked, disqualified, low_score, not_engaged; detail in words; the lead and its score. For campaigns: ... CROSS JOIN LATERAL antiban.lead_gate(person, 40, ''30 days'') g WHERE g.allowed. Errors: min_score outside 0-100, negative engaged_within.';

CREATE FUNCTION antiban.lead_gate(recipient text, portfolio bigint, min_score integer DEFAULT 0,
                                  engaged_within interval DEFAULT NULL,
                                  OUT allowed boolean, OUT reason text, OUT detail text,
                                  OUT lead_id bigint, OUT score smallint)
LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT g.allowed, g.reason, g.detail, g.lead_id, g.score
    FROM antiban.lead_gate(antiban.person_id(lead_gate.portfolio, antiban.identifier_key(lead_gate.recipient, 'recipient')),
                           lead_gate.min_score, lead_gate.engaged_within) g;
END;
COMMENT ON FUNCTION antiban.lead_gate(text, bigint, integer, interval) IS
    'antiban.lead_gate for the person a recipient (phone in any form, BSUID) names in a portfolio; no_lead when nobody is known by it. Errors: a recipient that names nobody (invalid_parameter_value).';

-- ---------------------------------------------------------------- timeline

-- the person's messages belong to a lead from its start (or ever, for
-- their first lead) until their next lead started
CREATE FUNCTION antiban.lead_message_window(l antiban.leads, OUT lower_at timestamptz, OUT upper_at timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN EXISTS (SELECT 1 FROM antiban.leads e WHERE e.portfolio_id = l.portfolio_id
                             AND e.person_id = l.person_id AND e.id < l.id AND e.merged_into IS NULL)
                THEN least(l.created_at, l.first_inbound_at) ELSE '-infinity' END,
           coalesce((SELECT min(least(e.created_at, e.first_inbound_at)) FROM antiban.leads e
                     WHERE e.portfolio_id = l.portfolio_id AND e.person_id = l.person_id AND e.id > l.id
                       AND e.merged_into IS NULL), 'infinity')
$$;
COMMENT ON FUNCTION antiban.lead_message_window(antiban.leads) IS
    'Internal: the times between which the person''s messages belong to this lead: from its start (their first lead: ever) until their next lead started.';

CREATE FUNCTION antiban.lead_timeline(lead bigint)
RETURNS TABLE (at timestamptz, kind text, direction text, summary text, detail jsonb, ref text)
LANGUAGE plpgsql STABLE SECURITY DEFINER AS $$
DECLARE
    l antiban.leads;
    owner_role text;
    lower_at timestamptz;
    upper_at timestamptz;
BEGIN
    SELECT * INTO l FROM antiban.leads x WHERE x.id = lead AND antiban.may_use_portfolio(x.portfolio_id);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown lead %', coalesce(lead::text, 'NULL') USING ERRCODE = 'undefined_object';
    END IF;
    SELECT a.login_role INTO owner_role FROM antiban.agents a WHERE a.id = l.owner_agent_id;
    IF NOT (antiban.may_act_for_agent('antiban_reader') OR antiban.may_act_for_agent(owner_role)) THEN
        RAISE EXCEPTION 'permission denied to read the timeline of lead %', l.id
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'Readers see every lead of their portfolios; an agent sees the leads they own.';
    END IF;
    SELECT w.lower_at, w.upper_at INTO lower_at, upper_at FROM antiban.lead_message_window(l) w;
    RETURN QUERY
    WITH ids AS (
        SELECT i.key FROM antiban.person_ids i WHERE i.portfolio_id = l.portfolio_id AND i.person_id = l.person_id
    ), sent AS (
        SELECT o.* FROM antiban.outbox o
        WHERE o.portfolio_id = l.portfolio_id AND l.person_id IS NOT NULL
          AND (o.person_id = l.person_id OR o.recipient IN (SELECT ids.key FROM ids))
          AND coalesce(o.queued_at, o.created_at) >= lower_at AND coalesce(o.queued_at, o.created_at) < upper_at
    )
    SELECT t.at, t.kind, t.direction, t.summary, t.detail, t.ref FROM (
        SELECT i.occurred_at AS at,
               CASE WHEN i.message_type IN ('button', 'interactive') THEN 'tap' ELSE 'message' END AS kind,
               'in'::text AS direction,
               coalesce(i.body, '(' || i.message_type || ')') AS summary,
               jsonb_strip_nulls(jsonb_build_object('type', i.message_type, 'number', i.phone_number_id,
                                                    'context', i.context_wamid, 'referral', i.payload -> 'referral')) AS detail,
               i.wamid AS ref, 1 AS ord, i.id AS n
        FROM antiban.interactions i JOIN antiban.contacts k ON k.id = i.contact_id
        WHERE k.person_id = l.person_id AND l.person_id IS NOT NULL
          AND i.occurred_at >= lower_at AND i.occurred_at < upper_at
        UNION ALL
        SELECT coalesce(s.queued_at, s.created_at), 'message', 'out',
               coalesce(s.payload -> 'text' ->> 'body', 'template ' || (s.payload -> 'template' ->> 'name'),
                        s.message_type) || ' [' || s.state || ']',
               jsonb_strip_nulls(jsonb_build_object('outbox', s.id, 'state', s.state, 'category', s.category,
                                                    'number', s.phone_number_id, 'reason', s.reason)),
               coalesce(s.wamid, 'outbox ' || s.id), 2, s.id
        FROM sent s
        UNION ALL
        -- the message's error belongs to its failed line only: sent/delivered/read were not errors
        SELECT x.at, 'status', 'out',
               x.status || CASE WHEN x.status = 'failed' THEN coalesce(' ' || s.error_code || ' ' || s.error_title, '')
                                ELSE '' END,
               jsonb_strip_nulls(jsonb_build_object('outbox', s.id,
                                                    'code', CASE WHEN x.status = 'failed' THEN s.error_code END)),
               coalesce(s.wamid, 'outbox ' || s.id), 3, s.id * 4 + x.rank
        FROM sent s
             CROSS JOIN LATERAL (VALUES ('sent', s.sent_at, 0), ('delivered', s.delivered_at, 1), ('read', s.read_at, 2),
                                        ('failed', s.failed_at, 3)) AS x(status, at, rank)
        WHERE x.at IS NOT NULL
        UNION ALL
        SELECT e.at, e.kind, NULL,
               CASE WHEN e.kind IN ('assigned', 'reassigned') THEN coalesce(a.name || ': ', '') || e.detail
                    ELSE e.detail END,
               jsonb_strip_nulls(jsonb_build_object('agent', e.agent_id, 'agent_name', a.name, 'stage', e.stage,
                                                    'lead', CASE WHEN e.lead_id <> l.id THEN e.lead_id END)) || coalesce(e.data, '{}'),
               'lead_event ' || e.id, 4, e.id
        FROM antiban.lead_events e LEFT JOIN antiban.agents a ON a.id = e.agent_id
        WHERE e.lead_id = l.id OR e.lead_id IN (SELECT m.id FROM antiban.leads m WHERE m.merged_into = l.id)
    ) t
    ORDER BY t.at, t.ord, t.n;
END
$$;
COMMENT ON FUNCTION antiban.lead_timeline(bigint) IS
    'A lead''s history in time order: the person''s messages (kind message, direction in; button and list replies as tap), our messages to them with their state (message, out) and each status (status: sent, delivered, read, failed with its code), and the lead''s log: created, assigned/reassigned (with the explanation), queued, first_response, sla_missed, stage, score (with its reasons), note, merged (also of leads folded into it). Messages count from the lead''s start (its person''s first lead: all) to their next lead. Readers see every lead of their portfolios, agents those they own. Errors: unknown lead (also one of a portfolio the caller may not use), permission denied.';

-- ---------------------------------------------------------------- outcomes

-- A closed lead is what the portfolio's model learns from (train_lead_model(portfolio)): its
-- inbound texts and its engagement as they are when the outcome is known, written by the close
-- itself because only here, at that moment, is that snapshot at hand.
CREATE FUNCTION antiban.lead_outcome_example() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, antiban, pg_temp AS $$
DECLARE
    w record;
BEGIN
    IF NEW.stage IN ('won', 'lost') AND NEW.merged_into IS NULL THEN
        SELECT * INTO w FROM antiban.lead_message_window(NEW);
        INSERT INTO antiban.lead_training_examples AS x
               (portfolio_id, source, example_key, won, texts, engagement, observed_at)
        SELECT NEW.portfolio_id, 'leads', 'lead ' || NEW.id, NEW.stage = 'won',
               coalesce((SELECT array_agg(i.body ORDER BY i.occurred_at, i.id)
                         FROM antiban.interactions i JOIN antiban.contacts k ON k.id = i.contact_id
                         WHERE k.person_id = NEW.person_id AND NEW.person_id IS NOT NULL
                           AND i.direction = 'in' AND i.body IS NOT NULL
                           AND i.occurred_at >= w.lower_at AND i.occurred_at < w.upper_at
                           AND i.occurred_at <= coalesce(NEW.closed_at, antiban.now())), '{}'),
               (SELECT f.engagement FROM antiban.lead_features f WHERE f.conversation_id = NEW.id),
               coalesce(NEW.closed_at, antiban.now())
        ON CONFLICT ON CONSTRAINT lead_training_examples_key DO UPDATE
            SET won = excluded.won, texts = excluded.texts, engagement = excluded.engagement,
                observed_at = excluded.observed_at;
    ELSIF OLD.stage IN ('won', 'lost') THEN
        -- reopened (or disqualified): the outcome is no longer known
        DELETE FROM antiban.lead_training_examples x
        WHERE x.portfolio_id = NEW.portfolio_id AND x.source = 'leads' AND x.example_key = 'lead ' || NEW.id;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION antiban.lead_outcome_example() IS
    'Trigger: a lead closed won or lost (close_lead, or any stage change to won/lost) becomes one row of antiban.lead_training_examples (source leads, key "lead <id>"): its inbound texts up to the close and its engagement at the close; reopening it removes the row.';
CREATE TRIGGER leads_outcome_example AFTER UPDATE OF stage ON antiban.leads
    FOR EACH ROW WHEN (NEW.stage IS DISTINCT FROM OLD.stage AND (NEW.stage IN ('won', 'lost') OR OLD.stage IN ('won', 'lost')))
    EXECUTE FUNCTION antiban.lead_outcome_example();

CREATE VIEW antiban.lead_timelines AS
SELECT l.id AS lead_id, l.portfolio_id, t.*
FROM antiban.leads l CROSS JOIN LATERAL antiban.lead_timeline(l.id) t
WHERE l.merged_into IS NULL;
COMMENT ON VIEW antiban.lead_timelines IS
    'Every lead''s timeline (antiban.lead_timeline), one row per line: filter on lead_id.';

-- ---------------------------------------------------------------- views for the sales manager

CREATE VIEW antiban.lead_pipeline AS
SELECT l.portfolio_id, l.stage, coalesce(l.source, 'app') AS source, l.owner_agent_id, a.name AS owner,
       count(*) AS leads, round(avg(l.score), 1) AS avg_score,
       count(*) FILTER (WHERE l.queued_at IS NOT NULL) AS queued,
       sum(l.value) FILTER (WHERE l.stage = 'won') AS won_value,
       min(l.created_at) AS oldest, max(l.created_at) AS newest
FROM antiban.leads l LEFT JOIN antiban.agents a ON a.id = l.owner_agent_id
WHERE l.merged_into IS NULL
GROUP BY l.portfolio_id, l.stage, coalesce(l.source, 'app'), l.owner_agent_id, a.name;
COMMENT ON VIEW antiban.lead_pipeline IS
    'Leads by portfolio, stage, source (ctwa, campaign, organic, app) and owner: how many, average score, queued, value won, oldest and newest; folded leads left out.';

CREATE VIEW antiban.lead_funnel AS
WITH reached AS (
    SELECT l.id, l.portfolio_id, coalesce(l.source, 'app') AS source, l.stage, l.first_inbound_at,
           l.first_response_at, l.assignment_id,
           l.stage IN ('engaged', 'qualified', 'won') OR EXISTS (
               SELECT 1 FROM antiban.lead_events e WHERE e.lead_id = l.id AND e.kind = 'stage'
                 AND e.stage IN ('engaged', 'qualified')) AS engaged,
           l.stage IN ('qualified', 'won') OR EXISTS (
               SELECT 1 FROM antiban.lead_events e WHERE e.lead_id = l.id AND e.kind = 'stage'
                 AND e.stage = 'qualified') AS qualified
    FROM antiban.leads l WHERE l.merged_into IS NULL
)
SELECT portfolio_id, source, count(*) AS leads,
       count(*) FILTER (WHERE first_inbound_at IS NOT NULL) AS wrote,
       count(*) FILTER (WHERE engaged) AS engaged,
       count(*) FILTER (WHERE qualified) AS qualified,
       count(*) FILTER (WHERE assignment_id IS NOT NULL) AS assigned,
       count(*) FILTER (WHERE first_response_at IS NOT NULL) AS answered,
       count(*) FILTER (WHERE stage = 'won') AS won,
       count(*) FILTER (WHERE stage = 'lost') AS lost,
       round(count(*) FILTER (WHERE stage = 'won')::numeric / nullif(count(*), 0), 3) AS win_rate
FROM reached
GROUP BY portfolio_id, source;
COMMENT ON VIEW antiban.lead_funnel IS
    'The funnel per portfolio and source: leads, those that wrote, engaged, qualified (ever: a lead that moved on still counts), were assigned, got a first response, won and lost; win_rate = won / leads.';

CREATE VIEW antiban.agent_performance AS
SELECT a.id AS agent_id, a.portfolio_id, a.name, a.presence, g.open_leads, a.capacity, g.room, g.unanswered,
       s.with_sla, s.met, s.missed, s.met_rate,
       (SELECT count(*) FROM antiban.leads l WHERE l.owner_agent_id = a.id AND l.stage = 'won') AS won,
       (SELECT count(*) FROM antiban.leads l WHERE l.owner_agent_id = a.id AND l.stage = 'lost') AS lost
FROM antiban.agents a JOIN antiban.agent_load g ON g.agent_id = a.id JOIN antiban.agent_sla s ON s.agent_id = a.id;
COMMENT ON VIEW antiban.agent_performance IS
    'Each agent: presence, load (open leads, capacity, room, unanswered), first-response SLA met and missed with the met rate, leads won and lost.';

CREATE VIEW antiban.dashboard_leads AS
SELECT p.portfolio_id, p.stage, count(*)::integer AS leads, round(avg(p.score), 1) AS avg_score,
       count(*) FILTER (WHERE p.queued_at IS NOT NULL)::integer AS queued,
       count(*) FILTER (WHERE s.state = 'overdue')::integer AS sla_overdue,
       count(*) FILTER (WHERE p.created_at > antiban.now() - interval '24 hours')::integer AS new_24h
FROM antiban.leads p LEFT JOIN antiban.lead_sla s ON s.lead_id = p.id
WHERE p.merged_into IS NULL AND (p.closed_at IS NULL OR p.closed_at > antiban.now() - interval '30 days')
GROUP BY p.portfolio_id, p.stage;
COMMENT ON VIEW antiban.dashboard_leads IS
    'Dashboard: open leads and those closed in the last 30 days per portfolio and stage: how many, average score, queued, first responses overdue, created in the last 24 h.';

-- An agent's own leads (their login role, or a role it is granted to).
CREATE VIEW antiban.my_leads WITH (security_barrier) AS
SELECT l.id AS lead_id, l.portfolio_id, l.stage, l.source, l.score, s.reasons, l.language, l.products,
       l.assigned_at, l.sla_due_at, l.first_response_at, l.first_inbound_at, l.last_inbound_at, l.created_at,
       a.id AS agent_id, a.name AS agent
FROM antiban.leads l
     JOIN antiban.agents a ON a.id = l.owner_agent_id
     JOIN pg_roles r ON r.rolname = a.login_role
     LEFT JOIN antiban.lead_scores s ON s.conversation_id = l.id
WHERE l.closed_at IS NULL AND pg_has_role(current_user, r.oid, 'USAGE');
COMMENT ON VIEW antiban.my_leads IS
    'The open leads of the agent the current role is (agents.login_role): score with its reasons, SLA due time. Read their history with antiban.lead_timeline(lead_id).';
