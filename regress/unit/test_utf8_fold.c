/*
 * test_utf8_fold.c
 *		Walking UTF-8: only well-formed sequences are read as code points,
 *		by every reader (the text folders, json_repair, the template linter).
 */
#include "unit.h"

#include "core/template_vars.h"
#include "core/utf8_fold.h"

static void
well_formed_sequences_are_read(void **state)
{
	unsigned	cp = 0;

	assert_int_equal(utf8_next((const unsigned char *) "\xC3\xA7", &cp), 2);
	assert_int_equal(cp, 0xE7);
	assert_int_equal(utf8_next((const unsigned char *) "\xE2\x82\xAC", &cp), 3);
	assert_int_equal(cp, 0x20AC);
	assert_int_equal(utf8_next((const unsigned char *) "\xF0\x9F\x98\x80", &cp), 4);
	assert_int_equal(cp, 0x1F600);
	assert_int_equal(utf8_next((const unsigned char *) "\xF4\x8F\xBF\xBF", &cp), 4);
	assert_int_equal(cp, 0x10FFFF);
	assert_int_equal(utf8_next((const unsigned char *) "\xE0\xA0\x80", &cp), 3);
	assert_int_equal(cp, 0x800);
}

static void
bad_sequences_are_not_code_points(void **state)
{
	const char *bad[] = {
		"\xC0\x8D",				/* overlong carriage return, two bytes */
		"\xC1\xBF",
		"\xE0\x80\x8D",			/* overlong carriage return, three bytes */
		"\xE0\x9F\xBF",			/* overlong U+07FF */
		"\xF0\x80\x80\x8D",		/* overlong, four bytes */
		"\xF0\x8F\xBF\xBF",		/* overlong U+FFFF */
		"\xED\xA0\x80",			/* a surrogate */
		"\xED\xBF\xBF",
		"\xF4\x90\x80\x80",		/* past U+10FFFF */
		"\xF5\x80\x80\x80",
		"\xE2\x82",				/* cut short by the end */
		"\x80",
	};
	unsigned	cp;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(utf8_next((const unsigned char *) bad[i], &cp), 0);
}

static void
a_sequence_is_read_only_within_its_bytes(void **state)
{
	unsigned	cp = 0;

	assert_int_equal(utf8_decode((const unsigned char *) "\xE2\x82\xAC", 2, &cp), 0);
	assert_int_equal(utf8_decode((const unsigned char *) "\xE2\x82\xAC", 3, &cp), 3);
	assert_int_equal(utf8_decode((const unsigned char *) "a", 0, &cp), 0);
	assert_int_equal(utf8_decode((const unsigned char *) "a", 1, &cp), 1);
	assert_int_equal(cp, 'a');
	/* the template linter reads the same way: a bad byte is one U+FFFD */
	assert_int_equal(utf8_at("x\xE0\x80\x8Dy", 1, 5, &cp), 1);
	assert_int_equal(cp, 0xFFFD);
	assert_int_equal(utf8_at("\xC3\xA7", 0, 2, &cp), 2);
	assert_int_equal(cp, 0xE7);
	/* and counts characters the same way: x, three bad bytes, y */
	assert_int_equal(utf8_chars("x\xE0\x80\x8Dy", 5), 5);
	assert_int_equal(utf8_chars("\xC3\xA7\xE2\x82\xAC", 5), 2);
	assert_int_equal(utf8_chars("\xE2\x82", 2), 2);
}

UnitGroup
utf8_fold_tests(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(well_formed_sequences_are_read),
		cmocka_unit_test(bad_sequences_are_not_code_points),
		cmocka_unit_test(a_sequence_is_read_only_within_its_bytes),
	};

	return (UnitGroup) UNIT_GROUP("utf8_fold", tests);
}
