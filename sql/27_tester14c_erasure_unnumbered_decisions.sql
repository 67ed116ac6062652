-- export_person/erase_person now take only the decisions made with the
-- request's portfolio's numbers, and those that chose no number only when
-- the install has a single portfolio.  But every REJECT (opted out, quiet
-- hours, no eligible number...) chooses no number: in an install with two
-- portfolios a person's rejections are never exported and never erased,
-- and the phone stays in antiban.decisions after the person's erasure.
-- Another portfolio's decision about the same phone must stay.
\i regress/fixture.sql
INSERT INTO antiban.portfolios (business_id, name) VALUES ('101', 'Other tenant');
INSERT INTO antiban.wabas (waba_id, portfolio_id, name) SELECT '300', id, 'Other' FROM antiban.portfolios WHERE business_id = '101';
INSERT INTO antiban.numbers (phone_number_id, waba_id, display_phone_number, health)
SELECT '3001', w.id, '+55 21 90000-3001', 95 FROM antiban.wabas w WHERE w.waba_id = '300';
INSERT INTO antiban.templates (waba_id, name, language, status, category, components)
SELECT w.id, 'promo', 'pt_BR', 'APPROVED', 'MARKETING', '[{"type": "BODY", "text": "Oi"}]' FROM antiban.wabas w;
SELECT antiban.set_secret('access_token', 'token-of-portfolio-100', '200') IS NULL AS set_100,
       antiban.set_secret('access_token', 'token-of-portfolio-101', '300') IS NULL AS set_101;
SELECT antiban.reload_config() IS NULL AS reloaded;
-- the person opted out of portfolio 100's marketing; 100 tries once, 101 sends
SELECT antiban.set_marketing_opt_out('+5511987650009', '1001', true) AS opted_out_of_100;
SELECT state, reason FROM antiban.send_template_many(ARRAY['+5511987650009'], 'promo', 'pt_BR', from_number => '1001');
SELECT state, reason FROM antiban.send_template_many(ARRAY['+5511987650009'], 'promo', 'pt_BR', from_number => '3001');
SELECT antiban.flush_journal() >= 0 AS flushed;
SELECT outcome, reason FROM antiban.decisions
WHERE antiban.recipient_key(recipient) = '+5511987650009' ORDER BY outcome, reason;
-- portfolio 100's export holds its rejection of the person
SELECT jsonb_array_length(jsonb_path_query_array(antiban.export_person('+5511987650009', '1001'),
                                                 '$.decisions[*] ? (@.reason == "opted_out")')) AS exported_rejections;
-- erasure in 100: no decision of 100 about the person keeps the phone; 101's stays
SELECT antiban.erase_person('+5511987650009', '1001') ? 'person_id' AS erased;
SELECT count(*) AS phone_left_outside_101 FROM antiban.decisions
WHERE antiban.recipient_key(recipient) = '+5511987650009' AND phone_number_id IS DISTINCT FROM '3001';
SELECT count(*) AS decisions_of_101_kept FROM antiban.decisions
WHERE antiban.recipient_key(recipient) = '+5511987650009' AND phone_number_id = '3001';
