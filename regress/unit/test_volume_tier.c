/*
 * test_volume_tier.c
 *		Marginal pricing per band: which band a message number falls in, how
 *		a batch spreads over bands, band checks and Meta's labels.
 */
#include <string.h>

#include "unit.h"

#include "core/volume_tier.h"

/* Rest of Africa's utility bands (pricing.md): 0-100k, 100,001-1M, ... >80M */
static const int64_t africa[] = {0, 100000, 1000000, 4500000, 40000000, 80000000};

static void
a_message_is_priced_at_its_own_band(void **state)
{
	assert_int_equal(tier_band_of(africa, 6, 1), 0);
	assert_int_equal(tier_band_of(africa, 6, 100000), 0);
	assert_int_equal(tier_band_of(africa, 6, 100001), 1);
	assert_int_equal(tier_band_of(africa, 6, 1000000), 1);
	assert_int_equal(tier_band_of(africa, 6, 1000001), 2);
	assert_int_equal(tier_band_of(africa, 6, 80000001), 5);
	assert_int_equal(tier_band_of(africa, 6, INT64_C(900000000000)), 5);
	assert_int_equal(tier_band_of(africa, 6, 0), -1);
	assert_int_equal(tier_band_of(africa, 0, 5), -1);
}

static void
a_batch_spreads_over_the_bands_it_crosses(void **state)
{
	int64_t		out[6];

	/* 10 messages after 99,995: 5 at the list rate, 5 at tier 1 */
	tier_spread(africa, 6, 99995, 10, out);
	assert_int_equal(out[0], 5);
	assert_int_equal(out[1], 5);
	assert_int_equal(out[2], 0);
	/* a month's first 2 million */
	tier_spread(africa, 6, 0, 2000000, out);
	assert_int_equal(out[0], 100000);
	assert_int_equal(out[1], 900000);
	assert_int_equal(out[2], 1000000);
	assert_int_equal(out[5], 0);
	/* far past the top band */
	tier_spread(africa, 6, 90000000, 7, out);
	assert_int_equal(out[4], 0);
	assert_int_equal(out[5], 7);
	/* nothing to spread */
	tier_spread(africa, 6, 12, 0, out);
	for (int i = 0; i < 6; i++)
		assert_int_equal(out[i], 0);
}

static void
one_band_is_the_list_rate_for_everything(void **state)
{
	const int64_t list[] = {0};
	int64_t		out[1];

	assert_int_equal(tier_band_of(list, 1, 123456789), 0);
	tier_spread(list, 1, 5, 3, out);
	assert_int_equal(out[0], 3);
}

static void
published_bands_must_cover_every_count(void **state)
{
	const int64_t firsts[] = {0, 100001, 1000001};
	const int64_t lasts[] = {100000, 1000000, TIER_OPEN};
	const int64_t gap_lasts[] = {100000, 999999, TIER_OPEN};
	const int64_t closed_lasts[] = {100000, 1000000, 5000000};
	const int64_t late_firsts[] = {5, 100001, 1000001};
	int			bad;
	const char *why;

	assert_true(tier_bands_check(firsts, lasts, 3, &bad, &why));
	assert_false(tier_bands_check(firsts, gap_lasts, 3, &bad, &why));
	assert_int_equal(bad, 2);
	assert_non_null(strstr(why, "gap"));
	assert_false(tier_bands_check(firsts, closed_lasts, 3, &bad, &why));
	assert_int_equal(bad, 2);
	assert_non_null(strstr(why, "open"));
	assert_false(tier_bands_check(late_firsts, lasts, 3, &bad, &why));
	assert_int_equal(bad, 0);
	assert_false(tier_bands_check(firsts, lasts, 0, &bad, &why));
	assert_int_equal(tier_after(0), 0);
	assert_int_equal(tier_after(1), 0);
	assert_int_equal(tier_after(100001), 100000);
}

static void
labels_read_like_metas(void **state)
{
	char		buf[48];

	tier_label(0, 100000, buf, sizeof(buf));
	assert_string_equal(buf, "0:100000");
	tier_label(100000, 1000000, buf, sizeof(buf));
	assert_string_equal(buf, "100001:1000000");
	tier_label(80000000, TIER_OPEN, buf, sizeof(buf));
	assert_string_equal(buf, "80000001:MAX");
	tier_label(0, TIER_OPEN, buf, sizeof(buf));
	assert_string_equal(buf, "0:MAX");
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(a_message_is_priced_at_its_own_band),
	cmocka_unit_test(a_batch_spreads_over_the_bands_it_crosses),
	cmocka_unit_test(one_band_is_the_list_rate_for_everything),
	cmocka_unit_test(published_bands_must_cover_every_count),
	cmocka_unit_test(labels_read_like_metas),
};

UnitGroup
volume_tier_tests(void)
{
	return (UnitGroup) UNIT_GROUP("volume_tier", tests);
}
