/*
 * test_business_hours.c
 *		Weekly shifts in local time: on shift or not, deadlines N business
 *		minutes ahead, across weekends, midnight and daylight-saving changes.
 *
 * Offsets come from the test, as they come from PostgreSQL's tz database
 * in the server: fixed ones, or the real transitions of America/Sao_Paulo
 * (2018-2019, when Brazil still had daylight saving and changed at local
 * midnight) and Europe/Lisbon (2024), as `zdump -v` prints them.
 */
#include "unit.h"

#include "core/business_hours.h"

#define MIN (INT64_C(60) * BH_USECS_PER_SEC)
#define HOUR (60 * MIN)
#define SUN 0
#define MON 1
#define TUE 2
#define WED 3
#define THU 4
#define FRI 5
#define SAT 6

/* Microseconds since the Unix epoch of a UTC civil time (Hinnant's days_from_civil). */
static int64_t
utc(int y, int m, int d, int hh, int mm)
{
	int64_t		era,
				yoe,
				doy,
				doe,
				days;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	days = era * 146097 + doe - 719468;
	return (days * 86400 + hh * 3600 + mm * 60) * BH_USECS_PER_SEC;
}

/* A local civil time at a fixed offset (hours east of UTC), as UTC. */
static int64_t
local(int y, int m, int d, int hh, int mm, double offset_hours)
{
	return utc(y, m, d, hh, mm) - (int64_t) (offset_hours * 3600) * BH_USECS_PER_SEC;
}

static int32_t
fixed_offset(int64_t unix_seconds, void *arg)
{
	return *(const int32_t *) arg;
}

/* A zone as a list of transitions: before the first, 'initial'. */
typedef struct Transition
{
	int64_t		at;				/* unix seconds */
	int32_t		offset;			/* in force from 'at' */
} Transition;

typedef struct Zone
{
	int32_t		initial;
	const Transition *transitions;
	int			n;
	int			calls;
} Zone;

static int32_t
zone_offset(int64_t unix_seconds, void *arg)
{
	Zone	   *z = arg;
	int32_t		off = z->initial;

	z->calls++;
	for (int i = 0; i < z->n && z->transitions[i].at <= unix_seconds; i++)
		off = z->transitions[i].offset;
	return off;
}

static const Transition sao_paulo[] = {
	{1508036400, -7200},		/* 2017-10-15 03:00 UTC: 00:00 -03 becomes 01:00 -02 */
	{1518919200, -10800},		/* 2018-02-18 02:00 UTC: 00:00 -02 becomes 23:00 -03 */
	{1541300400, -7200},		/* 2018-11-04 03:00 UTC */
	{1550368800, -10800},		/* 2019-02-17 02:00 UTC, Brazil's last change */
};

static const Transition lisbon[] = {
	{1711846800, 3600},			/* 2024-03-31 01:00 UTC: 01:00 WET becomes 02:00 WEST */
	{1729990800, 0},			/* 2024-10-27 01:00 UTC: 02:00 WEST becomes 01:00 WET */
};

static int32_t minus3 = -3 * 3600;
static const LocalClock brasilia = {fixed_offset, &minus3};

static WeeklyShift
shift(int weekday, int start_h, int start_m, int end_h, int end_m)
{
	WeeklyShift s;

	assert_true(weekly_shift_make(weekday, start_h * 3600 + start_m * 60, end_h * 3600 + end_m * 60, &s));
	return s;
}

/* Monday to Friday, 09:00-18:00 */
static WeeklyShift office[5];
static const WeeklySchedule office_hours = {office, 5};

static void
make_office(void)
{
	for (int d = MON; d <= FRI; d++)
		office[d - MON] = shift(d, 9, 0, 18, 0);
}

static void
shifts_are_built_from_wall_clock_times(void **state)
{
	WeeklyShift s;

	assert_true(weekly_shift_make(MON, 9 * 3600, 18 * 3600, &s));
	assert_int_equal(s.length, 9 * 3600);
	assert_true(weekly_shift_make(FRI, 22 * 3600, 6 * 3600, &s));
	assert_int_equal(s.length, 8 * 3600);	/* crosses midnight */
	assert_true(weekly_shift_make(SUN, 0, 0, &s));
	assert_int_equal(s.length, 86400);	/* a whole day */
	assert_true(weekly_shift_make(SAT, 22 * 3600, 86400, &s));
	assert_int_equal(s.length, 2 * 3600);	/* until midnight */
	assert_false(weekly_shift_make(7, 0, 3600, &s));
	assert_false(weekly_shift_make(-1, 0, 3600, &s));
	assert_false(weekly_shift_make(MON, 86400, 3600, &s));
	assert_false(weekly_shift_make(MON, 0, 86401, &s));
	assert_false(weekly_shift_make(MON, -1, 3600, &s));
}

static void
office_hours_in_brasilia(void **state)
{
	make_office();
	/* 2030-01-02 is a Wednesday */
	assert_true(business_on_shift(&office_hours, &brasilia, local(2030, 1, 2, 12, 0, -3)));
	assert_true(business_on_shift(&office_hours, &brasilia, local(2030, 1, 2, 9, 0, -3)));
	assert_false(business_on_shift(&office_hours, &brasilia, local(2030, 1, 2, 8, 59, -3)));
	assert_false(business_on_shift(&office_hours, &brasilia, local(2030, 1, 2, 18, 0, -3)));
	/* 12:00 UTC is 09:00 in Brasilia: on; 11:59 UTC is not */
	assert_true(business_on_shift(&office_hours, &brasilia, utc(2030, 1, 2, 12, 0)));
	assert_false(business_on_shift(&office_hours, &brasilia, utc(2030, 1, 2, 11, 59)));
	/* Saturday and Sunday */
	assert_false(business_on_shift(&office_hours, &brasilia, local(2030, 1, 5, 12, 0, -3)));
	assert_false(business_on_shift(&office_hours, &brasilia, local(2030, 1, 6, 12, 0, -3)));
	/* 15 minutes from Wednesday 10:00 */
	assert_true(business_deadline(&office_hours, &brasilia, local(2030, 1, 2, 10, 0, -3), 15 * MIN) ==
				local(2030, 1, 2, 10, 15, -3));
	/* started before the shift: the clock starts at 09:00 */
	assert_true(business_deadline(&office_hours, &brasilia, local(2030, 1, 2, 7, 0, -3), 15 * MIN) ==
				local(2030, 1, 2, 9, 15, -3));
	/* the deadline at the end of a shift is that instant, not the next morning */
	assert_true(business_deadline(&office_hours, &brasilia, local(2030, 1, 2, 17, 0, -3), 60 * MIN) ==
				local(2030, 1, 2, 18, 0, -3));
	/* one minute more: the next morning */
	assert_true(business_deadline(&office_hours, &brasilia, local(2030, 1, 2, 17, 0, -3), 61 * MIN) ==
				local(2030, 1, 3, 9, 1, -3));
	/* microseconds are kept */
	assert_true(business_deadline(&office_hours, &brasilia, local(2030, 1, 2, 10, 0, -3) + 5, 15 * MIN) ==
				local(2030, 1, 2, 10, 15, -3) + 5);
	/* nothing to wait for */
	assert_true(business_deadline(&office_hours, &brasilia, local(2030, 1, 5, 10, 0, -3), 0) ==
				local(2030, 1, 5, 10, 0, -3));
}

static void
weekends_are_skipped(void **state)
{
	make_office();
	/* Friday 2030-01-04 17:30 + 60 minutes: 30 on Friday, 30 on Monday */
	assert_true(business_deadline(&office_hours, &brasilia, local(2030, 1, 4, 17, 30, -3), 60 * MIN) ==
				local(2030, 1, 7, 9, 30, -3));
	/* a lead arriving on Saturday waits for Monday */
	assert_true(business_deadline(&office_hours, &brasilia, local(2030, 1, 5, 11, 0, -3), 15 * MIN) ==
				local(2030, 1, 7, 9, 15, -3));
	/* two business days of time: Friday 12:00 + 18 h = Tuesday 12:00 */
	assert_true(business_deadline(&office_hours, &brasilia, local(2030, 1, 4, 12, 0, -3), 18 * HOUR) ==
				local(2030, 1, 8, 12, 0, -3));
	/* elapsed agrees: Friday 17:00 to Monday 10:00 is two business hours */
	assert_true(business_elapsed(&office_hours, &brasilia, local(2030, 1, 4, 17, 0, -3),
								 local(2030, 1, 7, 10, 0, -3)) == 2 * HOUR);
	assert_true(business_elapsed(&office_hours, &brasilia, local(2030, 1, 5, 0, 0, -3),
								 local(2030, 1, 7, 0, 0, -3)) == 0);
	assert_true(business_elapsed(&office_hours, &brasilia, local(2030, 1, 7, 0, 0, -3),
								 local(2030, 1, 14, 0, 0, -3)) == 45 * HOUR);
	assert_true(business_elapsed(&office_hours, &brasilia, local(2030, 1, 7, 10, 0, -3),
								 local(2030, 1, 7, 9, 0, -3)) == 0);
	/* the next change of status */
	assert_true(business_next_change(&office_hours, &brasilia, local(2030, 1, 2, 12, 0, -3)) ==
				local(2030, 1, 2, 18, 0, -3));
	assert_true(business_next_change(&office_hours, &brasilia, local(2030, 1, 4, 18, 0, -3)) ==
				local(2030, 1, 7, 9, 0, -3));
}

static void
a_shift_crossing_midnight(void **state)
{
	/* Friday 22:00 to Saturday 06:00, and Saturday 22:00 to Sunday 06:00 */
	WeeklyShift night[] = {shift(FRI, 22, 0, 6, 0), shift(SAT, 22, 0, 6, 0)};
	WeeklySchedule nights = {night, 2};

	assert_false(business_on_shift(&nights, &brasilia, local(2030, 1, 4, 21, 59, -3)));
	assert_true(business_on_shift(&nights, &brasilia, local(2030, 1, 4, 22, 0, -3)));
	/* Saturday 03:00 belongs to Friday's shift */
	assert_true(business_on_shift(&nights, &brasilia, local(2030, 1, 5, 3, 0, -3)));
	assert_false(business_on_shift(&nights, &brasilia, local(2030, 1, 5, 6, 0, -3)));
	/* Sunday 05:00 belongs to Saturday's shift: the week wraps */
	assert_true(business_on_shift(&nights, &brasilia, local(2030, 1, 6, 5, 0, -3)));
	assert_false(business_on_shift(&nights, &brasilia, local(2030, 1, 6, 7, 0, -3)));
	/* Friday 23:00 + 6 h ends Saturday 05:00, past midnight */
	assert_true(business_deadline(&nights, &brasilia, local(2030, 1, 4, 23, 0, -3), 6 * HOUR) ==
				local(2030, 1, 5, 5, 0, -3));
	/* + 8 h: 7 h on Friday night, 1 h on Saturday night */
	assert_true(business_deadline(&nights, &brasilia, local(2030, 1, 4, 23, 0, -3), 8 * HOUR) ==
				local(2030, 1, 5, 23, 0, -3));
	/* + 16 h: both nights (15 h), then next Friday 23:00 */
	assert_true(business_deadline(&nights, &brasilia, local(2030, 1, 4, 23, 0, -3), 16 * HOUR) ==
				local(2030, 1, 11, 23, 0, -3));
	/* a whole week holds 16 hours of these shifts */
	assert_true(business_elapsed(&nights, &brasilia, local(2030, 1, 7, 0, 0, -3),
								 local(2030, 1, 14, 0, 0, -3)) == 16 * HOUR);
}

static void
shifts_that_overlap_or_touch(void **state)
{
	/* Monday 09-13 and 12-18 overlap; Tuesday 18-24 touches Wednesday 00-02 */
	WeeklyShift s[] = {shift(MON, 9, 0, 13, 0), shift(MON, 12, 0, 18, 0),
	shift(TUE, 18, 0, 24, 0), shift(WED, 0, 0, 2, 0)};
	WeeklySchedule sched = {s, 4};

	assert_true(business_elapsed(&sched, &brasilia, local(2030, 1, 7, 0, 0, -3),
								 local(2030, 1, 8, 0, 0, -3)) == 9 * HOUR);
	assert_true(business_deadline(&sched, &brasilia, local(2030, 1, 8, 23, 0, -3), 2 * HOUR) ==
				local(2030, 1, 9, 1, 0, -3));
	assert_true(business_next_change(&sched, &brasilia, local(2030, 1, 8, 19, 0, -3)) ==
				local(2030, 1, 9, 2, 0, -3));
}

static void
time_zones_other_than_brasilia(void **state)
{
	int32_t		kolkata = 5 * 3600 + 1800;
	int32_t		kiritimati = 14 * 3600;
	LocalClock	in_kolkata = {fixed_offset, &kolkata};
	LocalClock	in_kiritimati = {fixed_offset, &kiritimati};

	make_office();
	/* Monday 2030-01-07 09:00 in Kolkata is 03:30 UTC */
	assert_true(business_on_shift(&office_hours, &in_kolkata, utc(2030, 1, 7, 3, 30)));
	assert_false(business_on_shift(&office_hours, &in_kolkata, utc(2030, 1, 7, 3, 29)));
	/* Monday 09:00 at UTC+14 is Sunday 19:00 UTC */
	assert_true(business_on_shift(&office_hours, &in_kiritimati, utc(2030, 1, 6, 19, 0)));
	assert_true(business_deadline(&office_hours, &in_kiritimati, utc(2030, 1, 6, 12, 0), 30 * MIN) ==
				utc(2030, 1, 6, 19, 30));
	/* the same instant is on shift in Kolkata and not in Brasilia */
	assert_true(business_on_shift(&office_hours, &in_kolkata, utc(2030, 1, 7, 10, 0)));
	assert_false(business_on_shift(&office_hours, &brasilia, utc(2030, 1, 7, 10, 0)));
}

static void
sao_paulo_daylight_saving_began_at_midnight(void **state)
{
	Zone		z = {-10800, sao_paulo, 4, 0};
	LocalClock	clock = {zone_offset, &z};
	/* Sunday 00:00-08:00: on 2018-11-04 local 00:00-01:00 never happened */
	WeeklyShift sunday[] = {shift(SUN, 0, 0, 8, 0)};
	WeeklySchedule sun = {sunday, 1};
	WeeklyShift gap[] = {shift(SUN, 0, 30, 2, 0)};
	WeeklySchedule in_gap = {gap, 1};

	assert_false(business_on_shift(&sun, &clock, utc(2018, 11, 4, 2, 59)));
	assert_true(business_on_shift(&sun, &clock, utc(2018, 11, 4, 3, 0)));
	/* 08:00 -02 is 10:00 UTC: seven real hours */
	assert_true(business_on_shift(&sun, &clock, utc(2018, 11, 4, 9, 59)));
	assert_false(business_on_shift(&sun, &clock, utc(2018, 11, 4, 10, 0)));
	assert_true(business_elapsed(&sun, &clock, utc(2018, 11, 3, 0, 0), utc(2018, 11, 5, 0, 0)) == 7 * HOUR);
	/* from Saturday 23:30 -03, an hour of shift ends at 04:00 UTC (02:00 -02) */
	assert_true(business_deadline(&sun, &clock, utc(2018, 11, 4, 2, 30), 60 * MIN) == utc(2018, 11, 4, 4, 0));
	/* a shift starting inside the gap starts at the jump */
	assert_true(business_elapsed(&in_gap, &clock, utc(2018, 11, 3, 0, 0), utc(2018, 11, 5, 0, 0)) == HOUR);
	assert_true(business_next_change(&in_gap, &clock, utc(2018, 11, 4, 0, 0)) == utc(2018, 11, 4, 3, 0));
	/* a week later the same shift is 8 h and starts at 02:00 UTC again */
	assert_true(business_elapsed(&sun, &clock, utc(2018, 11, 10, 0, 0), utc(2018, 11, 12, 0, 0)) == 8 * HOUR);
	assert_true(business_next_change(&sun, &clock, utc(2018, 11, 10, 0, 0)) == utc(2018, 11, 11, 2, 0));

	/* office hours over that weekend: Friday 17:00 -03 + 2 h = Monday 10:00 -02 */
	make_office();
	assert_true(business_deadline(&office_hours, &clock, utc(2018, 11, 2, 20, 0), 2 * HOUR) ==
				utc(2018, 11, 5, 12, 0));
}

static void
sao_paulo_daylight_saving_ended_at_midnight(void **state)
{
	Zone		z = {-10800, sao_paulo, 4, 0};
	LocalClock	clock = {zone_offset, &z};
	/* Saturday 22:00 to Sunday 02:00: on 2019-02-16 Saturday 23:00 came twice */
	WeeklyShift night[] = {shift(SAT, 22, 0, 2, 0)};
	WeeklySchedule sat = {night, 1};

	/* 22:00 -02 is 00:00 UTC, 02:00 -03 is 05:00 UTC: five real hours */
	assert_false(business_on_shift(&sat, &clock, utc(2019, 2, 16, 23, 59)));
	assert_true(business_on_shift(&sat, &clock, utc(2019, 2, 17, 0, 0)));
	assert_true(business_on_shift(&sat, &clock, utc(2019, 2, 17, 2, 30)));	/* the second 23:30 */
	assert_true(business_on_shift(&sat, &clock, utc(2019, 2, 17, 4, 59)));
	assert_false(business_on_shift(&sat, &clock, utc(2019, 2, 17, 5, 0)));
	assert_true(business_elapsed(&sat, &clock, utc(2019, 2, 16, 0, 0), utc(2019, 2, 18, 0, 0)) == 5 * HOUR);
	assert_true(business_deadline(&sat, &clock, utc(2019, 2, 17, 0, 0), 4 * HOUR + 30 * MIN) ==
				utc(2019, 2, 17, 4, 30));
	assert_true(business_next_change(&sat, &clock, utc(2019, 2, 17, 1, 0)) == utc(2019, 2, 17, 5, 0));
	/* the offset function is asked a bounded number of times */
	z.calls = 0;
	(void) business_deadline(&sat, &clock, utc(2019, 1, 1, 0, 0), 20 * HOUR);
	assert_true(z.calls < 400);
}

static void
lisbon_summer_time(void **state)
{
	Zone		z = {0, lisbon, 2, 0};
	LocalClock	clock = {zone_offset, &z};
	WeeklyShift early[] = {shift(SUN, 0, 0, 4, 0)};
	WeeklySchedule sun = {early, 1};

	/* 2024-03-31: 01:00 became 02:00, so Sunday 00:00-04:00 lasted 3 h */
	assert_true(business_elapsed(&sun, &clock, utc(2024, 3, 30, 0, 0), utc(2024, 4, 1, 0, 0)) == 3 * HOUR);
	assert_false(business_on_shift(&sun, &clock, utc(2024, 3, 31, 3, 0)));	/* 04:00 WEST */
	/* 2024-10-27: 02:00 became 01:00, so it lasted 5 h, from 23:00 UTC Saturday */
	assert_true(business_elapsed(&sun, &clock, utc(2024, 10, 26, 0, 0), utc(2024, 10, 28, 0, 0)) == 5 * HOUR);
	assert_true(business_on_shift(&sun, &clock, utc(2024, 10, 26, 23, 0)));
	assert_true(business_on_shift(&sun, &clock, utc(2024, 10, 27, 3, 59)));
	assert_false(business_on_shift(&sun, &clock, utc(2024, 10, 27, 4, 0)));
	/* office hours: Friday 17:30 WET + 1 h = Monday 09:30 WEST (08:30 UTC) */
	make_office();
	assert_true(business_deadline(&office_hours, &clock, utc(2024, 3, 29, 17, 30), HOUR) ==
				utc(2024, 4, 1, 8, 30));
	/* and back: Friday 17:30 WEST (16:30 UTC) + 1 h = Monday 09:30 WET */
	assert_true(business_deadline(&office_hours, &clock, utc(2024, 10, 25, 16, 30), HOUR) ==
				utc(2024, 10, 28, 9, 30));
}

static void
no_shifts_means_around_the_clock(void **state)
{
	WeeklySchedule always = {NULL, 0};

	assert_true(business_on_shift(&always, &brasilia, utc(2030, 1, 5, 3, 0)));
	assert_true(business_deadline(&always, &brasilia, utc(2030, 1, 5, 3, 0), 15 * MIN) == utc(2030, 1, 5, 3, 15));
	assert_true(business_elapsed(&always, &brasilia, utc(2030, 1, 5, 3, 0), utc(2030, 1, 5, 4, 0)) == HOUR);
	assert_true(business_next_change(&always, &brasilia, utc(2030, 1, 5, 3, 0)) == BUSINESS_NEVER);
}

static void
deadlines_past_the_horizon_are_never(void **state)
{
	WeeklyShift once[] = {shift(MON, 9, 0, 9, 1)};	/* a minute a week */
	WeeklySchedule thin = {once, 1};

	assert_true(business_deadline(&thin, &brasilia, utc(2030, 1, 1, 0, 0), 10 * MIN) ==
				local(2030, 3, 11, 9, 1, -3));
	assert_true(business_deadline(&thin, &brasilia, utc(2030, 1, 1, 0, 0), 100 * MIN) == BUSINESS_NEVER);
	/* the ends of time do not overflow */
	assert_true(business_deadline(&thin, &brasilia, INT64_MAX - 5, MIN) == BUSINESS_NEVER);
	assert_false(business_on_shift(&thin, &brasilia, INT64_MAX));
	assert_true(business_elapsed(&thin, &brasilia, INT64_MIN, INT64_MIN + 1) == 0);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(shifts_are_built_from_wall_clock_times),
	cmocka_unit_test(office_hours_in_brasilia),
	cmocka_unit_test(weekends_are_skipped),
	cmocka_unit_test(a_shift_crossing_midnight),
	cmocka_unit_test(shifts_that_overlap_or_touch),
	cmocka_unit_test(time_zones_other_than_brasilia),
	cmocka_unit_test(sao_paulo_daylight_saving_began_at_midnight),
	cmocka_unit_test(sao_paulo_daylight_saving_ended_at_midnight),
	cmocka_unit_test(lisbon_summer_time),
	cmocka_unit_test(no_shifts_means_around_the_clock),
	cmocka_unit_test(deadlines_past_the_horizon_are_never),
};

UnitGroup
business_hours_tests(void)
{
	return (UnitGroup) UNIT_GROUP("business_hours", tests);
}
