-- Lead-flow benchmark bodies, signed like Meta, in the webhook benchmark's
-- mix (bench/webhook_bodies.sql): three POSTs of 10 statuses to one POST of
-- an inbound message.  Each of :sets sets has :persons people who write
-- (their first message makes a lead; every second one writes again later:
-- the lead engages, some qualify and are assigned) among the recipients of
-- a marketing template whose delivered and read statuses come back (the
-- leads' own templates among them).  Set s's bodies are k / 10^7 = s,
-- posted in order n (n_in: its inbound messages alone).  psql variables: sets, persons, secret.
CREATE EXTENSION IF NOT EXISTS pgcrypto;

-- recipients per set: enough that statuses are 3 POSTs per inbound POST
SELECT (:persons * 3 * 3 / 2 * 10 / 2) AS recipients \gset
SELECT count(antiban.send_template('+55219' || lpad((s * 1000000 + i)::text, 8, '0'), 'oferta', 'pt_BR'))
FROM generate_series(0, :sets - 1) s, generate_series(1, :recipients) i;
UPDATE antiban.outbox SET state = 'sent', wamid = 'wamid.LFB' || id;
ANALYZE antiban.outbox;
CREATE TEMP TABLE bench_people AS
SELECT s, i, i <= :persons AS writes, '55219' || lpad((s * 1000000 + i)::text, 8, '0') AS wa,
       'wamid.LFB' || (SELECT o.id FROM antiban.outbox o WHERE o.recipient = '+55219' || lpad((s * 1000000 + i)::text, 8, '0')) AS wamid
FROM generate_series(0, :sets - 1) s, generate_series(1, :recipients) i;

SELECT extract(epoch FROM now())::bigint - 3600 AS t0 \gset
CREATE TEMP TABLE texts (n int, body text);
INSERT INTO texts VALUES (0, 'Olá, quero saber mais sobre o CDB'), (1, 'Hola, ¿cuánto rinde el fondo?'),
    (2, 'Tenho R$ 100 mil para investir em LCI, prazo de 2 anos'), (3, 'Qual é a taxa de administração?'),
    (4, 'Obrigado, vou pensar'), (5, 'Quero abrir conta hoje, podemos falar?');

CREATE FUNCTION pg_temp.message(wa text, wamid text, at bigint, body text) RETURNS text LANGUAGE sql
RETURN format('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"value":'
       '{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000001","phone_number_id":"4000001"},'
       '"contacts":[{"profile":{"name":"Lead"},"wa_id":"%s"}],'
       '"messages":[{"from":"%s","id":"%s","timestamp":"%s","type":"text","text":{"body":"%s"}}]},'
       '"field":"messages"}]}]}', wa, wa, wamid, at, body);

-- place: where in its set a body is posted (0 to 1)
CREATE UNLOGGED TABLE bench_bodies AS
SELECT p.s AS set, 0.6 * p.i / :persons AS place,
       pg_temp.message(p.wa, 'wamid.A' || p.wa, :t0 + p.i, (SELECT t.body FROM texts t WHERE t.n = p.i % 6)) AS body
FROM bench_people p WHERE p.writes
UNION ALL
SELECT p.s, 0.6 + 0.4 * p.i / :persons,
       pg_temp.message(p.wa, 'wamid.B' || p.wa, :t0 + 2000 + p.i, (SELECT t.body FROM texts t WHERE t.n = (p.i + 2) % 6))
FROM bench_people p WHERE p.writes AND p.i % 2 = 0
UNION ALL
SELECT b.s, (b.j * 2 + b.x)::numeric / (2 * :recipients / 10),
       format('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"value":'
              '{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000001","phone_number_id":"4000001"},'
              '"statuses":[%s]},"field":"messages"}]}]}', b.statuses)
FROM (SELECT p.s, (p.i - 1) / 10 AS j, x.n AS x,
             string_agg(format('{"id":"%s","status":"%s","timestamp":"%s","recipient_id":"%s"}',
                               p.wamid, x.status, :t0 + 1000 + p.i, p.wa), ',' ORDER BY p.i) AS statuses
      FROM bench_people p CROSS JOIN (VALUES (0, 'delivered'), (1, 'read')) x(n, status)
      GROUP BY p.s, (p.i - 1) / 10, x.n) b;
ALTER TABLE bench_bodies ADD COLUMN signature text, ADD COLUMN n bigint, ADD COLUMN n_in bigint, ADD COLUMN inbound boolean;
UPDATE bench_bodies SET signature = 'sha256=' || encode(hmac(convert_to(body, 'UTF8'), :'secret', 'sha256'), 'hex'),
    inbound = body LIKE '%"messages":[%';
UPDATE bench_bodies b SET n = r.n
FROM (SELECT ctid AS c, row_number() OVER (PARTITION BY set ORDER BY place, body) AS n FROM bench_bodies) r
WHERE r.c = b.ctid;
UPDATE bench_bodies b SET n_in = r.n
FROM (SELECT ctid AS c, row_number() OVER (PARTITION BY set ORDER BY place, body) AS n FROM bench_bodies WHERE inbound) r
WHERE r.c = b.ctid;
CREATE UNIQUE INDEX ON bench_bodies (set, n);
CREATE UNIQUE INDEX ON bench_bodies (set, n_in);
