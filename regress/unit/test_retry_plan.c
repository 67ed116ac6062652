/*
 * test_retry_plan.c
 *		After a failed send: next state, wait, and side effects.
 */
#include "unit.h"

#include "core/retry_plan.h"

#define SEC 1000000LL

static RetryInput
input(int code, int attempts)
{
	RetryInput	in = {
		.error = error_classify(code, 400), .attempts = attempts, .max_attempts = 5,
		.now = 1000 * SEC, .valid_until = INT64_MAX, .random01 = 0.0,
		.backoff = {.base_us = 2 * SEC, .cap_us = 600 * SEC},
	};

	return in;
}

static void
transient_backs_off_then_dies(void **state)
{
	RetryInput	in = input(131016, 1);
	RetryPlan	p = plan_retry(&in);

	assert_int_equal(p.state, MSG_RETRY_WAIT);
	assert_int_equal(p.not_before, 1001 * SEC);
	in.attempts = 3;
	assert_int_equal(plan_retry(&in).not_before, 1004 * SEC);
	in.attempts = 5;
	assert_int_equal(plan_retry(&in).state, MSG_DEAD);
	/* 131000 is given fewer tries */
	in = input(131000, 3);
	assert_int_equal(plan_retry(&in).state, MSG_DEAD);
}

static void
retry_after_is_honoured(void **state)
{
	RetryInput	in = input(2, 1);

	in.retry_after_us = 30 * SEC;
	assert_int_equal(plan_retry(&in).not_before, 1030 * SEC);
}

static void
permanent_fails_at_once(void **state)
{
	RetryInput	in = input(131026, 1);

	assert_int_equal(plan_retry(&in).state, MSG_FAILED);
}

static void
ban_signals_pause_and_requeue(void **state)
{
	RetryInput	in = input(131048, 1);
	RetryPlan	p = plan_retry(&in);

	assert_int_equal(p.state, MSG_RETRY_WAIT);
	assert_string_equal(p.reason, "the number was paused; waiting for another");
	assert_false(p.pair_hit);
	/* the global limit, not the code's, bounds a message whose number was paused */
	in.attempts = 5;
	assert_int_equal(plan_retry(&in).state, MSG_DEAD);
	in = input(471, 1);
	assert_string_equal(plan_retry(&in).reason, "the number was paused; waiting for another");
	in = input(130429, 1);
	assert_int_equal(plan_retry(&in).state, MSG_RETRY_WAIT);
	assert_int_equal(plan_retry(&in).not_before, 1001 * SEC);
}

static void
pair_rate_waits_four_to_the_x(void **state)
{
	RetryInput	in = input(131056, 1);
	RetryPlan	p;

	in.pair_hits = 2;
	p = plan_retry(&in);
	assert_true(p.pair_hit);
	assert_int_equal(p.not_before, 1016 * SEC);
}

static void
never_past_validity(void **state)
{
	RetryInput	in = input(131049, 1);

	assert_int_equal(plan_retry(&in).not_before, 1000 * SEC + 24 * 3600 * SEC);
	in.valid_until = 1000 * SEC + 3600 * SEC;
	assert_int_equal(plan_retry(&in).state, MSG_EXPIRED);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(transient_backs_off_then_dies),
	cmocka_unit_test(retry_after_is_honoured),
	cmocka_unit_test(permanent_fails_at_once),
	cmocka_unit_test(ban_signals_pause_and_requeue),
	cmocka_unit_test(pair_rate_waits_four_to_the_x),
	cmocka_unit_test(never_past_validity),
};

UnitGroup
retry_plan_tests(void)
{
	return (UnitGroup) UNIT_GROUP("retry_plan", tests);
}
