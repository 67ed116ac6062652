/*
 * test_warmup.c
 *		The warm-up curve, the day gate, graduation and the daily cap.
 */
#include "unit.h"

#include <limits.h>
#include <string.h>

#include "core/warmup.h"

#define HOUR(h) ((int64_t) (h) * INT64_C(3600000000))
#define T0 HOUR(1000)

static WarmupStep
step_at(WarmupState s, int health, bool bad, int64_t sent, int64_t oldest, int64_t now)
{
	WarmupParams p = warmup_defaults();
	WarmupInput in = {.health = health, .bad_signal = bad, .sent_24h = sent,
	.oldest_sent_24h = oldest, .now = now};
	WarmupStep out;

	memset(&out, 0x7f, sizeof(out));
	warmup_step(&p, &s, &in, &out);
	return out;
}

static void
warmup_doubles_daily_until_graduation(void **state)
{
	WarmupParams p = warmup_defaults();
	int64_t		expected[] = {250, 500, 1000, 2000, 4000, 8000, 16000, 32000, 64000};
	bool		graduated = true;

	for (int day = 0; day < 9; day++)
	{
		assert_int_equal(warmup_daily_cap(&p, day, &graduated), expected[day]);
		assert_false(graduated);
	}
	assert_int_equal(warmup_daily_cap(&p, 9, &graduated), 100000);
	assert_true(graduated);
	graduated = false;
	assert_int_equal(warmup_daily_cap(&p, 200, &graduated), 100000);
	assert_true(graduated);
	assert_int_equal(warmup_daily_cap(&p, INT_MAX, NULL), 100000);
	assert_int_equal(warmup_daily_cap(&p, -1, &graduated), 250);
	assert_false(graduated);
	p.growth = 1.5;
	assert_int_equal(warmup_daily_cap(&p, 1, NULL), 375);
	assert_int_equal(warmup_daily_cap(&p, 3, NULL), 844);	/* 843.75 */
}

static void
first_step_starts_day_one(void **state)
{
	WarmupStep r = step_at((WarmupState) {0, 0}, 100, false, 0, 0, T0);

	assert_true(r.day_changed);
	assert_int_equal(r.next.day, 0);
	assert_int_equal(r.next.day_started, T0);
	assert_int_equal(r.daily_cap, 250);
	assert_false(r.graduated);
	assert_int_equal(r.full_until, 0);
	assert_string_equal(r.why, "warm-up day 1 starts");
	/* 250 over 8 h */
	assert_float_equal(r.rate, 250.0 / (8 * 3600), 1e-12);
}

static void
healthy_day_counts_after_24_hours(void **state)
{
	WarmupStep r = step_at((WarmupState) {0, T0}, 95, false, 100, T0, T0 + HOUR(23));

	assert_false(r.day_changed);
	assert_int_equal(r.next.day, 0);
	r = step_at((WarmupState) {0, T0}, 95, false, 100, T0, T0 + HOUR(24));
	assert_true(r.day_changed);
	assert_int_equal(r.next.day, 1);
	assert_int_equal(r.next.day_started, T0 + HOUR(24));
	assert_int_equal(r.daily_cap, 500);
	assert_string_equal(r.why, "warm-up day 1 counted at health 95: cap 250 -> 500 a day");
}

static void
day_under_the_gate_or_with_a_bad_signal_is_repeated(void **state)
{
	WarmupStep r = step_at((WarmupState) {2, T0}, 79, false, 0, 0, T0 + HOUR(25));

	assert_true(r.day_changed);
	assert_int_equal(r.next.day, 2);
	assert_int_equal(r.next.day_started, T0 + HOUR(25));
	assert_int_equal(r.daily_cap, 1000);
	assert_string_equal(r.why, "warm-up day 3 repeated: health under the gate; cap stays 1000 a day");
	r = step_at((WarmupState) {2, T0}, 100, true, 0, 0, T0 + HOUR(25));
	assert_int_equal(r.next.day, 2);
	assert_string_equal(r.why, "warm-up day 3 repeated: a bad signal this step; cap stays 1000 a day");
	/* exactly at the gate counts */
	r = step_at((WarmupState) {2, T0}, 80, false, 0, 0, T0 + HOUR(25));
	assert_int_equal(r.next.day, 3);
}

static void
full_until_the_oldest_send_leaves_the_window(void **state)
{
	int64_t		oldest = T0 + HOUR(1);
	WarmupStep r = step_at((WarmupState) {0, T0}, 100, false, 249, oldest, T0 + HOUR(5));

	assert_int_equal(r.full_until, 0);
	r = step_at((WarmupState) {0, T0}, 100, false, 250, oldest, T0 + HOUR(5));
	assert_int_equal(r.full_until, oldest + HOUR(24));
	r = step_at((WarmupState) {0, T0}, 100, false, 300, 0, T0 + HOUR(5));
	assert_int_equal(r.full_until, T0 + HOUR(5) + HOUR(24));
}

static void
graduation_at_max_daily(void **state)
{
	WarmupStep r = step_at((WarmupState) {8, T0}, 100, false, 0, 0, T0 + HOUR(24));

	assert_int_equal(r.next.day, 9);
	assert_int_equal(r.daily_cap, 100000);
	assert_true(r.graduated);
	assert_string_equal(r.why, "warm-up done: the cap reached 100000 a day");
	assert_int_equal(r.full_until, 0);
}

static void
clock_behind_the_day_start_restarts_the_day(void **state)
{
	WarmupStep r = step_at((WarmupState) {3, T0}, 100, false, 0, 0, T0 - HOUR(1));

	assert_int_equal(r.next.day, 3);
	assert_int_equal(r.next.day_started, T0 - HOUR(1));
	r = step_at((WarmupState) {-4, T0}, 100, false, 0, 0, T0 + HOUR(1));
	assert_int_equal(r.next.day, 0);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(warmup_doubles_daily_until_graduation),
	cmocka_unit_test(first_step_starts_day_one),
	cmocka_unit_test(healthy_day_counts_after_24_hours),
	cmocka_unit_test(day_under_the_gate_or_with_a_bad_signal_is_repeated),
	cmocka_unit_test(full_until_the_oldest_send_leaves_the_window),
	cmocka_unit_test(graduation_at_max_daily),
	cmocka_unit_test(clock_behind_the_day_start_restarts_the_day),
};

UnitGroup
warmup_tests(void)
{
	return (UnitGroup) UNIT_GROUP("warmup", tests);
}
