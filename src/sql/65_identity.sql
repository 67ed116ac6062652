-- People: one person per business portfolio, whatever identifier names them.
--
-- Meta reaches us with the E.164 number we sent to, the wa_id it answers
-- with (in Brazil often without the mobile ninth digit), a business-scoped
-- user id (BSUID, user_id, sometimes a parent_user_id too), a new number
-- after a user_changed_number event.  What a rule can tell (the "+", Brazil's
-- ninth digit, Mexico's old mobile "1") is the canonical key of an identifier
-- (antiban.recipient_key, src/core/recipient_match.c); what only evidence
-- can tell is a link, kept here.  Every person rule (opt-out, consent,
-- service window, sticky sender, pair rate, the 24 h reach) reads the person,
-- through shared memory (src/pg/identity.c) that mirrors these tables.

CREATE TYPE antiban.identifier_kind AS ENUM ('phone', 'bsuid', 'parent_bsuid');
COMMENT ON TYPE antiban.identifier_kind IS
    'phone: E.164 (canonical key "+<digits>"); bsuid: a business-scoped user id (user_id); parent_bsuid: one shared by linked portfolios (parent_user_id).';

CREATE TABLE antiban.persons (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    portfolio_id  bigint NOT NULL REFERENCES antiban.portfolios ON DELETE CASCADE,
    anchor        text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    merged_into   bigint REFERENCES antiban.persons ON DELETE CASCADE,
    merged_at     timestamptz
);
CREATE INDEX persons_merged_into ON antiban.persons (merged_into) WHERE merged_into IS NOT NULL;
COMMENT ON TABLE antiban.persons IS
    'A person, per business portfolio (BSUIDs and consent are per portfolio). Two persons found to be one are merged: the smaller id survives, the other keeps merged_into.';
COMMENT ON COLUMN antiban.persons.anchor IS
    'Canonical key of the identifier the person was first known by: what shared memory keys the person''s opt-out, window, sticky number, reach and pair buckets by.';
COMMENT ON COLUMN antiban.persons.merged_into IS 'The person this one was merged into (always the surviving one).';

-- (portfolio_id is the person's: no second foreign key to check on every insert)
CREATE TABLE antiban.person_ids (
    portfolio_id  bigint NOT NULL,
    key           text NOT NULL,
    kind          antiban.identifier_kind NOT NULL,
    person_id     bigint NOT NULL REFERENCES antiban.persons ON DELETE CASCADE,
    source        text NOT NULL CONSTRAINT person_ids_source
        CHECK (source IN ('send_answer', 'status', 'inbound', 'changed_number', 'context', 'preferences', 'operator')),
    evidence      text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (portfolio_id, key)
);
CREATE INDEX person_ids_person ON antiban.person_ids (person_id);
COMMENT ON TABLE antiban.person_ids IS
    'Every identifier known for a person, by canonical key (antiban.recipient_key): how it was learnt (source) and from what (evidence: a wamid, an outbox id).';

CREATE TABLE antiban.person_merges (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    portfolio_id  bigint NOT NULL REFERENCES antiban.portfolios ON DELETE CASCADE,
    kept          bigint NOT NULL,
    merged        bigint NOT NULL,
    source        text NOT NULL,
    evidence      text,
    merged_at     timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE antiban.person_merges IS
    'Two persons found to be one: which survived, which was merged into it, and the evidence (a reply quoting our message, a status, a changed number...).';

-- What was sent to stays as given; who it was.
ALTER TABLE antiban.outbox
    ADD COLUMN wa_id text,
    ADD COLUMN person_id bigint;
COMMENT ON COLUMN antiban.outbox.wa_id IS
    'Meta''s id for the recipient, from the send answer (contacts[].wa_id) or a status (recipient_id): in Brazil often the number without its ninth digit.';
COMMENT ON COLUMN antiban.outbox.person_id IS
    'The person the recipient named when the message was queued (if known then) or when Meta''s answer linked it; see antiban.persons.merged_into after a merge.';

-- A stop or resume counts from the time the person said it.
ALTER TABLE antiban.recipient_facts ADD COLUMN consent_at timestamptz;
COMMENT ON COLUMN antiban.recipient_facts.consent_at IS
    'When the person said the stop or resume in marketing_opt_out (Meta''s event time): an older statement arriving later changes nothing.';

CREATE FUNCTION antiban.recipient_key(identifier text) RETURNS text
AS 'MODULE_PATHNAME', 'antiban_recipient_key' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION antiban.recipient_key(text) IS
    'The canonical key of an identifier: a phone (E.164 with "+" as a recipient may be written, spaces, "-", "(", ")" allowed, or Meta''s bare digits) as "+<digits>" (Brazil''s mobile ninth digit restored, Mexico''s old mobile "1" dropped), a BSUID as given; NULL when it names nobody. Two identifiers with the same key are the same person without any link.';

CREATE FUNCTION antiban.identifier_key(identifier text, argument text DEFAULT 'identifier') RETURNS text
AS 'MODULE_PATHNAME', 'antiban_identifier_key' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION antiban.identifier_key(text, text) IS
    'antiban.recipient_key for an identifier a caller gave: its canonical key, or an error (invalid_parameter_value) naming the caller''s argument and why the identifier names nobody. NULL in, NULL out.';

-- The identifiers antiban can read, in their order (NULL and '' are none):
-- what Meta's payloads carry that names nobody is left out of a link, and
-- the webhook functions say so among their problems.
-- (plpgsql: its plan is kept; a scalar SQL function with a subquery is
-- never inlined, so it would be planned again at each webhook)
CREATE FUNCTION antiban.readable_identifiers(identifiers text[]) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN ARRAY(SELECT u.i FROM unnest(identifiers) WITH ORDINALITY u(i, n)
                 WHERE antiban.recipient_key(nullif(u.i, '')) IS NOT NULL ORDER BY u.n);
END
$$;
COMMENT ON FUNCTION antiban.readable_identifiers(text[]) IS
    'Internal (the webhook functions): the identifiers of the array antiban.recipient_key can read, in their order; NULL, empty and unreadable ones left out.';

CREATE FUNCTION antiban.unreadable_identifiers(identifiers text[]) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN (SELECT string_agg(u.i, ', ' ORDER BY u.n) FROM unnest(identifiers) WITH ORDINALITY u(i, n)
            WHERE nullif(u.i, '') IS NOT NULL AND antiban.recipient_key(u.i) IS NULL);
END
$$;
COMMENT ON FUNCTION antiban.unreadable_identifiers(text[]) IS
    'Internal (the webhook functions): the non-empty identifiers of the array that name nobody antiban can read, comma-separated; NULL when none.';

CREATE FUNCTION antiban.consent_event_wins(held_at timestamptz, held_stop boolean, at timestamptz, stop boolean)
RETURNS boolean
AS 'MODULE_PATHNAME', 'antiban_consent_event_wins' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION antiban.consent_event_wins(timestamptz, boolean, timestamptz, boolean) IS
    'Does a stop (or resume) said at "at" replace the one held since held_at? The later one wins; at the same instant a stop wins. NULL held_at: nothing held.';

CREATE FUNCTION antiban.note_person_link(portfolio bigint, key text, anchor text) RETURNS void
AS 'MODULE_PATHNAME', 'antiban_note_person_link' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION antiban.note_person_link(bigint, text, text) IS
    'Internal (antiban.link_identifiers): shared memory learns, when the calling transaction commits, that this key now names the person known by this anchor, and merges what it knew under the key''s old anchor into it.';

CREATE FUNCTION antiban.set_marketing_opt_out(recipient text, phone_number_id text, opted_out boolean, at timestamptz)
RETURNS boolean
AS 'MODULE_PATHNAME', 'antiban_set_marketing_opt_out' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.set_marketing_opt_out(text, text, boolean, timestamptz) IS
    'The person the recipient names, in the portfolio of this number, said stop (or resume) at "at" (Meta''s event time). The latest statement wins whatever order they arrive in (a stop on a tie); NULL: as of antiban.now(), winning a tie. From the calling transaction''s commit on.';

-- Merge two persons: every identifier of 'merged' names 'kept' from now on,
-- in the tables and (at commit) in shared memory; their contacts become one.
CREATE FUNCTION antiban.merge_persons(kept bigint, merged bigint, source text, evidence text)
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    k record;
    p antiban.persons;
BEGIN
    SELECT * INTO p FROM antiban.persons WHERE id = kept;
    FOR k IN UPDATE antiban.person_ids SET person_id = kept WHERE person_id = merged RETURNING key LOOP
        PERFORM antiban.note_person_link(p.portfolio_id, k.key, p.anchor);
    END LOOP;
    UPDATE antiban.persons SET merged_into = kept, merged_at = now() WHERE id = merged OR merged_into = merged;
    INSERT INTO antiban.person_merges (portfolio_id, kept, merged, source, evidence)
    VALUES (p.portfolio_id, kept, merged, source, evidence);
    PERFORM antiban.merge_contacts(kept, merged);
    PERFORM antiban.merge_consent(kept, merged);
END
$$;
COMMENT ON FUNCTION antiban.merge_persons(bigint, bigint, text, text) IS
    'Internal (antiban.link_identifiers): fold person "merged" into person "kept", with its identifiers, its contact and, at commit, its shared state.';

CREATE FUNCTION antiban.link_identifiers(portfolio bigint, identifiers text[], source text,
                                         parents text[] DEFAULT NULL, evidence text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, antiban, pg_temp
AS $$
DECLARE
    wanted text[];
    kinds antiban.identifier_kind[];
    known integer;
    taken text[];
    x text;
    found bigint[];
    person bigint;
    created bigint;
    other bigint;
    anchor_key text;
    k record;
BEGIN
    IF portfolio IS NULL THEN
        RETURN NULL;
    ELSIF NOT antiban.may_use_portfolio(portfolio) THEN
        -- for a caller mapped to portfolios, another is as unknown as a missing one
        RAISE EXCEPTION 'unknown portfolio %', portfolio USING ERRCODE = 'undefined_object',
            HINT = 'Name one of your portfolios by its id, as in antiban.portfolios.';
    END IF;
    -- canonical keys, each once, in the order given: the first one of a new person is its anchor
    SELECT array_agg(d.key ORDER BY d.n), array_agg(d.kind ORDER BY d.n) INTO wanted, kinds
    FROM (SELECT DISTINCT ON (c.key) c.key, c.n,
                 (CASE WHEN c.p THEN 'parent_bsuid' WHEN c.key LIKE '+%' THEN 'phone' ELSE 'bsuid' END)::antiban.identifier_kind AS kind
          -- an identifier that names nobody is refused, never dropped (NULL and '' are none)
          FROM (SELECT antiban.identifier_key(nullif(u.i, ''), CASE WHEN u.p THEN 'parents' ELSE 'identifiers' END) AS key,
                       u.n, u.p
                FROM (SELECT i, n, false FROM unnest(identifiers) WITH ORDINALITY a(i, n)
                      UNION ALL
                      SELECT i, n + coalesce(cardinality(identifiers), 0), true FROM unnest(parents) WITH ORDINALITY b(i, n)) AS u(i, n, p)) c
          WHERE c.key IS NOT NULL
          ORDER BY c.key, c.n) d;
    IF wanted IS NULL THEN
        RETURN NULL;
    END IF;
    -- No lock is held until commit on the way most calls take (every identifier
    -- known, or none: a new person, whose keys make it unique), so webhooks of
    -- different people never wait for each other.  Adding an identifier to a
    -- person or merging two locks those persons' rows, older first; whatever
    -- changed meanwhile (a key taken first by another transaction, a merge)
    -- sends it round again.
    FOR attempt IN 1 .. 10 LOOP
        -- (each key by the primary key, one probe each, whatever the
        -- statistics of person_ids said when this plan was made)
        SELECT array_agg(DISTINCT i.person_id ORDER BY i.person_id), count(*) INTO found, known
        FROM unnest(wanted) w(key)
             CROSS JOIN LATERAL (SELECT x.person_id FROM antiban.person_ids x
                                 WHERE x.portfolio_id = portfolio AND x.key = w.key LIMIT 1) i;
        IF known = cardinality(wanted) AND cardinality(found) = 1 THEN
            person := found[1];
            EXIT;
        END IF;
        IF found IS NULL THEN
            -- a new person and its identifiers in one statement
            WITH made AS (
                INSERT INTO antiban.persons (portfolio_id, anchor) VALUES (portfolio, wanted[1]) RETURNING id
            ), ids AS (
                INSERT INTO antiban.person_ids AS i (portfolio_id, key, kind, person_id, source, evidence)
                SELECT portfolio, w.key, w.kind, made.id, link_identifiers.source, link_identifiers.evidence
                FROM made, unnest(wanted, kinds) AS w(key, kind)
                ON CONFLICT (portfolio_id, key) DO NOTHING
                RETURNING i.key
            )
            SELECT made.id, ARRAY(SELECT ids.key FROM ids) INTO person, taken FROM made;
            created := coalesce(created, person);
            FOREACH x IN ARRAY taken LOOP
                IF x <> wanted[1] THEN
                    PERFORM antiban.note_person_link(portfolio, x, wanted[1]);
                END IF;
            END LOOP;
            EXIT WHEN cardinality(taken) = cardinality(wanted);
            person := NULL;
            CONTINUE;
        ELSE
            PERFORM 1 FROM antiban.persons p WHERE p.id = ANY (found) ORDER BY p.id FOR UPDATE;
            CONTINUE WHEN EXISTS (SELECT 1 FROM antiban.persons p WHERE p.id = ANY (found) AND p.merged_into IS NOT NULL)
                       OR found IS DISTINCT FROM (SELECT array_agg(DISTINCT i.person_id ORDER BY i.person_id)
                                                  FROM antiban.person_ids i
                                                  WHERE i.portfolio_id = portfolio AND i.key = ANY (wanted));
            -- two persons were one: the older survives
            person := found[1];
            FOREACH other IN ARRAY found[2:] LOOP
                PERFORM antiban.merge_persons(person, other, source, evidence);
            END LOOP;
        END IF;
        SELECT p.anchor INTO anchor_key FROM antiban.persons p WHERE p.id = person;
        FOR k IN INSERT INTO antiban.person_ids AS i (portfolio_id, key, kind, person_id, source, evidence)
                 SELECT portfolio, w.key, w.kind, person, link_identifiers.source, link_identifiers.evidence
                 FROM unnest(wanted, kinds) AS w(key, kind)
                 ON CONFLICT (portfolio_id, key) DO NOTHING
                 RETURNING i.key LOOP
            IF k.key <> anchor_key THEN
                PERFORM antiban.note_person_link(portfolio, k.key, anchor_key);
            END IF;
        END LOOP;
        EXIT WHEN NOT EXISTS (SELECT 1 FROM unnest(wanted) AS w(key)
                              LEFT JOIN antiban.person_ids i ON i.portfolio_id = portfolio AND i.key = w.key
                              WHERE i.person_id IS DISTINCT FROM person);
        person := NULL;
    END LOOP;
    IF person IS NULL THEN
        RAISE EXCEPTION 'identifiers of portfolio % kept changing while they were being linked', portfolio
            USING ERRCODE = 'serialization_failure', HINT = 'Try again.';
    END IF;
    -- a person made for identifiers another transaction took first is nobody
    IF created IS NOT NULL AND created <> person THEN
        DELETE FROM antiban.persons p WHERE p.id = created AND p.merged_into IS NULL
          AND NOT EXISTS (SELECT 1 FROM antiban.person_ids i WHERE i.person_id = created);
    END IF;
    RETURN person;
END
$$;
COMMENT ON FUNCTION antiban.link_identifiers(bigint, text[], text, text[], text) IS
    'These identifiers (phones as Meta or we write them, formatted as a recipient may be; BSUIDs; parents: parent BSUIDs) are one person in this portfolio: creates the person, adds the identifiers it lacks, merges persons that turn out to be one (the smaller id survives, recorded in antiban.person_merges). source: send_answer, status, inbound, changed_number, context, preferences or operator; evidence: what showed it. Returns the person (NULL when no identifier is given: NULL and empty elements are none). Errors: an identifier that names nobody (invalid_parameter_value). Decisions follow at commit (this transaction''s at once). A caller mapped to portfolios (an administrator too) links only in its own portfolios: another is an unknown portfolio.';

CREATE FUNCTION antiban.person_id(portfolio bigint, identifier text) RETURNS bigint
LANGUAGE sql STABLE
RETURN (SELECT i.person_id FROM antiban.person_ids i
        WHERE i.portfolio_id = portfolio AND i.key = antiban.recipient_key(identifier));
COMMENT ON FUNCTION antiban.person_id(bigint, text) IS
    'The person an identifier names in a portfolio (Brazil''s ninth digit and links included), or NULL when no evidence about them was ever recorded.';

-- The sender's answers whose wa_id is not the recipient by any rule: one
-- person.  Each in its own subtransaction: a link that fails (a deadlock with
-- a webhook linking the same people) is skipped, never the answers recorded.
CREATE FUNCTION antiban.link_send_answers(ids bigint[]) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    o record;
    linked integer := 0;
BEGIN
    FOR o IN SELECT m.id, m.wamid, m.recipient, m.wa_id, m.portfolio_id FROM antiban.outbox m
             WHERE m.id = ANY (ids) AND m.wa_id IS NOT NULL AND m.portfolio_id IS NOT NULL ORDER BY m.id LOOP
        BEGIN
            UPDATE antiban.outbox SET person_id = antiban.link_identifiers(o.portfolio_id, ARRAY[o.recipient, o.wa_id],
                'send_answer', NULL, format('send answer to outbox %s (%s)', o.id, o.wamid))
            WHERE id = o.id;
            linked := linked + 1;
        EXCEPTION WHEN OTHERS THEN
            RAISE WARNING 'antiban: outbox % not linked to wa_id %: %', o.id, o.wa_id, SQLERRM;
        END;
    END LOOP;
    RETURN linked;
END
$$;
COMMENT ON FUNCTION antiban.link_send_answers(bigint[]) IS
    'Internal (the sender): link each message''s recipient to the wa_id Meta answered for it, and note the person on the message.';

CREATE VIEW antiban.people AS
SELECT p.id AS person_id, p.portfolio_id, p.anchor, p.created_at,
       array_agg(i.key ORDER BY i.created_at, i.key) AS identifiers,
       array_agg(i.source ORDER BY i.created_at, i.key) AS learnt_from,
       (SELECT array_agg(m.id ORDER BY m.id) FROM antiban.persons m WHERE m.merged_into = p.id) AS merged
FROM antiban.persons p JOIN antiban.person_ids i ON i.person_id = p.id
WHERE p.merged_into IS NULL
GROUP BY p.id;
COMMENT ON VIEW antiban.people IS
    'Each person with every identifier known for them (canonical keys), how each was learnt, and the persons merged into them.';
