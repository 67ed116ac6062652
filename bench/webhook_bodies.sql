-- Webhook benchmark bodies, signed like Meta (HMAC-SHA256 of the exact bytes
-- with the app secret): status batches for messages already in the outbox
-- (half 'delivered', then half 'read', with PMP pricing) interleaved with
-- inbound text messages from new leads, three batches to one inbound.
-- psql variables: status_posts, per_post, inbound_posts, secret.
-- The bodies land in bench_bodies (k, body, signature), in posting order k.
CREATE EXTENSION IF NOT EXISTS pgcrypto;

-- the messages the statuses are about: sent, with a wamid
SELECT count(antiban.send_template('+5511' || lpad(i::text, 9, '0'), 'oferta', 'pt_BR'))
FROM generate_series(1, :status_posts * :per_post / 2) i;
UPDATE antiban.outbox SET state = 'sent', wamid = 'wamid.BENCH' || id, sent_at = now();
ANALYZE antiban.outbox;

CREATE TEMP TABLE bench_rows AS
SELECT row_number() OVER (ORDER BY id) - 1 AS n, id, wamid, phone_number_id, ltrim(recipient, '+') AS wa_id
FROM antiban.outbox;
CREATE INDEX ON bench_rows (n);

-- event times just before the run: later ones would be clamped (and noted) as absurd
SELECT extract(epoch FROM now())::bigint - :status_posts - :inbound_posts AS t0 \gset

CREATE UNLOGGED TABLE bench_bodies AS
WITH statuses AS (
    SELECT j, (j * 4) / 3.0 AS k,
           CASE WHEN j < :status_posts / 2 THEN 'delivered' ELSE 'read' END AS status,
           (j % (:status_posts / 2)) * :per_post AS first
    FROM generate_series(0, :status_posts - 1) j
)
SELECT s.k, format('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"value":'
       '{"messaging_product":"whatsapp","metadata":{"display_phone_number":"55119%s","phone_number_id":"%s"},'
       '"statuses":[%s]},"field":"messages"}]}]}',
       min(r.phone_number_id), min(r.phone_number_id),
       string_agg(format('{"id":"%s","status":"%s","timestamp":"%s","recipient_id":"%s","biz_opaque_callback_data":"%s",'
                         '"pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing"}}',
                         r.wamid, s.status, :t0 + s.j, r.wa_id, r.id), ',' ORDER BY r.n)) AS body
FROM statuses s JOIN bench_rows r ON r.n >= s.first AND r.n < s.first + :per_post
GROUP BY s.j, s.k, s.status
UNION ALL
SELECT m * 4 + 3, format('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"value":'
       '{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000001","phone_number_id":"4000001"},'
       '"contacts":[{"profile":{"name":"Lead %s"},"wa_id":"55219%s"}],'
       '"messages":[{"from":"55219%s","id":"wamid.IN%s","timestamp":"%s","type":"text","text":{"body":"%s"}}]},'
       '"field":"messages"}]}]}',
       m, lpad(m::text, 8, '0'), lpad(m::text, 8, '0'), m, :t0 + m,
       (ARRAY['Olá, quero saber mais sobre o fundo de renda fixa', 'Hola, ¿cuánto rinde el CDB?',
              'Qual é a taxa de administração?', 'Me interesa invertir, ¿me llaman?'])[1 + m % 4])
FROM generate_series(0, :inbound_posts - 1) m;

ALTER TABLE bench_bodies ADD COLUMN signature text;
UPDATE bench_bodies SET signature = 'sha256=' || encode(hmac(convert_to(body, 'UTF8'), :'secret', 'sha256'), 'hex');
