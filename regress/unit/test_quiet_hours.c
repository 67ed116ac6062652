/*
 * test_quiet_hours.c
 *		Quiet hours on the recipient's local clock, and the zone a number
 *		suggests (src/core/quiet_hours.c, src/core/phone_time_zone.c).
 */
#include <string.h>

#include "unit.h"

#include "core/phone_time_zone.h"
#include "core/quiet_hours.h"

#define USEC INT64_C(1000000)
#define H(h) ((int64_t) (h) * 3600 * USEC)
#define M(m) ((int64_t) (m) * 60 * USEC)
/* some UTC midnight (2026-12-01 in PostgreSQL's epoch) */
#define DAY0 (INT64_C(849398400) * USEC)

static QuietHours
quiet(const char *text)
{
	QuietHours	q;
	const char *why = NULL;

	assert_true(quiet_hours_parse(text, &q, &why));
	return q;
}

static void
overnight_quiet_hours_end_next_morning_local(void **state)
{
	QuietHours	q = quiet("21:00-08:00");
	int			sao_paulo = -3 * 3600;

	/* 23:30 UTC = 20:30 in Sao Paulo: allowed */
	assert_int_equal(quiet_hours_ready_at(&q, DAY0 + H(23) + M(30), sao_paulo), DAY0 + H(23) + M(30));
	/* 00:30 UTC next day = 21:30 local: waits until 08:00 local = 11:00 UTC */
	assert_int_equal(quiet_hours_ready_at(&q, DAY0 + H(24) + M(30), sao_paulo), DAY0 + H(24 + 11));
	/* 10:59 UTC = 07:59 local: one more minute */
	assert_int_equal(quiet_hours_ready_at(&q, DAY0 + H(10) + M(59), sao_paulo), DAY0 + H(11));
	/* 11:00 UTC = 08:00 local: the end is exclusive */
	assert_int_equal(quiet_hours_ready_at(&q, DAY0 + H(11), sao_paulo), DAY0 + H(11));
}

static void
the_same_instant_is_quiet_in_one_zone_and_not_another(void **state)
{
	QuietHours	q = quiet("21:00-08:00");
	int64_t		now = DAY0 + H(1);	/* 22:00 in Sao Paulo, 21:00 in Manaus, 20:00 in Rio Branco */

	assert_int_equal(quiet_hours_ready_at(&q, now, -3 * 3600), DAY0 + H(11));
	assert_int_equal(quiet_hours_ready_at(&q, now, -4 * 3600), DAY0 + H(12));
	assert_int_equal(quiet_hours_ready_at(&q, now, -5 * 3600), now);
	/* east of UTC: 01:00 UTC is 10:00 in Tokyo */
	assert_int_equal(quiet_hours_ready_at(&q, now, 9 * 3600), now);
}

static void
daytime_quiet_hours_and_before_the_epoch(void **state)
{
	QuietHours	q = quiet("12:00-14:00");

	assert_int_equal(quiet_hours_ready_at(&q, DAY0 + H(13), 0), DAY0 + H(14));
	assert_int_equal(quiet_hours_ready_at(&q, DAY0 + H(14), 0), DAY0 + H(14));
	assert_int_equal(quiet_hours_ready_at(&q, DAY0 + H(11), 0), DAY0 + H(11));
	/* local times before the epoch still land in the right day */
	assert_int_equal(quiet_hours_ready_at(&q, -H(24) + H(13), 0), -H(24) + H(14));
	assert_int_equal(quiet_hours_ready_at(&q, H(1), -3 * 3600), H(1));
}

static void
quiet_hours_parse_and_refuse(void **state)
{
	QuietHours	q;
	const char *why = NULL;

	assert_true(quiet_hours_parse("", &q, &why));
	assert_false(q.enabled);
	assert_int_equal(quiet_hours_ready_at(&q, DAY0, 0), DAY0);
	assert_false(quiet_hours_parse("21:00-21:00", &q, &why));
	assert_false(quiet_hours_parse("25:00-08:00", &q, &why));
	assert_false(quiet_hours_parse("21:00", &q, &why));
	assert_false(quiet_hours_parse("21:00-08:00x", &q, &why));
	assert_false(quiet_hours_parse("9:00-08:00", &q, &why));
	assert_non_null(why);
}

static void
numbers_suggest_their_zone(void **state)
{
	/* Brazil's four offsets, by area code */
	assert_string_equal(phone_time_zone("+5511987654321"), "America/Sao_Paulo");
	assert_string_equal(phone_time_zone("+5592987654321"), "America/Manaus");
	assert_string_equal(phone_time_zone("+5568987654321"), "America/Rio_Branco");
	assert_string_equal(phone_time_zone("+5565987654321"), "America/Cuiaba");
	assert_string_equal(phone_time_zone("+5571987654321"), "America/Bahia");
	assert_string_equal(phone_time_zone("5581987654321"), "America/Recife");
	/* an unassigned area code, a country of several zones, nonsense */
	assert_null(phone_time_zone("+5520987654321"));
	assert_null(phone_time_zone("+12125550100"));
	assert_null(phone_time_zone("+"));
	/* a business-scoped user id is no phone, whatever digits it holds */
	assert_null(phone_time_zone("BR.5511987654321"));
	assert_null(phone_time_zone("+55 11 98765-4321"));
	assert_string_equal(phone_time_zone("+351912345678"), "Europe/Lisbon");
	assert_string_equal(phone_time_zone("+5491112345678"), "America/Argentina/Buenos_Aires");
	/* every assigned DDD has a zone, and the table covers 11..99 only */
	assert_null(brazil_ddd_time_zone(10));
	assert_null(brazil_ddd_time_zone(100));
	for (int ddd = 11; ddd <= 99; ddd++)
		if (brazil_ddd_time_zone(ddd))
			assert_true(strncmp(brazil_ddd_time_zone(ddd), "America/", 8) == 0);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(overnight_quiet_hours_end_next_morning_local),
	cmocka_unit_test(the_same_instant_is_quiet_in_one_zone_and_not_another),
	cmocka_unit_test(daytime_quiet_hours_and_before_the_epoch),
	cmocka_unit_test(quiet_hours_parse_and_refuse),
	cmocka_unit_test(numbers_suggest_their_zone),
};

UnitGroup
quiet_hours_tests(void)
{
	return (UnitGroup) UNIT_GROUP("quiet_hours", tests);
}
