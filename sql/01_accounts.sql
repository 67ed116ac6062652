-- Registering portfolios, WABAs and numbers; secrets stay secret; roles.
\i regress/fixture.sql

SELECT phone_number_id, throughput_level, health, mode, status, rate_factor
FROM antiban.numbers ORDER BY phone_number_id;

-- Bad registrations are refused by named constraints.
\set VERBOSITY terse
INSERT INTO antiban.numbers (phone_number_id, waba_id) VALUES ('+5511', 1);
INSERT INTO antiban.numbers (phone_number_id, waba_id, health) VALUES ('1009', 1, 101);
INSERT INTO antiban.numbers (phone_number_id, waba_id, rate_factor) VALUES ('1009', 1, 0);
INSERT INTO antiban.numbers (phone_number_id, waba_id) VALUES ('1009', 999);
INSERT INTO antiban.numbers (phone_number_id, waba_id, throughput_level) VALUES ('1009', 1, 'TURBO');
INSERT INTO antiban.portfolios (business_id, messaging_limit) VALUES ('101', 'TIER_1K');

\set VERBOSITY default

-- Tiers map to Meta's limits.
SELECT t, antiban.tier_limit(t) FROM unnest(enum_range(NULL::antiban.messaging_tier)) t;

-- Secrets: errors never echo the value, the status view shows no value.
SELECT antiban.set_secret('access_token', 'EAAG-short');
SELECT antiban.set_secret('access_token', 'EAAG-secret-token-0001', '999');
SELECT antiban.set_secret('app_secret', 'tiny');
SELECT antiban.set_secret('access_token', 'EAAG-secret-token-0001', '200');
SELECT antiban.set_secret('app_secret', 'app-secret-0123456789');
SELECT antiban.set_secret('app_secret', 'app-secret-9876543210');
SELECT kind, waba_id, length FROM antiban.secrets_status ORDER BY kind;
-- As a reader, no row of any view holds a secret.
SET ROLE antiban_reader;
DO $$
DECLARE
    v record;
    hits bigint := 0;
    n bigint;
BEGIN
    FOR v IN SELECT table_name FROM information_schema.views WHERE table_schema = 'antiban' LOOP
        EXECUTE format('SELECT count(*) FROM antiban.%I t WHERE t::text ~ %L', v.table_name,
                       'EAAG-secret|app-secret') INTO n;
        hits := hits + n;
    END LOOP;
    RAISE NOTICE 'view rows showing a secret: %', hits;
END
$$;
RESET ROLE;

-- Roles: readers see views but never secrets; the receiver sees nothing.
SELECT rolname FROM pg_roles WHERE rolname LIKE 'antiban\_%' ORDER BY 1;
SET ROLE antiban_reader;
SELECT count(*) FROM antiban.numbers;
SELECT kind FROM antiban.secrets_status ORDER BY 1;
SELECT value FROM antiban.secrets;
SELECT * FROM antiban.decide('+5511987654321', 'utility');
RESET ROLE;
SET ROLE antiban_receiver;
SELECT count(*) FROM antiban.numbers;
RESET ROLE;
SET ROLE antiban_app;
SELECT outcome, reason, phone_number_id FROM antiban.decide('+5511987654321', 'utility', consume => false);
INSERT INTO antiban.numbers (phone_number_id, waba_id) VALUES ('1010', 1);
RESET ROLE;
SET ROLE antiban_admin;
SELECT count(*) FROM antiban.secrets;
RESET ROLE;

-- A change to numbers reaches every backend's cache at commit.
BEGIN;
UPDATE antiban.numbers SET health = 10 WHERE phone_number_id = '1001';
SELECT outcome, phone_number_id FROM antiban.decide('+5511987654399', 'utility', consume => false);
COMMIT;
SELECT outcome, phone_number_id FROM antiban.decide('+5511987654399', 'utility', consume => false);
