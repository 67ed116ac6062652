-- Templates are checked against what Meta approved before they are queued;
-- parameter objects by the types Meta documents; interactive media headers,
-- products and unique ids; and the policy lint campaigns run before they start.
\i regress/fixture.sql
SET antiban.pinned_now = '2030-01-01 00:00:00+00';
SELECT antiban.open_service_window('+5511987650005', '1002');

-- ---- Parameter objects, by type (no template synced yet: only their shape) ----
CREATE FUNCTION pg_temp.try(components jsonb) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM antiban.send_template('+5511987650001', 'qualquer', 'pt_BR', jsonb_build_object('components', components));
    RETURN 'queued';
EXCEPTION WHEN invalid_parameter_value THEN
    RETURN SQLERRM;
END
$$;
SELECT pg_temp.try(c) AS outcome FROM (VALUES
    ('[{"type": "body", "parameters": [{"type": "currency", "currency": {"fallback_value": "R$ 10,50", "code": "BRL"}}]}]'::jsonb),
    ('[{"type": "body", "parameters": [{"type": "currency", "currency": {"fallback_value": "R$ 10,50", "code": "real", "amount_1000": 10500}}]}]'),
    ('[{"type": "body", "parameters": [{"type": "currency", "currency": {"fallback_value": "R$ 10,50", "code": "XXQ", "amount_1000": 10500}}]}]'),
    ('[{"type": "body", "parameters": [{"type": "currency", "currency": {"fallback_value": "R$ 10,50", "code": "BRL", "amount_1000": 10.5}}]}]'),
    ('[{"type": "body", "parameters": [{"type": "date_time", "date_time": {"day_of_month": 25}}]}]'),
    ('[{"type": "body", "parameters": [{"type": "emoji", "emoji": "🔥"}]}]'),
    ('[{"type": "body", "parameters": [{"type": "text", "text": "Ana\nSouza"}]}]'),
    ('[{"type": "body", "parameters": [{"type": "text", "text": ""}]}]'),
    ('[{"type": "body", "parameters": [{"type": "text", "text": "Ana", "parameter_name": "Nome"}]}]'),
    ('[{"type": "body", "parameters": [{"type": "image", "image": {"link": "https://x/a.jpg"}}]}]'),
    ('[{"type": "body"}, {"type": "body"}]'),
    ('[{"type": "header", "parameters": [{"type": "image", "image": {"caption": "sem link"}}]}]'),
    ('[{"type": "header", "parameters": [{"type": "video"}]}]'),
    ('[{"type": "header", "parameters": [{"type": "currency", "currency": {"fallback_value": "1", "code": "BRL", "amount_1000": 1000}}]}]'),
    ('[{"type": "header", "parameters": [{"type": "location", "location": {"latitude": -23.5, "longitude": 200}}]}]'),
    ('[{"type": "header", "parameters": []}]'),
    ('[{"type": "button", "sub_type": "call", "index": "0", "parameters": [{"type": "text", "text": "x"}]}]'),
    ('[{"type": "button", "sub_type": "url", "index": "10", "parameters": [{"type": "text", "text": "x"}]}]'),
    ('[{"type": "button", "sub_type": "quick_reply", "index": "0", "parameters": [{"type": "text", "text": "x"}]}]'),
    ('[{"type": "button", "sub_type": "quick_reply", "index": "0", "parameters": [{"type": "payload", "payload": " "}]}]'),
    ('[{"type": "button", "sub_type": "copy_code", "index": "0", "parameters": [{"type": "coupon_code", "coupon_code": "CODIGO-LONGO-DEMAIS-25"}]}]'),
    ('[{"type": "button", "sub_type": "flow", "index": "0", "parameters": [{"type": "action"}]}]'),
    ('[{"type": "button", "sub_type": "quick_reply", "index": "0", "parameters": [{"type": "payload", "payload": "A"}]},
       {"type": "button", "sub_type": "quick_reply", "index": 0, "parameters": [{"type": "payload", "payload": "B"}]}]'),
    -- what Meta documents, all at once: queued
    ('[{"type": "header", "parameters": [{"type": "document", "document": {"id": "123", "filename": "extrato.pdf"}}]},
       {"type": "body", "parameters": [{"type": "text", "text": "Ana"},
           {"type": "currency", "currency": {"fallback_value": "R$ 10,50", "code": "BRL", "amount_1000": 10500}},
           {"type": "date_time", "date_time": {"fallback_value": "25 de fevereiro"}}]},
       {"type": "button", "sub_type": "quick_reply", "index": "0", "parameters": [{"type": "payload", "payload": "SAIR"}]},
       {"type": "button", "sub_type": "copy_code", "index": "1", "parameters": [{"type": "coupon_code", "coupon_code": "CDB10"}]},
       {"type": "button", "sub_type": "flow", "index": "2", "parameters": [{"type": "action", "action": {"flow_token": "t1"}}]}]')
) AS v(c);

-- ---- Interactive messages: media headers, products, unique ids ----
CREATE FUNCTION pg_temp.try_send(payload jsonb) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM antiban.send('+5511987650005', payload);
    RETURN 'queued';
EXCEPTION WHEN invalid_parameter_value THEN
    RETURN SQLERRM;
END
$$;
SELECT pg_temp.try_send(p) AS outcome FROM (VALUES
    ('{"type": "interactive", "interactive": {"type": "cta_url", "header": {"type": "image"}, "body": {"text": "Abra sua conta"},
       "action": {"name": "cta_url", "parameters": {"display_text": "Abrir", "url": "https://example.com/conta"}}}}'::jsonb),
    ('{"type": "interactive", "interactive": {"type": "button", "header": {"type": "video", "video": {"id": "1", "link": "https://x/v.mp4"}},
       "body": {"text": "Veja"}, "action": {"buttons": [{"type": "reply", "reply": {"id": "a", "title": "A"}}]}}}'),
    ('{"type": "interactive", "interactive": {"type": "button", "body": {"text": "Escolha"},
       "action": {"buttons": [{"type": "reply", "reply": {"id": "sim", "title": "Sim"}}, {"type": "reply", "reply": {"id": "sim", "title": "Claro"}}]}}}'),
    ('{"type": "interactive", "interactive": {"type": "list", "body": {"text": "Planos"}, "action": {"button": "Ver", "sections": [
       {"title": "Renda fixa", "rows": [{"id": "cdb", "title": "CDB"}]}, {"title": "Fundos", "rows": [{"id": "cdb", "title": "CDB DI"}]}]}}}'),
    ('{"type": "interactive", "interactive": {"type": "product", "action": {"product_retailer_id": "SKU-1"}}}'),
    ('{"type": "interactive", "interactive": {"type": "product_list", "header": {"type": "text", "text": "Ofertas"}, "body": {"text": "Veja"},
       "action": {"catalog_id": "99", "sections": [{"title": "CDB", "product_items": [{"product_retailer_id": ""}]}]}}}'),
    ('{"type": "interactive", "interactive": {"type": "product_list", "header": {"type": "image", "image": {"id": "1"}}, "body": {"text": "Veja"},
       "action": {"catalog_id": "99", "sections": [{"title": "CDB", "product_items": [{"product_retailer_id": "SKU-1"}]}]}}}'),
    -- what Meta documents: queued
    ('{"type": "interactive", "interactive": {"type": "cta_url", "header": {"type": "image", "image": {"link": "https://x/a.jpg"}},
       "body": {"text": "Abra sua conta"}, "action": {"name": "cta_url", "parameters": {"display_text": "Abrir", "url": "https://example.com/conta"}}}}'),
    ('{"type": "interactive", "interactive": {"type": "product", "body": {"text": "CDB"}, "action": {"catalog_id": "99", "product_retailer_id": "SKU-1"}}}'),
    ('{"type": "interactive", "interactive": {"type": "product_list", "header": {"type": "text", "text": "Ofertas"}, "body": {"text": "Veja"},
       "action": {"catalog_id": "99", "sections": [{"title": "CDB", "product_items": [{"product_retailer_id": "SKU-1"}, {"product_retailer_id": "SKU-2"}]}]}}}')
) AS v(p);

-- A read receipt needs the id of the message it marks; so do reactions and replies.
SELECT antiban.mark_read('   ', '1001');
SELECT antiban.send('+5511987650005', '{"type": "reaction", "reaction": {"message_id": " ", "emoji": "👍"}}');
SELECT antiban.send_text('+5511987650005', 'Oi', reply_to => '');

-- ---- Not synced yet: antiban knows no template of the WABA, Meta judges ----
SELECT antiban.send_template('+5511977770001', 'nomeado', 'pt_BR', '{"primeiro_nome": "Ana"}') > 0 AS unsynced_goes;

-- ---- The monitor's poll brings the WABA's templates as Meta returns them ----
SELECT antiban.apply_template_poll('200', $$ {"data": [
  {"id": "1", "name": "nomeado", "language": "pt_BR", "status": "APPROVED", "category": "MARKETING", "parameter_format": "NAMED",
   "components": [{"type": "BODY", "text": "Olá {{nome}}, temos uma oferta para você. Responda SAIR para não receber mais."}]},
  {"id": "2", "name": "oferta_cdb", "language": "pt_BR", "status": "APPROVED", "category": "MARKETING",
   "components": [{"type": "HEADER", "format": "IMAGE"},
                  {"type": "BODY", "text": "Olá {{1}}, o CDB rende {{2}} ao ano. Responda SAIR para não receber mais."},
                  {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Quero"},
                       {"type": "URL", "text": "Ver", "url": "https://example.com/o/{{1}}"},
                       {"type": "PHONE_NUMBER", "text": "Ligar", "phone_number": "+5511900000000"}]}]},
  {"id": "3", "name": "pedido", "language": "pt_BR", "status": "APPROVED", "category": "UTILITY",
   "components": [{"type": "HEADER", "format": "TEXT", "text": "Pedido {{1}}"},
                  {"type": "BODY", "text": "Seu pedido saiu para entrega e chega amanhã."}]},
  {"id": "4", "name": "pedido", "language": "en_US", "status": "APPROVED", "category": "UTILITY",
   "components": [{"type": "BODY", "text": "Your order is on its way."}]},
  {"id": "5", "name": "codigo", "language": "pt_BR", "status": "APPROVED", "category": "AUTHENTICATION",
   "components": [{"type": "BODY", "text": "{{1}} é seu código de verificação."},
                  {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copiar código"}]}]}
]} $$) AS synced;

-- The issue's case: {{primeiro_nome}} against a template that takes {{nome}}.
SELECT antiban.send_template('+5511977770002', 'nomeado', 'pt_BR', '{"primeiro_nome": "Ana"}');
SELECT antiban.send_template('+5511977770002', 'nomeado', 'pt_BR', '["Ana"]');
SELECT antiban.send_template('+5511977770002', 'nomeado', 'pt_BR', '{"nome": "Ana"}') > 0 AS named_goes;

-- Positional count, header format, buttons, lengths once filled in.
\set header '{"type": "header", "parameters": [{"type": "image", "image": {"link": "https://cdn.example.com/cdb.jpg"}}]}'
\set body '{"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "12%"}]}'
\set url '{"type": "button", "sub_type": "url", "index": "1", "parameters": [{"type": "text", "text": "cdb-nov"}]}'
SELECT antiban.send_template('+5511977770003', 'oferta_cdb', 'pt_BR', '["Ana"]');
SELECT antiban.send_template('+5511977770003', 'oferta_cdb', 'pt_BR', jsonb_build_object('components', jsonb_build_array(
    '{"type": "header", "parameters": [{"type": "video", "video": {"link": "https://cdn.example.com/cdb.mp4"}}]}'::jsonb, :'body'::jsonb, :'url'::jsonb)));
SELECT antiban.send_template('+5511977770003', 'oferta_cdb', 'pt_BR', jsonb_build_object('components', jsonb_build_array(:'body'::jsonb, :'url'::jsonb)));
SELECT antiban.send_template('+5511977770003', 'oferta_cdb', 'pt_BR', jsonb_build_object('components', jsonb_build_array(:'header'::jsonb, :'body'::jsonb)));
SELECT antiban.send_template('+5511977770003', 'oferta_cdb', 'pt_BR', jsonb_build_object('components', jsonb_build_array(:'header'::jsonb, :'body'::jsonb,
    '{"type": "button", "sub_type": "quick_reply", "index": "1", "parameters": [{"type": "payload", "payload": "X"}]}'::jsonb)));
SELECT antiban.send_template('+5511977770003', 'oferta_cdb', 'pt_BR', jsonb_build_object('components', jsonb_build_array(:'header'::jsonb, :'body'::jsonb, :'url'::jsonb,
    '{"type": "button", "sub_type": "url", "index": "3", "parameters": [{"type": "text", "text": "x"}]}'::jsonb)));
SELECT antiban.send_template('+5511977770003', 'oferta_cdb', 'pt_BR', jsonb_build_object('components', jsonb_build_array(:'header'::jsonb, :'body'::jsonb, :'url'::jsonb,
    '{"type": "button", "sub_type": "url", "index": "2", "parameters": [{"type": "text", "text": "x"}]}'::jsonb)));
SELECT antiban.send_template('+5511977770003', 'oferta_cdb', 'pt_BR', jsonb_build_object('components', jsonb_build_array(:'header'::jsonb,
    jsonb_build_object('type', 'body', 'parameters', jsonb_build_array(jsonb_build_object('type', 'text', 'text', repeat('a', 1000)),
                                                                       jsonb_build_object('type', 'text', 'text', '12%'))), :'url'::jsonb)));
SELECT antiban.send_template('+5511977770003', 'oferta_cdb', 'pt_BR', jsonb_build_object('components', jsonb_build_array(:'header'::jsonb, :'body'::jsonb, :'url'::jsonb))) AS fits \gset
SELECT state, payload #> '{template,components}' = jsonb_build_array(:'header'::jsonb, :'body'::jsonb, :'url'::jsonb) AS as_given
FROM antiban.outbox WHERE id = :fits;
SELECT antiban.send_template('+5511977770004', 'pedido', 'pt_BR', category => 'utility');
SELECT antiban.send_template('+5511977770004', 'pedido', 'pt_BR',
    '{"components": [{"type": "header", "parameters": [{"type": "text", "text": "123456789012345678901234567890123456789012345678901234"}]}]}', 'utility');
SELECT antiban.send_template('+5511977770004', 'pedido', 'pt_BR',
    '{"components": [{"type": "header", "parameters": [{"type": "text", "text": "A-42"}]}]}', 'utility') > 0 AS header_goes;
SELECT antiban.send_template('+5511977770004', 'pedido', 'en-us', '["A-42"]', 'utility');
SELECT antiban.send_template('+5511977770005', 'codigo', 'pt_BR', '["482913"]', 'authentication');
SELECT antiban.send_template('+5511977770005', 'codigo', 'pt_BR', '{"components": [{"type": "body", "parameters": [{"type": "text", "text": "482913"}]},
    {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "482913"}]}]}', 'authentication') > 0 AS otp_goes;

-- Category: Meta bills and rates a send at the template's category, whatever the send says.
SELECT antiban.send_template('+5511977770006', 'oferta_cdb', 'pt_BR', jsonb_build_object('components',
    jsonb_build_array(:'header'::jsonb, :'body'::jsonb, :'url'::jsonb)), 'utility');
-- a re-categorisation Meta announced counts from its date
UPDATE antiban.templates SET pending_category = 'MARKETING', pending_category_at = '2029-12-31 00:00:00+00' WHERE name = 'pedido' AND language = 'pt_BR';
SELECT antiban.send_template('+5511977770006', 'pedido', 'pt_BR', '{"components": [{"type": "header", "parameters": [{"type": "text", "text": "A-42"}]}]}', 'utility');
UPDATE antiban.templates SET pending_category_at = '2030-02-01 00:00:00+00' WHERE name = 'pedido' AND language = 'pt_BR';
SELECT antiban.send_template('+5511977770006', 'pedido', 'pt_BR', '{"components": [{"type": "header", "parameters": [{"type": "text", "text": "A-42"}]}]}', 'utility') > 0 AS not_yet;

-- A name or language the synced catalogue does not have: a typo, caught (Meta: 132001).
SELECT antiban.send_template('+5511977770007', 'oferta_cbd', 'pt_BR', '["Ana", "12%"]');
SELECT antiban.send_template('+5511977770007', 'pedido', 'es', '["A-42"]', 'utility');
SELECT antiban.send_template('+5511977770007', 'lembrete_consulta', 'pt_BR', '["Ana"]', 'utility');
-- approved since the poll: its status webhook makes it known (no components yet: only the category is checked)
SELECT antiban.template_row('200', '6', 'aviso', 'pt_BR') > 0 AS known_by_webhook;
UPDATE antiban.templates SET status = 'APPROVED', category = 'UTILITY' WHERE name = 'aviso';
SELECT antiban.send_template('+5511977770007', 'aviso', 'pt_BR', '["qualquer coisa"]', 'utility') > 0 AS webhook_only_goes;
SELECT antiban.send_template('+5511977770007', 'aviso', 'pt_BR', '["qualquer coisa"]');
-- a WABA whose templates were never synced: from its number, Meta judges
INSERT INTO antiban.wabas (waba_id, portfolio_id, name) SELECT '201', id, 'Suporte' FROM antiban.portfolios WHERE business_id = '100';
INSERT INTO antiban.numbers (phone_number_id, waba_id, display_phone_number, throughput_level, health)
SELECT '2001', id, '+55 11 90000-2001', 'STANDARD', 90 FROM antiban.wabas WHERE waba_id = '201';
SELECT antiban.send_template('+5511977770008', 'oferta_cbd', 'pt_BR', '["Ana"]', from_number => '2001') > 0 AS other_waba_unsynced;
SELECT antiban.send_template('+5511977770008', 'oferta_cbd', 'pt_BR', '["Ana"]', from_number => '1001');

-- Paused at Meta: still held with its reason at claim time (as before).
UPDATE antiban.templates SET status = 'PAUSED' WHERE name = 'nomeado';
SELECT antiban.send_template('+5511977770009', 'nomeado', 'pt_BR', '{"nome": "Bia"}') AS paused \gset
SELECT antiban.hold_unapproved_templates('5 minutes', 1000) > 0 AS held;
SELECT state, reason, detail FROM antiban.outbox WHERE id = :paused;

-- Only what fits was queued: one message per "goes" above.
SELECT recipient, count(*) AS queued FROM antiban.outbox WHERE recipient LIKE '+55119777700%' GROUP BY 1 ORDER BY 1;

-- ---- Policy lint: findings as rows ----
SELECT * FROM antiban.lint_template('[{"type": "BODY", "text": "{{1}}, seu pedido saiu para entrega hoje de manhã."}]', 'utility');
SELECT * FROM antiban.lint_template('[{"type": "BODY", "text": "Seu pedido saiu para entrega, acompanhe pelo código {{1}}."}]', 'utility');
SELECT * FROM antiban.lint_template('[{"type": "BODY", "text": "Olá {{1}} {{2}}, seu pedido saiu para entrega hoje de manhã cedo."}]', 'utility');
SELECT * FROM antiban.lint_template('[{"type": "BODY", "text": "Olá {{1}}, seu pedido {{3}} saiu para entrega hoje de manhã."}]', 'utility');
SELECT * FROM antiban.lint_template('[{"type": "BODY", "text": "Olá {{ nome }}, seu pedido saiu para entrega hoje de manhã."}]', 'utility');
SELECT * FROM antiban.lint_template('[{"type": "BODY", "text": "Olá {{1}}, seu pedido {{codigo}} saiu para entrega hoje de manhã."}]', 'utility');
SELECT * FROM antiban.lint_template('[{"type": "BODY", "text": "Hello {{1}}, your order {{2}} for {{3}} will be delivered by {{4}}."}]', 'utility');
SELECT * FROM antiban.lint_template('[{"type": "HEADER", "format": "TEXT", "text": "Uma oferta especial para quem investe com a gente todo santo mês"},
    {"type": "BODY", "text": "Veja em bit.ly/cdb-nov a oferta do mês. Responda SAIR para não receber mais."},
    {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Quero saber mais sobre isso"}]}]');
SELECT * FROM antiban.lint_template('[{"type": "BODY", "text": "Para liberar o prêmio, informe o número do seu cartão e o CVV. Responda SAIR para sair."}]');
SELECT * FROM antiban.lint_template('[{"type": "BODY", "text": "Para atualizar o cadastro, qual é o seu CPF?"}]', 'utility');
SELECT * FROM antiban.lint_template('[{"type": "BODY", "text": "Conheça o novo CDB com liquidez diária e taxa especial."}]', 'marketing');
SELECT * FROM antiban.lint_template('[{"type": "BODY", "text": "APROVEITE AGORA A MAIOR PROMOÇÃO DO ANO 🔥🔥🔥🔥"},
    {"type": "FOOTER", "text": "Responda SAIR para não receber mais"}]');
SELECT * FROM antiban.lint_template('[{"type": "HEADER", "format": "IMAGE"}]', 'utility');
SELECT count(*) AS clean FROM antiban.lint_template('[{"type": "BODY", "text": "Olá {{1}}, o CDB de novembro rende 12% ao ano para você."},
    {"type": "FOOTER", "text": "Responda SAIR para não receber mais"}]');
SELECT count(*) AS otp_clean FROM antiban.lint_template('[{"type": "BODY", "text": "Use a senha {{1}} para entrar no aplicativo agora."}]', 'authentication');
SELECT * FROM antiban.lint_text('Informe sua senha para liberar o acesso.');
SELECT * FROM antiban.lint_text('Novo CDB com taxa especial! Veja em https://tinyurl.com/cdb', 'marketing');
SELECT count(*) AS partial_id_ok FROM antiban.lint_text('Confirme os últimos 4 dígitos do seu CPF, por favor.', 'utility');
SELECT * FROM antiban.lint_text(repeat('a', 4097));
-- the synced templates, as a campaign checks them before it starts
SELECT t.name, t.language, l.severity, l.rule, l.location
FROM antiban.templates t, antiban.lint_template(t.components, lower(t.category)) l
WHERE t.components IS NOT NULL ORDER BY 1, 2, 4;
SELECT * FROM antiban.lint_template('{"type": "BODY"}');
SELECT * FROM antiban.lint_template('[]', 'service');
SELECT * FROM antiban.lint_text('oi', 'promo');
-- who may lint: readers, and so applications (they are readers too)
SELECT r AS role, has_function_privilege(r, 'antiban.lint_template(jsonb, text)', 'EXECUTE') AS lint_template,
       has_function_privilege(r, 'antiban.lint_text(text, text)', 'EXECUTE') AS lint_text
FROM unnest(ARRAY['antiban_reader', 'antiban_app', 'antiban_receiver']) r;
