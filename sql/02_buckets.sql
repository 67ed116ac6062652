-- Token buckets: throughput per number, pair rate per (number, recipient).
-- The clock is pinned, so refill happens only when the test moves it.
\i regress/fixture.sql

-- A STANDARD number: 80 messages per second, a burst of 80.
SELECT allowed, remaining, retry_at FROM antiban.try_consume('1001', 80);
SELECT allowed, remaining, retry_at FROM antiban.try_consume('1001');
-- Looking does not take.
SELECT allowed, remaining FROM antiban.try_consume('1001', consume => false);
-- One token arrives 12.5 ms later, not a microsecond earlier.
SET antiban.pinned_now = '2030-01-01 00:00:00.012499+00';
SELECT allowed, retry_at FROM antiban.try_consume('1001');
SET antiban.pinned_now = '2030-01-01 00:00:00.0125+00';
SELECT allowed, remaining FROM antiban.try_consume('1001');
-- A clock that goes back refills nothing.
SET antiban.pinned_now = '2030-01-01 00:00:00+00';
SELECT allowed, remaining FROM antiban.try_consume('1001');
SET antiban.pinned_now = '2030-01-01 00:00:10+00';

-- HIGH: 1,000 per second; COEXISTENCE: 20.
SELECT allowed, remaining FROM antiban.try_consume('1002', 1000);
SELECT allowed, remaining, retry_at FROM antiban.try_consume('1004', 20);
SELECT allowed, retry_at FROM antiban.try_consume('1004');

-- Pair rate: bursts of 45, then one every 6 s, for this recipient only.
SELECT allowed, pair_remaining FROM antiban.try_consume('1003', 45, '+5511987654321');
SELECT allowed, remaining, pair_remaining, retry_at FROM antiban.try_consume('1003', 1, '+5511987654321');
SELECT allowed, pair_remaining FROM antiban.try_consume('1003', 1, '+55 (11) 98765-4322');
SET antiban.pinned_now = '2030-01-01 00:00:16.000024+00';
SELECT allowed, pair_remaining FROM antiban.try_consume('1003', 1, '+5511987654321');
SET antiban.pinned_now = '2030-01-01 00:00:16.000025+00';
SELECT allowed, pair_remaining FROM antiban.try_consume('1003', 1, '+5511987654321');

-- Both buckets or neither: a full pair bucket does not spend the number's tokens.
SELECT remaining AS number_before FROM antiban.try_consume('1003', consume => false);
SELECT allowed FROM antiban.try_consume('1003', 1, '+5511987654321');
SELECT remaining AS number_after FROM antiban.try_consume('1003', consume => false);

-- Overrides and throttling change the bucket at the next call.
UPDATE antiban.numbers SET rate_override = 2, burst_override = 3 WHERE phone_number_id = '1003';
SELECT allowed, remaining FROM antiban.try_consume('1003', 3);
SELECT allowed, retry_at FROM antiban.try_consume('1003');
UPDATE antiban.numbers SET rate_override = NULL, burst_override = NULL, rate_factor = 0.25, mode = 'throttled'
WHERE phone_number_id = '1003';
SET antiban.pinned_now = '2030-01-01 00:01:00+00';
SELECT allowed, remaining FROM antiban.try_consume('1003', 20);
SELECT allowed, retry_at FROM antiban.try_consume('1003');

-- The buckets view, for psql and BI tools.
SELECT kind, phone_number_id, recipient, tokens, capacity, rate_per_second, is_full, granted, denied
FROM antiban.buckets ORDER BY kind, phone_number_id, recipient;
