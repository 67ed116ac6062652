-- The database the webhook benchmarks post to (psql -v secret=...): antiban,
-- one unlimited portfolio with four HIGH numbers, the app secret, and the
-- login role antiban-receiver connects as.
CREATE EXTENSION antiban;
INSERT INTO antiban.portfolios (business_id, messaging_limit) VALUES ('1', 'TIER_UNLIMITED');
INSERT INTO antiban.wabas (waba_id, portfolio_id) VALUES ('200', 1);
INSERT INTO antiban.numbers (phone_number_id, waba_id, throughput_level)
SELECT (4000000 + i)::text, 1, 'HIGH' FROM generate_series(1, 4) i;
SELECT antiban.set_secret('app_secret', :'secret');
DO $$ BEGIN CREATE ROLE receiver LOGIN IN ROLE antiban_receiver;
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
