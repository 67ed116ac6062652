-- Consent and contact policy: the consent registry (every opt-in and
-- opt-out as an append-only history, the state in force per person and
-- purpose), the contact's consent columns kept in step with it, and a
-- person's data exported or erased on request (LGPD/GDPR).
--
-- One source of truth: antiban.note_consent writes the history, the state
-- and the contact in the caller's transaction, and the C caller notes the
-- same change for shared memory, which decide() reads from that
-- transaction's commit on (src/pg/consent.c, src/pg/recipient_facts.c).
-- The contact policy decide() applies (opt-in required, frequency caps,
-- quiet hours) is configured by GUCs: src/pg/contact_policy.c.

-- What shared memory reloads after a restart, per identifier.
ALTER TABLE antiban.recipient_facts
    ADD COLUMN opt_in_at timestamptz,
    ADD COLUMN last_stop_at timestamptz;
COMMENT ON COLUMN antiban.recipient_facts.opt_in_at IS
    'The latest marketing opt-in stated for this identifier (antiban.record_opt_in): live while no stop came at or after it.';
COMMENT ON COLUMN antiban.recipient_facts.last_stop_at IS
    'The latest stop stated for this identifier, in force or not: it ends every opt-in before it.';

ALTER TABLE antiban.recipient_facts
    ADD COLUMN time_zone text,
    ADD COLUMN time_zone_at timestamptz;
COMMENT ON COLUMN antiban.recipient_facts.time_zone IS
    'The person''s own time zone (antiban.set_person_time_zone), stated at time_zone_at; NULL: their number decides (quiet hours).';

CREATE FUNCTION antiban.set_person_time_zone(recipient text, phone_number_id text, time_zone text)
RETURNS text
AS 'MODULE_PATHNAME', 'antiban_set_person_time_zone' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.set_person_time_zone(text, text, text) IS
    'The time zone the person the recipient names (in the portfolio of this number) lives in, when known better than their number tells (a form asked): antiban.quiet_hours follow it. NULL: go by the number again. From the calling transaction''s commit on; the latest statement wins.';

CREATE FUNCTION antiban.consent_statement_wins(held_at timestamptz, held_stop boolean, at timestamptz,
                                               stop boolean, as_of_now boolean)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN antiban.consent_event_wins(held_at, held_stop, at, stop)
       OR (as_of_now AND (held_at IS NULL OR at >= held_at));
COMMENT ON FUNCTION antiban.consent_statement_wins(timestamptz, boolean, timestamptz, boolean, boolean) IS
    'Does a stop (or resume, or opt-in: stop false) stated at "at" replace the one held since held_at? The later wins, a stop on a tie; a statement made as of now (an operator''s) also wins a tie. The rule of src/core/recipient_state.c.';

-- The channels a change reaches us through.  Opt-ins: where the person
-- agreed.  Opt-outs and resumes: who told us.
CREATE FUNCTION antiban.consent_channels(action text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE action
    WHEN 'opt_in' THEN ARRAY['form', 'ad', 'inbound_message', 'import']
    ELSE ARRAY['operator', 'stop_request', 'user_preferences', 'stop_review', 'meta_error', 'erasure', 'import']
END;
COMMENT ON FUNCTION antiban.consent_channels(text) IS
    'The channels a consent change may name: for opt_in the source where the person agreed (form, ad, inbound_message, import); for opt_out and resume who told us (operator, stop_request, user_preferences, stop_review, meta_error, erasure, import).';

CREATE TABLE antiban.consent_events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    portfolio_id  bigint NOT NULL REFERENCES antiban.portfolios ON DELETE CASCADE,
    person_id     bigint NOT NULL REFERENCES antiban.persons ON DELETE CASCADE,
    identifier    text NOT NULL,
    purpose       text NOT NULL DEFAULT 'marketing' CHECK (purpose = 'marketing'),
    action        text NOT NULL CHECK (action IN ('opt_in', 'opt_out', 'resume')),
    channel       text NOT NULL,
    proof         text,
    stated_at     timestamptz NOT NULL,
    as_of_now     boolean NOT NULL,
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    recorded_by   text NOT NULL DEFAULT session_user,
    CONSTRAINT consent_events_channel CHECK (channel = ANY (antiban.consent_channels(action))),
    CONSTRAINT consent_events_proof CHECK (action <> 'opt_in' OR length(btrim(proof)) > 0)
);
CREATE INDEX consent_events_person ON antiban.consent_events (person_id, id);
COMMENT ON TABLE antiban.consent_events IS
    'Every marketing opt-in, opt-out and resume a person gave, as stated (append-only: rows are neither changed nor deleted, except by antiban.erase_person). identifier: the canonical key it was stated for; stated_at: when the person said it (as_of_now: when we were told); proof: what shows an opt-in (the form, the ad, the message). The state in force is antiban.consent.';

CREATE FUNCTION antiban.consent_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('antiban_erasure.in_progress', true) = 'on' THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    RAISE EXCEPTION 'antiban.consent_events is append-only'
        USING ERRCODE = 'insufficient_privilege',
              DETAIL = 'The history of a person''s consent is evidence: it is never rewritten.',
              HINT = 'Record a new opt-in or opt-out instead; antiban.erase_person removes a person''s data on request.';
END
$$;
COMMENT ON FUNCTION antiban.consent_events_append_only() IS
    'Trigger: refuses to change or delete consent history, except inside antiban.erase_person.';
CREATE TRIGGER consent_events_append_only BEFORE UPDATE OR DELETE ON antiban.consent_events
    FOR EACH ROW EXECUTE FUNCTION antiban.consent_events_append_only();

CREATE TABLE antiban.consent_state (
    person_id     bigint NOT NULL REFERENCES antiban.persons ON DELETE CASCADE,
    purpose       text NOT NULL DEFAULT 'marketing' CHECK (purpose = 'marketing'),
    portfolio_id  bigint NOT NULL REFERENCES antiban.portfolios ON DELETE CASCADE,
    opted_out     boolean NOT NULL DEFAULT false,
    consent_at    timestamptz,
    channel       text,
    event_id      bigint,
    opt_in_at     timestamptz,
    opt_in_event  bigint,
    last_stop_at  timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (person_id, purpose)
);
COMMENT ON TABLE antiban.consent_state IS
    'The consent in force per person and purpose, kept by antiban.note_consent from antiban.consent_events with the rule decide() uses: the later statement wins (a stop on a tie); an opt-in is live while no stop came at or after it. Read it through antiban.consent.';

CREATE VIEW antiban.consent AS
SELECT s.portfolio_id, s.person_id, s.purpose,
       CASE WHEN s.opted_out THEN 'opted_out'
            WHEN s.opt_in_at IS NOT NULL AND s.opt_in_at > coalesce(s.last_stop_at, '-infinity') THEN 'opted_in'
            WHEN s.consent_at IS NOT NULL THEN 'resumed'
            ELSE 'unknown' END AS state,
       s.consent_at AS stated_at, s.channel,
       s.opt_in_at, i.channel AS opt_in_source, i.proof AS opt_in_proof,
       s.last_stop_at, s.updated_at
FROM antiban.consent_state s
LEFT JOIN antiban.consent_events i ON i.id = s.opt_in_event;
COMMENT ON VIEW antiban.consent IS
    'Each person''s marketing consent in force: opted_out (said stop), opted_in (a live opt-in, with its source and proof), resumed (stopped, then resumed, with no opt-in since: marketing goes unless antiban.require_marketing_opt_in), unknown. What decide() applies from the recording transaction''s commit on.';

-- The person an identifier names in a portfolio; one is made when no
-- evidence about them was recorded yet.
CREATE FUNCTION antiban.consent_person(portfolio bigint, key text) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    person bigint := antiban.person_id(portfolio, key);
BEGIN
    IF person IS NULL THEN
        person := antiban.link_identifiers(portfolio, ARRAY[key], 'operator', NULL, 'consent registry');
    END IF;
    RETURN person;
END
$$;
COMMENT ON FUNCTION antiban.consent_person(bigint, text) IS
    'Internal: the person an identifier names in a portfolio, made (as an operator link) when none was known.';

-- The contact's consent columns follow the registry.
CREATE FUNCTION antiban.sync_contact_consent(person bigint, stop boolean, at timestamptz, channel text)
RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    s antiban.consent_state;
BEGIN
    SELECT * INTO s FROM antiban.consent_state c WHERE c.person_id = person AND c.purpose = 'marketing';
    UPDATE antiban.contacts k SET
        opt_out_source = CASE WHEN (k.marketing_opt_out, k.consent_at) IS DISTINCT FROM (s.opted_out, s.consent_at)
                              THEN s.channel ELSE k.opt_out_source END,
        marketing_opt_out = s.opted_out,
        consent_at = s.consent_at,
        opt_out_at = CASE WHEN stop THEN greatest(k.opt_out_at, at) ELSE k.opt_out_at END
    WHERE k.person_id = person;
END
$$;
COMMENT ON FUNCTION antiban.sync_contact_consent(bigint, boolean, timestamptz, text) IS
    'Internal: the person''s contact shows the consent in force in antiban.consent_state (opt_out_at keeps the latest stop, which health counts).';

CREATE FUNCTION antiban.note_consent(portfolio bigint, key text, action text, at timestamptz,
                                     as_of_now boolean, channel text, proof text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, antiban, pg_temp
AS $$
DECLARE
    person bigint;
    event bigint;
    s antiban.consent_state;
    stop boolean := action = 'opt_out';
    wins boolean;
BEGIN
    IF action IS NULL OR action NOT IN ('opt_in', 'opt_out', 'resume') THEN
        RAISE EXCEPTION 'unknown consent action "%"', action
            USING ERRCODE = 'invalid_parameter_value', HINT = 'One of opt_in, opt_out, resume.';
    END IF;
    IF channel IS NULL OR NOT channel = ANY (antiban.consent_channels(action)) THEN
        RAISE EXCEPTION 'unknown % % "%"', replace(action, '_', '-'),
                        CASE WHEN action = 'opt_in' THEN 'source' ELSE 'channel' END, channel
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = format('One of %s.', array_to_string(antiban.consent_channels(action), ', '));
    END IF;
    IF action = 'opt_in' AND coalesce(btrim(proof), '') = '' THEN
        RAISE EXCEPTION 'an opt-in needs its proof'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = 'Consent must be demonstrable (LGPD art. 8, GDPR art. 7): what the person agreed to, where and how.',
                  HINT = 'Pass the form''s URL and version, the ad and its consent text, or the message id the person wrote.';
    END IF;
    IF at IS NULL OR NOT isfinite(at) THEN
        RAISE EXCEPTION 'a consent change needs the time it was stated'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    person := antiban.consent_person(portfolio, key);
    INSERT INTO antiban.consent_events (portfolio_id, person_id, identifier, action, channel, proof,
                                        stated_at, as_of_now)
    VALUES (portfolio, person, key, action, channel, nullif(btrim(proof), ''), at, as_of_now)
    RETURNING id INTO event;
    INSERT INTO antiban.consent_state (person_id, portfolio_id) VALUES (person, portfolio)
    ON CONFLICT DO NOTHING;
    SELECT * INTO s FROM antiban.consent_state c WHERE c.person_id = person AND c.purpose = 'marketing'
    FOR UPDATE;
    wins := antiban.consent_statement_wins(s.consent_at, s.opted_out, at, stop, as_of_now);
    UPDATE antiban.consent_state c SET
        opted_out = CASE WHEN wins THEN stop ELSE c.opted_out END,
        consent_at = CASE WHEN wins THEN at ELSE c.consent_at END,
        channel = CASE WHEN wins THEN note_consent.channel ELSE c.channel END,
        event_id = CASE WHEN wins THEN event ELSE c.event_id END,
        opt_in_event = CASE WHEN action = 'opt_in' AND at >= coalesce(c.opt_in_at, '-infinity')
                            THEN event ELSE c.opt_in_event END,
        opt_in_at = CASE WHEN action = 'opt_in' THEN greatest(c.opt_in_at, at) ELSE c.opt_in_at END,
        last_stop_at = CASE WHEN stop THEN greatest(c.last_stop_at, at) ELSE c.last_stop_at END,
        updated_at = now()
    WHERE c.person_id = person AND c.purpose = 'marketing';
    PERFORM antiban.sync_contact_consent(person, stop, at, channel);
    RETURN event;
END
$$;
COMMENT ON FUNCTION antiban.note_consent(bigint, text, text, timestamptz, boolean, text, text) IS
    'Internal (antiban.record_opt_in, antiban.set_marketing_opt_out, Meta''s 131050): append a consent change to antiban.consent_events, apply it to the person''s antiban.consent_state and contact, in the calling transaction. Returns the history row''s id.';

-- Two persons found to be one: their consent becomes one, by the same rule.
CREATE FUNCTION antiban.merge_consent(kept bigint, merged bigint) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    m antiban.consent_state;
    k antiban.consent_state;
    wins boolean;
BEGIN
    SELECT * INTO m FROM antiban.consent_state WHERE person_id = merged FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT * INTO k FROM antiban.consent_state WHERE person_id = kept FOR UPDATE;
    IF NOT FOUND THEN
        UPDATE antiban.consent_state SET person_id = kept WHERE person_id = merged;
        RETURN;
    END IF;
    wins := m.consent_at IS NOT NULL
            AND antiban.consent_event_wins(k.consent_at, k.opted_out, m.consent_at, m.opted_out);
    UPDATE antiban.consent_state SET
        opted_out = CASE WHEN wins THEN m.opted_out ELSE k.opted_out END,
        consent_at = CASE WHEN wins THEN m.consent_at ELSE k.consent_at END,
        channel = CASE WHEN wins THEN m.channel ELSE k.channel END,
        event_id = CASE WHEN wins THEN m.event_id ELSE k.event_id END,
        opt_in_event = CASE WHEN m.opt_in_at > coalesce(k.opt_in_at, '-infinity') THEN m.opt_in_event
                            ELSE k.opt_in_event END,
        opt_in_at = greatest(k.opt_in_at, m.opt_in_at),
        last_stop_at = greatest(k.last_stop_at, m.last_stop_at),
        updated_at = now()
    WHERE person_id = kept;
    DELETE FROM antiban.consent_state WHERE person_id = merged;
END
$$;
COMMENT ON FUNCTION antiban.merge_consent(bigint, bigint) IS
    'Internal (antiban.merge_persons): fold the consent in force of person "merged" into person "kept" (the later statement wins, a stop on a tie; the later opt-in and stop are kept).';

-- A contact made (or moved to a person) after the person's consent was
-- recorded starts from it.
CREATE FUNCTION antiban.contact_consent_from_registry() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    s antiban.consent_state;
BEGIN
    SELECT * INTO s FROM antiban.consent_state c WHERE c.person_id = NEW.person_id AND c.purpose = 'marketing';
    IF FOUND AND s.consent_at IS NOT NULL
       AND antiban.consent_event_wins(antiban.contact_consent_at(NEW), NEW.marketing_opt_out,
                                      s.consent_at, s.opted_out) THEN
        NEW.marketing_opt_out := s.opted_out;
        NEW.consent_at := s.consent_at;
        NEW.opt_out_source := s.channel;
        NEW.opt_out_at := greatest(NEW.opt_out_at, s.last_stop_at);
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION antiban.contact_consent_from_registry() IS
    'Trigger: a new contact (or one moved to another person) shows the consent the registry holds for its person, when that is newer than its own.';
CREATE TRIGGER contacts_consent_from_registry BEFORE INSERT OR UPDATE OF person_id ON antiban.contacts
    FOR EACH ROW WHEN (NEW.person_id IS NOT NULL)
    EXECUTE FUNCTION antiban.contact_consent_from_registry();

CREATE FUNCTION antiban.record_opt_in(recipient text, phone_number_id text, source text, proof text,
                                      at timestamptz DEFAULT NULL, purpose text DEFAULT 'marketing')
RETURNS bigint
AS 'MODULE_PATHNAME', 'antiban_record_opt_in' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.record_opt_in(text, text, text, text, timestamptz, text) IS
    'The person the recipient names, in the portfolio of this number, agreed to marketing at "at" (default: as of antiban.now()) through source (form, ad, inbound_message, import), shown by proof (required). Recorded in antiban.consent_events and antiban.consent; decide() sees it from the calling transaction''s commit on (nothing on rollback). A stop at or after it ends it; only a new opt-in gives marketing back when antiban.require_marketing_opt_in is on. Returns the history row''s id.';

CREATE FUNCTION antiban.set_marketing_opt_out(recipient text, phone_number_id text, opted_out boolean,
                                              at timestamptz, channel text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'antiban_set_marketing_opt_out' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.set_marketing_opt_out(text, text, boolean, timestamptz, text) IS
    'The person said stop (or resume) at "at" (NULL: as of antiban.now()), through channel (operator, stop_request, user_preferences, stop_review, meta_error, erasure, import). Like the shorter forms (channel operator): one change to antiban.consent_events, antiban.consent, the contact and, at commit, decide().';

-- ---- a person's data on request (LGPD art. 18, GDPR art. 15 and 17) ----

-- The person an identifier names in the portfolio of a number, with every
-- person merged into it, and the keys that name them.  Another portfolio's
-- number is refused to a mapped caller (a tenant's administrator too), as
-- it is to apps: so are its persons.
CREATE FUNCTION antiban.person_of_request(recipient text, phone_number_id text,
                                          OUT portfolio bigint, OUT person bigint,
                                          OUT persons bigint[], OUT keys text[],
                                          OUT contact_ids bigint[], OUT lead_ids bigint[])
LANGUAGE plpgsql STABLE AS $$
DECLARE
    -- one that names nobody is refused, saying why
    key text := antiban.identifier_key(recipient, 'recipient');
BEGIN
    SELECT w.portfolio_id INTO portfolio
    FROM antiban.numbers n JOIN antiban.wabas w ON w.id = n.waba_id
    WHERE n.phone_number_id = person_of_request.phone_number_id AND antiban.may_use_number(person_of_request.phone_number_id);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown phone_number_id "%"', phone_number_id
            USING ERRCODE = 'undefined_object',
                  HINT = 'Name one of the numbers in antiban.numbers: the person is looked up in its portfolio.';
    END IF;
    IF key IS NULL THEN
        RAISE EXCEPTION 'recipient must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    person := antiban.person_id(portfolio, key);
    IF person IS NULL THEN
        RAISE EXCEPTION 'unknown person'
            USING ERRCODE = 'undefined_object',
                  DETAIL = format('No person in portfolio %s is known by %s.', portfolio, key),
                  HINT = 'antiban holds nothing about a person it has no identifier for; check the number and the portfolio.';
    END IF;
    SELECT array_agg(p.id ORDER BY p.id) INTO persons FROM antiban.persons p
    WHERE p.id = person OR p.merged_into = person;
    SELECT array_agg(DISTINCT i.key ORDER BY i.key) INTO keys FROM antiban.person_ids i
    WHERE i.person_id = ANY (persons);
    keys := coalesce(keys, ARRAY[key]);
    SELECT array_agg(k.id) INTO contact_ids FROM antiban.contacts k WHERE k.person_id = ANY (persons);
    SELECT array_agg(l.id) INTO lead_ids FROM antiban.leads l WHERE l.person_id = ANY (persons);
END
$$;
COMMENT ON FUNCTION antiban.person_of_request(text, text) IS
    'Internal (export_person, erase_person): the person an identifier names in the portfolio of a number, the persons merged into them, every key that names them, their contacts and leads; an error for an unknown number or person, and for a number of a portfolio the caller may not use (insufficient_privilege, antiban.caller_number_portfolio).';

-- The decisions of a request's person: antiban.decisions names no
-- portfolio, only the number it chose, so the same phone's decisions in
-- another portfolio must not be exported or erased with these.  A decision
-- is the portfolio's when its number is one of the portfolio's numbers now;
-- one that chose no number (phone_number_id NULL) names no portfolio, and
-- is the person's only when the install has this one portfolio alone.
CREATE FUNCTION antiban.decisions_of_request(portfolio bigint, keys text[]) RETURNS SETOF antiban.decisions
LANGUAGE sql STABLE AS $$
    SELECT d.* FROM antiban.decisions d
    WHERE antiban.recipient_key(d.recipient) = ANY (keys)
      AND (d.phone_number_id IN (SELECT n.phone_number_id FROM antiban.numbers n JOIN antiban.wabas w ON w.id = n.waba_id
                                 WHERE w.portfolio_id = decisions_of_request.portfolio)
           OR (d.phone_number_id IS NULL
               AND NOT EXISTS (SELECT 1 FROM antiban.portfolios p WHERE p.id <> decisions_of_request.portfolio)))
$$;
COMMENT ON FUNCTION antiban.decisions_of_request(bigint, text[]) IS
    'Internal (export_person, erase_person): the decisions about these recipient keys made with one of this portfolio''s numbers, and those that chose no number only when the install has no other portfolio (they name no portfolio). Never another portfolio''s decisions about the same phone.';

CREATE FUNCTION antiban.export_person(recipient text, phone_number_id text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, antiban, pg_temp
AS $$
DECLARE
    r record;
BEGIN
    SELECT * INTO r FROM antiban.person_of_request(recipient, phone_number_id);
    RETURN jsonb_build_object(
        'exported_at', now(),
        'portfolio_id', r.portfolio,
        'person_id', r.person,
        'persons', (SELECT jsonb_agg(to_jsonb(p) ORDER BY p.id) FROM antiban.persons p WHERE p.id = ANY (r.persons)),
        'identifiers', (SELECT jsonb_agg(to_jsonb(i) ORDER BY i.key) FROM antiban.person_ids i
                        WHERE i.person_id = ANY (r.persons)),
        'merges', (SELECT jsonb_agg(to_jsonb(m) ORDER BY m.id) FROM antiban.person_merges m
                   WHERE m.kept = ANY (r.persons) OR m.merged = ANY (r.persons)),
        'consent', (SELECT jsonb_agg(to_jsonb(c)) FROM antiban.consent c WHERE c.person_id = ANY (r.persons)),
        'consent_events', (SELECT jsonb_agg(to_jsonb(e) ORDER BY e.id) FROM antiban.consent_events e
                           WHERE e.person_id = ANY (r.persons)),
        'contacts', (SELECT jsonb_agg(to_jsonb(k) ORDER BY k.id) FROM antiban.contacts k WHERE k.id = ANY (r.contact_ids)),
        'interactions', (SELECT jsonb_agg(to_jsonb(x) ORDER BY x.occurred_at, x.id) FROM antiban.interactions x
                         WHERE x.contact_id = ANY (r.contact_ids)),
        'stop_reviews', (SELECT jsonb_agg(to_jsonb(s) ORDER BY s.id) FROM antiban.stop_reviews s
                         WHERE s.contact_id = ANY (r.contact_ids)),
        'recipient_facts', (SELECT jsonb_agg(to_jsonb(f) ORDER BY f.recipient) FROM antiban.recipient_facts f
                            WHERE f.portfolio_id = r.portfolio AND antiban.recipient_key(f.recipient) = ANY (r.keys)),
        'recipient_reach', (SELECT jsonb_agg(to_jsonb(f) ORDER BY f.recipient) FROM antiban.recipient_reach f
                            WHERE f.portfolio_id = r.portfolio AND antiban.recipient_key(f.recipient) = ANY (r.keys)),
        'messages', (SELECT jsonb_agg(to_jsonb(o) ORDER BY o.id) FROM antiban.outbox o
                     WHERE o.person_id = ANY (r.persons)
                        OR (o.portfolio_id = r.portfolio AND antiban.recipient_key(o.recipient) = ANY (r.keys))),
        'decisions', (SELECT jsonb_agg(to_jsonb(d) ORDER BY d.decided_at, d.id)
                      FROM antiban.decisions_of_request(r.portfolio, r.keys) d),
        'leads', (SELECT jsonb_agg(to_jsonb(l) ORDER BY l.id) FROM antiban.leads l WHERE l.id = ANY (r.lead_ids)),
        'lead_events', (SELECT jsonb_agg(to_jsonb(e) ORDER BY e.id) FROM antiban.lead_events e
                        WHERE e.lead_id = ANY (r.lead_ids)));
END
$$;
COMMENT ON FUNCTION antiban.export_person(text, text) IS
    'Everything antiban holds on the person the recipient names in the portfolio of this number (LGPD art. 18, GDPR art. 15), as one jsonb: the person and merged persons, identifiers, consent and its history, contact, messages received and sent, stop reviews, per-identifier facts, decisions and leads. Decisions are the portfolio''s: those made with its numbers, and those that chose no number only in an install with a single portfolio (antiban.decisions names no portfolio), never another portfolio''s about the same phone. Raw webhook bodies are not searched: they are deleted after retention.webhook_events (antiban.settings). Admin only; an error names an unknown number or person. An administrator mapped to portfolios exports only its portfolios'' persons: another portfolio''s number is refused (insufficient_privilege).';

CREATE FUNCTION antiban.erase_person(recipient text, phone_number_id text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, antiban, pg_temp
AS $$
DECLARE
    r record;
    done jsonb := '{}';
    n bigint;
BEGIN
    SELECT * INTO r FROM antiban.person_of_request(recipient, phone_number_id);
    -- what the law lets us keep: the opt-out, so they never get marketing again
    PERFORM antiban.set_marketing_opt_out(recipient, phone_number_id, true, NULL, 'erasure');
    PERFORM set_config('antiban_erasure.in_progress', 'on', true);

    DELETE FROM antiban.consent_events WHERE person_id = ANY (r.persons) AND action <> 'opt_out';
    GET DIAGNOSTICS n = ROW_COUNT; done := done || jsonb_build_object('consent_events_deleted', n);
    UPDATE antiban.consent_events SET proof = NULL WHERE person_id = ANY (r.persons) AND proof IS NOT NULL;
    UPDATE antiban.consent_state SET opt_in_at = NULL, opt_in_event = NULL,
                                     event_id = NULL, updated_at = now()
    WHERE person_id = ANY (r.persons);
    UPDATE antiban.recipient_facts f SET opt_in_at = NULL, window_until = NULL, window_number_id = NULL,
                                         window_opened_at = NULL, time_zone = NULL, updated_at = now()
    WHERE f.portfolio_id = r.portfolio AND antiban.recipient_key(f.recipient) = ANY (r.keys);
    DELETE FROM antiban.recipient_reach f
    WHERE f.portfolio_id = r.portfolio AND antiban.recipient_key(f.recipient) = ANY (r.keys);

    DELETE FROM antiban.stop_reviews WHERE contact_id = ANY (r.contact_ids);
    DELETE FROM antiban.interactions WHERE contact_id = ANY (r.contact_ids);
    GET DIAGNOSTICS n = ROW_COUNT; done := done || jsonb_build_object('interactions_deleted', n);
    DELETE FROM antiban.contacts WHERE id = ANY (r.contact_ids);
    GET DIAGNOSTICS n = ROW_COUNT; done := done || jsonb_build_object('contacts_deleted', n);
    DELETE FROM antiban.lead_features WHERE conversation_id = ANY (r.lead_ids);
    DELETE FROM antiban.leads WHERE id = ANY (r.lead_ids);
    GET DIAGNOSTICS n = ROW_COUNT; done := done || jsonb_build_object('leads_deleted', n);

    -- messages: what was sent stays counted (costs, limits), not to whom or what
    PERFORM antiban.cancel(o.id) FROM antiban.outbox o
    WHERE (o.person_id = ANY (r.persons) OR (o.portfolio_id = r.portfolio AND antiban.recipient_key(o.recipient) = ANY (r.keys)))
      AND o.state IN ('queued', 'retry_wait');
    UPDATE antiban.outbox o SET recipient = 'erased', wa_id = NULL, person_id = NULL,
           payload = jsonb_build_object('erased', true), metadata = '{}', error_details = NULL,
           idempotency_key = NULL
    WHERE (o.person_id = ANY (r.persons) OR (o.portfolio_id = r.portfolio AND antiban.recipient_key(o.recipient) = ANY (r.keys)))
      AND o.state <> 'sending';
    GET DIAGNOSTICS n = ROW_COUNT; done := done || jsonb_build_object('messages_anonymised', n);
    DELETE FROM antiban.decisions d WHERE d.id IN (SELECT x.id FROM antiban.decisions_of_request(r.portfolio, r.keys) x);
    GET DIAGNOSTICS n = ROW_COUNT; done := done || jsonb_build_object('decisions_deleted', n);

    UPDATE antiban.person_ids SET evidence = NULL WHERE person_id = ANY (r.persons);
    UPDATE antiban.person_merges SET evidence = NULL WHERE kept = ANY (r.persons) OR merged = ANY (r.persons);
    PERFORM set_config('antiban_erasure.in_progress', 'off', true);
    RETURN done || jsonb_build_object('person_id', r.person, 'kept',
        'the opt-out (antiban.consent, consent_events opt-outs, recipient_facts) and the identifiers it applies to');
END
$$;
COMMENT ON FUNCTION antiban.erase_person(text, text) IS
    'Erase what antiban holds on the person the recipient names in the portfolio of this number (LGPD art. 18, GDPR art. 17): contact, messages'' content and recipient, interactions, reviews, opt-ins and their proofs, decisions (those made with the portfolio''s numbers, and those that chose no number only in an install with a single portfolio: another portfolio''s decisions about the same phone stay), leads. Keeps only their opt-out (recorded now, channel erasure) and the identifiers it applies to, so marketing never reaches them again. A message being sent keeps its recipient until it is done. Admin only; returns what was done. An administrator mapped to portfolios erases only its portfolios'' persons: another portfolio''s number is refused (insufficient_privilege).';
