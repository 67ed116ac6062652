-- antiban for the benchmark: 1,000 HIGH numbers in one unlimited portfolio,
-- plus a hot number whose bucket is large enough to grant nearly every call.
CREATE EXTENSION antiban;
INSERT INTO antiban.portfolios (business_id, messaging_limit) VALUES ('1', 'TIER_UNLIMITED');
INSERT INTO antiban.wabas (waba_id, portfolio_id) VALUES ('2', 1);
INSERT INTO antiban.numbers (phone_number_id, waba_id, throughput_level)
SELECT (1000000 + i)::text, 1, 'HIGH' FROM generate_series(1, 1000) i;
UPDATE antiban.numbers SET rate_override = 100000, burst_override = 100000
WHERE phone_number_id = '1000001';
