/*
 * test_errors.c
 *		Error classification and retry delays.
 */
#include "unit.h"

#include "core/backoff.h"
#include "core/error_class.h"

static void
ban_signals_pause_the_number(void **state)
{
	int			codes[] = {368, 131031, 131048, 131042, 0, 190, 10, 131005, 250};

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
	{
		ErrorClass	c = error_classify(codes[i], 400);

		assert_int_equal(c.action, ERROR_PAUSE_NUMBER);
		assert_true(error_is_account_signal(c.action));
	}
}

static void
throughput_slows_and_pair_backs_off(void **state)
{
	assert_int_equal(error_classify(130429, 400).action, ERROR_SLOW_NUMBER);
	assert_int_equal(error_classify(131056, 400).action, ERROR_RECIPIENT_BACKOFF);
	assert_false(error_is_account_signal(ERROR_RECIPIENT_BACKOFF));
	assert_int_equal(error_classify(131049, 400).action, ERROR_RETRY_NEXT_DAY);
	assert_true(error_classify(131049, 400).min_delay_us >= 24LL * 3600 * 1000000);
}

static void
permanent_and_transient(void **state)
{
	assert_int_equal(error_classify(131026, 400).action, ERROR_PERMANENT);
	assert_int_equal(error_classify(132001, 404).action, ERROR_PERMANENT);
	assert_int_equal(error_classify(131047, 400).action, ERROR_PERMANENT);
	assert_int_equal(error_classify(2, 503).action, ERROR_TRANSIENT);
	assert_int_equal(error_classify(131000, 500).action, ERROR_TRANSIENT);
	assert_int_equal(error_classify(131000, 500).max_attempts, 3);
	assert_int_equal(error_classify(2388293, 400).action, ERROR_PERMANENT);
}

static void
unknown_codes_follow_http_status(void **state)
{
	assert_int_equal(error_classify(999999, 502).action, ERROR_TRANSIENT);
	assert_int_equal(error_classify(999999, 400).action, ERROR_PERMANENT);
	assert_int_equal(error_classify(999999, 0).action, ERROR_TRANSIENT);
}

static void
backoff_grows_with_jitter_and_cap(void **state)
{
	BackoffPolicy p = {.base_us = 1000000, .cap_us = 60000000};

	assert_int_equal(backoff_delay(&p, 1, 0.0, 0), 500000);
	assert_int_equal(backoff_delay(&p, 1, 0.999999, 0) / 1000, 999);
	assert_int_equal(backoff_delay(&p, 3, 0.0, 0), 2000000);
	assert_int_equal(backoff_delay(&p, 30, 0.0, 0), 30000000);
	/* Retry-After wins when longer */
	assert_int_equal(backoff_delay(&p, 1, 0.0, 7000000), 7000000);
}

static void
pair_backoff_is_four_to_the_x(void **state)
{
	assert_int_equal(backoff_pair_delay(0), 1000000);
	assert_int_equal(backoff_pair_delay(1), 4000000);
	assert_int_equal(backoff_pair_delay(2), 16000000);
	assert_int_equal(backoff_pair_delay(50), 4096LL * 1000000);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(ban_signals_pause_the_number),
	cmocka_unit_test(throughput_slows_and_pair_backs_off),
	cmocka_unit_test(permanent_and_transient),
	cmocka_unit_test(unknown_codes_follow_http_status),
	cmocka_unit_test(backoff_grows_with_jitter_and_cap),
	cmocka_unit_test(pair_backoff_is_four_to_the_x),
};

UnitGroup
error_tests(void)
{
	return (UnitGroup) UNIT_GROUP("errors", tests);
}
