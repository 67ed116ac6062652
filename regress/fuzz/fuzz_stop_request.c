/*
 * fuzz_stop_request.c
 *		libFuzzer harness for the stop-request classifier of inbound text:
 *		src/core/stop_fold.c (folding, windows) and stop_request.c (patterns
 *		read window by window over a message of any length).
 *
 * The input is the message (as PostgreSQL text it has no NUL: the bytes up
 * to the first one are used), copied to a heap buffer of its exact length
 * so AddressSanitizer sees a read past it.  What comes out is checked:
 * a verdict, a rule and a terminated explanation for text and buttons;
 * every window's words within the message, in order, and each window
 * starting past the one before (the reading ends).
 */
#include "core/stop_fold.h"
#include "core/stop_request.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
fail(const char *what, const char *in)
{
	fprintf(stderr, "stop request: %s (input \"%.200s\")\n", what, in);
	abort();
}

static void
check_result(StopVerdict v, const StopResult *r, const char *in)
{
	if (v != r->verdict || (v != STOP_VERDICT_STOP && v != STOP_VERDICT_DOUBTFUL &&
							v != STOP_VERDICT_NOT_STOP))
		fail("no verdict", in);
	if (r->rule == NULL || memchr(r->explanation, '\0', STOP_EXPLANATION_MAX) == NULL)
		fail("no rule or an unterminated explanation", in);
}

/* The windows classify_stop reads, as it steps through them. */
static void
check_windows(const char *in, size_t len)
{
	StopText   *t = malloc(sizeof(StopText));
	int			from = 0;

	for (;;)
	{
		stop_fold_at(in, from, t);
		for (int k = 0; k < t->ntok; k++)
			if (!t->tok[k].boundary &&
				(t->tok[k].start < from || t->tok[k].end > (int) len || t->tok[k].start >= t->tok[k].end ||
				 (k > 0 && t->tok[k].start < t->tok[k - 1].end)))
				fail("a word outside its window or out of order", in);
		if (!t->truncated)
			break;
		/* full, less a trailing clause break stop_fold drops */
		if (t->ntok < STOP_MAX_TOKENS - 1)
			fail("a window cut before it is full", in);
		{
			int			k = t->ntok - STOP_WINDOW_OVERLAP;

			while (t->tok[k].boundary)
				k++;
			if (t->tok[k].start <= from)
				fail("a window that does not move on", in);
			from = t->tok[k].start;
		}
	}
	free(t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t		len = strnlen((const char *) data, size);
	char	   *in = malloc(len + 1);
	StopResult	r;

	memcpy(in, data, len);
	in[len] = '\0';
	check_result(stop_classify(in, STOP_SOURCE_TEXT, &r), &r, in);
	check_result(stop_classify(in, STOP_SOURCE_BUTTON, &r), &r, in);
	check_windows(in, len);
	free(in);
	return 0;
}
