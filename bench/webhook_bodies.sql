-- Webhook benchmark bodies, signed like Meta (HMAC-SHA256 of the exact bytes
-- with the app secret): status POSTs for messages already in the outbox
-- (first every message 'delivered', then every one 'read', with PMP
-- pricing), per_post statuses in each, interleaved with inbound text
-- messages from new leads, one after every statuses_per_inbound status POSTs.
-- psql variables: mix (a name), status_posts, per_post, statuses_per_inbound,
-- secret.  The bodies land in bench_bodies (mix, k, body, signature), in
-- posting order k; messages are created as needed (each status POST of a
-- mix has messages of its own, so mixes never touch each other's rows).
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE UNLOGGED TABLE IF NOT EXISTS bench_bodies (mix text, k numeric, body text, signature text);

SELECT coalesce(max(id), 0) AS first_before FROM antiban.outbox \gset
-- the messages the statuses are about: sent, with a wamid
SELECT count(antiban.send_template('+55' || (11 + length(:'mix')) || lpad(i::text, 9, '0'), 'oferta', 'pt_BR'))
FROM generate_series(1, :status_posts * :per_post / 2) i;
UPDATE antiban.outbox SET state = 'sent', wamid = 'wamid.BENCH' || id, sent_at = now() WHERE id > :first_before;

CREATE TEMP TABLE bench_rows AS
SELECT row_number() OVER (ORDER BY id) - 1 AS n, id, wamid, phone_number_id, ltrim(recipient, '+') AS wa_id
FROM antiban.outbox WHERE id > :first_before;
CREATE INDEX ON bench_rows (n);
ANALYZE bench_rows;

-- event times just before the run: later ones would be clamped (and noted) as absurd
SELECT extract(epoch FROM now())::bigint - :status_posts AS t0 \gset

INSERT INTO bench_bodies (mix, k, body)
WITH statuses AS (
    SELECT j, j * (:statuses_per_inbound + 1) / :statuses_per_inbound::numeric AS k,
           CASE WHEN j < :status_posts / 2 THEN 'delivered' ELSE 'read' END AS status,
           (j % (:status_posts / 2)) * :per_post AS first
    FROM generate_series(0, :status_posts - 1) j
)
SELECT :'mix', s.k, format('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"value":'
       '{"messaging_product":"whatsapp","metadata":{"display_phone_number":"55119%s","phone_number_id":"%s"},'
       '"statuses":[%s]},"field":"messages"}]}]}',
       min(r.phone_number_id), min(r.phone_number_id),
       string_agg(format('{"id":"%s","status":"%s","timestamp":"%s","recipient_id":"%s","biz_opaque_callback_data":"%s",'
                         '"pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing"}}',
                         r.wamid, s.status, :t0 + s.j, r.wa_id, r.id), ',' ORDER BY r.n))
FROM statuses s JOIN bench_rows r ON r.n >= s.first AND r.n < s.first + :per_post
GROUP BY s.j, s.k, s.status
UNION ALL
SELECT :'mix', m * (:statuses_per_inbound + 1) + :statuses_per_inbound,
       format('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"value":'
       '{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000001","phone_number_id":"4000001"},'
       '"contacts":[{"profile":{"name":"Lead %s"},"wa_id":"55%s9%s"}],'
       '"messages":[{"from":"55%s9%s","id":"wamid.IN%s.%s","timestamp":"%s","type":"text","text":{"body":"%s"}}]},'
       '"field":"messages"}]}]}',
       m, 21 + length(:'mix'), lpad(m::text, 8, '0'), 21 + length(:'mix'), lpad(m::text, 8, '0'), :'mix', m,
       :t0 + m * :statuses_per_inbound,
       (ARRAY['Olá, quero saber mais sobre o fundo de renda fixa', 'Hola, ¿cuánto rinde el CDB?',
              'Qual é a taxa de administração?', 'Me interesa invertir, ¿me llaman?'])[1 + m % 4])
FROM generate_series(0, :status_posts / :statuses_per_inbound - 1) m;

UPDATE bench_bodies SET signature = 'sha256=' || encode(hmac(convert_to(body, 'UTF8'), :'secret', 'sha256'), 'hex')
WHERE mix = :'mix';
