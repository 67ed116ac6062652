-- antiban install script, assembled by the Makefile from src/sql/*.sql.
\echo Use "CREATE EXTENSION antiban" to load this file. \quit

-- Closed sets of values are enums: psql shows them, BI tools group by them.

CREATE TYPE antiban.messaging_tier AS ENUM
    ('TIER_250', 'TIER_2K', 'TIER_10K', 'TIER_100K', 'TIER_UNLIMITED');
COMMENT ON TYPE antiban.messaging_tier IS
    'A business portfolio''s messaging limit: unique users reached with business-initiated templates per moving 24 h.';

CREATE TYPE antiban.throughput_level AS ENUM ('STANDARD', 'HIGH', 'COEXISTENCE');
COMMENT ON TYPE antiban.throughput_level IS
    'Messages per second a number may send: STANDARD 80, HIGH 1,000, COEXISTENCE (Business app + API) 20.';

CREATE TYPE antiban.quality_rating AS ENUM ('GREEN', 'YELLOW', 'RED', 'NA', 'UNKNOWN');

CREATE TYPE antiban.number_status AS ENUM
    ('PENDING', 'DELETED', 'MIGRATED', 'BANNED', 'RESTRICTED', 'RATE_LIMITED', 'FLAGGED',
     'CONNECTED', 'DISCONNECTED', 'UNKNOWN', 'UNVERIFIED', 'OFFLINE');
COMMENT ON TYPE antiban.number_status IS
    'Meta''s phone-number status. Only CONNECTED, FLAGGED, RATE_LIMITED and UNKNOWN numbers send.';

CREATE TYPE antiban.number_mode AS ENUM ('active', 'throttled', 'paused', 'warming', 'recovering');
COMMENT ON TYPE antiban.number_mode IS
    'How hard antiban pushes a number: paused numbers never send; throttled and warming ones send at rate_factor.';

CREATE TYPE antiban.category AS ENUM ('marketing', 'utility', 'authentication', 'service');
COMMENT ON TYPE antiban.category IS
    'Template categories, plus service for free-form messages inside a customer-service window.';

CREATE TYPE antiban.priority AS ENUM ('low', 'normal', 'high', 'critical');

CREATE TYPE antiban.outcome AS ENUM ('SEND', 'QUEUE', 'REJECT');

CREATE TYPE antiban.secret_kind AS ENUM ('access_token', 'app_secret', 'webhook_verify_token', 'llm_api_key');

CREATE FUNCTION antiban.tier_limit(antiban.messaging_tier) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE $1
    WHEN 'TIER_250' THEN 250
    WHEN 'TIER_2K' THEN 2000
    WHEN 'TIER_10K' THEN 10000
    WHEN 'TIER_100K' THEN 100000
    ELSE -1
END;
COMMENT ON FUNCTION antiban.tier_limit(antiban.messaging_tier) IS
    'Unique users per moving 24 h allowed by a messaging tier; -1 means unlimited.';

CREATE FUNCTION antiban.now() RETURNS timestamptz
AS 'MODULE_PATHNAME', 'antiban_sql_now' LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION antiban.now() IS
    'The clock every antiban limit uses: real time, or antiban.pinned_now when a test pins it.';
