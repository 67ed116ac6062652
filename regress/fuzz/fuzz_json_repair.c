/*
 * fuzz_json_repair.c
 *		libFuzzer harness for src/core/json_repair.c: the scanner that makes
 *		a signed webhook body parseable when some strings in it are bad.
 *
 * The input is a raw body, any bytes.  The scanner is run twice, as the
 * ingest does (once to size, once to fill a buffer of exactly that size on
 * the heap, so AddressSanitizer sees a write past it), with a fix array of
 * exactly max_fixes.  What comes out is checked: both runs agree;
 * repairing the repaired text again changes nothing and reports nothing;
 * every fix describes itself within its buffer.  (A NUL byte outside a
 * string is broken structure, which is never repaired.)
 */
#include "core/json_repair.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIXES 8

static void
fail(const char *what)
{
	fprintf(stderr, "json_repair: %s\n", what);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	JsonFix    *fixes = malloc(sizeof(JsonFix) * MAX_FIXES);
	JsonRepair	sized = json_repair((const char *) data, size, NULL, 0, fixes, MAX_FIXES);
	char	   *out = malloc(sized.out_len ? sized.out_len : 1);
	JsonRepair	filled = json_repair((const char *) data, size, out, sized.out_len, fixes, MAX_FIXES);
	char		line[512];

	if (filled.out_len != sized.out_len || filled.nfixes != sized.nfixes || filled.too_deep != sized.too_deep)
		fail("sizing and filling disagree");
	for (int i = 0; i < filled.nfixes && i < MAX_FIXES; i++)
	{
		memset(line, 'x', sizeof(line));
		json_fix_describe(&fixes[i], line, sizeof(line));
		if (memchr(line, '\0', sizeof(line)) == NULL)
			fail("a fix description is not terminated");
	}
	if (!filled.too_deep)
	{
		JsonRepair	again = json_repair(out, filled.out_len, NULL, 0, fixes, MAX_FIXES);

		if (again.nfixes != 0 || again.out_len != filled.out_len)
			fail("repairing a repaired text changed it");
	}
	free(out);
	free(fixes);
	return 0;
}
