/*
 * fuzz_recipient.c
 *		libFuzzer harness for src/core/recipient.c: the recipient a caller
 *		passes to decide() and send_*() (E.164 phone or BSUID).
 *
 * The input is the recipient text (as PostgreSQL text it has no NUL: the
 * bytes up to the first one are used).  The output buffer is exactly the
 * documented RECIPIENT_MAXLEN + 1 bytes on the heap, so AddressSanitizer
 * sees a write past it.  What comes out is checked: a phone is "+" and
 * 7 to 15 digits without a leading 0, a BSUID is the input unchanged, a
 * refusal says why, and normalising the result again changes nothing.
 */
#include "core/recipient.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
fail(const char *what, const char *in, const char *out)
{
	fprintf(stderr, "recipient_normalize: %s (in \"%s\", out \"%s\")\n", what, in, out);
	abort();
}

static bool
is_e164(const char *s)
{
	size_t		n = strlen(s);

	if (n < 8 || n > 16 || s[0] != '+' || s[1] < '1' || s[1] > '9')
		return false;
	for (size_t i = 2; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static void
check(const char *in)
{
	char	   *out = malloc(RECIPIENT_MAXLEN + 1);
	char	   *again = malloc(RECIPIENT_MAXLEN + 1);
	const char *why = NULL;
	RecipientKind kind = recipient_normalize(in, out, &why);

	if (kind == RECIPIENT_INVALID)
	{
		if (why == NULL || why[0] == '\0')
			fail("refused without a reason", in, "");
	}
	else
	{
		if (why != NULL)
			fail("accepted with a reason", in, out);
		if (kind == RECIPIENT_PHONE && !is_e164(out))
			fail("a phone that is not E.164", in, out);
		if (kind == RECIPIENT_BSUID && (strcmp(in, out) != 0 || strlen(out) > RECIPIENT_MAXLEN))
			fail("a BSUID changed or too long", in, out);
		if (recipient_normalize(out, again, &why) != kind || strcmp(out, again) != 0)
			fail("normalising twice changes the result", in, out);
		if (recipient_hash(out) != recipient_hash(again))
			fail("the same recipient hashes differently", in, out);
	}
	free(out);
	free(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *in = malloc(size + 1);

	memcpy(in, data, size);
	in[size] = '\0';
	check(in);
	free(in);
	return 0;
}
