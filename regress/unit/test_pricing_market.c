/*
 * test_pricing_market.c
 *		A recipient's country (longest calling code) and Meta pricing market
 *		on a date, with the NANP and +7 splits and the 2025-2026 moves.
 */
#include <string.h>

#include "unit.h"

#include "core/calling_code.h"
#include "core/pricing_category.h"
#include "core/pricing_market.h"

static const char *
country(const char *number)
{
	return calling_code_country(number, NULL);
}

static const char *
market(const char *number, int date)
{
	return pricing_market_of_number(number, date, NULL);
}

static void
table_is_sorted_for_bsearch(void **state)
{
	assert_true(calling_code_table_sorted());
}

static void
longest_calling_code_wins(void **state)
{
	int			len = 0;

	assert_string_equal(calling_code_country("+5511987654321", &len), "BR");
	assert_int_equal(len, 2);
	assert_string_equal(calling_code_country("+351912345678", &len), "PT");
	assert_int_equal(len, 3);
	assert_string_equal(country("+35312345678"), "IE");
	assert_string_equal(country("+3581234567"), "FI");
	assert_string_equal(country("+2348012345678"), "NG");
	assert_string_equal(country("+27821234567"), "ZA");
	assert_string_equal(country("+44 20 7946 0958"), "GB");
	assert_string_equal(country("5511987654321"), "BR");	/* wa_id: no plus */
	assert_null(country("+999123"));	/* unassigned */
	assert_null(country(""));
	assert_null(country(NULL));
}

static void
nanp_is_split_by_area_code(void **state)
{
	int			len = 0;

	assert_string_equal(calling_code_country("+16505551234", &len), "US");
	assert_int_equal(len, 1);
	assert_string_equal(calling_code_country("+14165551234", &len), "CA");
	assert_int_equal(len, 4);
	assert_string_equal(country("+18095551234"), "DO");
	assert_string_equal(country("+18295551234"), "DO");
	assert_string_equal(country("+18495551234"), "DO");
	assert_string_equal(country("+18765551234"), "JM");
	assert_string_equal(country("+16585551234"), "JM");
	assert_string_equal(country("+17875551234"), "PR");
	assert_string_equal(country("+19395551234"), "PR");
	assert_string_equal(country("+12425551234"), "BS");
	assert_true(calling_code_is_nanp("+12425551234"));
	assert_false(calling_code_is_nanp("+5511987654321"));
}

static void
kazakhstan_shares_plus_seven_with_russia(void **state)
{
	assert_string_equal(country("+79161234567"), "RU");
	assert_string_equal(country("+77011234567"), "KZ");
	assert_string_equal(country("+76221234567"), "KZ");
	assert_string_equal(country("+74951234567"), "RU");
	/* Kazakhstan became a market of its own on 2026-10-01 */
	assert_string_equal(market("+77011234567", 20260930), "Russia");
	assert_string_equal(market("+77011234567", 20261001), "Kazakhstan");
	assert_string_equal(market("+79161234567", 20261001), "Russia");
}

static void
nanp_exceptions_are_latin_america(void **state)
{
	assert_string_equal(market("+16505551234", 20261001), "North America");
	assert_string_equal(market("+14165551234", 20261001), "North America");
	assert_string_equal(market("+18095551234", 20261001), "Rest of Latin America");
	assert_string_equal(market("+18765551234", 20261001), "Rest of Latin America");
	assert_string_equal(market("+17875551234", 20261001), "Rest of Latin America");
	/* the rest of +1 is priced as North America */
	assert_string_equal(market("+12425551234", 20261001), "North America");
}

static void
standalone_regions_and_other(void **state)
{
	const char *c = NULL;

	assert_string_equal(pricing_market_of_number("+5511987654321", 20261001, &c), "Brazil");
	assert_string_equal(c, "BR");
	assert_string_equal(market("+351912345678", 20261001), "Rest of Western Europe");
	assert_string_equal(market("+254712345678", 20261001), "Rest of Africa");
	assert_string_equal(market("+61412345678", 20261001), "Rest of Asia Pacific");
	assert_string_equal(market("+59171234567", 20261001), "Rest of Latin America");
	assert_string_equal(market("+971501234567", 20261001), "United Arab Emirates");
	/* Iceland and unassigned codes are in no list */
	assert_string_equal(market("+3545551234", 20261001), "Other");
	assert_string_equal(pricing_market_of_number("+999123", 20261001, &c), "Other");
	assert_null(c);
}

static void
user_ids_are_not_phone_numbers(void **state)
{
	const char *c = NULL;

	/* the digits of a business-scoped user id are no calling code */
	assert_null(country("BR.8675309abc"));
	assert_string_equal(pricing_market_of_number("BR.8675309abc", 20261001, &c), "Brazil");
	assert_string_equal(c, "BR");
	assert_string_equal(pricing_market_of_number("US.13491208655302741918", 20261001, &c), "North America");
	assert_string_equal(pricing_market_of_number("8675309abc", 20261001, &c), "Other");
	assert_null(c);
}

static void
markets_move_on_their_dates(void **state)
{
	assert_string_equal(market("+6591234567", 20260630), "Rest of Asia Pacific");
	assert_string_equal(market("+6591234567", 20260701), "Singapore");
	assert_string_equal(market("+48501234567", 20260630), "Rest of Central & Eastern Europe");
	assert_string_equal(market("+48501234567", 20260701), "Poland");
	assert_string_equal(market("+97450123456", 20260701), "Qatar");
	assert_string_equal(market("+8801712345678", 20260930), "Rest of Asia Pacific");
	assert_string_equal(market("+8801712345678", 20261001), "Bangladesh");
	assert_string_equal(market("+212612345678", 20260930), "Rest of Africa");
	assert_string_equal(market("+212612345678", 20261001), "Morocco");
	/* Zimbabwe: Other until 2025-10-01, then Rest of Africa */
	assert_string_equal(market("+263771234567", 20250930), "Other");
	assert_string_equal(market("+263771234567", 20251001), "Rest of Africa");
}

static void
market_names_are_known(void **state)
{
	assert_true(pricing_market_known("Brazil"));
	assert_true(pricing_market_known("North America"));
	assert_true(pricing_market_known("Rest of Central & Eastern Europe"));
	assert_true(pricing_market_known("Other"));
	assert_true(pricing_market_known("Kazakhstan"));
	assert_false(pricing_market_known("Brasil"));
	assert_false(pricing_market_known(NULL));
}

static void
webhook_categories_pick_columns(void **state)
{
	assert_int_equal(rate_column_of_category("marketing"), RATE_MARKETING);
	assert_int_equal(rate_column_of_category("marketing_lite"), RATE_MARKETING);
	assert_int_equal(rate_column_of_category("UTILITY"), RATE_UTILITY);
	assert_int_equal(rate_column_of_category("authentication-international"), RATE_AUTHENTICATION_INTERNATIONAL);
	assert_int_equal(rate_column_of_category("authentication_international"), RATE_AUTHENTICATION_INTERNATIONAL);
	assert_int_equal(rate_column_of_category("group_service"), RATE_SERVICE);
	assert_int_equal(rate_column_of_category("referral_conversion"), RATE_NONE);
	assert_int_equal(rate_column_of_category(NULL), RATE_NONE);
	assert_int_equal(rate_column_fallback(RATE_SERVICE), RATE_UTILITY);
	assert_int_equal(rate_column_fallback(RATE_MARKETING), RATE_NONE);
	assert_true(pricing_type_charged("regular"));
	assert_false(pricing_type_charged("free_customer_service"));
	assert_false(pricing_type_charged("free_entry_point"));
	assert_false(pricing_type_charged(NULL));
	assert_string_equal(tier_counter_of(RATE_UTILITY), "utility");
	assert_string_equal(tier_counter_of(RATE_AUTHENTICATION_INTERNATIONAL), "authentication");
	assert_string_equal(tier_counter_of(RATE_AUTHENTICATION), "authentication");
	assert_null(tier_counter_of(RATE_MARKETING));
	assert_null(tier_counter_of(RATE_SERVICE));
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(table_is_sorted_for_bsearch),
	cmocka_unit_test(longest_calling_code_wins),
	cmocka_unit_test(nanp_is_split_by_area_code),
	cmocka_unit_test(kazakhstan_shares_plus_seven_with_russia),
	cmocka_unit_test(nanp_exceptions_are_latin_america),
	cmocka_unit_test(standalone_regions_and_other),
	cmocka_unit_test(user_ids_are_not_phone_numbers),
	cmocka_unit_test(markets_move_on_their_dates),
	cmocka_unit_test(market_names_are_known),
	cmocka_unit_test(webhook_categories_pick_columns),
};

UnitGroup
pricing_market_tests(void)
{
	return (UnitGroup) UNIT_GROUP("pricing_market", tests);
}
