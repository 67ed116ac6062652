/*
 * test_token_bucket.c
 *		Integer token-bucket math: refill, take, waits, never over-granting.
 */
#include "unit.h"

#include "core/token_bucket.h"

#define T(x) ((int64_t) ((x) * TB_SCALE))

static const TokenBucketParams eighty = {.capacity = T(80), .rate = T(80)};

static void
starts_empty_after_restart(void **state)
{
	TokenBucket b;

	token_bucket_init(&b, &eighty, T(10), T(10));
	assert_int_equal(b.tokens, 0);
	token_bucket_init(&b, &eighty, T(10.5), T(10));
	assert_int_equal(b.tokens, T(40));
	token_bucket_init(&b, &eighty, T(100), T(10));
	assert_int_equal(b.tokens, T(80));
}

static void
takes_until_empty_then_waits_exactly(void **state)
{
	TokenBucket b = {.tokens = T(80), .stamp = 0};
	TokenBucketResult r = token_bucket_take(&b, &eighty, T(80), 0, true);

	assert_true(r.allowed);
	assert_int_equal(r.remaining, 0);
	r = token_bucket_take(&b, &eighty, T(1), 0, true);
	assert_false(r.allowed);
	/* one token at 80/s arrives after 12.5 ms */
	assert_int_equal(r.ready_at, 12500);
	r = token_bucket_take(&b, &eighty, T(1), 12499, true);
	assert_false(r.allowed);
	r = token_bucket_take(&b, &eighty, T(1), 12500, true);
	assert_true(r.allowed);
}

static void
peek_does_not_consume(void **state)
{
	TokenBucket b = {.tokens = T(2), .stamp = 0};
	TokenBucketResult r = token_bucket_take(&b, &eighty, T(2), 0, false);

	assert_true(r.allowed);
	assert_int_equal(b.tokens, T(2));
}

static void
never_above_capacity_and_never_when_too_big(void **state)
{
	TokenBucket b = {.tokens = 0, .stamp = 0};

	token_bucket_refill(&b, &eighty, T(3600));
	assert_int_equal(b.tokens, T(80));
	assert_int_equal(token_bucket_ready_at(&b, &eighty, T(81), 0), TB_NEVER);
	token_bucket_give_back(&b, &eighty, T(5));
	assert_int_equal(b.tokens, T(80));
}

static void
clock_going_back_refills_nothing(void **state)
{
	TokenBucket b = {.tokens = T(1), .stamp = T(10)};

	token_bucket_refill(&b, &eighty, T(5));
	assert_int_equal(b.tokens, T(1));
	assert_int_equal(b.stamp, T(10));
}

static void
slow_rates_round_waits_up(void **state)
{
	/* pair rate: one message per 6 s, burst 45 */
	TokenBucketParams pair = {.capacity = T(45), .rate = T(1) / 6};
	TokenBucket b = {.tokens = 0, .stamp = 0};
	int64_t		ready = token_bucket_ready_at(&b, &pair, T(1), 0);

	assert_true(ready >= T(6));
	/* the rate itself is rounded down (166,666 micro-tokens/s): tens of µs late */
	assert_true(ready <= T(6) + 100);
	token_bucket_refill(&b, &pair, ready);
	assert_true(b.tokens >= T(1));
}

/*
 * The property behind "never over-grant": over any run of calls, grants never
 * exceed the capacity plus what the rate refilled in the elapsed time.
 */
static void
grants_never_exceed_capacity_plus_refill(void **state)
{
	TokenBucketParams p = {.capacity = T(10), .rate = T(3)};
	TokenBucket b;
	int64_t		granted = 0;
	uint64_t	seed = 42;

	token_bucket_init(&b, &p, 0, -T(100));
	for (int64_t now = 0; now < T(20); now += 997)
	{
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		if (token_bucket_take(&b, &p, T(1) + (int64_t) (seed >> 60), now, true).allowed)
			granted += T(1) + (int64_t) (seed >> 60);
		assert_true(granted <= p.capacity + now * 3);
	}
	assert_true(granted > T(50));
}

static void
frequent_polling_loses_nothing(void **state)
{
	TokenBucketParams pair = {.capacity = T(45), .rate = T(1) / 6};
	TokenBucket b = {.tokens = 0, .stamp = 0};

	/* polled every microsecond for 6 s and a bit: one whole token, as unpolled */
	for (int64_t now = 1; now <= T(6) + 100; now++)
		token_bucket_refill(&b, &pair, now);
	assert_true(b.tokens >= T(1));
	assert_true(b.tokens <= T(1) + 20);
}

static void
full_means_forgettable(void **state)
{
	TokenBucket b = {.tokens = T(79), .stamp = 0};

	assert_false(token_bucket_is_full(&b, &eighty, 0));
	assert_true(token_bucket_is_full(&b, &eighty, 12500));
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(starts_empty_after_restart),
	cmocka_unit_test(takes_until_empty_then_waits_exactly),
	cmocka_unit_test(peek_does_not_consume),
	cmocka_unit_test(never_above_capacity_and_never_when_too_big),
	cmocka_unit_test(clock_going_back_refills_nothing),
	cmocka_unit_test(slow_rates_round_waits_up),
	cmocka_unit_test(grants_never_exceed_capacity_plus_refill),
	cmocka_unit_test(frequent_polling_loses_nothing),
	cmocka_unit_test(full_means_forgettable),
};

UnitGroup
token_bucket_tests(void)
{
	return (UnitGroup) UNIT_GROUP("token_bucket", tests);
}
