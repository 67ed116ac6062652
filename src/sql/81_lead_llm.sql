-- The optional LLM step of lead qualification.
--
-- When antiban.lead_llm_url names an OpenAI-compatible chat-completions
-- endpoint, the "antiban leads" background worker picks conversations
-- (leads: conversation_id = antiban.leads.id) with inbound text it has not
-- read, asks the endpoint to fill four slots (amount, horizon, product,
-- objections) under a strict JSON schema, each with the lead's quoted words
-- and the message they came from, and checks the answer (src/core/lead_llm.c):
-- a quote that is not in the message it names refuses the whole answer.
-- Accepted slots become the lead model's own fit signals in
-- antiban.lead_features, weighed by the trained model: the LLM adds
-- evidence, never the verdict.  Every call is one row of
-- antiban.lead_llm_calls, over-budget refusals included; the API key is a
-- write-only secret (antiban.set_secret('llm_api_key', ...)) that only the
-- worker reads, and neither it nor the prompt is stored.
--
-- The HTTP call happens in the worker between two short transactions, never
-- in a trigger: the triggers below only note which conversation has news.

CREATE TYPE antiban.lead_llm_outcome AS ENUM
    ('ok', 'timeout', 'http_error', 'invalid_json', 'schema_mismatch', 'bad_evidence', 'over_budget');
COMMENT ON TYPE antiban.lead_llm_outcome IS
    'How an LLM call ended: ok (slots checked and applied), timeout (antiban.lead_llm_timeout), http_error (no answer or not 200), invalid_json (the answer or its message is not JSON), schema_mismatch (JSON not in the schema asked for, or a refusal), bad_evidence (a slot outside the vocabulary, quoting words not in the message it names, or words that do not state the slot''s value: the whole answer is refused), over_budget (antiban.lead_llm_daily_budget reached: no call made).';

CREATE TABLE antiban.lead_llm_calls (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id    bigint NOT NULL,
    portfolio_id       bigint,
    started_at         timestamptz NOT NULL,
    finished_at        timestamptz,
    model              text NOT NULL,
    messages           integer NOT NULL DEFAULT 0,
    shown_ids          bigint[],
    through_message_id bigint,
    outcome            antiban.lead_llm_outcome,
    latency_ms         integer,
    http_status        integer,
    detail             text,
    prompt_tokens      integer,
    completion_tokens  integer,
    slots              jsonb
);
CREATE INDEX lead_llm_calls_budget ON antiban.lead_llm_calls (portfolio_id, started_at);
CREATE INDEX lead_llm_calls_conversation ON antiban.lead_llm_calls (conversation_id, id);
COMMENT ON TABLE antiban.lead_llm_calls IS
    'Every LLM extraction, one row per call (or per refusal for the daily budget): when (antiban.now() of the worker), which conversation and portfolio, the model, how many of the lead''s messages it was shown, their ids (antiban.interactions) and the newest one''s, outcome (NULL while the call is in flight), latency, HTTP status, a short detail (never the key, the prompt or an error body), tokens when the endpoint reports them, and the slots accepted ([{"slot", "value", "evidence", "message_id", "feature", "words"}]).';

CREATE TABLE antiban.lead_llm_state (
    conversation_id  bigint PRIMARY KEY,
    portfolio_id     bigint,
    last_message_id  bigint NOT NULL DEFAULT 0,
    done_through     bigint NOT NULL DEFAULT 0,
    attempts         integer NOT NULL DEFAULT 0,
    next_try_at      timestamptz,
    features         int4[] NOT NULL DEFAULT '{}',
    feature_values   float4[] NOT NULL DEFAULT '{}',
    slots            jsonb NOT NULL DEFAULT '[]',
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lead_llm_state_due ON antiban.lead_llm_state (next_try_at NULLS FIRST, conversation_id)
    WHERE last_message_id > done_through;
COMMENT ON TABLE antiban.lead_llm_state IS
    'Per conversation: the newest inbound text message (antiban.interactions id), the newest one an answer covered (done_through; the worker asks again only when a newer one arrives), failed tries on the current messages and when to try next (backoff, the next day when over budget, a lease while a call is in flight), and what the accepted slots added to antiban.lead_features (so a later answer replaces it).';

-- ------------------------------------------------------------ C helpers

CREATE FUNCTION antiban.lead_llm_answer_schema() RETURNS jsonb
AS 'MODULE_PATHNAME', 'antiban_lead_llm_answer_schema' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION antiban.lead_llm_answer_schema() IS
    'The JSON schema the LLM is asked to answer in (response_format json_schema, strict): amount {reais}, horizon {months}, product {value}, objections [{value}], each with evidence (the lead''s words) and message_id; null or [] when the lead did not say.';

CREATE FUNCTION antiban.lead_llm_check_slot(slot text, value text, number double precision, evidence text,
                                            message_id bigint, shown_ids bigint[], shown_bodies text[],
                                            OUT feature integer, OUT words text, OUT problem text)
AS 'MODULE_PATHNAME', 'antiban_lead_llm_check_slot' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION antiban.lead_llm_check_slot(text, text, double precision, text, bigint, bigint[], text[]) IS
    'One slot of an LLM answer checked against the messages it was shown (ids and bodies): the fit signal it stands for and its reason words ("LLM: valor R$ 50 mil (“quero aplicar 50 mil”)", in antiban.lead_reason_language), or why it is refused (problem; feature and words NULL).';

-- ------------------------------------------------------------ what the LLM reads

-- A lead's inbound text messages: its person's contacts' interactions.
CREATE FUNCTION antiban.lead_llm_messages(conversation bigint, newest integer DEFAULT 20)
RETURNS TABLE (message_id bigint, occurred_at timestamptz, body text)
LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT m.id, m.occurred_at, m.body
    FROM (SELECT i.id, i.occurred_at, left(i.body, 1000) AS body
          FROM antiban.leads l
          JOIN antiban.contacts c ON c.person_id = l.person_id
          JOIN antiban.interactions i ON i.contact_id = c.id
          WHERE l.id = lead_llm_messages.conversation AND i.direction = 'in'
            AND i.body IS NOT NULL AND btrim(i.body) <> ''
          ORDER BY i.id DESC LIMIT lead_llm_messages.newest) m
    ORDER BY m.id;
END;
COMMENT ON FUNCTION antiban.lead_llm_messages(bigint, integer) IS
    'The newest inbound text messages of a lead (its person''s, from antiban.interactions), oldest first, each cut to 1,000 characters: what the LLM is shown.';

CREATE FUNCTION antiban.lead_llm_instructions() RETURNS text
LANGUAGE sql IMMUTABLE
RETURN 'You read the WhatsApp messages a lead wrote to a Brazilian investment firm (in Portuguese, Spanish or English) '
    || 'and fill four slots. amount: how much money the lead says they want to invest, in Brazilian reais '
    || '("50 mil" is 50000; convert other currencies roughly). horizon: for how long they want to invest, in months. '
    || 'product: the investment product they ask about most (cdb, lci_lca, tesouro, stocks, fii, pension, funds, crypto, '
    || 'fixed_income, abroad). objections: every reason they give not to invest now (no_money, just_curious, '
    || 'not_interested, later, distrust, quick_money, wants_loan, has_advisor, wrong_person, fees). '
    || 'Fill a slot only when the lead states it, otherwise null (or an empty list). For each slot, evidence is '
    || 'the lead''s exact words copied from one message (a short phrase) and message_id is that message''s id. '
    || 'Never guess and never quote words the lead did not write.';
COMMENT ON FUNCTION antiban.lead_llm_instructions() IS
    'The system message of every LLM extraction request.';

CREATE FUNCTION antiban.lead_llm_request(conversation bigint, model text) RETURNS jsonb
LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT jsonb_build_object(
        'model', lead_llm_request.model,
        'temperature', 0,
        'messages', jsonb_build_array(
            jsonb_build_object('role', 'system', 'content', antiban.lead_llm_instructions()),
            jsonb_build_object('role', 'user', 'content', jsonb_build_object('messages',
                coalesce((SELECT jsonb_agg(jsonb_build_object('message_id', m.message_id, 'text', m.body)
                                           ORDER BY m.message_id)
                          FROM antiban.lead_llm_messages(lead_llm_request.conversation) m), '[]'))::text)),
        'response_format', jsonb_build_object('type', 'json_schema', 'json_schema',
            jsonb_build_object('name', 'lead_slots', 'strict', true, 'schema', antiban.lead_llm_answer_schema())));
END;
COMMENT ON FUNCTION antiban.lead_llm_request(bigint, text) IS
    'The chat-completions request body for one conversation: the instructions, the lead''s messages as JSON ({"messages": [{"message_id", "text"}]}) and the strict response schema. It holds no key.';

-- ------------------------------------------------------------ which conversations have news

CREATE FUNCTION antiban.lead_llm_enabled() RETURNS boolean
LANGUAGE sql STABLE
RETURN coalesce(current_setting('antiban.lead_llm_url', true), '') <> '';
COMMENT ON FUNCTION antiban.lead_llm_enabled() IS
    'Is an LLM endpoint configured (antiban.lead_llm_url)?  Without one nothing is noted, claimed or called.';

-- Note the newest inbound text of these leads (recomputed from interactions).
CREATE FUNCTION antiban.lead_llm_note_leads(conversations bigint[]) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
DECLARE
    noted integer;
BEGIN
    INSERT INTO antiban.lead_llm_state AS s (conversation_id, portfolio_id, last_message_id)
    SELECT l.id, l.portfolio_id, max(i.id)
    FROM antiban.leads l
    JOIN antiban.contacts c ON c.person_id = l.person_id
    JOIN antiban.interactions i ON i.contact_id = c.id
    WHERE l.id = ANY (conversations) AND i.direction = 'in' AND i.body IS NOT NULL AND btrim(i.body) <> ''
    GROUP BY l.id, l.portfolio_id
    ON CONFLICT (conversation_id) DO UPDATE
    SET last_message_id = greatest(s.last_message_id, excluded.last_message_id),
        portfolio_id = excluded.portfolio_id, updated_at = now()
    WHERE excluded.last_message_id > s.last_message_id;
    GET DIAGNOSTICS noted = ROW_COUNT;
    RETURN noted;
END
$$;
COMMENT ON FUNCTION antiban.lead_llm_note_leads(bigint[]) IS
    'Internal: the newest inbound text message of each of these leads noted in antiban.lead_llm_state; returns how many have news for the LLM.';

CREATE FUNCTION antiban.lead_llm_interactions_inserted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    IF NOT antiban.lead_llm_enabled() THEN
        RETURN NULL;
    END IF;
    PERFORM antiban.lead_llm_note_leads(array_agg(DISTINCT l.id))
    FROM new_interactions n
    JOIN antiban.contacts c ON c.id = n.contact_id
    JOIN antiban.leads l ON l.person_id = c.person_id
    WHERE n.direction = 'in' AND n.body IS NOT NULL
    HAVING count(*) > 0;
    RETURN NULL;
END
$$;
CREATE TRIGGER lead_llm_interactions_inserted AFTER INSERT ON antiban.interactions
    REFERENCING NEW TABLE AS new_interactions
    FOR EACH STATEMENT EXECUTE FUNCTION antiban.lead_llm_interactions_inserted();
COMMENT ON FUNCTION antiban.lead_llm_interactions_inserted() IS
    'Statement trigger: with an LLM configured, notes which leads just received inbound text (no call here: the worker makes it).';

CREATE FUNCTION antiban.lead_llm_leads_inserted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    IF antiban.lead_llm_enabled() THEN
        PERFORM antiban.lead_llm_note_leads(array_agg(n.id)) FROM new_leads n WHERE n.person_id IS NOT NULL
        HAVING count(*) > 0;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER lead_llm_leads_inserted AFTER INSERT ON antiban.leads
    REFERENCING NEW TABLE AS new_leads
    FOR EACH STATEMENT EXECUTE FUNCTION antiban.lead_llm_leads_inserted();
COMMENT ON FUNCTION antiban.lead_llm_leads_inserted() IS
    'Statement trigger: with an LLM configured, a lead created after its person wrote is noted for extraction too.';

CREATE FUNCTION antiban.request_lead_llm(lead bigint) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM antiban.leads l WHERE l.id = lead AND antiban.may_use_portfolio(l.portfolio_id)) THEN
        RAISE EXCEPTION 'lead % does not exist', lead
            USING ERRCODE = 'undefined_object',
                  HINT = 'Leads are rows of antiban.leads; the LLM reads their person''s inbound messages.';
    END IF;
    PERFORM antiban.lead_llm_note_leads(ARRAY[lead]);
    UPDATE antiban.lead_llm_state s SET done_through = 0, attempts = 0, next_try_at = NULL, updated_at = now()
    WHERE s.conversation_id = lead;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION antiban.request_lead_llm(bigint) IS
    'Ask the LLM worker to read a lead''s messages again (even those it read already), for example after changing the model or for leads from before the LLM was configured. Returns false when the lead has no inbound text. Still bounded by the daily budget; nothing happens while antiban.lead_llm_url is empty.';

-- ------------------------------------------------------------ the worker's two transactions

-- Budget: calls made (not refusals) since the start of the UTC day of antiban.now().
CREATE FUNCTION antiban.lead_llm_calls_today(portfolio bigint) RETURNS bigint
LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT count(*) FROM antiban.lead_llm_calls c
    WHERE c.portfolio_id IS NOT DISTINCT FROM lead_llm_calls_today.portfolio
      AND c.started_at >= date_trunc('day', antiban.now(), 'UTC')
      AND c.outcome IS DISTINCT FROM 'over_budget';
END;
COMMENT ON FUNCTION antiban.lead_llm_calls_today(bigint) IS
    'LLM calls made for a portfolio since midnight UTC (antiban.now()); what antiban.lead_llm_daily_budget counts.';

CREATE FUNCTION antiban.lead_llm_claim(model text, daily_budget integer, timeout_ms integer)
RETURNS TABLE (call_id bigint, conversation_id bigint, request text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    s antiban.lead_llm_state;
    t timestamptz := antiban.now();
    used bigint;
    shown bigint[];
    id bigint;
BEGIN
    FOR s IN
        SELECT * FROM antiban.lead_llm_state x
        WHERE x.last_message_id > x.done_through AND (x.next_try_at IS NULL OR x.next_try_at <= t)
        ORDER BY x.next_try_at NULLS FIRST, x.conversation_id
        LIMIT 50 FOR UPDATE SKIP LOCKED
    LOOP
        used := antiban.lead_llm_calls_today(s.portfolio_id);
        IF used >= daily_budget THEN
            INSERT INTO antiban.lead_llm_calls (conversation_id, portfolio_id, started_at, finished_at, model,
                                                through_message_id, outcome, detail)
            VALUES (s.conversation_id, s.portfolio_id, t, t, lead_llm_claim.model, s.last_message_id, 'over_budget',
                    format('%s calls today, daily budget %s; tried again after midnight UTC', used, daily_budget));
            UPDATE antiban.lead_llm_state x SET next_try_at = date_trunc('day', t, 'UTC') + interval '1 day',
                updated_at = now()
            WHERE x.conversation_id = s.conversation_id;
            CONTINUE;
        END IF;
        SELECT array_agg(m.message_id ORDER BY m.message_id) INTO shown
        FROM antiban.lead_llm_messages(s.conversation_id) m;
        IF shown IS NULL THEN
            UPDATE antiban.lead_llm_state x SET done_through = x.last_message_id, updated_at = now()
            WHERE x.conversation_id = s.conversation_id;
            CONTINUE;
        END IF;
        INSERT INTO antiban.lead_llm_calls (conversation_id, portfolio_id, started_at, model, messages, shown_ids,
                                            through_message_id)
        VALUES (s.conversation_id, s.portfolio_id, t, lead_llm_claim.model, cardinality(shown), shown,
                greatest(shown[cardinality(shown)], s.last_message_id))
        RETURNING lead_llm_calls.id INTO id;
        -- a lease: should the worker die during the call, the conversation comes back after it
        UPDATE antiban.lead_llm_state x
        SET next_try_at = t + make_interval(secs => timeout_ms / 1000.0) + interval '1 minute', updated_at = now()
        WHERE x.conversation_id = s.conversation_id;
        RETURN QUERY SELECT id, s.conversation_id, antiban.lead_llm_request(s.conversation_id, lead_llm_claim.model)::text;
        RETURN;
    END LOOP;
END
$$;
COMMENT ON FUNCTION antiban.lead_llm_claim(text, integer, integer) IS
    'Internal (the LLM worker): the next conversation with unread inbound text whose try is due. A portfolio past its daily budget gets an over_budget row and waits for the next UTC day; otherwise an in-flight row of antiban.lead_llm_calls is opened and the request body returned.';

-- A conversation's features with the accepted slots in place of the previous ones; rescored.
CREATE FUNCTION antiban.lead_llm_apply(conversation bigint, portfolio bigint, slots jsonb) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    s antiban.lead_llm_state;
    new_features int4[];
    new_values float4[];
    f antiban.lead_features;
    model bigint;
    r antiban.lead_score;
BEGIN
    SELECT * INTO STRICT s FROM antiban.lead_llm_state x WHERE x.conversation_id = conversation FOR UPDATE;
    SELECT coalesce(array_agg(DISTINCT (e ->> 'feature')::int4 ORDER BY (e ->> 'feature')::int4), '{}')
    INTO new_features FROM jsonb_array_elements(slots) e;
    new_values := array_fill(1::float4, ARRAY[cardinality(new_features)]);
    INSERT INTO antiban.lead_features (conversation_id, portfolio_id) VALUES (conversation, portfolio)
    ON CONFLICT (conversation_id) DO NOTHING;
    SELECT * INTO STRICT f FROM antiban.lead_features x WHERE x.conversation_id = conversation FOR UPDATE;
    -- take out what the last answer added, put in this one's (the rules' own counts stay)
    SELECT v.features, v.feature_values INTO f.features, f.feature_values
    FROM antiban.lead_vector_add(f.features, f.feature_values, s.features,
                                 (SELECT coalesce(array_agg(-x ORDER BY o), '{}')
                                  FROM unnest(s.feature_values) WITH ORDINALITY u(x, o))) w,
         antiban.lead_vector_add(w.features, w.feature_values, new_features, new_values) v;
    UPDATE antiban.lead_features x SET features = f.features, feature_values = f.feature_values, updated_at = now()
    WHERE x.conversation_id = conversation;
    UPDATE antiban.lead_llm_state x SET features = new_features, feature_values = new_values,
        slots = lead_llm_apply.slots, updated_at = now()
    WHERE x.conversation_id = conversation;
    model := antiban.active_lead_model(coalesce(f.portfolio_id, portfolio));
    IF model IS NULL THEN
        RETURN;
    END IF;
    r := antiban.lead_score(model, f.features, f.feature_values, f.engagement, antiban.now());
    INSERT INTO antiban.lead_scores AS l (conversation_id, model_id, score, probability, reasons, scored_at)
    VALUES (conversation, r.model_id, r.score, r.probability, antiban.lead_llm_reasons(r.reasons, slots), antiban.now())
    ON CONFLICT (conversation_id) DO UPDATE
    SET model_id = excluded.model_id, score = excluded.score, probability = excluded.probability,
        reasons = excluded.reasons, scored_at = excluded.scored_at;
END
$$;
COMMENT ON FUNCTION antiban.lead_llm_apply(bigint, bigint, jsonb) IS
    'Internal: replaces what the previous LLM answer added to a conversation''s antiban.lead_features by these checked slots'' fit signals, and rescores it with its portfolio''s model, saying LLM reasons with their quotes.';

-- "+9 citou valor de R$ 50 mil a 200 mil" -> "+9 LLM: valor R$ 50 mil (“quero aplicar 50 mil”)"
CREATE FUNCTION antiban.lead_llm_reasons(reasons jsonb, slots jsonb) RETURNS jsonb
LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT coalesce(jsonb_object_agg(side.key, (
               SELECT coalesce(jsonb_agg(coalesce(
                          (SELECT m[1] || ' ' || (e ->> 'words')
                           FROM jsonb_array_elements(lead_llm_reasons.slots) e
                           JOIN antiban.lead_feature_catalog() c ON c.feature = (e ->> 'feature')::int
                           WHERE m[2] IN (c.pt, c.en)
                           LIMIT 1),
                          to_jsonb(r.reason) #>> '{}') ORDER BY r.o), '[]')
               FROM jsonb_array_elements_text(side.value) WITH ORDINALITY r(reason, o),
                    LATERAL (SELECT regexp_match(r.reason, '^(\S+) (.*)$') AS m) x(m))), lead_llm_reasons.reasons)
    FROM jsonb_each(lead_llm_reasons.reasons) side;
END;
COMMENT ON FUNCTION antiban.lead_llm_reasons(jsonb, jsonb) IS
    'A score''s reasons with each one an accepted LLM slot stands for said with the LLM''s words and the lead''s quote ("+9 LLM: valor R$ 50 mil (“quero aplicar 50 mil”)"); the points are the model''s.';

CREATE FUNCTION antiban.lead_llm_record(call bigint, http_status integer, failure text, latency_ms integer,
                                        body text)
RETURNS antiban.lead_llm_outcome
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    c antiban.lead_llm_calls;
    v_outcome antiban.lead_llm_outcome;
    v_detail text;
    envelope jsonb;
    answer jsonb;
    content text;
    shown_ids bigint[];
    shown_bodies text[];
    accepted jsonb := '[]';
    slot record;
    checked record;
BEGIN
    SELECT * INTO c FROM antiban.lead_llm_calls x WHERE x.id = call FOR UPDATE;
    IF NOT FOUND OR c.outcome IS NOT NULL THEN
        RETURN c.outcome;       -- recorded already (or never opened): nothing to do twice
    END IF;
    IF failure = 'timeout' THEN
        v_outcome := 'timeout';
        v_detail := format('no answer within %s ms', latency_ms);
    ELSIF failure IS NOT NULL THEN
        v_outcome := 'http_error';
        v_detail := left(failure, 200);
    ELSIF http_status IS DISTINCT FROM 200 THEN
        v_outcome := 'http_error';
        v_detail := format('HTTP %s', http_status);
    ELSIF body IS NULL OR body = '' THEN
        v_outcome := 'invalid_json';
        v_detail := 'an empty answer';
    ELSE
        BEGIN
            envelope := body::jsonb;
        EXCEPTION WHEN others THEN
            v_outcome := 'invalid_json';
            v_detail := format('the answer is not JSON (%s bytes)', octet_length(body));
        END;
        IF v_outcome IS NULL THEN
            content := envelope #>> '{choices,0,message,content}';
            c.prompt_tokens := CASE WHEN jsonb_typeof(envelope #> '{usage,prompt_tokens}') = 'number'
                                    THEN (envelope #>> '{usage,prompt_tokens}')::numeric::integer END;
            c.completion_tokens := CASE WHEN jsonb_typeof(envelope #> '{usage,completion_tokens}') = 'number'
                                        THEN (envelope #>> '{usage,completion_tokens}')::numeric::integer END;
            IF jsonb_typeof(envelope #> '{choices,0,message,refusal}') = 'string' THEN
                v_outcome := 'schema_mismatch';
                v_detail := 'the model refused to answer';
            ELSIF content IS NULL OR jsonb_typeof(envelope #> '{choices,0,message,content}') <> 'string' THEN
                v_outcome := 'schema_mismatch';
                v_detail := 'no choices[0].message.content string in the answer';
            END IF;
        END IF;
        IF v_outcome IS NULL THEN
            BEGIN
                answer := content::jsonb;
            EXCEPTION WHEN others THEN
                v_outcome := 'invalid_json';
                v_detail := format('the message content is not JSON (%s bytes)', octet_length(content));
            END;
        END IF;
        IF v_outcome IS NULL THEN
            v_detail := antiban.lead_llm_schema_problem(answer);
            IF v_detail IS NOT NULL THEN
                v_outcome := 'schema_mismatch';
            END IF;
        END IF;
        IF v_outcome IS NULL THEN
            -- exactly the messages this call showed, as they were shown (cut to 1,000 characters)
            SELECT array_agg(i.id ORDER BY i.id), array_agg(left(i.body, 1000) ORDER BY i.id)
            INTO shown_ids, shown_bodies
            FROM antiban.interactions i WHERE i.id = ANY (c.shown_ids);
            FOR slot IN SELECT * FROM antiban.lead_llm_answer_slots(answer) LOOP
                checked := antiban.lead_llm_check_slot(slot.slot, slot.value, slot.number, slot.evidence,
                                                       slot.message_id, shown_ids, shown_bodies);
                IF checked.problem IS NOT NULL THEN
                    v_outcome := 'bad_evidence';
                    v_detail := format('%s: %s (message %s)', slot.slot, checked.problem, slot.message_id);
                    accepted := '[]';
                    EXIT;
                END IF;
                accepted := accepted || jsonb_build_object('slot', slot.slot,
                    'value', coalesce(slot.value, slot.number::text), 'evidence', slot.evidence,
                    'message_id', slot.message_id, 'feature', checked.feature, 'words', checked.words);
            END LOOP;
            v_outcome := coalesce(v_outcome, 'ok');
        END IF;
    END IF;

    UPDATE antiban.lead_llm_calls x
    SET outcome = v_outcome, detail = v_detail, finished_at = antiban.now(),
        latency_ms = lead_llm_record.latency_ms, http_status = lead_llm_record.http_status,
        prompt_tokens = c.prompt_tokens, completion_tokens = c.completion_tokens,
        slots = CASE WHEN v_outcome = 'ok' THEN accepted END
    WHERE x.id = c.id;
    IF v_outcome IN ('timeout', 'http_error') THEN
        -- transient: again later (1, 2, 4 minutes), then wait for a new message
        UPDATE antiban.lead_llm_state s
        SET attempts = s.attempts + 1,
            done_through = CASE WHEN s.attempts + 1 >= 3 THEN greatest(s.done_through, c.through_message_id)
                                ELSE s.done_through END,
            next_try_at = CASE WHEN s.attempts + 1 >= 3 THEN NULL
                               ELSE antiban.now() + make_interval(mins => 1 << s.attempts) END,
            updated_at = now()
        WHERE s.conversation_id = c.conversation_id;
    ELSE
        -- an answer, good or refused: not asked again for these same messages
        UPDATE antiban.lead_llm_state s
        SET attempts = 0, next_try_at = NULL, done_through = greatest(s.done_through, c.through_message_id),
            updated_at = now()
        WHERE s.conversation_id = c.conversation_id;
    END IF;
    IF v_outcome = 'ok' THEN
        -- a failure here must not leave the call in flight (its lease would bring it back, and back)
        BEGIN
            PERFORM antiban.lead_llm_apply(c.conversation_id, c.portfolio_id, accepted);
        EXCEPTION WHEN others THEN
            UPDATE antiban.lead_llm_calls x SET detail = 'slots accepted but not applied: ' || left(SQLERRM, 200)
            WHERE x.id = c.id;
        END;
    END IF;
    RETURN v_outcome;
END
$$;
COMMENT ON FUNCTION antiban.lead_llm_record(bigint, integer, text, integer, text) IS
    'Internal (the LLM worker): records how a call ended (failure: timeout or a transport error; else the HTTP status and body), checks the answer (JSON, schema, each slot''s vocabulary and quote) and on ok applies the slots as features and rescores. Transient failures are tried again after 1, 2 and 4 minutes, then not until a new message; an answer, accepted or refused, is not asked again for the same messages. Recording a call twice changes nothing.';

-- ------------------------------------------------------------ reading the answer

-- NULL if the answer has exactly the schema's shape; else what is wrong.
CREATE FUNCTION antiban.lead_llm_schema_problem(answer jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    slot text;
    item jsonb;
    number_key text;
    problem text;
BEGIN
    IF jsonb_typeof(answer) IS DISTINCT FROM 'object' THEN
        RETURN format('the answer is a JSON %s, not an object', coalesce(jsonb_typeof(answer), 'null'));
    END IF;
    IF (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(answer) k) <> '{amount,horizon,objections,product}' THEN
        RETURN 'the answer''s keys are not amount, horizon, product, objections';
    END IF;
    FOREACH slot IN ARRAY ARRAY['amount', 'horizon', 'product'] LOOP
        IF jsonb_typeof(answer -> slot) = 'null' THEN
            CONTINUE;
        END IF;
        number_key := CASE slot WHEN 'amount' THEN 'reais' WHEN 'horizon' THEN 'months' END;
        problem := antiban.lead_llm_item_problem(answer -> slot, number_key);
        IF problem IS NOT NULL THEN
            RETURN slot || ': ' || problem;
        END IF;
    END LOOP;
    IF jsonb_typeof(answer -> 'objections') <> 'array' THEN
        RETURN 'objections: not an array';
    END IF;
    FOR item IN SELECT jsonb_array_elements(answer -> 'objections') LOOP
        problem := antiban.lead_llm_item_problem(item, NULL);
        IF problem IS NOT NULL THEN
            RETURN 'objections: ' || problem;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION antiban.lead_llm_schema_problem(jsonb) IS
    'What makes an LLM answer differ from antiban.lead_llm_answer_schema() (a missing or extra key, a wrong type), or NULL when it matches.';

CREATE FUNCTION antiban.lead_llm_item_problem(item jsonb, number_key text) RETURNS text
LANGUAGE sql IMMUTABLE
RETURN CASE
    WHEN jsonb_typeof(item) IS DISTINCT FROM 'object' THEN 'not an object'
    WHEN (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(item) k)
         <> (SELECT array_agg(k ORDER BY k) FROM unnest(ARRAY[coalesce(number_key, 'value'), 'evidence', 'message_id']) k)
        THEN format('keys are not %s, evidence, message_id', coalesce(number_key, 'value'))
    WHEN number_key IS NOT NULL AND jsonb_typeof(item -> number_key) <> 'number' THEN number_key || ' is not a number'
    WHEN number_key IS NULL AND jsonb_typeof(item -> 'value') <> 'string' THEN 'value is not a string'
    WHEN jsonb_typeof(item -> 'evidence') <> 'string' THEN 'evidence is not a string'
    WHEN jsonb_typeof(item -> 'message_id') <> 'number' OR (item ->> 'message_id') !~ '^[0-9]{1,18}$'
        THEN 'message_id is not an integer'
END;
COMMENT ON FUNCTION antiban.lead_llm_item_problem(jsonb, text) IS
    'Internal: what is wrong with one slot object of an LLM answer (its keys and their types), or NULL.';

CREATE FUNCTION antiban.lead_llm_answer_slots(answer jsonb)
RETURNS TABLE (slot text, value text, number double precision, evidence text, message_id bigint)
LANGUAGE sql IMMUTABLE
BEGIN ATOMIC
    SELECT 'amount', NULL::text, (answer #>> '{amount,reais}')::double precision, answer #>> '{amount,evidence}',
           (answer #>> '{amount,message_id}')::bigint
    WHERE jsonb_typeof(answer -> 'amount') = 'object'
    UNION ALL
    SELECT 'horizon', NULL, (answer #>> '{horizon,months}')::double precision, answer #>> '{horizon,evidence}',
           (answer #>> '{horizon,message_id}')::bigint
    WHERE jsonb_typeof(answer -> 'horizon') = 'object'
    UNION ALL
    SELECT 'product', answer #>> '{product,value}', NULL, answer #>> '{product,evidence}',
           (answer #>> '{product,message_id}')::bigint
    WHERE jsonb_typeof(answer -> 'product') = 'object'
    UNION ALL
    SELECT 'objection', o ->> 'value', NULL, o ->> 'evidence', (o ->> 'message_id')::bigint
    FROM jsonb_array_elements(CASE WHEN jsonb_typeof(answer -> 'objections') = 'array'
                                   THEN answer -> 'objections' ELSE '[]' END) o;
END;
COMMENT ON FUNCTION antiban.lead_llm_answer_slots(jsonb) IS
    'Internal: the slots of an LLM answer that matched the schema, one row each (objections one row per item).';

-- At start, calls a dead worker left in flight are closed (one worker: none is running).
CREATE FUNCTION antiban.lead_llm_close_abandoned() RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    closed integer;
BEGIN
    UPDATE antiban.lead_llm_calls c
    SET outcome = 'http_error', finished_at = antiban.now(),
        detail = 'no outcome recorded: the worker stopped during the call'
    WHERE c.outcome IS NULL;
    GET DIAGNOSTICS closed = ROW_COUNT;
    RETURN closed;
END
$$;
COMMENT ON FUNCTION antiban.lead_llm_close_abandoned() IS
    'Internal (the LLM worker, at start): calls left without an outcome by a worker that stopped are closed as http_error; their conversations come back when their lease ends.';

-- ------------------------------------------------------------ views

CREATE VIEW antiban.lead_llm_usage AS
SELECT c.portfolio_id, date_trunc('day', c.started_at, 'UTC')::date AS day,
       count(*) FILTER (WHERE c.outcome IS DISTINCT FROM 'over_budget') AS calls,
       count(*) FILTER (WHERE c.outcome = 'ok') AS ok,
       count(*) FILTER (WHERE c.outcome = 'timeout') AS timeouts,
       count(*) FILTER (WHERE c.outcome = 'http_error') AS http_errors,
       count(*) FILTER (WHERE c.outcome IN ('invalid_json', 'schema_mismatch', 'bad_evidence')) AS refused_answers,
       count(*) FILTER (WHERE c.outcome = 'over_budget') AS over_budget,
       sum(c.prompt_tokens) AS prompt_tokens, sum(c.completion_tokens) AS completion_tokens,
       round(avg(c.latency_ms)) AS mean_latency_ms
FROM antiban.lead_llm_calls c
GROUP BY 1, 2;
COMMENT ON VIEW antiban.lead_llm_usage IS
    'LLM calls per portfolio and UTC day: made (against antiban.lead_llm_daily_budget), by outcome, refused for the budget, tokens and mean latency.';
