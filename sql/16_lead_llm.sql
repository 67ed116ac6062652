-- The optional LLM step of lead qualification: settings, the key as a
-- secret, the worker's claim (daily budget) and record (answers checked:
-- JSON, schema, quotes), slots applied as the model's features.  No HTTP
-- here: the worker's two SQL calls are made by hand (regress/t/070_lead_llm.pl
-- runs the worker against a mock endpoint).
\i regress/fixture.sql
SET antiban.lead_reasons = 8;
SET antiban.lead_reason_language = 'en';

-- ---- settings: off by default, an endpoint must be http(s) without credentials ----
SHOW antiban.lead_llm_url;
SHOW antiban.lead_llm_model;
SHOW antiban.lead_llm_timeout;
SHOW antiban.lead_llm_daily_budget;
SELECT antiban.lead_llm_enabled();
\set VERBOSITY default
ALTER SYSTEM SET antiban.lead_llm_url = 'ftp://llm.example/v1';
ALTER SYSTEM SET antiban.lead_llm_url = 'https://';
ALTER SYSTEM SET antiban.lead_llm_url = 'https://user:password@llm.example/v1/chat/completions';
ALTER SYSTEM SET antiban.lead_llm_timeout = '10ms';
SET antiban.lead_llm_url = 'http://127.0.0.1:1/v1/chat/completions';
\set VERBOSITY terse

-- ---- the key: a write-only secret ----
SELECT antiban.set_secret('llm_api_key', 'sk-test-0123456789abcdef');
SELECT kind, waba_id, length FROM antiban.secrets_status WHERE kind = 'llm_api_key';
SELECT antiban.set_secret('llm_api_key', 'sk-test-0123456789abcdef', '200');
SET ROLE antiban_admin;
SELECT value FROM antiban.secrets;
SELECT antiban.set_secret('llm_api_key', 'sk-test-fedcba9876543210');
RESET ROLE;

-- ---- a lead with three messages ----
INSERT INTO antiban.persons (portfolio_id, anchor) VALUES (1, '+5511999990001');
INSERT INTO antiban.contacts (portfolio_id, person_id, wa_id) VALUES (1, 1, '5511999990001');
INSERT INTO antiban.leads (portfolio_id, person_id) VALUES (1, 1);
INSERT INTO antiban.interactions (contact_id, direction, wamid, message_type, body, payload, occurred_at)
VALUES (1, 'in', 'wamid.1', 'text', 'Oi! Quero aplicar 50 mil num CDB', '{}', '2029-12-31 10:00+00'),
       (1, 'in', 'wamid.2', 'text', 'Mas só daqui a 2 anos. Vou pensar.', '{}', '2029-12-31 10:01+00'),
       (1, 'in', 'wamid.3', 'image', NULL, '{}', '2029-12-31 10:02+00');
-- with no endpoint configured, nothing is noted
SELECT count(*) FROM antiban.lead_llm_state;
SELECT * FROM antiban.lead_llm_messages(1);

-- ---- the schema and one slot at a time ----
SELECT jsonb_object_keys(antiban.lead_llm_answer_schema() -> 'properties') ORDER BY 1;
SELECT antiban.lead_llm_answer_schema() -> 'additionalProperties' AS closed;
SELECT * FROM antiban.lead_llm_check_slot('amount', NULL, 50000, 'quero aplicar 50 MIL', 1,
    '{1,2}', '{"Oi! Quero aplicar 50 mil num CDB","Mas só daqui a 2 anos."}');
SELECT * FROM antiban.lead_llm_check_slot('amount', NULL, 500000, 'quero aplicar 500 mil', 1,
    '{1,2}', '{"Oi! Quero aplicar 50 mil num CDB","Mas só daqui a 2 anos."}');
SELECT * FROM antiban.lead_llm_check_slot('product', 'cdb', NULL, 'CDB', 2,
    '{1,2}', '{"Oi! Quero aplicar 50 mil num CDB","Mas só daqui a 2 anos."}');
SELECT * FROM antiban.lead_llm_check_slot('product', 'cdb', NULL, 'CDB', 7, '{1}', '{"CDB"}');
SELECT * FROM antiban.lead_llm_check_slot('product', 'poupanca', NULL, 'CDB', 1, '{1}', '{"CDB"}');
SELECT * FROM antiban.lead_llm_check_slot('objection', 'later', NULL, '', 1, '{1}', '{"CDB"}');
SELECT * FROM antiban.lead_llm_check_slot('horizon', NULL, -3, 'anos', 1, '{1}', '{"2 anos"}');
SELECT * FROM antiban.lead_llm_check_slot('mood', 'happy', NULL, 'CDB', 1, '{1}', '{"CDB"}');
SELECT * FROM antiban.lead_llm_check_slot('product', 'cdb', NULL, 'CDB', 1, '{1,2}', '{"CDB"}');

-- ---- asking for a lead ----
SELECT antiban.request_lead_llm(999);
SELECT antiban.request_lead_llm(1);
SELECT conversation_id, portfolio_id, last_message_id, done_through FROM antiban.lead_llm_state;

-- ---- over budget: no call, one row, the next try tomorrow ----
SELECT * FROM antiban.lead_llm_claim('test-model', 0, 1000);
SELECT * FROM antiban.lead_llm_claim('test-model', 0, 1000);
SELECT conversation_id, model, outcome, detail, through_message_id FROM antiban.lead_llm_calls;
SELECT next_try_at FROM antiban.lead_llm_state;

-- A helper: claim (on the next day, within budget) and record one answer.
CREATE FUNCTION pg_temp.answer(status integer, failure text, body text) RETURNS TABLE (outcome text, detail text)
LANGUAGE plpgsql AS $$
DECLARE
    c record;
BEGIN
    PERFORM antiban.request_lead_llm(1);
    SELECT * INTO STRICT c FROM antiban.lead_llm_claim('test-model', 1000, 1000);
    PERFORM antiban.lead_llm_record(c.call_id, status, failure, 42, body);
    RETURN QUERY SELECT x.outcome::text, x.detail FROM antiban.lead_llm_calls x WHERE x.id = c.call_id;
END
$$;
CREATE FUNCTION pg_temp.envelope(content text) RETURNS text LANGUAGE sql AS $$
    SELECT jsonb_build_object('id', 'chatcmpl-1', 'object', 'chat.completion',
        'choices', jsonb_build_array(jsonb_build_object('index', 0, 'finish_reason', 'stop',
            'message', jsonb_build_object('role', 'assistant', 'content', content))),
        'usage', jsonb_build_object('prompt_tokens', 321, 'completion_tokens', 45, 'total_tokens', 366))::text
$$;
SET antiban.pinned_now = '2030-01-02 08:00:00+00';

-- the request: the lead's text messages with their ids, the strict schema, never the key
SELECT antiban.request_lead_llm(1);
SELECT call_id, conversation_id, r -> 'model' AS model, r -> 'temperature' AS temperature,
       r #> '{response_format,type}' AS format, r #> '{response_format,json_schema,strict}' AS strict,
       r #> '{response_format,json_schema,schema}' = antiban.lead_llm_answer_schema() AS schema,
       (r #>> '{messages,1,content}')::jsonb AS shown,
       position('sk-test' IN r::text) AS key_in_request
FROM antiban.lead_llm_claim('test-model', 10, 1000) c, LATERAL (SELECT c.request::jsonb) x(r);
-- a call in flight: no outcome yet, the conversation leased
SELECT id, outcome, messages, shown_ids, through_message_id FROM antiban.lead_llm_calls WHERE id = 2;
SELECT next_try_at FROM antiban.lead_llm_state;
SELECT * FROM antiban.lead_llm_claim('test-model', 10, 1000);

-- ---- answers refused, each recorded ----
SELECT antiban.lead_llm_record(2, NULL, 'timeout', 1000, NULL);
SELECT attempts, next_try_at, done_through FROM antiban.lead_llm_state;
SELECT antiban.lead_llm_record(2, 200, NULL, 5, '{}');   -- recorded already: unchanged
SELECT * FROM pg_temp.answer(500, NULL, '{"error": {"message": "Incorrect API key provided: sk-test-0123456789abcdef"}}');
SELECT * FROM pg_temp.answer(NULL, 'Could not connect to server (nothing was sent)', NULL);
SELECT * FROM pg_temp.answer(200, NULL, 'this is not JSON');
SELECT * FROM pg_temp.answer(200, NULL, NULL);
SELECT * FROM pg_temp.answer(200, NULL, pg_temp.envelope('{"amount": '));
SELECT * FROM pg_temp.answer(200, NULL, '{"choices": []}');
SELECT * FROM pg_temp.answer(200, NULL, '{"choices": [{"message": {"role": "assistant", "content": null, "refusal": "I cannot help"}}]}');
SELECT * FROM pg_temp.answer(200, NULL, pg_temp.envelope('[1, 2]'));
SELECT * FROM pg_temp.answer(200, NULL, pg_temp.envelope('{"amount": null, "horizon": null, "product": null}'));
SELECT * FROM pg_temp.answer(200, NULL, pg_temp.envelope(
    '{"amount": null, "horizon": null, "product": null, "objections": [], "score": 99}'));
SELECT * FROM pg_temp.answer(200, NULL, pg_temp.envelope(
    '{"amount": {"reais": "50 mil", "evidence": "50 mil", "message_id": 1}, "horizon": null, "product": null, "objections": []}'));
SELECT * FROM pg_temp.answer(200, NULL, pg_temp.envelope(
    '{"amount": null, "horizon": null, "product": {"value": "cdb", "evidence": "CDB", "message_id": 1.5}, "objections": []}'));
SELECT * FROM pg_temp.answer(200, NULL, pg_temp.envelope(
    '{"amount": null, "horizon": null, "product": null, "objections": [{"value": "later"}]}'));
-- schema right, a quote the lead never wrote: the whole answer is refused
SELECT * FROM pg_temp.answer(200, NULL, pg_temp.envelope(
    '{"amount": {"reais": 500000, "evidence": "quero aplicar 500 mil", "message_id": 1},
      "horizon": null, "product": {"value": "cdb", "evidence": "CDB", "message_id": 1}, "objections": []}'));
-- the lead's words, but not the number the model gives
SELECT * FROM pg_temp.answer(200, NULL, pg_temp.envelope(
    '{"amount": {"reais": 2000000, "evidence": "50 mil", "message_id": 1}, "horizon": null, "product": null,
      "objections": []}'));
SELECT * FROM pg_temp.answer(200, NULL, pg_temp.envelope(
    '{"amount": null, "horizon": null, "product": {"value": "cdb", "evidence": "CDB", "message_id": 3}, "objections": []}'));
SELECT * FROM pg_temp.answer(200, NULL, pg_temp.envelope(
    '{"amount": null, "horizon": null, "product": {"value": "savings", "evidence": "CDB", "message_id": 1}, "objections": []}'));
-- nothing was applied
SELECT count(*) FROM antiban.lead_features;
SELECT count(*) FROM antiban.lead_llm_calls WHERE slots IS NOT NULL;

-- ---- an accepted answer becomes features the model weighs ----
-- the rules already read "CDB" in an earlier message
SELECT antiban.note_lead_event(1, 'inbound', '2029-12-31 09:00+00', 'tem CDB?', portfolio => 1) IS NOT NULL AS scored;
SELECT features, feature_values FROM antiban.lead_features;
SELECT * FROM pg_temp.answer(200, NULL, pg_temp.envelope(
    '{"amount": {"reais": 50000, "evidence": "quero aplicar 50 mil", "message_id": 1},
      "horizon": {"months": 24, "evidence": "daqui a 2 anos", "message_id": 2},
      "product": {"value": "cdb", "evidence": "num CDB", "message_id": 1},
      "objections": [{"value": "later", "evidence": "Vou pensar", "message_id": 2}]}'));
SELECT outcome, latency_ms, http_status, prompt_tokens, completion_tokens,
       jsonb_pretty(slots) AS slots
FROM antiban.lead_llm_calls ORDER BY id DESC LIMIT 1;
-- amount 50k (42), horizon 1-5 years (51), later (63); CDB (1) counted by the rules and the LLM
SELECT features, feature_values FROM antiban.lead_features;
SELECT f.feature, c.name, round(f.weight::numeric, 2) > 0 AS pushes_up
FROM antiban.lead_features l, antiban.lead_vector(l.features, l.feature_values, l.engagement, antiban.now(),
                                                  antiban.active_lead_model(1)) f
JOIN antiban.lead_feature_catalog() c USING (feature)
WHERE f.feature IN (1, 42, 51, 63) ORDER BY 1;
-- the score is the model's; each slot it weighed is said with the lead's words
SELECT s.score = (antiban.lead_score(s.model_id, f.features, f.feature_values, f.engagement, antiban.now())).score
       AS model_score
FROM antiban.lead_scores s JOIN antiban.lead_features f USING (conversation_id);
SELECT r FROM antiban.lead_scores, jsonb_array_elements_text(reasons -> 'positive') r WHERE r LIKE '%LLM%'
UNION ALL
SELECT r FROM antiban.lead_scores, jsonb_array_elements_text(reasons -> 'negative') r WHERE r LIKE '%LLM%'
ORDER BY 1;
SELECT attempts, next_try_at, done_through = last_message_id AS read_all FROM antiban.lead_llm_state;
-- nothing new to read: nothing to claim
SELECT * FROM antiban.lead_llm_claim('test-model', 10, 1000);

-- ---- a later answer replaces the earlier one's features; the rules' count stays ----
SELECT * FROM pg_temp.answer(200, NULL, pg_temp.envelope(
    '{"amount": {"reais": 50000, "evidence": "50 mil", "message_id": 1}, "horizon": null, "product": null,
      "objections": []}'));
SELECT features, feature_values FROM antiban.lead_features;
SELECT r FROM antiban.lead_scores, jsonb_array_elements_text(reasons -> 'positive') r WHERE r LIKE '%LLM%';

-- ---- an answer is checked against the messages its call showed, whatever arrived since ----
SELECT antiban.request_lead_llm(1);
SELECT call_id AS during FROM antiban.lead_llm_claim('test-model', 1000, 1000) \gset
INSERT INTO antiban.interactions (contact_id, direction, wamid, message_type, body, payload, occurred_at)
SELECT 1, 'in', 'wamid.more.' || g, 'text', 'mais uma pergunta sobre CDB ' || g, '{}', '2030-01-02 08:00+00'
FROM generate_series(1, 25) g;
SELECT antiban.lead_llm_record(:during, 200, NULL, 10, pg_temp.envelope(
    '{"amount": {"reais": 50000, "evidence": "quero aplicar 50 mil", "message_id": 1}, "horizon": null,
      "product": null, "objections": []}'));
SELECT cardinality(shown_ids) AS shown, through_message_id FROM antiban.lead_llm_calls WHERE id = :during;
-- (with no endpoint configured the trigger notes nothing: asked by hand) the next call shows the 20 newest
SELECT last_message_id > done_through AS news FROM antiban.lead_llm_state;
SELECT antiban.request_lead_llm(1);
SELECT call_id AS during FROM antiban.lead_llm_claim('test-model', 1000, 1000) \gset
SELECT cardinality(shown_ids) AS shown, shown_ids[1] AS oldest_shown, through_message_id
FROM antiban.lead_llm_calls WHERE id = :during;
SELECT antiban.lead_llm_record(:during, 200, NULL, 10, pg_temp.envelope(
    '{"amount": null, "horizon": null, "product": {"value": "cdb", "evidence": "sobre CDB 25", "message_id": 28},
      "objections": []}'));

-- ---- an answer that cannot be applied is still recorded, not left in flight ----
UPDATE antiban.lead_features SET features = '{2000000000}', feature_values = '{1}';
SELECT * FROM pg_temp.answer(200, NULL, pg_temp.envelope(
    '{"amount": null, "horizon": null, "product": {"value": "cdb", "evidence": "CDB", "message_id": 28},
      "objections": []}'));
SELECT count(*) AS in_flight FROM antiban.lead_llm_calls WHERE outcome IS NULL;

-- ---- the record: usage per day, nothing secret anywhere ----
SELECT portfolio_id, day, calls, ok, timeouts, http_errors, refused_answers, over_budget,
       prompt_tokens, completion_tokens
FROM antiban.lead_llm_usage ORDER BY day;
SELECT count(*) AS key_seen FROM antiban.lead_llm_calls c
WHERE c::text LIKE '%sk-test%' OR c::text LIKE '%0123456789abcdef%';
SELECT outcome, count(*) FROM antiban.lead_llm_calls GROUP BY 1 ORDER BY 1;
SELECT antiban.lead_llm_calls_today(1);

-- a call a dead worker left in flight is closed at the worker's next start
SELECT antiban.request_lead_llm(1);
SELECT call_id IS NOT NULL AS claimed FROM antiban.lead_llm_claim('test-model', 100, 1000);
SELECT antiban.lead_llm_close_abandoned();
SELECT outcome, detail FROM antiban.lead_llm_calls ORDER BY id DESC LIMIT 1;

-- ---- who sees what ----
SET ROLE antiban_reader;
SELECT count(*) > 0 AS reader_sees_calls FROM antiban.lead_llm_calls;
SELECT count(*) >= 0 AS reader_sees_usage FROM antiban.lead_llm_usage;
SELECT count(*) AS reader_sees_state FROM antiban.lead_llm_state;
SELECT antiban.request_lead_llm(1);
SELECT antiban.lead_llm_record(1, 200, NULL, 1, '{}');
RESET ROLE;
SET ROLE antiban_admin;
SELECT antiban.request_lead_llm(1);
SELECT * FROM antiban.lead_llm_claim('test-model', 100, 1000);
RESET ROLE;
