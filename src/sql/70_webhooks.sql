-- Webhooks: every event Meta posts, kept raw, applied once.

CREATE TYPE antiban.webhook_status AS ENUM ('pending', 'applied', 'partial', 'rejected', 'malformed');
COMMENT ON TYPE antiban.webhook_status IS
    'pending: stored (signature checked, raw bytes kept) and not applied yet (antiban.webhook_apply = worker: the webhook apply worker takes it within moments); applied: every change used; partial: something was not believed, repaired, clamped or not used (see problems); rejected: bad or missing signature (size, hash and first KB kept, not applied); malformed: signed but not JSON even after repairing its strings.';

-- Every POST is two rows: what arrived (antiban.webhook_posts: the bytes,
-- their digest and the signature's verdict), written once and never
-- changed, and what became of it (antiban.webhook_outcomes: status, updates,
-- problems, applied_at), a narrow row the apply updates.  Marking an event
-- applied used to write a new version of the whole row, bodies included
-- (about 1.2 kB of WAL per POST, a quarter of the path's WAL, and a longer
-- commit for the POSTs waiting on it); now it writes a hundred bytes.
-- antiban.webhook_events is the two side by side, as they always were read.
--
-- The posts are partitioned by the time they arrived, so retention drops
-- old partitions whole instead of deleting rows (issue 13 §4).  At install
-- every row goes to the default partition; antiban.manage_partitions()
-- hands the table to pg_partman where it is installed (monthly partitions,
-- premade, dropped past retention.webhook_events), and the
-- antiban-partitions job keeps it so.  The key carries the partition
-- column, as PostgreSQL requires; the id is still unique (one identity).
CREATE TABLE antiban.webhook_posts (
    id               bigint GENERATED ALWAYS AS IDENTITY,
    received_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    body_raw         bytea NOT NULL,
    body_size        bigint NOT NULL,
    body_sha256      bytea NOT NULL,
    body             jsonb,
    signature_valid  boolean NOT NULL,
    PRIMARY KEY (id, received_at)
) PARTITION BY RANGE (received_at);
CREATE TABLE antiban.webhook_posts_unsorted PARTITION OF antiban.webhook_posts DEFAULT;
COMMENT ON TABLE antiban.webhook_posts_unsorted IS
    'The partition of antiban.webhook_posts every POST lands in until antiban.manage_partitions() hands the table to pg_partman (which then moves them into monthly partitions).';
CREATE INDEX webhook_posts_received ON antiban.webhook_posts USING brin (received_at);
COMMENT ON TABLE antiban.webhook_posts IS
    'Every webhook POST as it arrived (kept bytes, size, digest, parsed body, signature verdict), written once; what became of it is in antiban.webhook_outcomes, and antiban.webhook_events shows both.';

-- One row per post, by its id; not partitioned (a narrow row: retention
-- deletes old ones in batches, retention.max_rows_per_run at a time).  Its
-- status is in the pending index's predicate, so the apply's update is
-- never HOT; a fillfactor below 100 still lets the new version most often
-- go on the same page, a smaller WAL record.
CREATE TABLE antiban.webhook_outcomes (
    id               bigint PRIMARY KEY,
    received_at      timestamptz NOT NULL,
    status           antiban.webhook_status NOT NULL,
    updates          integer NOT NULL DEFAULT 0,
    problems         text[] NOT NULL DEFAULT '{}',
    applied_at       timestamptz
) WITH (fillfactor = 70);
CREATE INDEX webhook_outcomes_received ON antiban.webhook_outcomes USING brin (received_at);
COMMENT ON TABLE antiban.webhook_outcomes IS
    'What became of each webhook POST of antiban.webhook_posts (same id and received_at): pending, applied, partial, rejected or malformed, the rows it moved, its problems and when it was applied. antiban.webhook_events shows both.';

-- Each outcome with its post, found by key (LIMIT 1: never flattened into a
-- join the planner may cost from stale statistics: a nested loop over two
-- just-filled tables read one whole for every row of the other).
CREATE VIEW antiban.webhook_events WITH (security_invoker = true) AS
SELECT o.id, o.received_at, p.body_raw, p.body_size, p.body_sha256, p.body, p.signature_valid,
       o.status, o.updates, o.problems, o.applied_at
FROM antiban.webhook_outcomes o
     CROSS JOIN LATERAL (SELECT w.body_raw, w.body_size, w.body_sha256, w.body, w.signature_valid
                         FROM antiban.webhook_posts w
                         WHERE w.id = o.id AND w.received_at = o.received_at LIMIT 1) p;
-- (an INSERT that names none of these gets what a table would have given)
ALTER VIEW antiban.webhook_events ALTER COLUMN received_at SET DEFAULT clock_timestamp();
ALTER VIEW antiban.webhook_events ALTER COLUMN updates SET DEFAULT 0;
ALTER VIEW antiban.webhook_events ALTER COLUMN problems SET DEFAULT '{}';

-- Writes through the view go to both tables, as they would to one table
-- (antiban's own code writes the tables; this is for an operator's or a
-- test's hand).  An UPDATE writes only the columns it changes, on the rows
-- as they are when it locks them (a view's rows are not locked for an
-- INSTEAD OF trigger: copying every column of the statement's snapshot
-- could undo an apply that committed meanwhile).
CREATE FUNCTION antiban.webhook_events_write() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.id IS NOT NULL THEN
            RAISE EXCEPTION 'cannot insert a non-DEFAULT value into column "id"'
                USING ERRCODE = 'generated_always',
                      DETAIL = 'An event''s id is the identity of antiban.webhook_posts.',
                      HINT = 'Leave id out.';
        END IF;
        INSERT INTO antiban.webhook_posts (received_at, body_raw, body_size, body_sha256, body, signature_valid)
        VALUES (NEW.received_at, NEW.body_raw, NEW.body_size, NEW.body_sha256, NEW.body, NEW.signature_valid)
        RETURNING id INTO NEW.id;
        INSERT INTO antiban.webhook_outcomes (id, received_at, status, updates, problems, applied_at)
        VALUES (NEW.id, NEW.received_at, NEW.status, NEW.updates, NEW.problems, NEW.applied_at);
        RETURN NEW;
    ELSIF TG_OP = 'UPDATE' THEN
        IF NEW.id IS DISTINCT FROM OLD.id THEN
            RAISE EXCEPTION 'column "id" can only be updated to DEFAULT'
                USING ERRCODE = 'generated_always',
                      DETAIL = 'An event''s id is the identity of antiban.webhook_posts.';
        END IF;
        IF (NEW.received_at, NEW.body_raw, NEW.body_size, NEW.body_sha256, NEW.body, NEW.signature_valid)
           IS DISTINCT FROM (OLD.received_at, OLD.body_raw, OLD.body_size, OLD.body_sha256, OLD.body, OLD.signature_valid) THEN
            UPDATE antiban.webhook_posts w SET
                received_at = CASE WHEN NEW.received_at IS DISTINCT FROM OLD.received_at THEN NEW.received_at ELSE w.received_at END,
                body_raw = CASE WHEN NEW.body_raw IS DISTINCT FROM OLD.body_raw THEN NEW.body_raw ELSE w.body_raw END,
                body_size = CASE WHEN NEW.body_size IS DISTINCT FROM OLD.body_size THEN NEW.body_size ELSE w.body_size END,
                body_sha256 = CASE WHEN NEW.body_sha256 IS DISTINCT FROM OLD.body_sha256 THEN NEW.body_sha256 ELSE w.body_sha256 END,
                body = CASE WHEN NEW.body IS DISTINCT FROM OLD.body THEN NEW.body ELSE w.body END,
                signature_valid = CASE WHEN NEW.signature_valid IS DISTINCT FROM OLD.signature_valid
                                       THEN NEW.signature_valid ELSE w.signature_valid END
            WHERE w.id = OLD.id AND w.received_at = OLD.received_at;
        END IF;
        UPDATE antiban.webhook_outcomes o SET
            received_at = CASE WHEN NEW.received_at IS DISTINCT FROM OLD.received_at THEN NEW.received_at ELSE o.received_at END,
            status = CASE WHEN NEW.status IS DISTINCT FROM OLD.status THEN NEW.status ELSE o.status END,
            updates = CASE WHEN NEW.updates IS DISTINCT FROM OLD.updates THEN NEW.updates ELSE o.updates END,
            problems = CASE WHEN NEW.problems IS DISTINCT FROM OLD.problems THEN NEW.problems ELSE o.problems END,
            applied_at = CASE WHEN NEW.applied_at IS DISTINCT FROM OLD.applied_at THEN NEW.applied_at ELSE o.applied_at END
        WHERE o.id = OLD.id AND o.received_at = OLD.received_at;
        IF NOT FOUND THEN
            RETURN NULL;        -- deleted meanwhile: not counted as updated
        END IF;
        RETURN NEW;
    END IF;
    DELETE FROM antiban.webhook_posts WHERE id = OLD.id AND received_at = OLD.received_at;
    DELETE FROM antiban.webhook_outcomes WHERE id = OLD.id AND received_at = OLD.received_at;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    RETURN OLD;
END
$$;
CREATE TRIGGER webhook_events_write INSTEAD OF INSERT OR UPDATE OR DELETE ON antiban.webhook_events
    FOR EACH ROW EXECUTE FUNCTION antiban.webhook_events_write();
COMMENT ON FUNCTION antiban.webhook_events_write() IS
    'Trigger: an INSERT, UPDATE or DELETE on the view antiban.webhook_events writes antiban.webhook_posts and antiban.webhook_outcomes alike, as one table would take it: the id is the posts'' identity (giving or changing one is refused, generated_always); an UPDATE writes only the columns it changes, on the rows as they are when locked.';

-- The same bytes are stored once per verdict: a copy refused for its
-- signature (say while the app secret was being rotated) never hides Meta's
-- signed retry of the same body, which is stored and applied.  A unique
-- index of a partitioned table must hold its partition column, so the
-- digests live in a table of their own, which ingest writes first.
CREATE TABLE antiban.webhook_digests (
    body_sha256      bytea NOT NULL,
    signature_valid  boolean NOT NULL,
    received_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (body_sha256, signature_valid)
);
COMMENT ON TABLE antiban.webhook_digests IS
    'The SHA-256 and verdict of every body in antiban.webhook_posts: what keeps the same bytes stored once per verdict across partitions. Deleted with the posts (retention.webhook_events).';

-- Unsigned POSTs per hour: what a flood cost, although past
-- antiban.webhook_rejected_per_hour their bodies are no longer kept.
CREATE TABLE antiban.webhook_rejections (
    hour    timestamptz PRIMARY KEY,
    posts   bigint NOT NULL,
    bytes   bigint NOT NULL,
    kept    bigint NOT NULL
);
COMMENT ON TABLE antiban.webhook_rejections IS
    'POSTs refused for their signature, per hour: how many, how many bytes, and how many were kept in antiban.webhook_events (at most antiban.webhook_rejected_per_hour; the rest are only counted here).';
COMMENT ON VIEW antiban.webhook_events IS
    'Every webhook POST with its signature verdict, what was applied and what was not (antiban.webhook_posts beside antiban.webhook_outcomes). Meta''s retries of the same body are stored once and applied once.';
COMMENT ON COLUMN antiban.webhook_events.body_raw IS
    'A signed body byte for byte; of an unsigned (or wrongly signed) one only the first 1,024 bytes.';
COMMENT ON COLUMN antiban.webhook_events.body_size IS 'Bytes in the body as posted, kept or not.';
COMMENT ON COLUMN antiban.webhook_events.body_sha256 IS 'SHA-256 of the whole body as posted: the same bytes are stored once when signed and once when refused.';
COMMENT ON COLUMN antiban.webhook_events.body IS
    'The signed body parsed; a string jsonb can not hold (\u0000, a lone surrogate, bytes that are not UTF-8) replaced by U+FFFD, each repair named in problems.';
COMMENT ON COLUMN antiban.webhook_events.applied_at IS
    'When its changes were applied (NULL while pending, and for rejected or malformed events): applied_at - received_at is its apply lag.';
COMMENT ON COLUMN antiban.webhook_events.updates IS
    'Rows its changes moved: messages whose state, pricing or wamid a status changed, inbound messages recorded, account, quality and template changes applied.';
COMMENT ON COLUMN antiban.webhook_events.problems IS
    'What was not applied as posted, each naming its change ("entry 0 change 1: ..."): statuses that are not ours, repaired strings, clamped times, unused fields, errors.';

-- Changes of the non-status fields already applied.  Meta posts at least
-- once and may batch a retried change into a new envelope (new bytes, new
-- body_sha256); the change itself is the same JSON, so its key is: the WABA,
-- the field and the canonical text of the value (jsonb's).  Statuses and
-- inbound messages are keyed per message instead (outbox state, wamid).
CREATE TABLE antiban.webhook_changes (
    change_key       bytea PRIMARY KEY,
    field            text NOT NULL,
    event_id         bigint NOT NULL,
    applied_at       timestamptz NOT NULL
);
COMMENT ON TABLE antiban.webhook_changes IS
    'One row per applied webhook change (sha256 of WABA, field and value): the same change posted again within Meta''s retry horizon is not applied again. Rows older than antiban.webhook_retry_horizon() may be deleted.';

-- People who wrote to us: the profile of a person (antiban.persons), one
-- contact per person, whichever identifier they wrote from.
CREATE TABLE antiban.contacts (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    portfolio_id        bigint,
    person_id           bigint UNIQUE REFERENCES antiban.persons ON DELETE SET NULL,
    wa_id               text,
    user_id             text,
    parent_user_id      text,
    profile_name        text,
    first_seen_at       timestamptz NOT NULL DEFAULT now(),
    last_inbound_at     timestamptz,
    last_phone_number_id text,
    marketing_opt_out   boolean NOT NULL DEFAULT false,
    opt_out_at          timestamptz,
    opt_out_source      text,
    consent_at          timestamptz,
    referral            jsonb,
    free_entry_until    timestamptz,
    CONSTRAINT contacts_identified CHECK (wa_id IS NOT NULL OR user_id IS NOT NULL)
);
CREATE INDEX contacts_wa_id ON antiban.contacts (wa_id);
CREATE INDEX contacts_user_id ON antiban.contacts (user_id);
COMMENT ON TABLE antiban.contacts IS
    'The profile of each person who wrote to one of our numbers or told Meta their marketing preference (one per person and portfolio): latest phone (wa_id) and business-scoped user id, name, marketing consent, click-to-WhatsApp referral and its 72 h free entry window.';
COMMENT ON COLUMN antiban.contacts.wa_id IS 'The phone the person last wrote from, as Meta writes it (digits, in Brazil maybe without the ninth digit).';
COMMENT ON COLUMN antiban.contacts.last_inbound_at IS 'Their latest message (a preference change or a system event is not one).';
COMMENT ON COLUMN antiban.contacts.opt_out_at IS 'When they last said stop: what the health score and early warnings count as a block (a resume is not one).';
COMMENT ON COLUMN antiban.contacts.consent_at IS 'When they said the stop or resume in force: an older one arriving later changes nothing.';
COMMENT ON COLUMN antiban.contacts.free_entry_until IS 'End of the 72 h free-entry-point window opened by an ad referral (pricing).';

CREATE TABLE antiban.interactions (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contact_id       bigint NOT NULL REFERENCES antiban.contacts ON DELETE CASCADE,
    direction        text NOT NULL CHECK (direction IN ('in', 'out')),
    wamid            text NOT NULL UNIQUE,
    phone_number_id  text,
    message_type     text NOT NULL,
    body             text,
    payload          jsonb NOT NULL,
    context_wamid    text,
    occurred_at      timestamptz NOT NULL,
    received_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX interactions_contact ON antiban.interactions (contact_id, occurred_at);
COMMENT ON TABLE antiban.interactions IS
    'Inbound messages: text, button and interactive replies, reactions, media metadata, locations; once each (by wamid).';

CREATE TABLE antiban.templates (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    waba_id            bigint REFERENCES antiban.wabas ON DELETE CASCADE,
    template_id        text,
    name               text NOT NULL,
    language           text NOT NULL,
    status             text,
    category           text,
    previous_category  text,
    quality            text,
    components         jsonb,
    reason             text,
    rejection_reason   text,
    rejection_recommendation text,
    disable_at         timestamptz,
    pending_category   text,
    pending_category_at timestamptz,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (waba_id, name, language)
);
COMMENT ON TABLE antiban.templates IS 'Message templates as Meta last reported them: status, category, quality, components (header, body, buttons).';
COMMENT ON COLUMN antiban.templates.language IS 'Meta''s language code as antiban.template_language writes it (en_US, also when Meta posted en-US).';
COMMENT ON COLUMN antiban.templates.reason IS 'The reason code of the last status event (INVALID_FORMAT, PROMOTIONAL, NONE for a pause...).';
COMMENT ON COLUMN antiban.templates.rejection_reason IS 'Why Meta rejected it, in Meta''s words (rejection_info.reason); cleared when it is approved again.';
COMMENT ON COLUMN antiban.templates.rejection_recommendation IS 'What Meta recommends changing (rejection_info.recommendation); cleared when it is approved again.';
COMMENT ON COLUMN antiban.templates.disable_at IS 'When Meta disables (or disabled) it (disable_info.disable_date); cleared when it is approved or reinstated.';
COMMENT ON COLUMN antiban.templates.pending_category IS 'An impending category change Meta announced (correct_category): the template is billed at it from pending_category_at.';
COMMENT ON COLUMN antiban.templates.pending_category_at IS 'When the impending category change takes effect (category_update_timestamp).';
CREATE FUNCTION antiban.templates_changed() RETURNS trigger
AS 'MODULE_PATHNAME', 'antiban_templates_changed_trigger' LANGUAGE C;
COMMENT ON FUNCTION antiban.templates_changed() IS
    'Statement trigger on antiban.templates: once the transaction commits, every backend forgets the templates its sends looked up (they are kept per session between changes).';
CREATE TRIGGER templates_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON antiban.templates
    FOR EACH STATEMENT EXECUTE FUNCTION antiban.templates_changed();

CREATE TABLE antiban.quality_history (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    observed_at      timestamptz NOT NULL DEFAULT now(),
    phone_number_id  text,
    waba_id          text,
    source           text NOT NULL CHECK (source IN ('webhook', 'poll')),
    event            text NOT NULL,
    quality_rating   text,
    messaging_limit  text,
    detail           jsonb
);
CREATE INDEX quality_history_number ON antiban.quality_history (phone_number_id, observed_at);
COMMENT ON TABLE antiban.quality_history IS 'One row per observation of a number''s quality or limit, from webhooks or polls.';

-- Per-message pricing (PMP), from status webhooks.
ALTER TABLE antiban.outbox
    ADD COLUMN billable boolean,
    ADD COLUMN pricing_model text,
    ADD COLUMN pricing_type text,
    ADD COLUMN pricing_category text;

CREATE FUNCTION antiban.ingest_webhook(body bytea, signature text,
    OUT stored boolean, OUT signature_valid boolean, OUT duplicate boolean, OUT event_id bigint)
AS 'MODULE_PATHNAME', 'antiban_ingest_webhook' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.ingest_webhook(bytea, text) IS
    'Verify the HMAC-SHA256 of the raw body with the app secret, store the event once (Meta retries) and apply it in the calling transaction if this call stored it. stored: the event is in antiban.webhook_events (false only for a refused body past antiban.webhook_rejected_per_hour, then only counted in antiban.webhook_rejections); duplicate: these bytes were stored already with the same verdict (a signed retry of a body once refused is stored and applied). Only a valid signature is applied; of an unsigned body only its size, hash and first KB are kept. Meta docs: Webhooks, "Validating payloads". The receiver uses antiban.ingest_webhooks, many POSTs per call.';

-- Many POSTs in one call, so many share one durable commit: the receiver
-- sends every body that arrived while its previous call ran.
CREATE FUNCTION antiban.ingest_webhooks(bodies bytea[], signatures text[])
RETURNS TABLE (ord integer, stored boolean, signature_valid boolean, duplicate boolean, event_id bigint)
AS 'MODULE_PATHNAME', 'antiban_ingest_webhooks' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.ingest_webhooks(bytea[], text[]) IS
    'antiban.ingest_webhook for many POSTs at once (bodies[i] with its X-Hub-Signature-256 header signatures[i], NULL when none), one row per body in order (ord from 1): each signature checked, each body stored once per verdict, the refused ones counted against antiban.webhook_rejected_per_hour in order. The new signed events are applied together (one statement for all their statuses), in this transaction when antiban.webhook_apply is inline (the default), else by the webhook apply worker right after commit (status pending until then; antiban.dashboard_webhooks shows the lag). Once this transaction commits, every body with stored = true is durable.';

CREATE FUNCTION antiban.same_recipient(a text, b text) RETURNS boolean
AS 'MODULE_PATHNAME', 'antiban_same_recipient' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION antiban.same_recipient(text, text) IS
    'Do two identifiers name the same WhatsApp user? Phones as digits with an optional "+" (Meta''s wa_id or our E.164), a Brazilian mobile equal with or without its ninth digit; business-scoped user ids compared exactly; NULL or empty is nobody.';

CREATE FUNCTION antiban.webhook_time(seconds text, received timestamptz, OUT at timestamptz, OUT problem text)
AS 'MODULE_PATHNAME', 'antiban_webhook_time' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION antiban.webhook_time(text, timestamptz) IS
    'A webhook timestamp (unix seconds) as a time no earlier than received minus Meta''s 7-day retry horizon and no later than received plus 5 minutes; problem says why it was clamped or not read (NULL when Meta''s time is used as given; a missing one is the receipt time).';

CREATE FUNCTION antiban.webhook_retry_horizon() RETURNS interval
AS 'MODULE_PATHNAME', 'antiban_webhook_retry_horizon' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION antiban.webhook_retry_horizon() IS
    'How long Meta may post the same webhook again (7 days): the oldest event time believed and how long applied changes are remembered.';

CREATE FUNCTION antiban.webhook_verify(token text) RETURNS boolean
AS 'MODULE_PATHNAME', 'antiban_webhook_verify' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.webhook_verify(text) IS
    'Meta''s GET handshake: does hub.verify_token match the stored webhook verify token (constant-time)?';

-- What each Meta error code does: one table in src/core/error_class.c, read
-- here, by the sender and by the webhooks alike.
CREATE TYPE antiban.meta_code AS (
    code              integer,
    last_code         integer,
    action            text,
    class             text,
    pause             text,
    slow_number       boolean,
    recipient_backoff boolean,
    defer_marketing   interval,
    opt_out           boolean,
    health_counter    text,
    restarts_recovery boolean,
    alert_kind        text,
    alert_severity    antiban.alert_severity,
    max_attempts      integer,
    min_delay         interval,
    meaning           text
);
COMMENT ON TYPE antiban.meta_code IS
    'What a Cloud API error code does. code..last_code: the codes of the row (last_code NULL: one code). action: the main consequence in a word. class: transient (the message may go again) or permanent (it fails). pause: soft (back by itself after antiban.pause_cooldown if healthy) or hard (until a person resumes it), NULL for none. slow_number: one AIMD decrease by antiban.aimd_decrease per congestion event. recipient_backoff: the pair waits 4^X s. defer_marketing: how long marketing to that person waits. opt_out: the person stopped marketing. health_counter: the count of the health score it feeds (spam, policy, throughput, pair, marketing_cap, undeliverable, blocks; NULL none); restarts_recovery: a new one restarts the fading of penalties. alert_kind, alert_severity: the alert raised when it acts. max_attempts (NULL: antiban.max_attempts) and min_delay: how the message is retried.';

CREATE FUNCTION antiban.error_action(code integer, http_status integer DEFAULT 400)
RETURNS antiban.meta_code
AS 'MODULE_PATHNAME', 'antiban_error_action' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION antiban.error_action(integer, integer) IS
    'What antiban does for a Cloud API error code (antiban.meta_code); a code it does not know is transient on HTTP 5xx, 429 or no answer (0), permanent otherwise.';

CREATE FUNCTION antiban.meta_codes() RETURNS SETOF antiban.meta_code
AS 'MODULE_PATHNAME', 'antiban_meta_codes' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 80;
COMMENT ON FUNCTION antiban.meta_codes() IS
    'Every Cloud API error code antiban knows and what it does (see antiban.meta_code), in code order.';

CREATE FUNCTION antiban.is_opt_out(message text) RETURNS boolean
AS 'MODULE_PATHNAME', 'antiban_is_opt_out' LANGUAGE C IMMUTABLE STRICT;
COMMENT ON FUNCTION antiban.is_opt_out(text) IS
    'Is this message a stop request ("PARAR", "não quero mais", "darme de baja", "STOP"...)?';

CREATE FUNCTION antiban.set_marketing_opt_out(recipient text, phone_number_id text, opted_out boolean DEFAULT true)
RETURNS boolean
AS 'MODULE_PATHNAME', 'antiban_set_marketing_opt_out' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.set_marketing_opt_out(text, text, boolean) IS
    'Stop (or resume) marketing to a recipient in the portfolio of this number. Takes effect when the calling transaction commits (nothing on rollback); decide() then rejects marketing to them (opted_out). The same transaction already sees it.';

-- What a number suffers for an account signal: shared by the sender and the webhooks.
CREATE FUNCTION antiban.pause_number(number bigint, kind text, detail text, hard boolean DEFAULT true,
                                     severity antiban.alert_severity DEFAULT 'critical')
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    paused text;
BEGIN
    IF current_setting('antiban.protection', true) = 'off' THEN
        RETURN false;           -- a naive sender, for comparison: nothing is spared
    END IF;
    -- a hard signal overrides an operator's forced mode and hardens a soft pause
    UPDATE antiban.numbers SET mode = 'paused', hard_block = hard_block OR hard, change_reason = detail,
           mode_forced = mode_forced AND NOT hard
    WHERE id = number AND (NOT mode_forced OR hard) AND (mode <> 'paused' OR (hard AND NOT hard_block))
    RETURNING phone_number_id INTO paused;
    IF paused IS NULL THEN
        RETURN false;           -- already paused: one alert, not one per message
    END IF;
    INSERT INTO antiban.alerts (severity, phone_number_id, kind, detail)
    VALUES (severity, paused, kind, detail);
    RETURN true;
END
$$;
COMMENT ON FUNCTION antiban.pause_number(bigint, text, text, boolean, antiban.alert_severity) IS
    'Take a number out of rotation after a ban or spam signal, with one alert (critical unless said). hard: only a person may resume it (antiban.release_mode); otherwise it recovers by itself after antiban.pause_cooldown.';

-- What a Meta error does, done: the sender's record step runs the same C.
CREATE FUNCTION antiban.act_on_error(number_id bigint, message_id bigint, code integer,
    http_status integer DEFAULT 400, source text DEFAULT 'webhook', request_at timestamptz DEFAULT NULL,
    recipient text DEFAULT NULL)
RETURNS text[]
AS 'MODULE_PATHNAME', 'antiban_act_on_error' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.act_on_error(bigint, bigint, integer, integer, text, timestamptz, text) IS
    'Do what antiban.error_action(code, http_status) says for an error Meta reported on a message of this number: record it in antiban.send_errors (source send or webhook), pause the number (soft or hard) with its alert, slow it by one antiban.aimd_decrease unless the request (request_at, default now) was sent before its last decrease, drain the pair bucket, defer (131049) or stop (131050) marketing to the recipient in the number''s portfolio at commit. Returns what was done (recorded, paused, slowed, pair_drained, marketing_deferred, opted_out).';
