/*
 * test_iso4217.c
 *		ISO 4217 currency codes: the table is sorted and holds what a
 *		price is written in; shapes that are no currency are refused.
 */
#include "unit.h"

#include "core/iso4217.h"

#include <string.h>

static void
the_table_is_sorted_and_unique(void **state)
{
	for (int i = 1; i < iso4217_count; i++)
		if (strcmp(iso4217_codes[i - 1], iso4217_codes[i]) >= 0)
			fail_msg("out of order: %s before %s", iso4217_codes[i - 1], iso4217_codes[i]);
	for (int i = 0; i < iso4217_count; i++)
		assert_true(iso4217_known(iso4217_codes[i], 3));
}

static void
currencies_are_known(void **state)
{
	const char *known[] = {"BRL", "USD", "EUR", "MXN", "ARS", "COP", "INR", "XOF", "AED", "ZWL"};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		assert_true(iso4217_known(known[i], 3));
}

static void
what_is_no_currency_is_refused(void **state)
{
	/* the right shape, no currency; a fund, a metal, a test code; other shapes */
	const char *unknown[] = {"XXQ", "BRX", "AAA", "ZZZ", "XAU", "XTS", "XXX", "BOV", "brl", "BR1"};

	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		if (iso4217_known(unknown[i], 3))
			fail_msg("taken for a currency: %s", unknown[i]);
	assert_false(iso4217_known("BRLX", 4));
	assert_false(iso4217_known("BR", 2));
	assert_false(iso4217_known(NULL, 3));
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(the_table_is_sorted_and_unique),
	cmocka_unit_test(currencies_are_known),
	cmocka_unit_test(what_is_no_currency_is_refused),
};

UnitGroup
iso4217_tests(void)
{
	return (UnitGroup) UNIT_GROUP("iso4217", tests);
}
