/*
 * test_json_repair.c
 *		Bad strings in a webhook body are replaced and located; structure
 *		is never touched; the scanner stays inside its buffers.
 */
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "core/json_repair.h"

#define MAX_FIXES 8

typedef struct Repaired
{
	char		text[4096];
	JsonRepair	r;
	JsonFix		fixes[MAX_FIXES];
	char		first[256];		/* the first fix in words */
} Repaired;

/* Size, then fill, like the adapter does; the two passes must agree. */
static Repaired *
repair_n(const char *in, size_t len)
{
	static Repaired out;
	JsonRepair	sized;

	memset(&out, 0, sizeof(out));
	sized = json_repair(in, len, NULL, 0, out.fixes, MAX_FIXES);
	assert_true(sized.out_len < sizeof(out.text));
	out.r = json_repair(in, len, out.text, sizeof(out.text) - 1, NULL, 0);
	assert_int_equal(out.r.out_len, sized.out_len);
	assert_int_equal(out.r.nfixes, sized.nfixes);
	out.r = sized;
	if (out.r.nfixes > 0)
		json_fix_describe(&out.fixes[0], out.first, sizeof(out.first));
	return &out;
}

static Repaired *
repair(const char *in)
{
	return repair_n(in, strlen(in));
}

#define CHANGES(c0, c1) \
	"{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"200\",\"changes\":[" c0 "," c1 "]}]}"
#define TEXT(body) \
	"{\"field\":\"messages\",\"value\":{\"messages\":[{\"id\":\"wamid.1\",\"text\":{\"body\":\"" body "\"}}]}}"

static void
good_json_is_left_alone(void **state)
{
	const char *body = CHANGES(TEXT("ok \\ud83d\\ude00 \\u00e9 caf\xc3\xa9 \xf0\x9f\x98\x80 \\\" \\\\ \\/ \\n"),
							   TEXT("\\uD83D\\uDE00"));
	Repaired   *r = repair(body);

	assert_int_equal(r->r.nfixes, 0);
	assert_false(r->r.too_deep);
	assert_string_equal(r->text, body);
}

static void
nul_escape_is_replaced_and_located(void **state)
{
	Repaired   *r = repair(CHANGES(TEXT("a"), TEXT("oi\\u0000tudo")));

	assert_int_equal(r->r.nfixes, 1);
	assert_string_equal(r->text, CHANGES(TEXT("a"), TEXT("oi\\ufffdtudo")));
	assert_int_equal(r->fixes[0].fault, JSON_FAULT_NUL);
	assert_int_equal(r->fixes[0].entry, 0);
	assert_int_equal(r->fixes[0].change, 1);
	assert_string_equal(r->first,
						"entry 0 change 1: \\u0000 in value.messages[0].text.body replaced by U+FFFD");
}

static void
lone_surrogates_are_replaced(void **state)
{
	Repaired   *r;

	r = repair(CHANGES(TEXT("Jo\\ud83d"), TEXT("x")));
	assert_string_equal(r->text, CHANGES(TEXT("Jo\\ufffd"), TEXT("x")));
	assert_string_equal(r->first,
						"entry 0 change 0: a lone surrogate \\ud83d in value.messages[0].text.body replaced by U+FFFD");
	/* a low one alone, a high one before a non-surrogate, a high one twice */
	r = repair("[\"\\udc00\",\"\\ud83d\\u0041\",\"\\ud83d\\ud83d\\ude00\",\"\\uDBFF\"]");
	assert_string_equal(r->text, "[\"\\ufffd\",\"\\ufffd\\u0041\",\"\\ufffd\\ud83d\\ude00\",\"\\ufffd\"]");
	assert_int_equal(r->r.nfixes, 4);
	assert_string_equal(r->fixes[1].path, "[1]");
	/* cut off before its pair could be read: then the pair is cut too */
	r = repair_n("[\"\\ud83d\\ude00\"]", 13);
	assert_int_equal(r->r.nfixes, 2);
	assert_int_equal(r->fixes[0].fault, JSON_FAULT_LONE_SURROGATE);
	assert_int_equal(r->fixes[1].fault, JSON_FAULT_BAD_ESCAPE);
	assert_string_equal(r->text, "[\"\\ufffd\\ufffd");
}

static void
invalid_utf8_in_strings_is_replaced(void **state)
{
	Repaired   *r;

	r = repair(CHANGES(TEXT("PARAR"), TEXT("caf\xe9 com leite")));
	assert_string_equal(r->text, CHANGES(TEXT("PARAR"), TEXT("caf\\ufffd com leite")));
	assert_string_equal(r->first,
						"entry 0 change 1: invalid UTF-8 in value.messages[0].text.body replaced by U+FFFD");
	/* overlong, encoded surrogate, above U+10FFFF, stray continuation, cut sequence */
	r = repair("{\"a\":\"\xc0\x80|\xed\xa0\x80|\xf4\x90\x80\x80|\x80|\xe2\x82\"}");
	assert_int_equal(r->r.nfixes, 1);
	assert_int_equal(r->fixes[0].count, 12);
	assert_string_equal(r->fixes[0].path, "a");
	assert_null(strchr(r->text, '\x80'));
	assert_string_equal(r->first, "invalid UTF-8 (12 times) in a replaced by U+FFFD");
	/* the longest legal forms pass */
	r = repair("[\"\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"]");
	assert_int_equal(r->r.nfixes, 0);
}

static void
control_characters_and_bad_escapes(void **state)
{
	Repaired   *r;

	/* a raw newline is kept, escaped; a raw NUL byte can not be */
	r = repair_n("{\"a\":\"x\ny\0z\"}", 13);
	assert_string_equal(r->text, "{\"a\":\"x\\u000ay\\ufffdz\"}");
	assert_int_equal(r->r.nfixes, 2);
	assert_string_equal(r->first, "an unescaped control character in a escaped");
	r = repair("{\"a\":\"\\x41 \\u12G4 \\u\"}");
	assert_string_equal(r->text, "{\"a\":\"\\ufffd41 \\ufffdG4 \\ufffd\"}");
	assert_int_equal(r->fixes[0].fault, JSON_FAULT_BAD_ESCAPE);
	assert_int_equal(r->fixes[0].count, 3);
}

static void
keys_and_places_outside_changes_are_named(void **state)
{
	Repaired   *r;

	r = repair(CHANGES(TEXT("a"), "{\"field\":\"messages\",\"value\":{\"bad\\u0000key\":1}}"));
	assert_string_equal(r->first, "entry 0 change 1: \\u0000 in a key of value replaced by U+FFFD");
	r = repair(CHANGES(TEXT("a"), "{\"fi\\u0000eld\":\"messages\"}"));
	assert_string_equal(r->first, "entry 0 change 1: \\u0000 in a key of the change replaced by U+FFFD");
	r = repair("{\"object\":\"x\",\"entry\":[{\"id\":\"2\\u0000\"},{\"id\":\"\\udc00\"}]}");
	assert_int_equal(r->r.nfixes, 2);
	assert_int_equal(r->fixes[0].entry, -1);
	assert_string_equal(r->first, "\\u0000 in entry[0].id replaced by U+FFFD");
	assert_string_equal(r->fixes[1].path, "entry[1].id");
	r = repair("\"\\u0000\"");
	assert_string_equal(r->first, "\\u0000 at the top level replaced by U+FFFD");
	/* entry 1, change 2: indexes follow the commas, not the strings */
	r = repair("{\"entry\":[{\"changes\":[]},{\"id\":\"a,b\",\"changes\":[{},[1,2],{\"value\":[\"x\",\"\\u0000\"]}]}]}");
	assert_string_equal(r->first, "entry 1 change 2: \\u0000 in value[1] replaced by U+FFFD");
}

static void
structure_is_never_repaired(void **state)
{
	const char *broken[] = {"{\"a\":\"b\"", "{\"a\":\"b\"}]", "[1,,2]", "{\"a\" \"b\"}", "\xff[]",
	"{\"a\":\"b\\", "\"unterminated"};

	for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++)
	{
		Repaired   *r = repair(broken[i]);

		assert_int_equal(r->r.nfixes, 0);
		assert_string_equal(r->text, broken[i]);
	}
}

static void
too_deep_stops(void **state)
{
	char		deep[2 * JSON_REPAIR_MAX_DEPTH + 3];
	JsonRepair	r;

	memset(deep, '[', JSON_REPAIR_MAX_DEPTH);
	memset(deep + JSON_REPAIR_MAX_DEPTH, ']', JSON_REPAIR_MAX_DEPTH);
	r = json_repair(deep, 2 * JSON_REPAIR_MAX_DEPTH, NULL, 0, NULL, 0);
	assert_false(r.too_deep);
	memset(deep, '[', JSON_REPAIR_MAX_DEPTH + 1);
	memset(deep + JSON_REPAIR_MAX_DEPTH + 1, ']', JSON_REPAIR_MAX_DEPTH + 1);
	r = json_repair(deep, 2 * JSON_REPAIR_MAX_DEPTH + 2, NULL, 0, NULL, 0);
	assert_true(r.too_deep);
}

static void
buffers_are_respected(void **state)
{
	const char *in = "[\"\\u0000\\u0000\",\"\\u0000\",\"\\u0000\",\"\\udc00\"]";
	char		out[16];
	JsonFix		fixes[2];
	JsonRepair	r;

	/* the output stops at cap; what follows is untouched */
	memset(out, '#', sizeof(out));
	r = json_repair(in, strlen(in), out, 8, fixes, 2);
	assert_true(r.out_len > 8);
	assert_memory_equal(out, "[\"\\ufffd", 8);
	assert_int_equal(out[8], '#');
	/* fixes beyond the array are counted, not written */
	assert_int_equal(r.nfixes, 4);
	assert_int_equal(fixes[0].count, 2);
	assert_string_equal(fixes[1].path, "[1]");
	/* no input, no output */
	r = json_repair("", 0, NULL, 0, NULL, 0);
	assert_int_equal(r.out_len, 0);
}

/* Random bytes under ASan in CI's sanitizer runs; here a cheap smoke run. */
static void
random_bytes_stay_in_bounds(void **state)
{
	const char	alphabet[] = "{}[],:\"\\u0dDfF8a \x80\xc3\xed\xf4\n";
	unsigned	seed = 12345;

	for (int round = 0; round < 2000; round++)
	{
		size_t		len = (size_t) (seed % 64);
		char	   *in = malloc(len + 1);
		char	   *out;
		JsonRepair	sized,
					r;
		JsonFix		fixes[3];

		for (size_t i = 0; i < len; i++)
		{
			seed = seed * 1103515245u + 12345u;
			in[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		sized = json_repair(in, len, NULL, 0, fixes, 3);
		out = malloc(sized.out_len + 1);
		r = json_repair(in, len, out, sized.out_len, NULL, 0);
		assert_int_equal(r.out_len, sized.out_len);
		assert_true(r.out_len <= 6 * len);
		free(out);
		free(in);
		seed = seed * 1103515245u + 12345u;
	}
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(good_json_is_left_alone),
	cmocka_unit_test(nul_escape_is_replaced_and_located),
	cmocka_unit_test(lone_surrogates_are_replaced),
	cmocka_unit_test(invalid_utf8_in_strings_is_replaced),
	cmocka_unit_test(control_characters_and_bad_escapes),
	cmocka_unit_test(keys_and_places_outside_changes_are_named),
	cmocka_unit_test(structure_is_never_repaired),
	cmocka_unit_test(too_deep_stops),
	cmocka_unit_test(buffers_are_respected),
	cmocka_unit_test(random_bytes_stay_in_bounds),
};

UnitGroup
json_repair_tests(void)
{
	return (UnitGroup) UNIT_GROUP("json_repair", tests);
}
