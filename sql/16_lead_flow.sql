-- Every conversation becomes a lead: inbound webhooks make one per person
-- (whatever identifier a message comes from), with its source; messages,
-- our sends, reads, taps, opt-outs and failures rescore it; it engages,
-- qualifies and is assigned; merges fold leads; the app's calls, the gate,
-- the timeline and the sales views.
\i regress/fixture.sql
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
RESET client_min_messages;
SELECT antiban.set_secret('app_secret', 'app-secret-for-tests');
CREATE FUNCTION pg_temp.post(body text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    event bigint;
BEGIN
    SELECT i.event_id INTO event FROM antiban.ingest_webhook(convert_to(body, 'UTF8'),
        'sha256=' || encode(hmac(convert_to(body, 'UTF8'), 'app-secret-for-tests', 'sha256'), 'hex')) i;
    RETURN (SELECT w.status || coalesce(' ' || nullif(array_to_string(w.problems, '; '), ''), '')
            FROM antiban.webhook_events w WHERE w.id = event);
END
$$;
-- messages (a JSON array of message objects) from one contact on number 1001
CREATE FUNCTION pg_temp.messages(contact text, messages text) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.post(format('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000001","phone_number_id":"1001"},"contacts":[%s],"messages":%s}}]}]}',
                               contact, messages))
$$;
-- a text from a wa_id at 2030-01-01 00:00 + seconds (extra: more members of the message)
CREATE FUNCTION pg_temp.msg(wa text, wamid text, body text, seconds integer, extra text DEFAULT '') RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.messages(format('{"profile":{"name":"Lead"},"wa_id":"%s"}', wa),
        format('[{"from":"%s","id":"%s","timestamp":"%s","type":"text","text":{"body":"%s"}%s}]', wa, wamid, 1893456000 + seconds, body, extra))
$$;
CREATE FUNCTION pg_temp.statuses(statuses text) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.post(format('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000001","phone_number_id":"1001"},"statuses":%s}}]}]}',
                               statuses))
$$;
CREATE FUNCTION pg_temp.leads() RETURNS TABLE (id bigint, person bigint, stage text, source text, ad text, campaign text,
                                               scored boolean, owner bigint, merged_into bigint)
LANGUAGE sql AS $$
    SELECT l.id, l.person_id, l.stage, l.source, l.source_ad_id, l.campaign, l.score IS NOT NULL, l.owner_agent_id,
           l.merged_into
    FROM antiban.leads l ORDER BY l.id
$$;
INSERT INTO antiban.agents (portfolio_id, name, languages, capacity, presence)
VALUES (1, 'Ana', '{pt}', 5, 'online'), (1, 'Bia', '{pt,es}', 5, 'online');

-- ---- a new person writes: a new organic lead, scored with reasons ----
SET antiban.pinned_now = '2030-01-01 00:00:10+00';
SELECT pg_temp.msg('5511987650001', 'wamid.a1', 'Olá', 10);
SELECT * FROM pg_temp.leads();
SELECT kind, stage, detail FROM antiban.lead_events WHERE lead_id = 1 AND kind <> 'score' ORDER BY id;
SELECT l.score = s.score AS score_is_the_models, s.reasons ? 'positive' AS has_reasons
FROM antiban.leads l JOIN antiban.lead_scores s ON s.conversation_id = l.id;
-- Brazil's wa_id without the ninth digit is the same person: the same lead, now engaged
SET antiban.pinned_now = '2030-01-01 00:00:20+00';
SELECT pg_temp.msg('551187650001', 'wamid.a2', 'Quero saber do CDB', 20);
SELECT * FROM pg_temp.leads();
SELECT first_inbound_at, last_inbound_at FROM antiban.leads WHERE id = 1;
-- Meta posting a message again changes nothing
SELECT pg_temp.msg('551187650001', 'wamid.a2', 'Quero saber do CDB', 20);
SELECT messages FROM antiban.lead_features WHERE conversation_id = 1;

-- ---- a click-to-WhatsApp ad: source ctwa with the ad id and click id ----
SELECT pg_temp.msg('5511987650002', 'wamid.b1', 'Vi o anúncio', 30,
    ',"referral":{"source_url":"https://fb.me/x","source_id":"120200","source_type":"ad","ctwa_clid":"ARxx-clid"}');
SELECT id, source, source_ad_id, ctwa_clid FROM antiban.leads WHERE id = 2;

-- ---- a reply to our campaign: source campaign, named by the template ----
SELECT antiban.send_template('+5511987650003', 'oferta_cdb', 'pt_BR', category => 'marketing') AS campaign_message \gset
UPDATE antiban.outbox SET state = 'sending' WHERE id = :campaign_message;
UPDATE antiban.outbox SET state = 'sent', wamid = 'wamid.out1' WHERE id = :campaign_message;
SELECT pg_temp.msg('5511987650003', 'wamid.c1', 'Tenho interesse', 40, ',"context":{"from":"5511900000001","id":"wamid.out1"}');
SELECT id, source, campaign FROM antiban.leads WHERE id = 3;

-- ---- a hot conversation qualifies and is assigned at once ----
-- (the default model gives a conversation we never wrote in no "replies": its own messages are
-- no answers, so its text alone scores in the 20s; a portfolio's threshold of 20 qualifies it)
INSERT INTO antiban.lead_routing (portfolio_id, qualify_score) VALUES (1, 20)
    ON CONFLICT (portfolio_id) DO UPDATE SET qualify_score = 20;
SET antiban.pinned_now = '2030-01-01 00:01:00+00';
SELECT pg_temp.messages('{"profile":{"name":"Carla"},"wa_id":"5511987650004"}',
    '[{"from":"5511987650004","id":"wamid.d1","timestamp":"1893456050","type":"text","text":{"body":"Quero investir 500 mil em LCI, prazo de 2 anos"}},
      {"from":"5511987650004","id":"wamid.d2","timestamp":"1893456055","type":"button","button":{"text":"Falar com especialista","payload":"talk"}},
      {"from":"5511987650004","id":"wamid.d3","timestamp":"1893456058","type":"text","text":{"body":"Podemos conversar amanhã?"}}]');
SELECT id, stage, score >= antiban.lead_qualify_score(1) AS at_threshold, owner_agent_id IS NOT NULL AS owned,
       sla_due_at IS NOT NULL AS sla_running
FROM antiban.leads WHERE id = 4;
SELECT string_agg(kind, ', ' ORDER BY id) FROM antiban.lead_events WHERE lead_id = 4 AND kind <> 'score';
SELECT (engagement).taps > 0 AS tapped, messages FROM antiban.lead_features WHERE conversation_id = 4;
-- a threshold of 0 qualifies the engaged lead 1 on its next message
UPDATE antiban.lead_routing SET qualify_score = 0 WHERE portfolio_id = 1;
SELECT pg_temp.msg('5511987650001', 'wamid.a3', 'Qual o rendimento?', 70);
SELECT id, stage, owner_agent_id IS NOT NULL AS owned FROM antiban.leads WHERE id = 1;
UPDATE antiban.lead_routing SET qualify_score = 60 WHERE portfolio_id = 1;

-- ---- our reply, its statuses, a 131026 failure and an opt-out feed the score ----
SELECT antiban.send_text('+5511987650004', 'Claro! Às 10h?') AS reply \gset
UPDATE antiban.outbox SET state = 'sending' WHERE id = :reply;
SET antiban.pinned_now = '2030-01-01 00:02:00+00';
UPDATE antiban.outbox SET state = 'sent', wamid = 'wamid.out2' WHERE id = :reply;
SELECT first_response_at IS NOT NULL AS answered FROM antiban.leads WHERE id = 4;
SELECT state, first_response_at FROM antiban.lead_sla WHERE lead_id = 4;
SELECT pg_temp.statuses('[{"id":"wamid.out2","status":"read","timestamp":"1893456130","recipient_id":"5511987650004"}]');
SELECT (engagement).reads > 0 AS read, (engagement).last_outbound_at IS NOT NULL AS we_wrote
FROM antiban.lead_features WHERE conversation_id = 4;
SELECT antiban.send_template('+5511987650002', 'oferta_cdb', 'pt_BR', category => 'marketing') AS failing \gset
UPDATE antiban.outbox SET state = 'sending' WHERE id = :failing;
UPDATE antiban.outbox SET state = 'sent', wamid = 'wamid.out3' WHERE id = :failing;
SELECT pg_temp.statuses('[{"id":"wamid.out3","status":"failed","timestamp":"1893456140","recipient_id":"5511987650002","errors":[{"code":131026,"title":"Message undeliverable"}]}]');
SELECT (engagement).failures > 0 AS failure_counted FROM antiban.lead_features WHERE conversation_id = 2;
SELECT pg_temp.msg('5511987650002', 'wamid.b2', 'PARE', 150);
SELECT (engagement).opted_out FROM antiban.lead_features WHERE conversation_id = 2;

-- ---- the gate campaigns call ----
SELECT allowed, reason, lead_id FROM antiban.lead_gate('+5511987650004', 1, 40, '30 days');
SELECT allowed, reason, detail FROM antiban.lead_gate('+5511987650002', 1, 0, NULL);
SELECT allowed, reason, detail FROM antiban.lead_gate('+5511987650003', 1, 99, NULL);
SELECT allowed, reason FROM antiban.lead_gate('+5511999999999', 1, 0, NULL);
SET antiban.pinned_now = '2030-03-01 00:00:00+00';
SELECT allowed, reason, detail FROM antiban.lead_gate('+5511987650004', 1, 0, '30 days');
SET antiban.pinned_now = '2030-01-01 00:03:00+00';
SELECT * FROM antiban.lead_gate('+5511987650004', 1, 101, NULL);
SELECT * FROM antiban.lead_gate('+5511987650004', 1, 0, '-1 day');

-- ---- two identifiers of one person: two leads fold into one ----
SELECT pg_temp.messages('{"profile":{"name":"Davi"},"user_id":"BR.davi"}',
    '[{"from_user_id":"BR.davi","id":"wamid.e1","timestamp":"1893456170","type":"text","text":{"body":"oi"}}]');
SELECT pg_temp.msg('5511987650005', 'wamid.f1', 'bom dia', 175);
SELECT count(*) AS open_leads FROM antiban.leads WHERE closed_at IS NULL;
-- a message carrying both: the persons merge, their leads fold
SELECT pg_temp.messages('{"profile":{"name":"Davi"},"wa_id":"5511987650005","user_id":"BR.davi"}',
    '[{"from":"5511987650005","from_user_id":"BR.davi","id":"wamid.e2","timestamp":"1893456178","type":"text","text":{"body":"sou eu de novo"}}]');
SELECT id, stage, merged_into, person_id = antiban.person_id(1, 'BR.davi') AS the_persons_lead
FROM antiban.leads WHERE id IN (5, 6) ORDER BY id;
SELECT count(*) AS open_leads_of_davi FROM antiban.leads
WHERE person_id = antiban.person_id(1, '+5511987650005') AND closed_at IS NULL;
SELECT kind, detail FROM antiban.lead_events WHERE kind = 'merged' ORDER BY id;
SELECT messages FROM antiban.lead_features WHERE conversation_id = 5;
-- the survivor's timeline shows both persons' messages
SELECT kind, direction, summary FROM antiban.lead_timeline(5) WHERE kind IN ('message', 'merged');

-- ---- the app: upsert_lead ----
SELECT antiban.upsert_lead('5511987650004', 1) AS same_lead;
SELECT antiban.upsert_lead('5511987650007', '1001', 'ctwa', ad_id => '777', products => '{cdb,lci}') AS new_lead \gset
SELECT id, source, source_ad_id, products, stage FROM antiban.leads WHERE id = :new_lead;
SELECT antiban.upsert_lead('+5511987650007', 1, 'organic', campaign => 'black-friday', products => '{fii}') = :new_lead AS reused;
SELECT source, source_ad_id, campaign, products FROM antiban.leads WHERE id = :new_lead;
SELECT antiban.upsert_lead('+5511987650007', 99);
SELECT antiban.upsert_lead('+5511987650007', '9999');
SELECT antiban.upsert_lead('+5511987650007', 1, 'facebook');
SELECT antiban.upsert_lead('not a phone', 1);
SELECT antiban.upsert_lead('+5511987650007', 1, products => '{cdb,NULL}');
-- closed lately: messages go on the closed lead; closed long ago: a new lead
SELECT antiban.close_lead(:new_lead, 'lost');
SET antiban.pinned_now = '2030-01-10 00:00:00+00';
SELECT antiban.upsert_lead('+5511987650007', 1) = :new_lead AS closed_lead_kept;
SET antiban.pinned_now = '2030-03-01 00:00:00+00';
SELECT antiban.upsert_lead('+5511987650007', 1) > :new_lead AS new_lead_after_30_days;
SELECT count(*) AS leads_of_the_person FROM antiban.leads WHERE person_id = antiban.person_id(1, '+5511987650007');
SET antiban.pinned_now = '2030-01-01 00:04:00+00';

-- ---- notes ----
SELECT antiban.add_lead_note(4, 'Prefere ligação às 10h') > 0 AS noted;
SELECT antiban.add_lead_note(4, '  ');
SELECT antiban.add_lead_note(999, 'x');
CREATE ROLE lead_agent_eve LOGIN;
CREATE ROLE lead_stranger LOGIN;
GRANT antiban_agent TO lead_agent_eve, lead_stranger;
UPDATE antiban.agents SET login_role = 'lead_agent_eve' WHERE id = (SELECT owner_agent_id FROM antiban.leads WHERE id = 4);
SET ROLE lead_agent_eve;
SELECT antiban.add_lead_note(4, 'Ligou, vai transferir') > 0 AS the_owner_notes;
SELECT lead_id, agent FROM antiban.my_leads WHERE lead_id = 4;
SELECT count(*) > 0 AS owner_reads_timeline FROM antiban.lead_timeline(4);
RESET ROLE;
SET ROLE lead_stranger;
SELECT antiban.add_lead_note(4, 'not mine');
SELECT count(*) FROM antiban.lead_timeline(4);
SELECT count(*) AS none_of_mine FROM antiban.my_leads;
RESET ROLE;

-- ---- the timeline of lead 4, in time order ----
SELECT kind, direction, regexp_replace(summary, ':.*', '') AS summary FROM antiban.lead_timeline(4);
SELECT count(*) = (SELECT count(*) FROM antiban.lead_timeline(4)) AS view_agrees
FROM antiban.lead_timelines WHERE lead_id = 4;
SELECT * FROM antiban.lead_timeline(999);

-- ---- bulk rescoring reaches the leads too ----
SET antiban.pinned_now = '2030-02-15 00:00:00+00';
SELECT antiban.rescore_leads(1) > 0 AS rescored;
SELECT bool_and(l.score = s.score) AS leads_follow FROM antiban.leads l JOIN antiban.lead_scores s ON s.conversation_id = l.id;

-- ---- the sales views ----
SELECT stage, source, owner IS NOT NULL AS owned, leads FROM antiban.lead_pipeline ORDER BY stage, source, owned;
SELECT source, leads, wrote, engaged, qualified, assigned, answered, won, lost FROM antiban.lead_funnel ORDER BY source;
SELECT stage, leads FROM antiban.dashboard_leads ORDER BY stage;
SELECT name, open_leads, with_sla, met FROM antiban.agent_performance ORDER BY agent_id;
SELECT antiban.dashboard_panel('leads') IS NOT NULL AS dashboard_panel;

-- ---- antiban.lead_flow off: webhooks leave leads alone ----
SET antiban.pinned_now = '2030-01-01 00:10:00+00';
-- a first message that is a stop: the new lead has opted out
SELECT pg_temp.msg('5511987650008', 'wamid.h1', 'PARE', 590);
SELECT allowed, reason FROM antiban.lead_gate('+5511987650008', 1, 0, NULL);
-- ---- deferred scoring: the webhook only queues; the lead, its events and score when processed ----
SET antiban.lead_scoring = deferred;
SELECT pg_temp.msg('5511987650010', 'wamid.j1', 'Olá, quero investir', 595);
SELECT count(*) AS no_lead_yet FROM antiban.leads WHERE person_id = antiban.person_id(1, '+5511987650010');
SELECT kind, interaction_id IS NOT NULL AS by_message, person_id = antiban.person_id(1, '+5511987650010') AS person
FROM antiban.lead_event_queue ORDER BY id;
-- our answer is sent and read before the queue is processed: queued by person
SELECT antiban.send_text('+5511987650010', 'Olá! Posso ajudar?') AS answer \gset
UPDATE antiban.outbox SET state = 'sending' WHERE id = :answer;
UPDATE antiban.outbox SET state = 'sent', wamid = 'wamid.out10' WHERE id = :answer;
SELECT pg_temp.statuses('[{"id":"wamid.out10","status":"read","timestamp":"1893456597","recipient_id":"5511987650010"}]');
SELECT kind, lead_id IS NULL AS lead_still_unknown FROM antiban.lead_event_queue ORDER BY id;
-- a person with no lead and no queued message is not queued
SELECT antiban.send_template('+5511987650011', 'oferta_cdb', 'pt_BR', category => 'marketing') AS stranger \gset
UPDATE antiban.outbox SET state = 'sending' WHERE id = :stranger;
UPDATE antiban.outbox SET state = 'sent', wamid = 'wamid.out11' WHERE id = :stranger;
SELECT count(*) AS still_three FROM antiban.lead_event_queue;
SELECT antiban.process_lead_events() AS taken;
SELECT stage, source, score IS NOT NULL AS scored, last_inbound_at IS NOT NULL AS stamped,
       EXISTS (SELECT 1 FROM antiban.lead_events e WHERE e.lead_id = l.id AND e.kind = 'score') AS logged
FROM antiban.leads l WHERE person_id = antiban.person_id(1, '+5511987650010');
-- the sends and reads queued by person reached the lead the message made
SELECT f.messages, (f.engagement).reads > 0 AS read, (f.engagement).last_outbound_at IS NOT NULL AS we_wrote
FROM antiban.lead_features f JOIN antiban.leads l ON l.id = f.conversation_id
WHERE l.person_id = antiban.person_id(1, '+5511987650010');
SELECT count(*) AS left_in_queue FROM antiban.lead_event_queue;
-- their next message finds the lead: queued by message, scored as an answer to ours
SELECT pg_temp.msg('5511987650010', 'wamid.j2', 'Sim, quero saber do CDB', 599);
SELECT antiban.process_lead_events(1) AS one_at_a_time;
SELECT count(*) AS one_lead, min(f.messages) AS messages
FROM antiban.leads l JOIN antiban.lead_features f ON f.conversation_id = l.id
WHERE l.person_id = antiban.person_id(1, '+5511987650010');
SELECT antiban.process_lead_events() AS nothing_left;
-- deferred, an agent's reply to an assigned lead is its first response at once
SELECT agent_id IS NOT NULL AS assigned FROM antiban.assign_lead(
    (SELECT id FROM antiban.leads WHERE person_id = antiban.person_id(1, '+5511987650010')));
SELECT antiban.send_text('+5511987650010', 'Sou a Ana, posso ligar?') AS agent_reply \gset
UPDATE antiban.outbox SET state = 'sending' WHERE id = :agent_reply;
UPDATE antiban.outbox SET state = 'sent', wamid = 'wamid.out12' WHERE id = :agent_reply;
SELECT first_response_at IS NOT NULL AS answered, (SELECT count(*) FROM antiban.lead_event_queue) AS queued
FROM antiban.leads WHERE person_id = antiban.person_id(1, '+5511987650010');
SELECT antiban.process_lead_events() AS the_send;
SELECT antiban.process_lead_events(0);
RESET antiban.lead_scoring;
SET antiban.lead_flow = off;
SELECT pg_temp.msg('5511987650009', 'wamid.g1', 'Olá', 600);
SELECT count(*) AS no_lead FROM antiban.leads WHERE person_id = antiban.person_id(1, '+5511987650009');
RESET antiban.lead_flow;
SELECT pg_temp.msg('5511987650009', 'wamid.g2', 'Olá de novo', 610);
SELECT count(*) AS a_lead FROM antiban.leads WHERE person_id = antiban.person_id(1, '+5511987650009');
DROP ROLE lead_agent_eve, lead_stranger;
