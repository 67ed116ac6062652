/*
 * test_recipient_match.c
 *		Recipient equivalence: "+" optional, Brazil's ninth digit, BSUIDs exact.
 */
#include <string.h>

#include "unit.h"

#include "core/recipient.h"
#include "core/recipient_match.h"

static void
plus_is_optional(void **state)
{
	assert_true(recipient_same("+5511987650001", "5511987650001"));
	assert_true(recipient_same("16505551234", "+16505551234"));
	assert_false(recipient_same("+5511987650001", "5511987650002"));
}

static void
brazilian_mobiles_match_without_the_ninth_digit(void **state)
{
	char		key[RECIPIENT_KEY_SIZE];

	assert_true(recipient_same("+5531988880301", "553188880301"));
	assert_true(recipient_same("553188880301", "+5531988880301"));
	assert_true(recipient_same("+553188880301", "553188880301"));
	assert_true(recipient_same("+5511987654321", "551187654321"));
	assert_true(recipient_same("+5521960000001", "552160000001"));
	assert_true(recipient_match_key("552178880301", key));
	assert_string_equal(key, "+5521978880301");
	/* another line of the same area code */
	assert_false(recipient_same("+5531988880301", "553188880302"));
	/* the same eight digits in another area code */
	assert_false(recipient_same("+5531988880301", "553288880301"));
}

static void
fixed_lines_and_other_countries_are_not_folded(void **state)
{
	char		key[RECIPIENT_KEY_SIZE];

	/* fixed lines start 2-5 and have no ninth digit */
	assert_false(recipient_same("+551140000001", "+5511940000001"));
	assert_true(recipient_match_key("551140000001", key));
	assert_string_equal(key, "+551140000001");
	/* twelve digits that are not Brazil's */
	assert_false(recipient_same("+441188880301", "+4411988880301"));
	/* no area code starts or ends with 0 */
	assert_false(recipient_same("550188880301", "+5501988880301"));
	assert_true(recipient_match_key("550188880301", key));
	assert_string_equal(key, "+550188880301");
}

static void
mexican_mobiles_match_with_the_old_one(void **state)
{
	char		key[RECIPIENT_KEY_SIZE];

	assert_true(recipient_same("5215512345678", "+525512345678"));
	assert_true(recipient_match_key("+5215512345678", key));
	assert_string_equal(key, "+525512345678");
	/* twelve digits: the current form, left alone */
	assert_true(recipient_match_key("525512345678", key));
	assert_string_equal(key, "+525512345678");
	/* "521" in another length or country is not folded */
	assert_false(recipient_same("+52155123456789", "+5255123456789"));
	assert_false(recipient_same("+5315512345678", "+535512345678"));
}

static void
every_bsuid_shape_is_kept(void **state)
{
	char		key[RECIPIENT_KEY_SIZE];

	assert_true(recipient_match_key("user.1502576394655843", key));
	assert_string_equal(key, "user.1502576394655843");
	assert_true(recipient_match_key("US.ENT.11815799212886844830", key));
	assert_string_equal(key, "US.ENT.11815799212886844830");
	assert_false(recipient_same("US.ENT.11815799212886844830", "US.11815799212886844830"));
}

static void
bsuids_compare_exactly(void **state)
{
	assert_true(recipient_same("BR.8675309abc", "BR.8675309abc"));
	assert_false(recipient_same("BR.8675309abc", "BR.8675309ABC"));
	assert_false(recipient_same("BR.8675309abc", "BR.8675309abc "));
	assert_false(recipient_same("BR.5531988880301", "+5531988880301"));
}

static void
nothing_matches_what_is_not_an_identifier(void **state)
{
	char		key[RECIPIENT_KEY_SIZE];
	char		huge[RECIPIENT_KEY_SIZE + 10];

	assert_false(recipient_same("", ""));
	assert_false(recipient_same(NULL, NULL));
	assert_false(recipient_same("+5511987650001", NULL));
	assert_false(recipient_same("+5511987650001", ""));
	/* Meta's form is digits only: punctuation without "+" is not a phone */
	assert_false(recipient_same("55 11 98765-0001", "5511987650001"));
	assert_false(recipient_match_key("55 11 98765-0001", key));
	/* no country code begins with 0, with or without "+" */
	assert_false(recipient_match_key("+0123456789", key));
	assert_false(recipient_match_key("0123456789", key));
	assert_false(recipient_same("+", "+"));
	assert_false(recipient_same("123456", "123456"));
	assert_false(recipient_same("+1234567890123456", "+1234567890123456"));
	assert_false(recipient_match_key("55119876500a1", key));
	memset(huge, 'a', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	assert_false(recipient_match_key(huge, key));
	huge[RECIPIENT_KEY_SIZE - 1] = '\0';
	assert_true(recipient_match_key(huge, key));
	assert_true(recipient_same(huge, huge));
}

/* Whatever a caller may pass (recipient_normalize) has a key: decide() relies on it. */
static void
every_normalised_recipient_has_a_key(void **state)
{
	const char *given[] = {"+55 (31) 98888-0301", "+1 650 555 1234", "+1234567", "+123456789012345",
		"BR.8675309abc", "user.1", "US.ENT.11815799212886844830"};
	char		normalized[RECIPIENT_MAXLEN + 1];
	char		key[RECIPIENT_KEY_SIZE];
	char		longest[RECIPIENT_MAXLEN + 1];
	const char *why;

	for (size_t i = 0; i < sizeof(given) / sizeof(given[0]); i++)
	{
		assert_int_not_equal(recipient_normalize(given[i], normalized, &why), RECIPIENT_INVALID);
		assert_true(recipient_match_key(normalized, key));
	}
	memset(longest, 'a', RECIPIENT_MAXLEN);
	longest[1] = '.';
	longest[RECIPIENT_MAXLEN] = '\0';
	assert_int_equal(recipient_normalize(longest, normalized, &why), RECIPIENT_BSUID);
	assert_true(recipient_match_key(normalized, key));
}

/*
 * The key of an identifier is the key of its normalised form: a phone
 * formatted as recipient_normalize allows is the same person as the plain
 * one, Brazil's and Mexico's old forms included.
 */
static void
a_formatted_phone_has_its_normalised_form_key(void **state)
{
	const char *formatted[] = {"+55 (41) 99999-1111", "+55 41 9999-1111", "+55.41.99999.1111",
		"+1 (650) 555-1234", "+52 1 55 1234 5678"};
	char		normalized[RECIPIENT_MAXLEN + 1];
	char		key[RECIPIENT_KEY_SIZE];
	char		plain[RECIPIENT_KEY_SIZE];
	const char *why;

	for (size_t i = 0; i < sizeof(formatted) / sizeof(formatted[0]); i++)
	{
		assert_int_equal(recipient_normalize(formatted[i], normalized, &why), RECIPIENT_PHONE);
		assert_true(recipient_match_key(formatted[i], key));
		assert_true(recipient_match_key(normalized, plain));
		assert_string_equal(key, plain);
	}
	assert_true(recipient_match_key("+55 (41) 99999-1111", key));
	assert_string_equal(key, "+5541999991111");
	assert_true(recipient_same("+5541999991111", "+55 (41) 99999-1111"));
	assert_true(recipient_same("554199991111", "+55 41 9999-1111"));
	assert_true(recipient_same("+52 1 55 1234 5678", "525512345678"));
}

/* What may name a person: a phone as above or a well-formed BSUID; else why not. */
static void
a_person_key_says_why_it_names_nobody(void **state)
{
	char		key[RECIPIENT_KEY_SIZE];
	const char *why;

	assert_true(recipient_person_key("+55 (41) 99999-1111", key, &why));
	assert_string_equal(key, "+5541999991111");
	assert_true(recipient_person_key("554199991111", key, &why));
	assert_string_equal(key, "+5541999991111");
	assert_true(recipient_person_key("BR.abc", key, &why));
	assert_string_equal(key, "BR.abc");
	assert_false(recipient_person_key("+55 (41) 9999x-1111", key, &why));
	assert_non_null(strstr(why, "digits"));
	assert_false(recipient_person_key("+123", key, &why));
	assert_non_null(strstr(why, "too few digits"));
	assert_false(recipient_person_key("55 41 99999-1111", key, &why));
	assert_non_null(strstr(why, "Meta writes it"));
	assert_false(recipient_person_key("not a person", key, &why));
	assert_non_null(why);
	assert_false(recipient_person_key("", key, &why));
	assert_non_null(strstr(why, "empty"));
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(a_formatted_phone_has_its_normalised_form_key),
	cmocka_unit_test(a_person_key_says_why_it_names_nobody),
	cmocka_unit_test(every_normalised_recipient_has_a_key),
	cmocka_unit_test(plus_is_optional),
	cmocka_unit_test(brazilian_mobiles_match_without_the_ninth_digit),
	cmocka_unit_test(fixed_lines_and_other_countries_are_not_folded),
	cmocka_unit_test(mexican_mobiles_match_with_the_old_one),
	cmocka_unit_test(every_bsuid_shape_is_kept),
	cmocka_unit_test(bsuids_compare_exactly),
	cmocka_unit_test(nothing_matches_what_is_not_an_identifier),
};

UnitGroup
recipient_match_tests(void)
{
	return (UnitGroup) UNIT_GROUP("recipient_match", tests);
}
