-- The demo, part two: a campaign queued in SQL and drained to the Cloud API
-- simulator by the sender worker.  Ana wrote in (her 24 h window is open);
-- Bruno answered PARE (no more marketing to him).
\pset footer off
\echo
\echo '== Secrets are write-only: set with antiban.set_secret, seen only as their length'
SELECT antiban.set_secret('access_token', 'EAAG-demo-token-not-a-real-one', '2000000001') \g /dev/null
SELECT kind, waba_id, length AS characters FROM antiban.secrets_status ORDER BY kind;
\echo '== A campaign of 300 leads (marketing), 20 order updates (utility) and one free-form reply'
SELECT count(antiban.send_template('+55219' || lpad(i::text, 8, '0'), 'oferta_cdb', 'pt_BR',
                                   jsonb_build_array('Lead ' || i, '12,5% a.a.'),
                                   metadata => jsonb_build_object('campaign', 'cdb-novembro')))
       AS marketing_queued
FROM generate_series(1, 300) i;
SELECT count(antiban.send_template('+55219' || lpad(i::text, 8, '0'), 'atualizacao_pedido', 'pt_BR',
                                   jsonb_build_array('#' || i), 'utility', 'high'))
       AS utility_queued
FROM generate_series(1, 20) i;
SELECT antiban.send_text('+5521900000001', 'Oi! Sou o assessor. Quer agendar uma conversa?') AS reply_id;
