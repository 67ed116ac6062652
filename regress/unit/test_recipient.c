/*
 * test_recipient.c
 *		E.164 and BSUID validation.
 */
#include <string.h>

#include "unit.h"

#include "core/recipient.h"

static RecipientKind
norm(const char *in, char *out)
{
	const char *why;

	return recipient_normalize(in, out, &why);
}

static void
phones_are_normalised(void **state)
{
	char		out[RECIPIENT_MAXLEN + 1];

	assert_int_equal(norm("+55 (11) 98765-4321", out), RECIPIENT_PHONE);
	assert_string_equal(out, "+5511987654321");
	assert_int_equal(norm("+1 650 555 1234", out), RECIPIENT_PHONE);
	assert_string_equal(out, "+16505551234");
}

static void
bad_phones_are_refused_with_a_reason(void **state)
{
	char		out[RECIPIENT_MAXLEN + 1];
	const char *why = NULL;

	assert_int_equal(recipient_normalize("5511987654321", out, &why), RECIPIENT_INVALID);
	assert_non_null(strstr(why, "+"));
	assert_int_equal(norm("+0511987654321", out), RECIPIENT_INVALID);
	assert_int_equal(norm("+5511a87654321", out), RECIPIENT_INVALID);
	assert_int_equal(norm("+1234567890123456", out), RECIPIENT_INVALID);
	assert_int_equal(norm("+12345", out), RECIPIENT_INVALID);
	assert_int_equal(norm("", out), RECIPIENT_INVALID);
	assert_int_equal(recipient_normalize(NULL, out, &why), RECIPIENT_INVALID);
}

static void
bsuids_are_accepted_as_given(void **state)
{
	char		out[RECIPIENT_MAXLEN + 1];
	char		longest[RECIPIENT_MAXLEN + 2];

	assert_int_equal(norm("US.13491208655302741918", out), RECIPIENT_BSUID);
	assert_string_equal(out, "US.13491208655302741918");
	assert_int_equal(norm("BR.abcDEF123", out), RECIPIENT_BSUID);
	assert_int_equal(norm("BR.12-3", out), RECIPIENT_INVALID);
	assert_int_equal(norm("hello", out), RECIPIENT_INVALID);
	memset(longest, 'a', sizeof(longest) - 1);
	memcpy(longest, "BR.", 3);
	longest[RECIPIENT_MAXLEN] = '\0';
	assert_int_equal(norm(longest, out), RECIPIENT_BSUID);
	longest[RECIPIENT_MAXLEN] = 'a';
	longest[RECIPIENT_MAXLEN + 1] = '\0';
	assert_int_equal(norm(longest, out), RECIPIENT_INVALID);
}

/* Meta's other shapes: "user.<digits>" and parent BSUIDs ("CC.ENT.<id>"). */
static void
every_bsuid_shape_is_accepted(void **state)
{
	char		out[RECIPIENT_MAXLEN + 1];
	const char *why = NULL;

	assert_int_equal(norm("user.1502576394655843", out), RECIPIENT_BSUID);
	assert_string_equal(out, "user.1502576394655843");
	assert_int_equal(norm("US.ENT.11815799212886844830", out), RECIPIENT_BSUID);
	assert_string_equal(out, "US.ENT.11815799212886844830");
	assert_int_equal(norm("br.123", out), RECIPIENT_BSUID);
	/* a dot between segments, never at an end or twice */
	assert_int_equal(recipient_normalize("user.", out, &why), RECIPIENT_INVALID);
	assert_non_null(why);
	assert_int_equal(norm("user..1", out), RECIPIENT_INVALID);
	assert_int_equal(norm(".user1", out), RECIPIENT_INVALID);
	assert_int_equal(norm("user", out), RECIPIENT_INVALID);
	assert_int_equal(norm("1user.1", out), RECIPIENT_INVALID);
	assert_int_equal(norm("user.1 2", out), RECIPIENT_INVALID);
}

static void
hash_is_stable_and_spreads(void **state)
{
	assert_int_equal(recipient_hash("+5511987654321"), recipient_hash("+5511987654321"));
	assert_true(recipient_hash("+5511987654321") != recipient_hash("+5511987654322"));
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(phones_are_normalised),
	cmocka_unit_test(bad_phones_are_refused_with_a_reason),
	cmocka_unit_test(bsuids_are_accepted_as_given),
	cmocka_unit_test(every_bsuid_shape_is_accepted),
	cmocka_unit_test(hash_is_stable_and_spreads),
};

UnitGroup
recipient_tests(void)
{
	return (UnitGroup) UNIT_GROUP("recipient", tests);
}
