-- Sending: what applications call.  Each returns the outbox id.

CREATE FUNCTION antiban.enqueue(
    recipient text, message_type text, category text, payload jsonb,
    priority text DEFAULT 'normal', valid_until timestamptz DEFAULT NULL,
    idempotency_key text DEFAULT NULL, metadata jsonb DEFAULT NULL, from_number text DEFAULT NULL,
    portfolio text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'antiban_enqueue' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.enqueue(text, text, text, jsonb, text, timestamptz, text, jsonb, text, text) IS
    'Validate a message against the Cloud API''s limits, decide (SEND, QUEUE or REJECT) and put it in the outbox. idempotency_key: NULL for none, else 1 to 255 characters, not blank (the same key again returns the same message). The send_* functions build the payload and call this. The portfolio (business_id) is the one named, from_number''s, or the only one the caller may use (antiban.role_portfolios) that has numbers; with more than one possible, an error asks which.';

CREATE FUNCTION antiban.template_language(code text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN coalesce((SELECT lower(m[1]) || coalesce('_' || upper(m[2]), '')
                 FROM regexp_match(btrim(code), '^([A-Za-z]{2,3})(?:(?:[-_]|\s+)([A-Za-z]{2}|[0-9]{3}))?$') m),
                replace(btrim(code), '-', '_'));
COMMENT ON FUNCTION antiban.template_language(text) IS
    'A template language code in Meta''s form: en-US, en_us, EN_US and en US are en_US; es-419 is es_419; pt is pt. A code of no such shape is kept as given (hyphens as underscores), since webhooks and polls must store what Meta posts. Sends are made with it, and templates are compared by it everywhere (sends, holds, webhooks, polls).';

-- params: NULL; an array of values (positional body parameters); an object of
-- named body parameters; or {"components": [...]} as the Cloud API takes it.
CREATE FUNCTION antiban.template_object(template_name text, language text, params jsonb)
RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN jsonb_build_object('name', template_name, 'language', jsonb_build_object('code', antiban.template_language(language)))
    || CASE
        WHEN params IS NULL OR params = 'null' THEN '{}'::jsonb
        WHEN jsonb_typeof(params) = 'object' AND params ? 'components' THEN
            jsonb_build_object('components', params -> 'components')
        WHEN jsonb_typeof(params) = 'array' AND jsonb_array_length(params) > 0
             AND jsonb_typeof(params -> 0) = 'object' AND params -> 0 ? 'type'
             AND params -> 0 ->> 'type' IN ('header', 'body', 'button') THEN
            jsonb_build_object('components', params)
        WHEN jsonb_typeof(params) = 'array' THEN
            jsonb_build_object('components', jsonb_build_array(jsonb_build_object('type', 'body',
                'parameters', (SELECT coalesce(jsonb_agg(jsonb_build_object('type', 'text', 'text', v #>> '{}')
                                                         ORDER BY i), '[]')
                               FROM jsonb_array_elements(params) WITH ORDINALITY AS e(v, i)))))
        WHEN jsonb_typeof(params) = 'object' THEN
            jsonb_build_object('components', jsonb_build_array(jsonb_build_object('type', 'body',
                'parameters', (SELECT coalesce(jsonb_agg(jsonb_build_object('type', 'text',
                                                   'parameter_name', k, 'text', v #>> '{}') ORDER BY k), '[]')
                               FROM jsonb_each(params) AS e(k, v)))))
        ELSE jsonb_build_object('components', params)
    END;
COMMENT ON FUNCTION antiban.template_object(text, text, jsonb) IS
    'The Cloud API "template" object for a template name, language code and parameters (array: positional; object: named; {"components": [...]}: as given).';

CREATE FUNCTION antiban.check_message(message_type text, category text, payload jsonb, from_number text DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'antiban_check_message' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.check_message(text, text, jsonb, text) IS
    'The checks antiban.enqueue makes on a message (Meta''s limits; for a template, the synced template''s parameters, header, buttons and category), queuing nothing: raises the error enqueue would, else returns.';

-- The error a template send with these parameters would raise (NULL: none).
CREATE FUNCTION antiban.template_params_problem(template_name text, language text, params jsonb, category text)
RETURNS text LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, antiban, pg_temp AS $$
BEGIN
    PERFORM antiban.check_message('template', category,
        jsonb_build_object('template', antiban.template_object(template_name, language, params)));
    RETURN NULL;
EXCEPTION WHEN data_exception OR undefined_object THEN
    RETURN SQLERRM;
END
$$;
COMMENT ON FUNCTION antiban.template_params_problem(text, text, jsonb, text) IS
    'Why antiban.send_template would refuse these parameters for this template (the error message), or NULL when it would queue them. Queues nothing.';

CREATE FUNCTION antiban.send_template(
    recipient text, template_name text, language text, params jsonb DEFAULT NULL,
    category text DEFAULT 'marketing', priority text DEFAULT 'normal',
    valid_until timestamptz DEFAULT NULL, idempotency_key text DEFAULT NULL,
    metadata jsonb DEFAULT NULL, from_number text DEFAULT NULL, portfolio text DEFAULT NULL)
RETURNS bigint LANGUAGE sql VOLATILE
RETURN antiban.enqueue(recipient, 'template', category,
    jsonb_build_object('template', antiban.template_object(template_name, language, params)),
    priority, valid_until, idempotency_key, metadata, from_number, portfolio);
COMMENT ON FUNCTION antiban.send_template(text, text, text, jsonb, text, text, timestamptz, text, jsonb, text, text) IS
    'Queue an approved template (category: marketing by default, utility or authentication). Returns the outbox id; the same idempotency_key twice returns the same id and sends once (a key is 1 to 255 characters, not blank: NULL for no key). portfolio (business_id) is needed only when the caller could reach more than one portfolio. metadata.frequency_caps (a campaign''s own caps, as antiban.frequency_caps) replaces the server''s caps for this message, when queued and when the sender claims it.';

-- A set of messages in one call: the rules of antiban.enqueue, once per set.
CREATE FUNCTION antiban.enqueue_many(
    recipients text[], message_type text, category text, payloads jsonb[],
    priority text DEFAULT 'normal', valid_until timestamptz DEFAULT NULL,
    idempotency_keys text[] DEFAULT NULL, metadata jsonb DEFAULT NULL, from_number text DEFAULT NULL,
    portfolio text DEFAULT NULL,
    OUT ord integer, OUT id bigint, OUT state text, OUT reason text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'antiban_enqueue_many' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.enqueue_many(text[], text, text, jsonb[], text, timestamptz, text[], jsonb, text, text) IS
    'antiban.enqueue for a whole set of recipients in one call: payloads holds one payload for all or one per recipient, idempotency_keys one key (or NULL) per recipient, each 1 to 255 characters and not blank (else an error naming the element). Every rule of a single enqueue applies to each row (consent, opt-outs on every identifier, windows, template, contact policy, buckets, the portfolio limit, the role''s portfolios); one row per recipient comes back: ord (its position), the outbox id, and the state and reason of that message (a key already used returns the message it made; a key repeated in the set makes one message). What would make a single enqueue an error makes the whole call an error; what it would reject is a rejected row.';

-- A set function's array of the wrong length, refused under the caller's own
-- argument name (send_template_many's params become enqueue_many's payloads).
CREATE FUNCTION antiban.refuse_set_length(argument text, got integer, recipients integer) RETURNS jsonb[]
-- (volatile: never folded at plan time, where CASE would not guard it)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RAISE EXCEPTION '% has % elements for % recipients', argument, got, recipients
        USING ERRCODE = 'array_subscript_error',
              HINT = 'Give one per recipient, in the same order, or one for all.';
END
$$;
COMMENT ON FUNCTION antiban.refuse_set_length(text, integer, integer) IS
    'Internal (antiban.send_template_many): the error for an array argument that has neither one element nor one per recipient.';

CREATE FUNCTION antiban.send_template_many(
    recipients text[], template_name text, language text, params jsonb[] DEFAULT NULL,
    category text DEFAULT 'marketing', priority text DEFAULT 'normal',
    valid_until timestamptz DEFAULT NULL, idempotency_keys text[] DEFAULT NULL,
    metadata jsonb DEFAULT NULL, from_number text DEFAULT NULL, portfolio text DEFAULT NULL)
RETURNS TABLE (ord integer, id bigint, state text, reason text)
LANGUAGE sql VOLATILE
BEGIN ATOMIC
    SELECT m.ord, m.id, m.state, m.reason
    FROM antiban.enqueue_many(recipients, 'template', category,
        CASE WHEN params IS NULL OR cardinality(params) <= 1
             THEN ARRAY[jsonb_build_object('template', antiban.template_object(template_name, language, params[1]))]
             WHEN cardinality(params) <> coalesce(cardinality(recipients), 0)
             THEN antiban.refuse_set_length('params', cardinality(params), coalesce(cardinality(recipients), 0))
             ELSE ARRAY(SELECT jsonb_build_object('template', antiban.template_object(template_name, language, p.v))
                        FROM unnest(params) WITH ORDINALITY AS p(v, i) ORDER BY p.i) END,
        priority, valid_until, idempotency_keys, metadata, from_number, portfolio) m;
END;
COMMENT ON FUNCTION antiban.send_template_many(text[], text, text, jsonb[], text, text, timestamptz, text[], jsonb, text, text) IS
    'Queue one template to many recipients in one call, e.g. SELECT count(*) FROM antiban.send_template_many((SELECT array_agg(phone) FROM customers), ''oferta'', ''pt_BR'', category => ''utility''). params: NULL, one value for everyone (ARRAY[...]) or one per recipient in the same order (array_agg(params ORDER BY ...)); idempotency_keys: one per recipient (1 to 255 characters, not blank) or NULL. Each recipient gets exactly what antiban.send_template would give it (the same rules, rejected rows with their reasons); returns (ord, id, state, reason) per recipient. A payload the template refuses fails the whole call, queuing nothing.';

CREATE FUNCTION antiban.send_text(
    recipient text, body text, preview_url boolean DEFAULT false, reply_to text DEFAULT NULL,
    priority text DEFAULT 'normal', valid_until timestamptz DEFAULT NULL,
    idempotency_key text DEFAULT NULL, metadata jsonb DEFAULT NULL, from_number text DEFAULT NULL,
    portfolio text DEFAULT NULL)
RETURNS bigint LANGUAGE sql VOLATILE
RETURN antiban.enqueue(recipient, 'text', 'service',
    jsonb_build_object('text', jsonb_build_object('body', body, 'preview_url', preview_url))
    || CASE WHEN reply_to IS NULL THEN '{}'::jsonb
            ELSE jsonb_build_object('context', jsonb_build_object('message_id', reply_to)) END,
    priority, valid_until, idempotency_key, metadata, from_number, portfolio);
COMMENT ON FUNCTION antiban.send_text(text, text, boolean, text, text, timestamptz, text, jsonb, text, text) IS
    'Queue a free-form text. Only inside the 24 h window the recipient opened: otherwise an error says to send a template.';

-- payload: {"type": "<type>", "<type>": {...}, "context": {"message_id": ...}}
CREATE FUNCTION antiban.send(
    recipient text, payload jsonb, category text DEFAULT 'service', priority text DEFAULT 'normal',
    valid_until timestamptz DEFAULT NULL, idempotency_key text DEFAULT NULL,
    metadata jsonb DEFAULT NULL, from_number text DEFAULT NULL, portfolio text DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF payload IS NULL OR jsonb_typeof(payload) <> 'object' OR NOT payload ? 'type' THEN
        RAISE EXCEPTION 'payload must be an object with a "type" and the object of that type'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'For example {"type": "image", "image": {"link": "https://..."}}.';
    END IF;
    RETURN antiban.enqueue(recipient, payload ->> 'type', category, payload - 'type', priority,
                           valid_until, idempotency_key, metadata, from_number, portfolio);
END
$$;
COMMENT ON FUNCTION antiban.send(text, jsonb, text, text, timestamptz, text, jsonb, text, text) IS
    'Queue any Cloud API message: image, video, audio, document, sticker, location, contacts, interactive (button, list, cta_url, flow), reaction, template; with an optional reply "context". Validated against Meta''s limits.';

CREATE FUNCTION antiban.mark_read(
    message_id text, phone_number_id text, typing_indicator boolean DEFAULT false)
RETURNS bigint LANGUAGE sql VOLATILE
RETURN antiban.enqueue(NULL, 'read_receipt', 'service',
    jsonb_build_object('status', 'read', 'message_id', message_id)
    || CASE WHEN typing_indicator THEN '{"typing_indicator": {"type": "text"}}'::jsonb ELSE '{}' END,
    'high', NULL, NULL, NULL, phone_number_id);
COMMENT ON FUNCTION antiban.mark_read(text, text, boolean) IS
    'Mark an inbound message as read (blue ticks), optionally showing a typing indicator for up to 25 s.';

CREATE FUNCTION antiban.cancel(message bigint) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, antiban, pg_temp
AS $$
DECLARE
    current antiban.message_state;
BEGIN
    IF message IS NULL THEN
        RAISE EXCEPTION 'message must not be null' USING ERRCODE = 'null_value_not_allowed',
            HINT = 'Pass the outbox id the send function returned.';
    END IF;
    -- a role restricted to some portfolios cancels only their messages (it can not tell the others exist)
    SELECT o.state INTO current FROM antiban.outbox o
    WHERE o.id = message
      AND (antiban.my_portfolios() IS NULL OR o.portfolio_id = ANY (antiban.my_portfolios()))
    FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no outbox message %', message USING ERRCODE = 'undefined_object';
    END IF;
    IF current NOT IN ('queued', 'retry_wait') THEN
        RETURN false;
    END IF;
    UPDATE antiban.outbox SET state = 'cancelled' WHERE id = message;
    RETURN true;
END
$$;
COMMENT ON FUNCTION antiban.cancel(bigint) IS
    'Cancel a message that has not left yet (queued or waiting to retry). Returns false when it is already on its way or done. A role restricted to some portfolios (antiban.role_portfolios) may cancel only their messages: another''s is "no outbox message".';
