-- Sending: the send functions validate against Meta's limits, decide, and
-- queue; the outbox keeps every message on its state machine.
\i regress/fixture.sql
SET antiban.pinned_now = '2030-01-01 00:00:00+00';

-- Templates: positional, named, or components as the Cloud API takes them.
SELECT antiban.send_template('+5511987650001', 'boas_vindas', 'pt_BR', '["Ana", "Renda Fixa"]') AS id;
SELECT antiban.send_template('+5511987650002', 'boas_vindas', 'pt_BR', '{"nome": "Ana"}', 'utility') AS id;
SELECT antiban.send_template('+5511987650003', 'codigo', 'pt_BR',
    '{"components": [{"type": "body", "parameters": [{"type": "text", "text": "123456"}]},
                     {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "123456"}]}]}',
    'authentication', 'critical') AS id;
SELECT id, recipient, message_type, category, priority, state, phone_number_id, reason, payload
FROM antiban.outbox ORDER BY id;

-- The same idempotency key twice: one message.
SELECT antiban.send_template('+5511987650004', 'pedido', 'pt_BR', '["42"]', 'utility', idempotency_key => 'pedido-42')
     = antiban.send_template('+5511987650004', 'pedido', 'pt_BR', '["42"]', 'utility', idempotency_key => 'pedido-42')
     AS same_id;
SELECT count(*) FROM antiban.outbox WHERE idempotency_key = 'pedido-42';

-- Free-form text only inside the window the recipient opened.
SELECT antiban.send_text('+5511987650005', 'Olá!');
SELECT antiban.open_service_window('+5511987650005', '1002');
SELECT antiban.send_text('+5511987650005', 'Olá! Como posso ajudar?', reply_to => 'wamid.IN42') AS id;
SELECT phone_number_id, reason, payload FROM antiban.outbox WHERE recipient = '+5511987650005';

-- Every other type, through antiban.send (inside the window).
CREATE TEMP TABLE other_types AS
    SELECT antiban.send('+5511987650005', p) AS id FROM (VALUES
    ('{"type": "image", "image": {"link": "https://cdn.example.com/oferta.jpg", "caption": "Oferta"}}'::jsonb),
    ('{"type": "document", "document": {"id": "1234567890", "filename": "proposta.pdf"}}'),
    ('{"type": "audio", "audio": {"id": "998877", "voice": true}}'),
    ('{"type": "sticker", "sticker": {"id": "5566"}}'),
    ('{"type": "video", "video": {"link": "https://cdn.example.com/v.mp4"}}'),
    ('{"type": "location", "location": {"latitude": -23.5614, "longitude": -46.6559, "name": "Av. Paulista"}}'),
    ('{"type": "contacts", "contacts": [{"name": {"formatted_name": "Ana Souza"}, "phones": [{"phone": "+5511999990000"}]}]}'),
    ('{"type": "reaction", "reaction": {"message_id": "wamid.IN42", "emoji": "👍"}}'),
    ('{"type": "interactive", "interactive": {"type": "button", "body": {"text": "Quer falar com um assessor?"},
       "action": {"buttons": [{"type": "reply", "reply": {"id": "sim", "title": "Sim"}},
                              {"type": "reply", "reply": {"id": "nao", "title": "Agora não"}}]}}}'),
    ('{"type": "interactive", "interactive": {"type": "list", "body": {"text": "Escolha"},
       "action": {"button": "Ver planos", "sections": [{"title": "Renda fixa", "rows": [{"id": "cdb", "title": "CDB"}]}]}}}'),
    ('{"type": "interactive", "interactive": {"type": "cta_url", "body": {"text": "Abra sua conta"},
       "action": {"name": "cta_url", "parameters": {"display_text": "Abrir", "url": "https://example.com/conta"}}}}'),
    ('{"type": "interactive", "interactive": {"type": "flow", "body": {"text": "Agende"},
       "action": {"name": "flow", "parameters": {"flow_message_version": "3", "flow_id": "1", "flow_cta": "Agendar"}}}}')
    ) AS t(p);
SELECT o.message_type, o.payload #>> '{interactive,type}' AS interactive, o.state
FROM other_types t JOIN antiban.outbox o USING (id) ORDER BY id;

-- Payloads outside Meta's limits are refused, naming the field.
SELECT antiban.send('+5511987650005', '{"type": "interactive", "interactive": {"type": "button", "body": {"text": "Escolha"},
    "action": {"buttons": [{"type": "reply", "reply": {"id": "1", "title": "Um"}}, {"type": "reply", "reply": {"id": "2", "title": "Dois"}},
                           {"type": "reply", "reply": {"id": "3", "title": "Três"}}, {"type": "reply", "reply": {"id": "4", "title": "Quatro"}}]}}}');
SELECT antiban.send('+5511987650005', '{"type": "interactive", "interactive": {"type": "button", "body": {"text": "Escolha"},
    "action": {"buttons": [{"type": "reply", "reply": {"id": "1", "title": "Quero falar com alguém agora"}}]}}}');
SELECT antiban.send('+5511987650005', '{"type": "image", "image": {"id": "1", "link": "https://x/a.jpg"}}');
SELECT antiban.send('+5511987650005', '{"type": "document", "document": {"link": "ftp://x/a.pdf"}}');
SELECT antiban.send('+5511987650005', '{"type": "text", "text": {}}');
SELECT antiban.send('+5511987650005', '{"type": "carousel", "carousel": {}}');
SELECT antiban.send('+5511987650005', '{"image": {"id": "1"}}');
SELECT antiban.send('+5511987650005', '{"type": "location", "location": {"latitude": 91, "longitude": 0}}');
SELECT antiban.send_text('+5511987650005', repeat('a', 4097));
SELECT antiban.send_template('+5511987650006', '', 'pt_BR');
SELECT antiban.send_template('+5511987650006', 'oferta', 'pt_BR', category => 'service');
SELECT antiban.send('+5511987650005', '{"type": "text", "text": {"body": "oi"}}', 'marketing');
SELECT count(*) AS nothing_queued_by_errors FROM antiban.outbox WHERE recipient = '+5511987650006';

-- A recipient that is not one is a decision, not an error: a rejected row
-- that says why (one mistyped phone never rolls back a whole batch).
SELECT antiban.send_template('5511987650006', 'oferta', 'pt_BR') AS bad \gset
SELECT recipient, state, reason, detail FROM antiban.outbox WHERE id = :bad;

-- A decision that says REJECT still lands in the outbox, with its reason.
UPDATE antiban.numbers SET mode = 'paused';
SELECT antiban.send_template('+5511987650007', 'oferta', 'pt_BR') AS id;
SELECT state, reason, detail, rejected_at FROM antiban.outbox WHERE recipient = '+5511987650007';
UPDATE antiban.numbers SET mode = 'active';

-- Read receipts go out from the number that received the message.
SELECT antiban.mark_read('wamid.IN42', '1001', typing_indicator => true) AS id;
SELECT recipient, message_type, phone_number_id, payload FROM antiban.outbox WHERE message_type = 'read_receipt';

-- Cancel works while a message waits, and only then.
SELECT antiban.cancel(id) FROM antiban.outbox WHERE recipient = '+5511987650001';
SELECT antiban.cancel(id) FROM antiban.outbox WHERE recipient = '+5511987650001';
SELECT state, cancelled_at FROM antiban.outbox WHERE recipient = '+5511987650001';
SELECT antiban.cancel(999999);
SELECT antiban.cancel(NULL);

-- The state machine: messages only move forward.
UPDATE antiban.outbox SET state = 'queued' WHERE recipient = '+5511987650001';
UPDATE antiban.outbox SET state = 'sending' WHERE recipient = '+5511987650002';
UPDATE antiban.outbox SET state = 'read' WHERE recipient = '+5511987650002';
UPDATE antiban.outbox SET state = 'sent' WHERE recipient = '+5511987650002';
SELECT state, sending_at IS NOT NULL AS was_sending, read_at FROM antiban.outbox WHERE recipient = '+5511987650002';
SELECT f, t, antiban.transition_allowed(f, t)
FROM (VALUES ('queued', 'sending'), ('sent', 'delivered'), ('delivered', 'sent'), ('unknown', 'sent'),
             ('failed', 'queued')) AS v(f, t);

-- What is waiting, per number and state.
SELECT phone_number_id, state, messages, next_due FROM antiban.queue_depth ORDER BY 1, 2;
SELECT state, messages FROM antiban.outbox_states ORDER BY 1;

-- Meta's read (or delivered) status can reach a message still 'sending'
-- before the sender records its answer: it left, so sent_at is stamped too.
SELECT antiban.send_template('+5511977770001', 'oferta', 'pt_BR') AS racing \gset
UPDATE antiban.outbox SET state = 'sending' WHERE id = :racing;
UPDATE antiban.outbox SET state = 'read' WHERE id = :racing;
SELECT state, sent_at IS NOT NULL AS sent_stamped, delivered_at IS NULL AS delivered_folded,
       read_at IS NOT NULL AS read_stamped FROM antiban.outbox WHERE id = :racing;

-- A language written the way people write it leaves the way Meta names it.
SELECT antiban.send_template('+5511987650077', 'oferta', 'pt-br', category => 'utility') AS spelled \gset
SELECT payload -> 'template' -> 'language' ->> 'code' AS code FROM antiban.outbox WHERE id = :spelled;
