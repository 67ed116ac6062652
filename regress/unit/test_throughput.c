/*
 * test_throughput.c
 *		Throughput levels, overrides, throttling, sendable statuses.
 */
#include "unit.h"

#include "core/throughput.h"

static void
levels_give_meta_rates(void **state)
{
	TokenBucketParams p;

	/* burst + refill per second = the level: no second ever exceeds it */
	assert_true(throughput_params("STANDARD", 0, 0, 1.0, 0.0, 0.0, &p));
	assert_int_equal(p.capacity, 2 * TB_SCALE);
	assert_int_equal(p.rate, 78 * TB_SCALE);
	assert_true(throughput_params("HIGH", 0, 0, 1.0, 0.0, 0.0, &p));
	assert_int_equal(p.capacity, 10 * TB_SCALE);
	assert_int_equal(p.rate, 990 * TB_SCALE);
	assert_true(throughput_params("COEXISTENCE", 0, 0, 1.0, 0.0, 0.0, &p));
	assert_int_equal(p.capacity + p.rate, 20 * TB_SCALE);
	assert_false(throughput_params("TURBO", 0, 0, 1.0, 0.0, 0.0, &p));
}

static void
overrides_and_throttling(void **state)
{
	TokenBucketParams p;

	assert_true(throughput_params("STANDARD", 10, 3, 1.0, 0.0, 0.0, &p));
	assert_int_equal(p.rate, 10 * TB_SCALE);
	assert_int_equal(p.capacity, 3 * TB_SCALE);
	assert_true(throughput_params("STANDARD", 0, 0, 0.25, 0.0, 0.0, &p));
	assert_int_equal(p.capacity + p.rate, 20 * TB_SCALE);
	assert_true(throughput_params("HIGH", 0, 0, 0.5, 0.0, 0.0, &p));
	assert_int_equal(p.capacity, 5 * TB_SCALE);
	assert_int_equal(p.rate, 495 * TB_SCALE);
	assert_true(throughput_params("STANDARD", 0.5, 0, 1.0, 0.0, 0.0, &p));
	assert_int_equal(p.capacity, 2 * TB_SCALE);	/* never below two messages */
	assert_int_equal(p.rate, TB_SCALE / 2);	/* a slow explicit rate is kept */
	/* a warming number: 250 a day over 8 h */
	assert_true(throughput_params("STANDARD", 250.0 / (8 * 3600), 0, 1.0, 0.02, 0.0, &p));
	assert_int_equal(p.rate, 8680);
	assert_true(throughput_params("STANDARD", 1e-9, 0, 1.0, 0.0, 0.0, &p));
	assert_int_equal(p.rate, (int64_t) (THROUGHPUT_MIN_RATE * TB_SCALE));
	/* without an override, a throttled level never drops under one a second */
	assert_true(throughput_params("COEXISTENCE", 0, 0, 0.05, 0.0, 0.0, &p));
	assert_int_equal(p.rate, TB_SCALE);
}

static void
headroom_keeps_arrivals_under_the_level(void **state)
{
	TokenBucketParams p;

	assert_true(throughput_params("HIGH", 0, 0, 1.0, 0.02, 0.0, &p));
	assert_int_equal(p.capacity, 10 * TB_SCALE);
	assert_int_equal(p.rate, 970 * TB_SCALE);
	/* overrides are the operator's numbers: no headroom taken */
	assert_true(throughput_params("HIGH", 500, 0, 1.0, 0.02, 0.0, &p));
	assert_int_equal(p.rate, 500 * TB_SCALE);
}

static void
statuses(void **state)
{
	assert_true(number_status_can_send("CONNECTED"));
	assert_true(number_status_can_send("FLAGGED"));
	assert_false(number_status_can_send("BANNED"));
	assert_false(number_status_can_send("RESTRICTED"));
	assert_false(number_status_can_send("PENDING"));
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(levels_give_meta_rates),
	cmocka_unit_test(overrides_and_throttling),
	cmocka_unit_test(headroom_keeps_arrivals_under_the_level),
	cmocka_unit_test(statuses),
};

UnitGroup
throughput_tests(void)
{
	return (UnitGroup) UNIT_GROUP("throughput", tests);
}
