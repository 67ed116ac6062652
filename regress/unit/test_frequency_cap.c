/*
 * test_frequency_cap.c
 *		Sends per person and category in a sliding window
 *		(src/core/frequency_cap.c).
 */
#include <string.h>

#include "unit.h"

#include "core/frequency_cap.h"

#define T(s) ((int64_t) (s) * INT64_C(1000000))
#define DAY T(86400)

static void
two_per_seven_days_waits_for_the_older_to_leave(void **state)
{
	FrequencyLog log;
	FrequencyCap cap = {2, 7 * DAY};

	frequency_log_init(&log);
	assert_int_equal(frequency_cap_ready_at(&log, &cap, T(1000)), T(1000));
	frequency_log_record(&log, T(1000));
	assert_int_equal(frequency_cap_ready_at(&log, &cap, T(2000)), T(2000));
	frequency_log_record(&log, T(1000) + DAY);
	/* full: the third may go when the first is 7 days old */
	assert_int_equal(frequency_cap_ready_at(&log, &cap, T(1000) + 2 * DAY), T(1000) + 7 * DAY);
	/* at that instant the first has left the window (the window is (now - 7 d, now]) */
	assert_int_equal(frequency_cap_ready_at(&log, &cap, T(1000) + 7 * DAY), T(1000) + 7 * DAY);
	assert_int_equal(frequency_log_count(&log, 7 * DAY, T(1000) + 7 * DAY), 1);
}

static void
no_cap_or_old_sends_never_hold(void **state)
{
	FrequencyLog log;
	FrequencyCap none = {0, 0};
	FrequencyCap one = {1, DAY};

	frequency_log_init(&log);
	for (int i = 0; i < 10; i++)
		frequency_log_record(&log, T(100 + i));
	assert_int_equal(frequency_cap_ready_at(&log, &none, T(200)), T(200));
	assert_int_equal(frequency_cap_ready_at(&log, &one, T(109) + DAY), T(109) + DAY);
	assert_int_equal(frequency_cap_ready_at(&log, &one, T(200)), T(109) + DAY);
}

static void
the_log_keeps_the_newest_sends_in_any_order(void **state)
{
	FrequencyLog log;

	frequency_log_init(&log);
	frequency_log_record(&log, T(30));
	frequency_log_record(&log, T(10));
	frequency_log_record(&log, T(50));
	frequency_log_record(&log, T(20));
	frequency_log_record(&log, T(40));
	frequency_log_record(&log, T(5));
	assert_int_equal(log.at[0], T(50));
	assert_int_equal(log.at[1], T(40));
	assert_int_equal(log.at[2], T(30));
	assert_int_equal(log.at[3], T(20));
	/* a cap of 4 in 100 s at 60: full until the 4th newest (20) leaves */
	{
		FrequencyCap cap = {4, T(100)};

		assert_int_equal(frequency_cap_ready_at(&log, &cap, T(60)), T(120));
	}
}

static void
merging_is_commutative_and_idempotent(void **state)
{
	FrequencyLog a,
				b,
				ab,
				ba;

	frequency_log_init(&a);
	frequency_log_init(&b);
	frequency_log_record(&a, T(1));
	frequency_log_record(&a, T(3));
	frequency_log_record(&b, T(2));
	frequency_log_record(&b, T(3));
	ab = a;
	frequency_log_merge(&ab, &b);
	ba = b;
	frequency_log_merge(&ba, &a);
	assert_memory_equal(&ab, &ba, sizeof(ab));
	frequency_log_merge(&ab, &b);
	assert_memory_equal(&ab, &ba, sizeof(ab));
	assert_int_equal(frequency_log_count(&ab, T(10), T(5)), 3);
}

static void
caps_parse_and_refuse(void **state)
{
	FrequencyCaps caps;
	const char *why = NULL;

	assert_true(frequency_caps_parse("marketing=2/7d, utility=4/12h", &caps, &why));
	assert_int_equal(caps.cap[CAP_MARKETING].count, 2);
	assert_int_equal(caps.cap[CAP_MARKETING].window, 7 * DAY);
	assert_int_equal(caps.cap[CAP_UTILITY].window, T(12 * 3600));
	assert_true(frequency_caps_parse("", &caps, &why));
	assert_int_equal(caps.cap[CAP_MARKETING].count, 0);
	assert_true(frequency_caps_parse("utility=1/30min", &caps, &why));
	assert_int_equal(caps.cap[CAP_UTILITY].window, T(1800));
	assert_false(frequency_caps_parse("marketing=5/7d", &caps, &why));
	assert_non_null(why);
	assert_false(frequency_caps_parse("marketing=0/7d", &caps, &why));
	assert_false(frequency_caps_parse("marketing=2/7w", &caps, &why));
	assert_false(frequency_caps_parse("service=2/7d", &caps, &why));
	assert_false(frequency_caps_parse("marketing=2/7d utility=1/1d", &caps, &why));
	assert_false(frequency_caps_parse("marketing=2", &caps, &why));
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(two_per_seven_days_waits_for_the_older_to_leave),
	cmocka_unit_test(no_cap_or_old_sends_never_hold),
	cmocka_unit_test(the_log_keeps_the_newest_sends_in_any_order),
	cmocka_unit_test(merging_is_commutative_and_idempotent),
	cmocka_unit_test(caps_parse_and_refuse),
};

UnitGroup
frequency_cap_tests(void)
{
	return (UnitGroup) UNIT_GROUP("frequency_cap", tests);
}
