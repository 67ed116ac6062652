-- idempotency_key edges of the send functions (README, Sending: "the same
-- key in the same portfolio returns the same id and sends once").
-- 1. An empty key is a key: an app that writes coalesce(key, '') for "no
--    key" gets the first message's id back for every later message, to
--    anyone, with any template, and those messages are never queued. '' must
--    be refused (invalid_parameter_value) or mean "no key", as NULL does.
-- 2. A long key fails inside the btree ("index row size ... exceeds btree
--    version 4 maximum 2704 for index outbox_idempotency", HINT "Consider a
--    function index of an MD5 hash"): the caller must get antiban's own
--    invalid_parameter_value naming idempotency_key, not a schema advice.
\i regress/fixture.sql
CREATE FUNCTION pg_temp.send(recipient text, key text) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    RETURN antiban.send_template(recipient, 'boas_vindas', 'pt_BR', '["Ana"]', category => 'utility',
                                 idempotency_key => key);
EXCEPTION WHEN invalid_parameter_value THEN
    RETURN -1;
END
$$;
CREATE TEMP TABLE sent AS
SELECT pg_temp.send('+5511987650001', '') AS ana, pg_temp.send('+5521987650002', '') AS bia;
-- refused, or two messages
SELECT ana = -1 OR (bia <> ana AND (SELECT count(*) FROM antiban.outbox) = 2) AS empty_key_shares_nothing FROM sent;
-- a 6,400-character key: antiban's own error (invalid_parameter_value), nothing queued
SELECT pg_temp.send('+5511987650003', (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 200) i)) = -1
    AS long_key_refused_clearly;
-- what the caller reads: the argument named, and what to do instead
SELECT antiban.send_template('+5511987650004', 'boas_vindas', 'pt_BR', '["Ana"]', category => 'utility',
                             idempotency_key => '');
SELECT antiban.send_text('+5511987650004', 'oi', idempotency_key => '  ');
SELECT antiban.send('+5511987650004', '{"type": "text", "text": {"body": "oi"}}', idempotency_key => repeat('k', 256));
-- 255 characters is a key like any other
SELECT pg_temp.send('+5511987650004', repeat('é', 255)) = pg_temp.send('+5511987650005', repeat('é', 255))
    AS longest_key_is_one_message;
-- each element of a set is checked, named by its position; nothing of the set is queued
SELECT count(*) AS before FROM antiban.outbox \gset
SELECT * FROM antiban.send_template_many(ARRAY['+5511987650006', '+5511987650007'], 'boas_vindas', 'pt_BR',
                                         ARRAY['["Ana"]']::jsonb[], category => 'utility',
                                         idempotency_keys => ARRAY['k6', '']);
SELECT * FROM antiban.enqueue_many(ARRAY['+5511987650006', '+5511987650007'], 'template', 'utility',
                                   ARRAY['{"template": {"name": "boas_vindas", "language": {"code": "pt_BR"}}}']::jsonb[],
                                   idempotency_keys => ARRAY[repeat('x', 300), 'k7']);
SELECT count(*) = :before AS nothing_queued FROM antiban.outbox;
-- NULL is no key: two messages
SELECT pg_temp.send('+5511987650006', NULL) <> pg_temp.send('+5511987650006', NULL) AS null_is_no_key;
