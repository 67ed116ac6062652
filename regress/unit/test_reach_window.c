/*
 * test_reach_window.c
 *		Unique recipients per moving 24 h, minute by minute.
 */
#include "unit.h"

#include "core/reach_window.h"

#define MIN(x) ((int64_t) (x) * REACH_MINUTE_US)

static void
new_recipients_count_once(void **state)
{
	ReachWindow w;

	reach_window_init(&w, MIN(1000));
	assert_true(reach_window_record(&w, REACH_NEVER, MIN(1000)));
	assert_int_equal(w.total, 1);
	/* the same recipient again, later: still one, now counted from the new time */
	assert_false(reach_window_record(&w, MIN(1000), MIN(1100)));
	assert_int_equal(w.total, 1);
	assert_true(reach_window_counts(&w, MIN(1100)));
}

static void
recipients_expire_after_24h_and_a_minute(void **state)
{
	ReachWindow w;

	reach_window_init(&w, MIN(0));
	reach_window_record(&w, REACH_NEVER, MIN(0) + 5);
	reach_window_advance(&w, MIN(1440));
	assert_int_equal(w.total, 1);	/* 24 h after: still counted (safe side) */
	reach_window_advance(&w, MIN(1441));
	assert_int_equal(w.total, 0);
	assert_false(reach_window_counts(&w, MIN(0) + 5));
}

static void
ready_at_is_when_the_oldest_leave(void **state)
{
	ReachWindow w;

	reach_window_init(&w, MIN(0));
	for (int m = 0; m < 10; m++)
		reach_window_record(&w, REACH_NEVER, MIN(m));
	assert_int_equal(reach_window_ready_at(&w, 11, MIN(9)), MIN(9));
	/* limit 10 is full: the minute-0 recipient leaves at minute 1441 */
	assert_int_equal(reach_window_ready_at(&w, 10, MIN(9)), MIN(1441));
	/* limit 8: three must leave, the third (minute 2) at 1443 */
	assert_int_equal(reach_window_ready_at(&w, 8, MIN(9)), MIN(1443));
	reach_window_advance(&w, MIN(1441));
	assert_int_equal(w.total, 9);
}

static void
long_gaps_clear_everything(void **state)
{
	ReachWindow w;

	reach_window_init(&w, MIN(0));
	for (int i = 0; i < 100; i++)
		reach_window_record(&w, REACH_NEVER, MIN(i % 7));
	reach_window_advance(&w, MIN(100000));
	assert_int_equal(w.total, 0);
}

static void
restore_and_forget_keep_totals(void **state)
{
	ReachWindow w;

	reach_window_init(&w, MIN(2000));
	reach_window_restore(&w, MIN(1990));
	reach_window_restore(&w, MIN(100));		/* too old: not counted */
	assert_int_equal(w.total, 1);
	reach_window_forget(&w, MIN(1990));
	assert_int_equal(w.total, 0);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(new_recipients_count_once),
	cmocka_unit_test(recipients_expire_after_24h_and_a_minute),
	cmocka_unit_test(ready_at_is_when_the_oldest_leave),
	cmocka_unit_test(long_gaps_clear_everything),
	cmocka_unit_test(restore_and_forget_keep_totals),
};

UnitGroup
reach_window_tests(void)
{
	return (UnitGroup) UNIT_GROUP("reach_window", tests);
}
