-- People, not strings: the same person reaches us as the number we sent to,
-- Meta's wa_id (in Brazil without the mobile ninth digit), a BSUID (with a
-- parent BSUID), a new number after user_changed_number.  Every person rule
-- (opt-out, service window, sticky number, reach) reads the person.
\i regress/fixture.sql
\i regress/webhook_post.sql
CREATE FUNCTION pg_temp.change(field text, value text) RETURNS text LANGUAGE sql AS $$
    SELECT format('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"%s","value":%s}]}]}', field, value)
$$;
-- An inbound message on a number: contacts[] entry, messages[] entry.
CREATE FUNCTION pg_temp.inbound(number text, contact text, message text) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.change('messages', format('{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000000","phone_number_id":"%s"},"contacts":[%s],"messages":[%s]}',
                                             number, contact, message))
$$;
CREATE FUNCTION pg_temp.text_from(wa text, wamid text, body text, seconds integer, extra text DEFAULT '') RETURNS text LANGUAGE sql AS $$
    SELECT format('{"from":"%s","id":"%s","timestamp":"%s","type":"text","text":{"body":"%s"}%s}', wa, wamid, 1893456000 + seconds, body, extra)
$$;
CREATE FUNCTION pg_temp.status(number text, status text) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.change('messages', format('{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000000","phone_number_id":"%s"},"statuses":[%s]}',
                                             number, status))
$$;
CREATE FUNCTION pg_temp.preference(wa text, uid text, value text, seconds integer) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.change('user_preferences', format('{"messaging_product":"whatsapp","user_preferences":[{"wa_id":"%s","user_id":"%s","detail":"","category":"marketing_messages","value":"%s","timestamp":%s}]}',
                                                     wa, uid, value, 1893456000 + seconds))
$$;
CREATE FUNCTION pg_temp.marketing(who text) RETURNS text LANGUAGE sql AS $$
    SELECT outcome || ' ' || reason FROM antiban.decide(who, 'marketing', consume => false)
$$;
CREATE FUNCTION pg_temp.person(who text) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(array_to_string(p.identifiers, ' '), '(nobody)') FROM (SELECT 1) x
    LEFT JOIN antiban.people p ON p.person_id = antiban.person_id(1, who)
$$;

-- ==== 1. Equivalence: the canonical key (src/core/recipient_match.c) ====
SELECT v AS identifier, antiban.recipient_key(v) AS key
FROM (VALUES ('+5531988880301'), ('553188880301'), ('+553188880301'), ('+551140000001'), ('5215512345678'),
             ('+525512345678'), ('user.1502576394655843'), ('US.ENT.11815799212886844830'), ('+55 31 98888-0301'),
             ('55 31 98888-0301'), ('')) AS t(v);

-- ==== 2. Brazil's ninth digit: we send to +55 31 9 8888-0301, Meta answers 553188880301 ====
SELECT antiban.send_template('+5531988880301', 'oferta', 'pt_BR', from_number => '1002') AS promo \gset
-- Meta's status names the recipient without the ninth digit: ours, kept as its wa_id
UPDATE antiban.outbox SET state = 'sending', attempts = 1 WHERE id = :promo;  -- a send whose answer was lost
SELECT pg_temp.post(pg_temp.status('1002', format('{"id":"wamid.BR-OUT","status":"sent","timestamp":"1893456000","recipient_id":"553188880301","biz_opaque_callback_data":"%s"}', :promo)));
SELECT state, wamid, recipient, wa_id FROM antiban.outbox WHERE id = :promo;
-- the reply comes from 553188880301: the window opens for the person we sent to
SELECT pg_temp.post(pg_temp.inbound('1002', '{"profile":{"name":"Rita"},"wa_id":"553188880301"}',
                                    pg_temp.text_from('553188880301', 'wamid.BR-IN1', 'Quero saber mais', 5)));
SELECT antiban.send_text('+5531988880301', 'Olá Rita!') AS reply \gset
SELECT state, recipient, phone_number_id, reason FROM antiban.outbox WHERE id = :reply;
-- "PARAR" from 553188880301 stops marketing to +5531988880301, not to another line of the area
SELECT pg_temp.post(pg_temp.inbound('1002', '{"profile":{"name":"Rita"},"wa_id":"553188880301"}',
                                    pg_temp.text_from('553188880301', 'wamid.BR-IN2', 'PARAR', 10)));
SELECT pg_temp.marketing('+5531988880301') AS sent_to, pg_temp.marketing('+5531988880302') AS other_line;
SELECT antiban.send_template('+5531988880301', 'oferta', 'pt_BR') AS promo2 \gset
SELECT state, reason FROM antiban.outbox WHERE id = :promo2;
SELECT pg_temp.person('+5531988880301') AS person, pg_temp.person('553188880301') AS same;
SELECT wa_id, profile_name, marketing_opt_out, last_phone_number_id FROM antiban.contacts WHERE wa_id = '553188880301';

-- ==== 3. BSUID: phone and BSUID first, then a stop that names only the BSUID ====
SELECT pg_temp.post(pg_temp.inbound('1001', '{"profile":{"name":"Caio"},"wa_id":"5511955550100","user_id":"BR.100abc"}',
                                    pg_temp.text_from('5511955550100', 'wamid.B-IN1', 'Olá', 20, ',"from_user_id":"BR.100abc"')));
SELECT pg_temp.marketing('+5511955550100') AS before_stop;
SELECT pg_temp.post(pg_temp.preference('', 'BR.100abc', 'stop', 30));
SELECT pg_temp.marketing('+5511955550100') AS phone, pg_temp.marketing('BR.100abc') AS bsuid;
SELECT count(*) AS contacts, bool_and(marketing_opt_out) AS opted_out, max(wa_id) AS wa_id, max(user_id) AS user_id
FROM antiban.contacts WHERE '5511955550100' IN (wa_id) OR user_id = 'BR.100abc';
-- a status that gives the BSUID and a parent BSUID alongside the phone links them too
SELECT antiban.send_template('+5511955550110', 'oferta', 'pt_BR', category => 'utility', from_number => '1001') AS util \gset
UPDATE antiban.outbox SET state = 'sending', attempts = 1 WHERE id = :util;  -- a send whose answer was lost
SELECT pg_temp.post(pg_temp.status('1001', format('{"id":"wamid.S-OUT","status":"delivered","timestamp":"1893456040","recipient_id":"5511955550110","biz_opaque_callback_data":"%s","contacts":[{"wa_id":"5511955550110","user_id":"BR.110abc","parent_user_id":"BR.ENT.110abc"}]}', :util)));
SELECT pg_temp.person('BR.ENT.110abc') AS person;
SELECT kind, source FROM antiban.person_ids WHERE person_id = antiban.person_id(1, '+5511955550110') ORDER BY key;
SELECT antiban.set_marketing_opt_out('+5511955550110', '1001', true);
SELECT pg_temp.marketing('BR.110abc') AS bsuid, pg_temp.marketing('BR.ENT.110abc') AS parent;

-- ==== 4. A sender known only by a "user.<digits>" BSUID; one bad recipient in a batch ====
SELECT pg_temp.post(pg_temp.inbound('1001', '{"profile":{"name":"Eva"},"wa_id":"","user_id":"user.300300"}',
                                    pg_temp.text_from('', 'wamid.U-IN1', 'oi', 50, ',"from_user_id":"user.300300"')));
SELECT outcome, reason FROM antiban.decide('user.300300', 'service', consume => false);
-- the batch is not rolled back: the bad ones are rejected rows that say why
SELECT count(antiban.send_template(r, 'oferta', 'pt_BR', idempotency_key => 'batch-' || n))
FROM (VALUES (1, '+5511955550301'), (2, '5511955550302'), (3, 'user.300300'), (4, NULL), (5, 'fulano@example.com')) AS v(n, r);
SELECT o.recipient, o.state, o.reason, o.detail FROM antiban.outbox o WHERE o.idempotency_key LIKE 'batch-%' ORDER BY o.idempotency_key;

-- ==== 5. A changed number: the new one is the same person, with one contact ====
SELECT pg_temp.post(pg_temp.inbound('1002', '{"profile":{"name":"Fabi"},"wa_id":"5511955550400"}',
                                    pg_temp.text_from('5511955550400', 'wamid.F-IN1', 'PARAR', 60)));
SELECT pg_temp.post(pg_temp.change('messages', '{"messaging_product":"whatsapp","metadata":{"phone_number_id":"1002"},"messages":[{"from":"5511955550400","id":"wamid.F-SYS","timestamp":"1893456070","type":"system","system":{"body":"User Fabi changed from 5511955550400 to 5511955550401","wa_id":"5511955550401","type":"user_changed_number"}}]}'));
SELECT pg_temp.post(pg_temp.inbound('1002', '{"profile":{"name":"Fabi"},"wa_id":"5511955550401"}',
                                    pg_temp.text_from('5511955550401', 'wamid.F-IN2', 'meu número novo', 80)));
SELECT count(*) AS contacts, max(wa_id) AS wa_id, bool_and(marketing_opt_out) AS opted_out,
       (SELECT count(*) FROM antiban.interactions i WHERE i.contact_id = max(k.id)) AS interactions
FROM antiban.contacts k WHERE profile_name = 'Fabi';
SELECT pg_temp.marketing('+5511955550401') AS new_number, pg_temp.person('+5511955550401') AS person;

-- ==== 6. A reply quoting our message was written by the person we sent it to ====
-- (someone with a username writes back with only a BSUID)
SELECT antiban.send_template('+5511955550900', 'oferta', 'pt_BR', category => 'utility', from_number => '1002') AS q \gset
UPDATE antiban.outbox SET state = 'sending', attempts = 1 WHERE id = :q;  -- a send whose answer was lost
SELECT pg_temp.post(pg_temp.status('1002', format('{"id":"wamid.Q-OUT","status":"sent","timestamp":"1893456090","recipient_id":"5511955550900","biz_opaque_callback_data":"%s"}', :q)));
SELECT pg_temp.post(pg_temp.inbound('1002', '{"profile":{"name":"Iara"},"wa_id":"","user_id":"BR.900abc"}',
                                    pg_temp.text_from('', 'wamid.Q-IN1', 'sim, quero', 95, ',"from_user_id":"BR.900abc","context":{"from":"5511900000002","id":"wamid.Q-OUT"}')));
SELECT pg_temp.person('+5511955550900') AS person;
SELECT outcome, reason, phone_number_id FROM antiban.decide('+5511955550900', 'service', consume => false);
SELECT source, evidence FROM antiban.person_ids WHERE key = '+5511955550900';

-- ==== 7. Meta's send answer: a wa_id no rule explains is linked to what we sent to ====
-- (Argentina: we send to +54 11 1234-5678, Meta answers with its mobile 9: 5491112345678)
SELECT antiban.send_template('+541112345678', 'oferta', 'pt_BR', category => 'utility', from_number => '1002') AS ar \gset
-- what the sender records from {"contacts":[{"input":"+541112345678","wa_id":"5491112345678"}],...}
UPDATE antiban.outbox SET state = 'sending' WHERE id = :ar;
UPDATE antiban.outbox SET state = 'sent', wamid = 'wamid.AR-OUT', wa_id = '5491112345678' WHERE id = :ar;
SELECT antiban.link_send_answers(ARRAY[:ar]::bigint[]) AS linked;
SELECT pg_temp.person('+541112345678') AS person, person_id = antiban.person_id(1, '5491112345678') AS on_the_row
FROM antiban.outbox WHERE id = :ar;
-- the reply in Meta's form opens the window for the number we sent to
SELECT pg_temp.post(pg_temp.inbound('1002', '{"profile":{"name":"Gus"},"wa_id":"5491112345678"}',
                                    pg_temp.text_from('5491112345678', 'wamid.AR-IN1', 'sí, me interesa', 100)));
SELECT outcome, reason, phone_number_id FROM antiban.decide('+541112345678', 'service', consume => false);

-- ==== 8. Two persons found to be one: merged, counted once ====
SELECT used AS used_before FROM antiban.portfolio_usage \gset
SELECT outcome FROM antiban.decide('+5511955550600', 'marketing', from_number => '1001');
SELECT outcome FROM antiban.decide('BR.600abc', 'marketing', from_number => '1001');
SELECT used - :used_before AS counted FROM antiban.portfolio_usage;
SELECT pg_temp.post(pg_temp.inbound('1001', '{"profile":{"name":"Hugo"},"wa_id":"5511955550600"}',
                                    pg_temp.text_from('5511955550600', 'wamid.H-IN1', 'oi', 100)));
SELECT pg_temp.post(pg_temp.inbound('1001', '{"profile":{"name":"Hugo"},"wa_id":"","user_id":"BR.600abc"}',
                                    pg_temp.text_from('', 'wamid.H-IN2', 'PARAR', 110, ',"from_user_id":"BR.600abc"')));
SELECT pg_temp.marketing('+5511955550600') AS phone_before_link, pg_temp.marketing('BR.600abc') AS bsuid;
SELECT count(*) AS contacts_before FROM antiban.contacts WHERE wa_id = '5511955550600' OR user_id = 'BR.600abc';
-- then Meta names both in one message
SELECT pg_temp.post(pg_temp.inbound('1001', '{"profile":{"name":"Hugo"},"wa_id":"5511955550600","user_id":"BR.600abc"}',
                                    pg_temp.text_from('5511955550600', 'wamid.H-IN3', 'voltei', 120, ',"from_user_id":"BR.600abc"')));
SELECT pg_temp.marketing('+5511955550600') AS phone_after_link;
SELECT used - :used_before AS counted FROM antiban.portfolio_usage;
SELECT count(*) AS contacts, bool_and(marketing_opt_out) AS opted_out,
       (SELECT count(*) FROM antiban.interactions i WHERE i.contact_id = min(k.id)) AS interactions
FROM antiban.contacts k WHERE wa_id = '5511955550600' OR user_id = 'BR.600abc';
SELECT m.source, m.kept < m.merged AS older_kept, (SELECT merged_into FROM antiban.persons WHERE id = m.merged) = m.kept AS recorded
FROM antiban.person_merges m;
SELECT pg_temp.person('BR.600abc') AS person;

-- ==== 9. user_preferences by the time the person said it ====
-- a newer stop, then an older resume posted late: still out
SELECT pg_temp.post(pg_temp.preference('5511955550500', '', 'stop', 200));
SELECT pg_temp.post(pg_temp.preference('5511955550500', '', 'resume', 150));
SELECT pg_temp.marketing('+5511955550500') AS after_older_resume;
SELECT marketing_opt_out, consent_at, opt_out_at FROM antiban.contacts WHERE wa_id = '5511955550500';
-- a newer resume gives marketing back; it is not a block (opt_out_at stays the stop's)
SELECT pg_temp.post(pg_temp.preference('5511955550500', '', 'resume', 250));
SELECT pg_temp.marketing('+5511955550500') AS after_newer_resume;
SELECT marketing_opt_out, consent_at, opt_out_at FROM antiban.contacts WHERE wa_id = '5511955550500';
-- a resume alone stamps no block
SELECT pg_temp.post(pg_temp.preference('5511955550510', '', 'resume', 210));
SELECT marketing_opt_out, opt_out_at IS NULL AS no_block FROM antiban.contacts WHERE wa_id = '5511955550510';
-- nor does it count against the number the person writes to
SELECT pg_temp.post(pg_temp.inbound('1003', '{"profile":{"name":"Joana"},"wa_id":"5511955550520"}',
                                    pg_temp.text_from('5511955550520', 'wamid.J-IN1', 'oi', 240)));
SELECT pg_temp.post(pg_temp.preference('5511955550520', '', 'resume', 230));
SELECT blocks_day AS blocks_on_1003 FROM antiban.number_signals() WHERE phone_number_id = '1003';
-- a preference is not a message: Rita's last inbound and number stay
SELECT last_inbound_at, last_phone_number_id FROM antiban.contacts WHERE wa_id = '553188880301';
SELECT blocks_day AS blocks_on_1002 FROM antiban.number_signals() WHERE phone_number_id = '1002';
SELECT pg_temp.post(pg_temp.preference('553188880301', '', 'resume', 220));
SELECT last_inbound_at, last_phone_number_id, marketing_opt_out FROM antiban.contacts WHERE wa_id = '553188880301';
SELECT blocks_day AS blocks_on_1002 FROM antiban.number_signals() WHERE phone_number_id = '1002';
SELECT outcome, reason, phone_number_id FROM antiban.decide('+5531988880301', 'utility', consume => false);

-- ==== 10. Links follow their transaction ====
SELECT antiban.set_marketing_opt_out('BR.700abc', '1001', true);
BEGIN;
SELECT antiban.link_identifiers(1, ARRAY['+5511955550700', 'BR.700abc'], 'operator', NULL, 'test') IS NOT NULL AS linked;
SELECT pg_temp.marketing('+5511955550700') AS inside;
ROLLBACK;
SELECT pg_temp.marketing('+5511955550700') AS after_rollback, pg_temp.person('+5511955550700') AS person;
SELECT antiban.link_identifiers(1, ARRAY['+5511955550700', 'BR.700abc'], 'operator', NULL, 'test') IS NOT NULL AS linked;
SELECT pg_temp.marketing('+5511955550700') AS after_commit;
-- an identifier Meta sends that names nobody is left out of the link and said
-- (a webhook never fails on it): the stop it carries still reaches the phone
SELECT pg_temp.post(pg_temp.preference('5511955550910', 'not an id', 'stop', 200));
SELECT pg_temp.marketing('+5511955550910') AS phone, antiban.person_id(1, 'not an id') AS nobody;

-- nobody (NULL and '' are no identifier), and no hearsay
SELECT antiban.link_identifiers(1, ARRAY['', NULL], 'operator') AS nobody;
\set VERBOSITY terse
-- an identifier it cannot read is refused, never dropped (the others would be linked without it)
SELECT antiban.link_identifiers(1, ARRAY['+5511955550800', 'x y'], 'operator');
SELECT antiban.link_identifiers(1, ARRAY['+5511955550800', '123'], 'operator');
SELECT antiban.link_identifiers(1, ARRAY['+5511955550800'], 'operator', ARRAY['55 11 95555-0800']);
SELECT count(*) AS nothing_linked FROM antiban.person_ids WHERE key = '+5511955550800';
SELECT antiban.link_identifiers(1, ARRAY['+5511955550800'], 'rumour');
\set VERBOSITY default
