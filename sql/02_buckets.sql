-- Token buckets: throughput per number, pair rate per (number, recipient).
-- The clock is pinned, so refill happens only when the test moves it.
\i regress/fixture.sql

-- A STANDARD number: 80 messages per second, as a burst of 2 refilling at
-- 76.4 per second (80, less 2 % headroom for network jitter, less the burst),
-- so that no one-second window at Meta ever carries more than 80.
SELECT allowed, remaining, retry_at FROM antiban.try_consume('1001', 2);
SELECT capacity, rate_per_second FROM antiban.buckets WHERE phone_number_id = '1001';
SELECT allowed, remaining, retry_at FROM antiban.try_consume('1001');
-- Looking does not take.
SELECT allowed, remaining FROM antiban.try_consume('1001', consume => false);
-- The next token arrives 1/76.4 s later, not a microsecond earlier.
SET antiban.pinned_now = '2030-01-01 00:00:00.013089+00';
SELECT allowed, retry_at FROM antiban.try_consume('1001');
SET antiban.pinned_now = '2030-01-01 00:00:00.01309+00';
SELECT allowed, remaining FROM antiban.try_consume('1001');
-- A clock that goes back refills nothing.
SET antiban.pinned_now = '2030-01-01 00:00:00+00';
SELECT allowed, remaining FROM antiban.try_consume('1001');
-- A second of calls every millisecond: the burst of 2 and 76 more, never above 80.
CREATE FUNCTION pg_temp.granted_between(number text, first timestamptz, last timestamptz, step interval)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    t timestamptz := first;
    granted bigint := 0;
BEGIN
    WHILE t <= last LOOP
        PERFORM set_config('antiban.pinned_now', t::text, true);
        granted := granted + (SELECT allowed::int FROM antiban.try_consume(number));
        t := t + step;
    END LOOP;
    RETURN granted;
END
$$;
SELECT pg_temp.granted_between('1001', '2030-01-01 00:00:05.001+00', '2030-01-01 00:00:06+00', '1 ms')
       AS granted_in_one_second;
SET antiban.pinned_now = '2030-01-01 00:00:10+00';

-- HIGH: 1,000 per second (burst 10 + 970); COEXISTENCE: 20 (2 + 17.6).
-- antiban.throughput_headroom (percent) sets the margin.
SELECT allowed, remaining FROM antiban.try_consume('1002', 10);
SELECT allowed, retry_at FROM antiban.try_consume('1002');
SELECT allowed, remaining, retry_at FROM antiban.try_consume('1004', 2);
SELECT allowed, retry_at FROM antiban.try_consume('1004');

-- Pair rate: bursts of 45, then (Meta's one every 6 s, less the 10 %
-- antiban.pair_headroom for latency jitter) one every 6.67 s, for this
-- recipient only (on a number whose own bucket is large enough not to
-- interfere).
UPDATE antiban.numbers SET rate_override = 1000, burst_override = 100 WHERE phone_number_id = '1003';
SELECT allowed, pair_remaining FROM antiban.try_consume('1003', 45, '+5511987654321');
SELECT allowed, remaining, pair_remaining, retry_at FROM antiban.try_consume('1003', 1, '+5511987654321');
SELECT allowed, pair_remaining FROM antiban.try_consume('1003', 1, '+55 (11) 98765-4322');
SET antiban.pinned_now = '2030-01-01 00:00:16.000024+00';
SELECT allowed, pair_remaining FROM antiban.try_consume('1003', 1, '+5511987654321');
SET antiban.pinned_now = '2030-01-01 00:00:16.666666+00';
SELECT allowed, pair_remaining FROM antiban.try_consume('1003', 1, '+5511987654321');
SET antiban.pinned_now = '2030-01-01 00:00:16.666667+00';
SELECT allowed, pair_remaining FROM antiban.try_consume('1003', 1, '+5511987654321');

-- Both buckets or neither: a full pair bucket does not spend the number's tokens.
SELECT remaining AS number_before FROM antiban.try_consume('1003', consume => false);
SELECT allowed FROM antiban.try_consume('1003', 1, '+5511987654321');
SELECT remaining AS number_after FROM antiban.try_consume('1003', consume => false);

-- Overrides (taken as given) and throttling change the bucket at the next call.
UPDATE antiban.numbers SET rate_override = 2, burst_override = 3 WHERE phone_number_id = '1003';
SELECT allowed, remaining FROM antiban.try_consume('1003', 3);
SELECT allowed, retry_at FROM antiban.try_consume('1003');
UPDATE antiban.numbers SET rate_override = NULL, burst_override = NULL, rate_factor = 0.25, mode = 'throttled'
WHERE phone_number_id = '1003';
SET antiban.pinned_now = '2030-01-01 00:01:00+00';
SELECT capacity, rate_per_second FROM antiban.buckets WHERE kind = 'number' AND phone_number_id = '1003';
SELECT allowed, remaining FROM antiban.try_consume('1003', 2);
SELECT allowed, retry_at FROM antiban.try_consume('1003');

-- The buckets view, for psql and BI tools.
SELECT kind, phone_number_id, recipient, tokens, capacity, rate_per_second, is_full, granted, denied
FROM antiban.buckets ORDER BY kind, phone_number_id, recipient;
