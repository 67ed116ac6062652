-- A set of recipients enqueued in one call (antiban.send_template_many /
-- antiban.enqueue_many): every recipient gets what a single send_template
-- would give it, idempotency keys make one message each, and what would be
-- an error for one send is an error for the set.
\i regress/fixture.sql
UPDATE antiban.numbers SET rate_override = 1000, burst_override = 1000;

-- Each recipient through the single path (keys s:<tag>:<i>) and the set
-- path (m:<tag>:<i>): the decisions side by side.
CREATE FUNCTION pg_temp.both(tag text, recipients text[], category text DEFAULT 'marketing',
                             valid_until timestamptz DEFAULT NULL, portfolio text DEFAULT NULL)
RETURNS TABLE (ord integer, recipient text, state text, reason text, same_as_single boolean)
LANGUAGE plpgsql AS $$
DECLARE
    single bigint[] := '{}';
    many bigint[];
BEGIN
    FOR i IN 1 .. cardinality(recipients) LOOP
        single := single || antiban.send_template(recipients[i], 'boas_vindas', 'pt_BR', NULL, category,
            valid_until => valid_until, idempotency_key => format('s:%s:%s', tag, i), portfolio => portfolio);
    END LOOP;
    -- (a statement of its own: the rows it inserts are seen by the next)
    many := ARRAY(SELECT m.id FROM antiban.send_template_many(recipients, 'boas_vindas', 'pt_BR', NULL, category,
                      valid_until => valid_until, portfolio => portfolio,
                      idempotency_keys => ARRAY(SELECT format('m:%s:%s', tag, i) FROM generate_series(1, cardinality(recipients)) i)) m
                  ORDER BY m.ord);
    RETURN QUERY
    SELECT k.i::integer, recipients[k.i], o.state::text, o.reason,
           (o.state, o.reason, o.not_before, o.recipient, o.person_id, o.portfolio_id)
               IS NOT DISTINCT FROM (s.state, s.reason, s.not_before, s.recipient, s.person_id, s.portfolio_id)
    FROM generate_subscripts(recipients, 1) AS k(i)
    JOIN antiban.outbox o ON o.id = many[k.i]
    JOIN antiban.outbox s ON s.id = single[k.i]
    ORDER BY k.i;
END
$$;

-- ==== 1. the SQL surface ====
SELECT * FROM antiban.send_template_many(ARRAY['+5511987650001', '+5511987650002'], 'boas_vindas', 'pt_BR',
                                         ARRAY['["Ana", "Renda Fixa"]', '["Bia", "Fundos"]']::jsonb[]);
SELECT recipient, message_type, category, priority, state, reason, portfolio_id IS NOT NULL AS in_portfolio, payload
FROM antiban.outbox ORDER BY id;
-- one params for everyone; an empty set; a NULL set
SELECT count(*), min(state), max(state) FROM antiban.send_template_many(ARRAY['+5511987650003', '+5511987650004'],
    'boas_vindas', 'pt_BR', ARRAY['["Todos"]']::jsonb[], 'utility');
SELECT DISTINCT payload FROM antiban.outbox WHERE recipient IN ('+5511987650003', '+5511987650004');
SELECT count(*) FROM antiban.send_template_many('{}', 'boas_vindas', 'pt_BR');
SELECT count(*) FROM antiban.send_template_many(NULL, 'boas_vindas', 'pt_BR');

-- ==== 2. errors: the whole set, nothing queued ====
SELECT count(*) AS before FROM antiban.outbox \gset
SELECT * FROM antiban.send_template_many(ARRAY['+5511987650005', '+5511987650006'], 'boas_vindas', 'pt_BR',
                                         ARRAY['["a"]', '["b"]', '["c"]']::jsonb[]);
SELECT * FROM antiban.send_template_many(ARRAY['+5511987650005', '+5511987650006'], 'boas_vindas', 'pt_BR',
                                         idempotency_keys => ARRAY['k1']);
SELECT * FROM antiban.send_template_many(ARRAY['+5511987650005'], 'boas_vindas', 'pt_BR', category => 'service');
SELECT * FROM antiban.send_template_many(ARRAY['+5511987650005'], 'boas_vindas', 'pt_BR', category => 'promo');
SELECT * FROM antiban.send_template_many(ARRAY['+5511987650005'], 'boas_vindas', 'pt_BR', from_number => '9999');
SELECT * FROM antiban.enqueue_many(ARRAY['+5511987650005'], 'text', 'service', ARRAY['{"text": {"body": "oi"}}']::jsonb[]);
SELECT * FROM antiban.enqueue_many(ARRAY['+5511987650005'], 'text', 'service', NULL);
SELECT * FROM antiban.enqueue_many(ARRAY['+5511987650005'], 'text', 'service', ARRAY[NULL]::jsonb[]);
SELECT * FROM antiban.enqueue_many(ARRAY['+5511987650005'], 'read_receipt', 'service', ARRAY['{}']::jsonb[]);
SELECT * FROM antiban.enqueue_many(ARRAY['+5511987650005'], 'image', 'service', ARRAY['{"image": {}}']::jsonb[]);
SELECT count(*) - :before AS queued_by_errors FROM antiban.outbox;
-- free-form in a set: inside the window as one send; outside it, the error one send raises
SELECT antiban.open_service_window('+5511987650007', '1002');
SELECT state, reason FROM antiban.enqueue_many(ARRAY['+5511987650007'], 'text', 'service',
                                               ARRAY['{"text": {"body": "oi"}}']::jsonb[]);
SELECT * FROM antiban.enqueue_many(ARRAY['+5511987650007', '+5511987650008'], 'text', 'service',
                                   ARRAY['{"text": {"body": "oi"}}']::jsonb[]);

-- ==== 3. idempotency keys ====
SELECT antiban.send_template('+5511987650010', 'boas_vindas', 'pt_BR', idempotency_key => 'pedido-10') AS single_id \gset
SELECT m.ord, m.id = :single_id AS the_single_one, m.state
FROM antiban.send_template_many(ARRAY['+5511987650010', '+5511987650011', '+5511987650012', '+5511987650011', '+5511987650013'],
        'boas_vindas', 'pt_BR', idempotency_keys => ARRAY['pedido-10', 'pedido-11', NULL, 'pedido-11', NULL]) m
ORDER BY m.ord;
SELECT idempotency_key, count(*) FROM antiban.outbox WHERE recipient BETWEEN '+5511987650010' AND '+5511987650013'
GROUP BY 1 ORDER BY 1;
-- the same set again: the same messages, nothing new
SELECT count(*) AS before FROM antiban.outbox \gset
SELECT count(DISTINCT m.id) AS messages, bool_and(o.idempotency_key = k.key) AS own_keys
FROM antiban.send_template_many(ARRAY['+5511987650010', '+5511987650011'], 'boas_vindas', 'pt_BR',
        idempotency_keys => ARRAY['pedido-10', 'pedido-11']) m
JOIN antiban.outbox o ON o.id = m.id
JOIN unnest(ARRAY['pedido-10', 'pedido-11']) WITH ORDINALITY AS k(key, i) ON k.i = m.ord;
SELECT count(*) - :before AS new_rows FROM antiban.outbox;
-- and a single send of a key the set made returns the set's message
SELECT antiban.send_template('+5511987650011', 'boas_vindas', 'pt_BR', idempotency_key => 'pedido-11')
     = (SELECT id FROM antiban.outbox WHERE idempotency_key = 'pedido-11') AS same_id;

-- ==== 4. rejected rows, recorded with their reasons like single sends ====
SELECT antiban.set_marketing_opt_out('+5531988880301', '1001', true);
SELECT antiban.link_identifiers((SELECT id FROM antiban.portfolios WHERE business_id = '100'),
                                ARRAY['+5511955550700', 'BR.700abc'], 'operator') IS NOT NULL AS linked;
SELECT antiban.set_marketing_opt_out('BR.700abc', '1001', true);
-- opted out under another identifier (the same line without Brazil's ninth
-- digit; the phone of a BSUID that opted out), invalid recipients
SELECT * FROM pg_temp.both('optout', ARRAY['+553188880301', '+5511955550700', '+5511955550701', 'not a phone', NULL]);
SELECT o.recipient, o.state, o.reason, o.detail FROM antiban.outbox o
WHERE o.idempotency_key LIKE 'm:optout:%' ORDER BY o.idempotency_key;
-- utility templates are not marketing: the opt-out does not hold them
SELECT * FROM pg_temp.both('optout-utility', ARRAY['+553188880301', '+5511955550700'], 'utility');
-- a marketing opt-in required: no_opt_in, as a single send says
SET antiban.require_marketing_opt_in = on;
SELECT * FROM pg_temp.both('optin', ARRAY['+5511955550800', '+5511955550801']);
RESET antiban.require_marketing_opt_in;

-- ==== 5. the portfolio's 24 h budget exhausted: waits or rejects as one send ====
SELECT count(*) FILTER (WHERE outcome = 'SEND') AS reached
FROM generate_series(1, 250) i, antiban.decide('+55119' || lpad(i::text, 8, '0'), 'marketing');
SELECT used, remaining FROM antiban.portfolio_usage;
-- already reached (no new count), new people (wait for room), a window open (not counted)
SELECT antiban.open_service_window('+5511900000901', '1002');
SELECT * FROM pg_temp.both('budget', ARRAY['+5511900000007', '+5511900000900', '+5511900000901', '+5511900000902'], 'utility');
SELECT o.recipient, o.state, o.reason, o.not_before FROM antiban.outbox o
WHERE o.idempotency_key LIKE 'm:budget:%' ORDER BY o.idempotency_key;
-- valid for less than the wait: rejected now, as one send would
SELECT * FROM pg_temp.both('budget-valid', ARRAY['+5511900000007', '+5511900000903'], 'utility',
                           valid_until => '2030-01-01 06:00:00+00');

-- ==== 6. portfolios: a role mapped to one sends only from its own ====
INSERT INTO antiban.portfolios (business_id, name) VALUES ('101', 'Seguros BR');
INSERT INTO antiban.wabas (waba_id, portfolio_id, name) SELECT '300', id, 'Seguros' FROM antiban.portfolios WHERE business_id = '101';
INSERT INTO antiban.numbers (phone_number_id, waba_id, display_phone_number, health)
SELECT v.pid, w.id, v.display, 95 FROM antiban.wabas w,
    (VALUES ('3001', '+55 21 90000-3001'), ('3002', '+55 21 90000-3002')) AS v(pid, display) WHERE w.waba_id = '300';
SET client_min_messages = warning;
DROP ROLE IF EXISTS send_many_app, send_many_admin;
RESET client_min_messages;
CREATE ROLE send_many_app LOGIN IN ROLE antiban_app;
CREATE ROLE send_many_admin LOGIN IN ROLE antiban_admin;
SET ROLE send_many_admin;
SELECT antiban.grant_portfolio('send_many_app', '101') AS granted;
RESET ROLE;
-- unrestricted, two portfolios with numbers: the set must say which
SELECT * FROM antiban.send_template_many(ARRAY['+5511987650020'], 'boas_vindas', 'pt_BR');
SET ROLE send_many_app;
SELECT * FROM antiban.send_template_many(ARRAY['+5511987650020'], 'boas_vindas', 'pt_BR', portfolio => '100');
SELECT * FROM antiban.send_template_many(ARRAY['+5511987650020'], 'boas_vindas', 'pt_BR', from_number => '1001');
SELECT count(*) AS sent FROM antiban.send_template_many(ARRAY['+5511987650021', '+5511987650022', '+5511987650023'],
    'boas_vindas', 'pt_BR', idempotency_keys => ARRAY['app-21', 'app-22', 'app-23']);
RESET ROLE;
SELECT p.business_id, count(*) AS messages, bool_and(o.phone_number_id LIKE '300%') AS own_numbers
FROM antiban.outbox o JOIN antiban.portfolios p ON p.id = o.portfolio_id
WHERE o.idempotency_key LIKE 'app-%' GROUP BY 1;
-- keys are per portfolio: 'app-21' in portfolio 100 is another message, never 101's
SELECT m.id AS keyed_100, m.state FROM antiban.send_template_many(ARRAY['+5511987650025'], 'boas_vindas', 'pt_BR',
    portfolio => '100', idempotency_keys => ARRAY['app-21']) m \gset
SELECT :'state' AS state, p.business_id, o.recipient FROM antiban.outbox o JOIN antiban.portfolios p ON p.id = o.portfolio_id
WHERE o.id = :keyed_100;
SELECT count(*) AS two_messages_one_key FROM antiban.outbox WHERE idempotency_key = 'app-21';
-- the same recipients decided in the other portfolio: each portfolio its own person
SELECT * FROM pg_temp.both('p101', ARRAY['+553188880301', '+5511987650024'], portfolio => '101');
DROP OWNED BY send_many_app, send_many_admin;
DROP ROLE send_many_app, send_many_admin;

-- ==== 7. a template synced from Meta: parameters it does not take fail the set ====
SELECT count(*) AS before FROM antiban.outbox \gset
-- a template synced from Meta: parameters it does not take fail the set
INSERT INTO antiban.templates (waba_id, name, language, category, status, components)
SELECT w.id, 'pedido_pronto', 'pt_BR', 'UTILITY', 'APPROVED',
       '[{"type": "BODY", "text": "Seu pedido {{1}} está pronto"}]'
FROM antiban.wabas w WHERE w.waba_id = '200';
SELECT * FROM antiban.send_template_many(ARRAY['+5511987650005', '+5511987650006'], 'pedido_pronto', 'pt_BR',
                                         ARRAY['["42"]', '["42", "extra"]']::jsonb[], 'utility', portfolio => '100');
SELECT * FROM antiban.send_template_many(ARRAY['+5511987650005'], 'pedido_pronta', 'pt_BR', ARRAY['["42"]']::jsonb[], 'utility',
                                         portfolio => '100');
-- fitting parameters (looked up once for the set)
SELECT count(*) AS queued FROM antiban.send_template_many(ARRAY['+5511987650005', '+5511987650006'], 'pedido_pronto', 'pt_BR',
                                         ARRAY['["42"]', '["43"]']::jsonb[], 'utility', portfolio => '100');
SELECT count(*) - :before AS new_rows FROM antiban.outbox;
-- the template changes (a new version approved): the next send sees it, in
-- the transaction that changed it and after its commit, also in this session
-- that looked the old one up
BEGIN;
UPDATE antiban.templates SET components = '[{"type": "BODY", "text": "Pedido {{1}}: {{2}}"}]' WHERE name = 'pedido_pronto';
SELECT count(*) AS queued FROM antiban.send_template_many(ARRAY['+5511987650030'], 'pedido_pronto', 'pt_BR',
                                         ARRAY['["42", "pronto"]']::jsonb[], 'utility', portfolio => '100');
ROLLBACK;
SELECT antiban.send_template('+5511987650030', 'pedido_pronto', 'pt_BR', '["42", "pronto"]', 'utility', portfolio => '100');
UPDATE antiban.templates SET components = '[{"type": "BODY", "text": "Pedido {{1}}: {{2}}"}]' WHERE name = 'pedido_pronto';
SELECT count(*) AS queued FROM antiban.send_template_many(ARRAY['+5511987650030'], 'pedido_pronto', 'pt_BR',
                                         ARRAY['["42", "pronto"]']::jsonb[], 'utility', portfolio => '100');
SELECT antiban.send_template('+5511987650031', 'pedido_pronto', 'pt_BR', '["42"]', 'utility', portfolio => '100');
