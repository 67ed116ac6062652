-- Costs: rate cards (good and bad files), markets, volume tiers, and the
-- cost of each message through signed status webhooks.
\i regress/fixture.sql
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
RESET client_min_messages;
SELECT antiban.set_secret('app_secret', 'app-secret-for-tests');
CREATE FUNCTION pg_temp.post(body text) RETURNS boolean
LANGUAGE sql AS $$
    SELECT stored AND signature_valid AND NOT duplicate FROM antiban.ingest_webhook(convert_to(body, 'UTF8'),
        'sha256=' || encode(hmac(convert_to(body, 'UTF8'), 'app-secret-for-tests', 'sha256'), 'hex'))
$$;
-- One status of outbox message id, as Meta posts it (pricing optional).
CREATE FUNCTION pg_temp.status(id bigint, status text, type text DEFAULT NULL, category text DEFAULT NULL)
RETURNS text LANGUAGE sql AS $$
    SELECT format('{"id":"wamid.C%s","status":"%s","timestamp":"1893456000","recipient_id":"%s","biz_opaque_callback_data":"%s"%s}',
                  o.id, $2, antiban.digits(o.recipient), o.id,
                  CASE WHEN $3 IS NOT NULL THEN format(',"pricing":{"billable":%s,"pricing_model":"PMP","type":"%s","category":"%s"}',
                                                       ($3 = 'regular')::text, $3, $4) ELSE '' END)
    FROM antiban.outbox o WHERE o.id = $1
$$;
-- A webhook with these statuses of one number's messages.
CREATE FUNCTION pg_temp.statuses(VARIADIC list text[]) RETURNS boolean LANGUAGE sql AS $$
    SELECT pg_temp.post(format('{"object":"whatsapp_business_account","entry":[{"id":"%s","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000001","phone_number_id":"%s"},"statuses":[%s]}}]}]}',
        w.waba_id, o.phone_number_id, array_to_string(list, ',')))
    FROM antiban.outbox o JOIN antiban.numbers n ON n.id = o.number_id JOIN antiban.wabas w ON w.id = n.waba_id
    WHERE o.id = substring(list[1] FROM '"biz_opaque_callback_data":"([0-9]+)"')::bigint
$$;

-- 1. Markets: the longest calling code, NANP and +7 splits, moves by date.
SELECT n AS number, d AS on_date, m.*
FROM (VALUES ('+5511987654321', DATE '2026-10-01'), ('+16505551234', '2026-10-01'), ('+14165551234', '2026-10-01'),
             ('+18095551234', '2026-10-01'), ('+17875551234', '2026-10-01'), ('+12425551234', '2026-10-01'),
             ('+79161234567', '2026-10-01'), ('+77011234567', '2026-09-30'), ('+77011234567', '2026-10-01'),
             ('+6591234567', '2026-06-30'), ('+6591234567', '2026-07-01'), ('+351912345678', '2026-10-01'),
             ('+263771234567', '2025-09-30'), ('+263771234567', '2025-10-01'), ('+3545551234', '2026-10-01'),
             ('+999123', '2026-10-01')) v(n, d),
     antiban.recipient_market(v.n, v.d) m;
SELECT market, count(*) AS countries FROM antiban.pricing_markets('2026-10-01')
WHERE market LIKE 'Rest of%' OR market = 'North America' GROUP BY 1 ORDER BY 1;

-- 2. The cards antiban ships: USD, sources noted, unverified cells left n/a.
SELECT currency, effective_from, shipped, count(*) AS prices, left(source, 12) AS source
FROM antiban.rate_cards c JOIN antiban.rates r ON r.card_id = c.id GROUP BY c.id ORDER BY effective_from;
SELECT effective_from, market, category, rate FROM antiban.rate_card
WHERE currency = 'USD' AND market IN ('Brazil', 'Mexico') AND category IN ('marketing', 'utility', 'service')
ORDER BY 1, 2, 3;

-- 3. Reading Meta's files: a good card; bad ones name the line and column.
SELECT * FROM antiban.read_rate_card(E'Cost per message in EUR on the WhatsApp Business Platform, effective January 1, 2030\n'
    'Market,Currency,Marketing,Utility,Authentication,Authentication-International,Service,Meta Business Agent\r\n'
    'Brazil,EUR,0.0600,0.0100,0.0100,n/a,0.0100,1.85\r\n"Rest of Latin America",EUR,.0700,0.0110,0.0110,,0.0110,1.85\r\n', 'eur');
SELECT * FROM antiban.read_rate_card(E'Market,Currency,Marketing,Utility,Authentication\nBrazil,EUR,"0,0600",0.01,0.01\n', 'EUR');
SELECT * FROM antiban.read_rate_card(E'Market,Currency,Marketing,Utility,Authentication\nBrazil,EUR,0.06,0.01,0.01\nChile,EUR,0.08,free,0.02\n', 'EUR');
SELECT * FROM antiban.read_rate_card(E'Market,Currency,Marketing,Utility,Authentication\nBrazil,USD,0.06,0.01,0.01\n', 'EUR');
SELECT * FROM antiban.read_rate_card(E'Market,Currency,Marketing,Utility,Authentication\nBrazil,EUR,0.06,0.01\n', 'EUR');
SELECT * FROM antiban.read_rate_card(E'Market,Currency,Marketing,Utility\nBrazil,EUR,0.06,0.01\n', 'EUR');
SELECT * FROM antiban.read_rate_card(E'Brazil,EUR,0.06,0.01,0.01\nChile,EUR,0.06,0.01,0.01\nPeru,EUR,1,1,1\nBolivia,EUR,1,1,1\n', 'EUR');
SELECT * FROM antiban.read_rate_card(E'Cost per message in USD on the WhatsApp Business Platform\nMarket,Currency,Marketing,Utility,Authentication\n', 'EUR');
SELECT * FROM antiban.read_rate_card(E'Market,Currency,Marketing,Utility,Authentication\n"Brazil,EUR,0.06,0.01,0.01\n', 'EUR');
SELECT * FROM antiban.read_rate_card(E'Market,Currency,Marketing,Utility,Authentication\n', 'euro');

-- 4. Loading cards: EUR, a quarter apart; a duplicate market, a bad date and
-- an unknown market; a card stays whole when its file is bad.
SELECT antiban.load_rate_card(E'Market,Currency,Marketing,Utility,Authentication,Authentication-International,Service\n'
    'Brazil,EUR,0.0500,0.0100,0.0100,n/a,n/a\nNorth America,EUR,0.0230,0.0030,0.0030,n/a,n/a\nOther,EUR,0.0550,0.0070,0.0070,n/a,n/a\n',
    '2029-10-01', 'EUR', 'test card, Q4 2029');
SELECT antiban.load_rate_card(E'Market,Currency,Marketing,Utility,Authentication,Authentication-International,Service\n'
    'Brazil,EUR,0.0600,0.0100,0.0100,n/a,0.0100\nNorth America,EUR,0.0240,0.0032,0.0032,n/a,0.0032\nOther,EUR,0.0560,0.0072,0.0072,n/a,0.0072\n',
    '2030-01-01', 'EUR', 'test card, Q1 2030');
SELECT antiban.load_rate_card(E'Market,Currency,Marketing,Utility,Authentication\nBrazil,EUR,1,1,1\nChile,EUR,1,1,1\nBrazil,EUR,2,2,2\n',
    '2030-01-01', 'EUR');
SELECT antiban.load_rate_card(E'Market,Currency,Marketing,Utility,Authentication\nBrazil,EUR,1,1,1\n', '2030-01-15', 'EUR');
SELECT antiban.load_rate_card(E'Market,Currency,Marketing,Utility,Authentication\nBrasil,BRL,0.30,0.05,0.05\n', '2030-01-01', 'BRL');
SELECT antiban.load_rate_card(E'Market,Currency,Marketing,Utility,Authentication\n', '2030-01-01', 'EUR');
SELECT currency, effective_from, effective_until, market, category, tier, rate,
       regexp_replace(source, '^loaded by .* on [0-9-]+$', 'loaded by (role) on (day)') AS source
FROM antiban.rate_card WHERE currency IN ('EUR', 'BRL') ORDER BY 1, 2, 4, 5;

-- 5. Volume tiers: marginal bands, checked files, Meta's labels.
SELECT antiban.tier_band('{0,100000,1000000}', p) AS band, p AS message_number
FROM unnest('{1,100000,100001,1000000,1000001}'::bigint[]) p;
SELECT antiban.tier_spread('{0,100000,1000000}', 99995, 10) AS ten_after_99995,
       antiban.tier_spread('{0,100000,1000000}', 0, 2000000) AS first_two_million,
       antiban.tier_label(0, 100000) AS first, antiban.tier_label(100000, NULL) AS top;
-- (tiny test bands: the 3rd utility message of a month in Brazil is cheaper)
SELECT antiban.load_volume_tiers(E'Market,Currency,Category,From,To,Rate\nBrazil,EUR,Utility,0,2,0.0100\nBrazil,EUR,Utility,3,MAX,0.0080\n',
    '2030-01-01', 'EUR');
SELECT antiban.load_volume_tiers(E'Market,Currency,Category,From,To,Rate\nBrazil,EUR,Utility,0,2,0.0100\nBrazil,EUR,Utility,4,MAX,0.0080\n',
    '2030-01-01', 'EUR');
SELECT antiban.load_volume_tiers(E'Market,Currency,Category,From,To,Rate\nBrazil,EUR,Marketing,0,MAX,0.0600\n', '2030-01-01', 'EUR');
SELECT antiban.load_volume_tiers(E'Market,Currency,Category,From,To,Rate\nChile,EUR,Utility,0,MAX,0.0200\n', '2030-01-01', 'EUR');
SELECT antiban.load_volume_tiers(E'Market,Currency,Category,From,To,Rate\nBrazil,EUR,Utility,0,2,0.0100\n', '2030-04-01', 'EUR');
SELECT market, category, tier, rate FROM antiban.rate_card
WHERE currency = 'EUR' AND effective_from = '2030-01-01' AND market = 'Brazil' ORDER BY category, tier;

-- 6. Costs through signed status webhooks.  WABA 200 is billed in EUR in
-- Sao Paulo time (UTC-3); WABA 201 in USD in UTC.
UPDATE antiban.wabas SET currency = 'EUR' WHERE waba_id = '200';
UPDATE antiban.wabas SET timezone = 'Mars/Olympus_Mons' WHERE waba_id = '200';
INSERT INTO antiban.wabas (waba_id, portfolio_id, name, currency, timezone)
SELECT '201', id, 'Suporte', 'USD', 'UTC' FROM antiban.portfolios WHERE business_id = '100';
INSERT INTO antiban.numbers (phone_number_id, waba_id, display_phone_number)
SELECT '2001', id, '+1 650 555 0001' FROM antiban.wabas WHERE waba_id = '201';
SELECT waba_id, currency, timezone FROM antiban.wabas ORDER BY waba_id;

-- 2029-12-31 22:00 in Sao Paulo: the Q4 2029 card.
SET antiban.pinned_now = '2030-01-01 01:00:00+00';
SELECT antiban.send_template('+5511987650001', 'oferta', 'pt_BR', metadata => '{"campaign":"reveillon"}', from_number => '1001') AS m1 \gset
SELECT antiban.send_template('+5511987650002', 'oferta', 'pt_BR', metadata => '{"campaign":"reveillon"}', from_number => '1001') AS m2 \gset
SELECT antiban.send_template('+16505550003', 'oferta', 'pt_BR', from_number => '2001') AS m3 \gset
-- sent with pricing: not delivered, not charged
UPDATE antiban.outbox SET state = 'sending', attempts = attempts + 1 WHERE state = 'queued'; -- the sender POSTed them
SELECT pg_temp.statuses(pg_temp.status(:m1, 'sent', 'regular', 'marketing'), pg_temp.status(:m2, 'sent', 'regular', 'marketing'));
SELECT count(*) AS charged_before_delivery FROM antiban.message_costs;
-- delivered: charged once, in the WABA's currency, with the card of its local day
UPDATE antiban.outbox SET state = 'sending', attempts = attempts + 1 WHERE state = 'queued'; -- the sender POSTed them
SELECT pg_temp.statuses(pg_temp.status(:m1, 'delivered', 'regular', 'marketing'), pg_temp.status(:m2, 'delivered', 'regular', 'marketing'));
UPDATE antiban.outbox SET state = 'sending', attempts = attempts + 1 WHERE state = 'queued'; -- the sender POSTed them
SELECT pg_temp.statuses(pg_temp.status(:m3, 'delivered', 'regular', 'marketing'));
-- the same pricing again on read, and a recategorised one: still charged once
UPDATE antiban.outbox SET state = 'sending', attempts = attempts + 1 WHERE state = 'queued'; -- the sender POSTed them
SELECT pg_temp.statuses(pg_temp.status(:m1, 'read', 'regular', 'marketing'), pg_temp.status(:m2, 'read', 'regular', 'utility'));
SELECT message_id - :m1 AS message, local_date, currency, country, market, pricing_type, pricing_category, charged, tier,
       card_effective, unit_price, cost, unpriced_reason
FROM antiban.message_costs ORDER BY message_id;
SELECT id - :m1 AS message, state, pricing_category AS now_on_the_outbox FROM antiban.outbox WHERE id IN (:m1, :m2) ORDER BY id;

-- 2030-01-01 00:30 in Sao Paulo: the Q1 2030 card.  Free types cost 0; a
-- status without pricing is charged once pricing arrives.
SET antiban.pinned_now = '2030-01-01 03:30:00+00';
SELECT antiban.send_template('+5511987650004', 'oferta', 'pt_BR', from_number => '1001') AS m4 \gset
SELECT antiban.send_template('+5511987650005', 'aviso', 'pt_BR', category => 'utility', from_number => '1001') AS m5 \gset
SELECT antiban.send_template('+5511987650006', 'oferta', 'pt_BR', from_number => '1001') AS m6 \gset
SELECT antiban.send_template('+5511987650007', 'oferta', 'pt_BR', from_number => '1001') AS m7 \gset
UPDATE antiban.outbox SET state = 'sending', attempts = attempts + 1 WHERE state = 'queued'; -- the sender POSTed them
SELECT pg_temp.statuses(pg_temp.status(:m4, 'delivered', 'regular', 'marketing'),
                        pg_temp.status(:m5, 'delivered', 'free_customer_service', 'utility'),
                        pg_temp.status(:m6, 'delivered', 'free_entry_point', 'marketing'),
                        pg_temp.status(:m7, 'delivered'));
SELECT count(*) AS m7_charged_without_pricing FROM antiban.message_costs WHERE message_id = :m7;
UPDATE antiban.outbox SET state = 'sending', attempts = attempts + 1 WHERE state = 'queued'; -- the sender POSTed them
SELECT pg_temp.statuses(pg_temp.status(:m7, 'read', 'regular', 'service'));
-- pricing on 'sent' only, then a 'delivered' that does not restate it: charged
SELECT antiban.send_template('+5511987650008', 'oferta', 'pt_BR', from_number => '1001') AS m8 \gset
UPDATE antiban.outbox SET state = 'sending', attempts = attempts + 1 WHERE state = 'queued'; -- the sender POSTed them
SELECT pg_temp.statuses(pg_temp.status(:m8, 'sent', 'regular', 'marketing'));
UPDATE antiban.outbox SET state = 'sending', attempts = attempts + 1 WHERE state = 'queued'; -- the sender POSTed them
SELECT pg_temp.statuses(pg_temp.status(:m8, 'delivered'));
SELECT message_id - :m1 AS message, local_date, pricing_type, pricing_category, charged, tier_position, tier,
       card_effective, unit_price, cost
FROM antiban.message_costs WHERE message_id >= :m4 ORDER BY message_id;

-- Volume tiers: the portfolio's 1st and 2nd charged utility messages in
-- Brazil this month pay the list price, the 3rd and 4th the next band.
SELECT min(antiban.send_template('+55119876500' || i, 'aviso', 'pt_BR', category => 'utility', from_number => '1001')) AS first_id
FROM generate_series(10, 13) i \gset
UPDATE antiban.outbox SET state = 'sending', attempts = attempts + 1 WHERE state = 'queued'; -- the sender POSTed them
SELECT pg_temp.statuses(VARIADIC ARRAY(SELECT pg_temp.status(id, 'delivered', 'regular', 'utility')
                                       FROM antiban.outbox WHERE id >= :first_id ORDER BY id));
SELECT message_id - :m1 AS message, tier_counter, tier_position, tier, unit_price
FROM antiban.message_costs WHERE message_id >= :first_id ORDER BY message_id;
SELECT portfolio_id, market, counter, month, sum(charged) AS charged FROM antiban.tier_volumes GROUP BY 1, 2, 3, 4;

-- A category no card prices, and a WABA whose currency has no card.
UPDATE antiban.wabas SET currency = 'BRL' WHERE waba_id = '201';
SELECT antiban.send_template('+16505550014', 'oferta', 'pt_BR', from_number => '2001') AS m14 \gset
SELECT antiban.send_template('+5511987650015', 'oferta', 'pt_BR', from_number => '1001') AS m15 \gset
UPDATE antiban.outbox SET state = 'sending', attempts = attempts + 1 WHERE state = 'queued'; -- the sender POSTed them
SELECT pg_temp.statuses(pg_temp.status(:m14, 'delivered', 'regular', 'marketing'));
UPDATE antiban.outbox SET state = 'sending', attempts = attempts + 1 WHERE state = 'queued'; -- the sender POSTed them
SELECT pg_temp.statuses(pg_temp.status(:m15, 'delivered', 'regular', 'referral_conversion'));
SELECT message_id - :m1 AS message, currency, charged, cost, unpriced_reason
FROM antiban.message_costs WHERE message_id IN (:m14, :m15) ORDER BY message_id;
-- ... until its card is loaded and the messages are priced again
SELECT antiban.load_rate_card(E'Market,Currency,Marketing,Utility,Authentication\nNorth America,BRL,0.1250,0.0170,0.0170\nOther,BRL,0.30,0.04,0.04\n',
    '2030-01-01', 'BRL', 'test BRL card');
SELECT antiban.reprice_messages('2030-01-01');
SELECT message_id - :m1 AS message, currency, cost, unpriced_reason FROM antiban.message_costs WHERE message_id = :m14;

-- 7. The views: never across currencies.
SELECT * FROM antiban.cost_by_day ORDER BY day, currency;
SELECT * FROM antiban.cost_by_number ORDER BY day, phone_number_id;
SELECT * FROM antiban.cost_by_waba ORDER BY day, waba_id;
SELECT * FROM antiban.cost_by_portfolio ORDER BY month, currency;
SELECT * FROM antiban.cost_by_category ORDER BY day, pricing_category, pricing_type, currency;
SELECT * FROM antiban.cost_by_market ORDER BY day, market, currency;
SELECT * FROM antiban.cost_by_campaign;
SELECT business_id, recipient, currency, messages, cost FROM antiban.cost_by_recipient
WHERE recipient IN ('+5511987650001', '+16505550003') ORDER BY recipient;

-- 8. A dry run: what a campaign would cost, continuing this month's tiers.
SELECT * FROM antiban.expected_cost('200', 'utility', ARRAY['+5511911110001', '+5511911110002', '+16505550099', '+3545551234']);
SELECT * FROM antiban.expected_cost('200', 'marketing', ARRAY['+5511911110001', '+34600000001']);
SELECT * FROM antiban.expected_cost('200', 'utility', ARRAY['+5511911110001'], pricing_type => 'free_customer_service');
SELECT * FROM antiban.expected_cost('999', 'utility', ARRAY['+5511911110001']);
SELECT count(*) AS nothing_recorded FROM antiban.message_costs WHERE recipient LIKE '+551191111%';
