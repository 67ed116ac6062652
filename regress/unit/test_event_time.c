/*
 * test_event_time.c
 *		Webhook timestamps within [receipt - 7 days, receipt + 5 min].
 */
#include "unit.h"

#include "core/event_time.h"

#define S INT64_C(1000000)
/* 2030-01-01 00:00:00 UTC */
#define RECEIPT (INT64_C(1893456000) * S)

static void
times_inside_the_bounds_are_meta_s(void **state)
{
	int64_t		at;

	assert_int_equal(event_time_from_text("1893456000", RECEIPT, &at), EVENT_TIME_OK);
	assert_true(at == RECEIPT);
	assert_int_equal(event_time_from_text("1893455990.25", RECEIPT, &at), EVENT_TIME_OK);
	assert_true(at == RECEIPT - 10 * S + S / 4);
	/* both bounds are inside */
	assert_int_equal(event_time_from_text("1893456300", RECEIPT, &at), EVENT_TIME_OK);
	assert_true(at == RECEIPT + 300 * S);
	assert_int_equal(event_time_from_text("1892851200", RECEIPT, &at), EVENT_TIME_OK);
	assert_true(at == RECEIPT - 7 * 86400 * S);
}

static void
absurd_times_are_clamped(void **state)
{
	int64_t		at;

	assert_int_equal(event_time_from_text("999999999999", RECEIPT, &at), EVENT_TIME_TOO_NEW);
	assert_true(at == RECEIPT + EVENT_CLOCK_SKEW_SECONDS * S);
	assert_int_equal(event_time_from_text("1893456300.000001", RECEIPT, &at), EVENT_TIME_TOO_NEW);
	assert_true(at == RECEIPT + 300 * S);
	assert_int_equal(event_time_from_text("99999999999999999999999999999999", RECEIPT, &at), EVENT_TIME_TOO_NEW);
	assert_true(at == RECEIPT + 300 * S);
	/* one digit past the ceiling, where a naive parse overflows (found by fuzzing) */
	assert_int_equal(event_time_from_text("9999999999999", RECEIPT, &at), EVENT_TIME_TOO_NEW);
	assert_true(at == RECEIPT + 300 * S);
	assert_int_equal(event_time_from_text("1", RECEIPT, &at), EVENT_TIME_TOO_OLD);
	assert_true(at == RECEIPT - META_RETRY_HORIZON_SECONDS * S);
	assert_int_equal(event_time_from_text("0", RECEIPT, &at), EVENT_TIME_TOO_OLD);
	assert_int_equal(event_time_from_text("1892851199", RECEIPT, &at), EVENT_TIME_TOO_OLD);
	/* milliseconds by mistake are far in the future */
	assert_int_equal(event_time_from_text("1893456000000", RECEIPT, &at), EVENT_TIME_TOO_NEW);
}

static void
what_is_not_unix_seconds_is_the_receipt_time(void **state)
{
	const char *bad[] = {"-1", "1e9", " 1893456000", "1893456000 ", "1893456000.", ".5",
	"0x70D3D5C0", "2030-01-01", "1893456000.5.5", "NaN"};
	int64_t		at;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		at = 0;
		assert_int_equal(event_time_from_text(bad[i], RECEIPT, &at), EVENT_TIME_UNREADABLE);
		assert_true(at == RECEIPT);
	}
	assert_int_equal(event_time_from_text("", RECEIPT, &at), EVENT_TIME_MISSING);
	assert_int_equal(event_time_from_text(NULL, RECEIPT, &at), EVENT_TIME_MISSING);
	assert_true(at == RECEIPT);
}

/* A statement dated after now plus the skew is refused; up to it is fine. */
static void
statements_dated_in_the_future_are_refused(void **state)
{
	assert_false(stated_time_in_future(RECEIPT, RECEIPT));
	assert_false(stated_time_in_future(RECEIPT - 3600 * S, RECEIPT));
	assert_false(stated_time_in_future(RECEIPT + EVENT_CLOCK_SKEW_SECONDS * S, RECEIPT));
	assert_true(stated_time_in_future(RECEIPT + EVENT_CLOCK_SKEW_SECONDS * S + 1, RECEIPT));
	assert_true(stated_time_in_future(RECEIPT + 3 * 3600 * S, RECEIPT));
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(statements_dated_in_the_future_are_refused),
	cmocka_unit_test(times_inside_the_bounds_are_meta_s),
	cmocka_unit_test(absurd_times_are_clamped),
	cmocka_unit_test(what_is_not_unix_seconds_is_the_receipt_time),
};

UnitGroup
event_time_tests(void)
{
	return (UnitGroup) UNIT_GROUP("event_time", tests);
}
