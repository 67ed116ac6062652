-- Stop requests: classify_stop reads phrases, not whole-message keywords;
-- doubtful ones wait in stop_reviews for a person.
\i regress/fixture.sql

-- The issue's examples: requests as people write them, and what is not one.
SELECT m AS message, c.*
FROM (VALUES ('Não quero mais receber mensagens'), ('Sair da lista'), ('por favor, parar'),
             ('Parar, obrigado'), ('No quiero recibir más mensajes'), ('dame de baja'), ('stop please'),
             ('nao qro mais receber msg'), ('PARAAAA'), ('não quero sair'), ('no me den de baja'),
             ('Para quando é o pagamento?'), ('quero cancelar a reunião'), ('parar de fumar foi ótimo'),
             ('I''ll stop by the office'), ('quanto rende o CDB?'), ('Cancelar'), ('não tenho interesse'),
             ('Se continuar mandando mensagem vou sair da lista')) AS v(m),
     antiban.classify_stop(m) c;

-- A reply to a button the business defined: a stop only for an opt-out payload.
SELECT m AS message, s AS source, c.verdict, c.rule
FROM (VALUES ('Cancel', 'button'), ('Cancelar', 'interactive'), ('Parar promoções', 'button'),
             ('STOP_PROMO', 'button'), ('Stop promotions', 'interactive'), ('Sim, quero saber mais', 'button')) AS v(m, s),
     antiban.classify_stop(m, s) c;

-- A stop word amid a long message is for a person; an explicit phrase is not.
SELECT verdict, rule FROM antiban.classify_stop('Eu falei com o assessor ontem e ele disse que ia me mandar a proposta mas nada, parem');
SELECT verdict, rule FROM antiban.classify_stop('Eu falei com o assessor ontem e ele disse que ia me mandar a proposta mas nada, não quero mais receber mensagens');

-- Bad and missing input.
SELECT * FROM antiban.classify_stop('PARAR', 'image');
SELECT * FROM antiban.classify_stop(NULL);
SELECT * FROM antiban.classify_stop('');

-- is_opt_out keeps answering yes only for a stop.
SELECT m AS message, antiban.is_opt_out(m)
FROM (VALUES ('PARAR'), ('Não quero mais receber mensagens'), ('Cancel'), ('não tenho interesse'), ('não quero sair')) AS v(m);

-- Reviews: nothing is blocked until a person answers.
INSERT INTO antiban.contacts (wa_id, profile_name, last_phone_number_id)
VALUES ('5511955550009', 'Lia', '1001'), ('5511955550010', 'Rui', '1001');
INSERT INTO antiban.stop_reviews (contact_id, wamid, phone_number_id, message, verdict, rule, explanation)
SELECT k.id, 'wamid.R' || k.wa_id, '1001', m, c.verdict, c.rule, c.explanation
FROM antiban.contacts k
JOIN (VALUES ('5511955550009', 'não tenho interesse'), ('5511955550010', 'vou denunciar vocês')) AS v(wa, m) ON v.wa = k.wa_id,
     antiban.classify_stop(m) c;
SELECT id, wamid, verdict, rule, resolution FROM antiban.stop_reviews ORDER BY id;
SELECT outcome, reason FROM antiban.decide('+5511955550009', 'marketing', consume => false);

-- Resolved as a stop: marketing is rejected at once.
SELECT antiban.resolve_stop_review(1, true);
SELECT wa_id, marketing_opt_out, opt_out_source FROM antiban.contacts WHERE wa_id = '5511955550009';
SELECT outcome, reason FROM antiban.decide('+5511955550009', 'marketing', consume => false);
SELECT outcome, reason FROM antiban.decide('+5511955550009', 'utility', consume => false);
-- a retry changes nothing; a stop is never taken back by a review
SELECT antiban.resolve_stop_review(1, true);
SELECT antiban.resolve_stop_review(1, false);

-- Resolved as not a stop: nothing changes; a reviewer may still change it to a stop.
SELECT antiban.resolve_stop_review(2, false);
SELECT outcome, reason FROM antiban.decide('+5511955550010', 'marketing', consume => false);
SELECT antiban.resolve_stop_review(2, true);
SELECT outcome, reason FROM antiban.decide('+5511955550010', 'marketing', consume => false);
SELECT id, resolution, resolved_at, resolved_by IS NOT NULL AS by_someone FROM antiban.stop_reviews ORDER BY id;

SELECT antiban.resolve_stop_review(99, true);
-- one review per inbound message (Meta retries webhooks)
INSERT INTO antiban.stop_reviews (wamid, message, verdict, rule, explanation)
VALUES ('wamid.R5511955550009', 'x', 'doubtful', 'r', 'e');
INSERT INTO antiban.stop_reviews (message, verdict, rule, explanation, resolution)
VALUES ('x', 'doubtful', 'r', 'e', 'maybe');
