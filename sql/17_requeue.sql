-- Requeue: an administrator sends dead and failed messages again, their
-- earlier life kept; an unknown one may have been delivered and needs force.
-- Also the circuit breaker's SQL side: its history, its alert, its view.
\i regress/fixture.sql
SET antiban.pinned_now = '2030-01-01 00:00:00+00';
\set SHOW_CONTEXT never
-- The rights src/sql/90_roles.sql grants: readers see, administrators requeue.
SELECT r AS role,
       has_function_privilege(r, 'antiban.requeue(bigint[], boolean)', 'EXECUTE') AS requeue,
       has_table_privilege(r, 'antiban.circuit_breakers', 'SELECT') AS breakers,
       has_table_privilege(r, 'antiban.breaker_events', 'SELECT') AS events,
       has_table_privilege(r, 'antiban.outbox_requeues', 'SELECT') AS requeues,
       has_function_privilege(r, 'antiban.circuit_breaker_states()', 'EXECUTE') AS states
FROM unnest(ARRAY['antiban_admin', 'antiban_app', 'antiban_reader', 'antiban_receiver']) r;

-- Six messages, left where a sender and Meta leave them.
SELECT count(antiban.send_template('+551198765001' || i, 'oferta', 'pt_BR', idempotency_key => 'rq-' || i))
FROM generate_series(1, 6) i;
SELECT id AS dead FROM antiban.outbox WHERE idempotency_key = 'rq-1' \gset
SELECT id AS failed FROM antiban.outbox WHERE idempotency_key = 'rq-2' \gset
SELECT id AS unknown FROM antiban.outbox WHERE idempotency_key = 'rq-3' \gset
SELECT id AS sent FROM antiban.outbox WHERE idempotency_key = 'rq-4' \gset
SELECT id AS queued FROM antiban.outbox WHERE idempotency_key = 'rq-5' \gset
SELECT id AS stale FROM antiban.outbox WHERE idempotency_key = 'rq-6' \gset
UPDATE antiban.outbox SET state = 'sending', attempts = 3, pair_hits = 1, phone_number_id = '1002'
WHERE id IN (:dead, :failed, :unknown, :sent, :stale);
UPDATE antiban.outbox SET state = 'dead', error_code = 131000, error_title = 'Something went wrong',
       reason = 'retries_exhausted'
WHERE id IN (:dead, :stale);
UPDATE antiban.outbox SET state = 'failed', error_code = 131026, error_title = 'Message undeliverable',
       wamid = 'wamid.FAILED', reason = 'permanent_error'
WHERE id = :failed;
UPDATE antiban.outbox SET state = 'unknown', reason = 'unconfirmed' WHERE id = :unknown;
UPDATE antiban.outbox SET state = 'sent', wamid = 'wamid.SENT' WHERE id = :sent;
UPDATE antiban.outbox SET valid_until = '2029-12-31 23:00+00' WHERE id = :stale;
SELECT idempotency_key, state, attempts FROM antiban.outbox WHERE idempotency_key LIKE 'rq-%' ORDER BY id;

-- Only administrators may requeue.
SET ROLE antiban_app;
SELECT antiban.requeue(ARRAY[:dead]::bigint[]);
RESET ROLE;
SET ROLE antiban_reader;
SELECT antiban.requeue(ARRAY[:dead]::bigint[]);
RESET ROLE;

SET ROLE antiban_admin;
-- All or nothing: an unknown id, a message that did not end undelivered,
-- one past its validity, nulls.
SELECT antiban.requeue(ARRAY[:dead, 999999, 999998]::bigint[]);
SELECT antiban.requeue(ARRAY[:dead, :sent, :queued]::bigint[]);
SELECT antiban.requeue(ARRAY[:stale]::bigint[]);
SELECT antiban.requeue(NULL);
SELECT antiban.requeue(ARRAY[:dead, NULL]::bigint[]);
-- An unknown message may have reached the person: not without force.
SELECT antiban.requeue(ARRAY[:dead, :unknown]::bigint[]);
RESET ROLE;
SELECT idempotency_key, state, attempts, requeue_count FROM antiban.outbox
WHERE idempotency_key LIKE 'rq-%' ORDER BY id;
SELECT count(*) AS no_history_yet FROM antiban.outbox_requeues;

-- Dead and failed go back to queued, due now, attempts from zero; a repeated
-- id counts once.
SET ROLE antiban_admin;
SELECT array_agg(r ORDER BY r) = ARRAY[:dead, :failed]::bigint[] AS requeued
FROM antiban.requeue(ARRAY[:failed, :dead, :dead]::bigint[]) r;
SELECT array_agg(r) = ARRAY[:unknown]::bigint[] AS forced FROM antiban.requeue(ARRAY[:unknown]::bigint[], force => true) r;
RESET ROLE;
SELECT idempotency_key, state, attempts, pair_hits, requeue_count, not_before, reason,
       detail = 'requeued by ' || session_user AS detail_names_the_caller, error_code, wamid
FROM antiban.outbox WHERE id IN (:dead, :failed, :unknown) ORDER BY id;

-- The earlier life of each, kept.
SELECT o.idempotency_key, r.from_state, r.state_at, r.attempts, r.pair_hits, r.error_code, r.error_title,
       r.wamid, r.reason, r.forced, r.requeued_at, r.requeued_by = session_user AS by_caller
FROM antiban.outbox_requeues r JOIN antiban.outbox o ON o.id = r.outbox_id ORDER BY r.id;

-- A second life that ends dead again: requeued again, both lives kept.
UPDATE antiban.outbox SET state = 'sending', attempts = 1 WHERE id = :dead;
UPDATE antiban.outbox SET state = 'dead', attempts = 3 WHERE id = :dead;
SELECT array_agg(r) = ARRAY[:dead]::bigint[] AS again FROM antiban.requeue(ARRAY[:dead]::bigint[]) r;
SELECT requeue_count, attempts, state FROM antiban.outbox WHERE id = :dead;
SELECT from_state, attempts FROM antiban.outbox_requeues WHERE outbox_id = :dead ORDER BY id;

-- Nothing else moves a message back from dead or failed: only a write that
-- counts a requeue, and only from dead, failed or unknown.
UPDATE antiban.outbox SET state = 'sending' WHERE id = :dead;
UPDATE antiban.outbox SET state = 'dead' WHERE id = :dead;
UPDATE antiban.outbox SET state = 'queued' WHERE id = :dead;
UPDATE antiban.outbox SET state = 'queued', requeue_count = requeue_count + 1 WHERE id = :sent;
SELECT state FROM antiban.outbox WHERE id IN (:dead, :sent) ORDER BY id;

-- ---- the circuit breaker's SQL side ----
-- No sender runs here: no endpoint has a breaker yet.
SET ROLE antiban_reader;
SELECT count(*) AS breakers FROM antiban.circuit_breakers;
RESET ROLE;
-- Its history: opening raises one alert per endpoint (one open alert an hour),
-- probes and closing raise none.
SELECT antiban.note_breaker_event('2030-01-01 00:00:01+00', 'http://graph.example/v24.0', 'closed', 'open',
    'connection_failures', 5, 0, '2030-01-01 00:00:02+00', '1 second', 'Could not connect to server');
SELECT antiban.note_breaker_event('2030-01-01 00:00:02+00', 'http://graph.example/v24.0', 'open', 'half_open',
    'probe_due', 5, 0, NULL, NULL, 'probe: GET 1001?fields=id');
SELECT antiban.note_breaker_event('2030-01-01 00:00:02+00', 'http://graph.example/v24.0', 'half_open', 'closed',
    'probe_answered', 0, 0, NULL, NULL, 'HTTP 200 to the probe');
SELECT antiban.note_breaker_event('2030-01-01 00:10:00+00', 'http://graph.example/v24.0', 'closed', 'open',
    'connection_failures', 5, 0, '2030-01-01 00:10:01+00', '1 second', 'Could not resolve host');
SELECT antiban.note_breaker_event('2030-01-01 00:10:00+00', 'http://other.example/v24.0', 'closed', 'open',
    'connection_failures', 5, 0, '2030-01-01 00:10:01+00', '1 second', 'Could not resolve host');
SELECT antiban.note_breaker_event('2030-01-01 00:10:00+00', 'http://other.example/v24.0', 'closed', 'open',
    'tired', 5, 0, NULL, NULL, '');
SELECT endpoint, from_state, to_state, reason, consecutive_failures, next_probe_at, probe_wait, detail
FROM antiban.breaker_events ORDER BY id;
SELECT subject, severity, kind, phone_number_id IS NULL AS no_number, detail ~ 'Sending is held' AS says_held
FROM antiban.alerts WHERE kind = 'endpoint_unreachable' ORDER BY id;
-- What the GET probe may use: a WABA with a token and management calls left.
SELECT * FROM antiban.breaker_probe_target(10);
SELECT antiban.set_secret('access_token', 'EAAG-requeue-token', '200');
SELECT waba, number_id, phone_number_id FROM antiban.breaker_probe_target(10);
INSERT INTO antiban.mgmt_calls (waba_id, path, http_status) SELECT 1, 'x', 200 FROM generate_series(1, 10);
SELECT count(*) AS no_budget_left FROM antiban.breaker_probe_target(10);
