/*
 * fuzz_lead_llm.c
 *		libFuzzer harness for src/core/lead_llm.c: an LLM's quote checked
 *		against a lead's message, both any bytes.
 *
 * The input is split at its first NUL into a quote and a message body
 * (each copied to a heap buffer of exactly its size plus the terminator,
 * so AddressSanitizer sees a read past either).  What comes out is
 * checked: a quote is always found in itself and in itself with text
 * around it; a slot whose quote is found passes or fails on its number
 * alone; reason words always end in the closing quote and fit the buffer.
 */
#include "core/lead_llm.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
fail(const char *what)
{
	fprintf(stderr, "lead_llm: %s\n", what);
	abort();
}

static char *
copy(const uint8_t *p, size_t n)
{
	char	   *s = malloc(n + 1);

	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t		qlen = nul ? (size_t) (nul - data) : size;
	char	   *quote = copy(data, qlen);
	char	   *body = nul ? copy(nul + 1, size - qlen - 1) : copy(data, 0);
	char	   *around = malloc(qlen + 16);
	LeadLlmMessage m = {7, body};
	LeadLlmSlot s = {LEAD_LLM_PRODUCT, "cdb", 0, quote, 7};
	char		words[LEAD_LLM_WORDS_MAX];
	int			feature = 0;
	/* (a no-break space is a space too: a quote of only those is blank) */
	bool		blank = strspn(quote, " \t\r\n\v\f") == strlen(quote) || strstr(quote, "\xc2\xa0") != NULL;

	snprintf(around, qlen + 16, "oi %s tchau", quote);
	if (!blank && strlen(quote) == qlen && !lead_llm_evidence_in(quote, quote))
		fail("a quote is not found in itself");
	if (!blank && strlen(quote) == qlen && !lead_llm_evidence_in(quote, around))
		fail("a quote is not found with words around it");
	(void) lead_llm_evidence_in(quote, body);
	(void) lead_llm_check_slot(&s, &m, 1, &feature);
	s.kind = LEAD_LLM_AMOUNT;
	s.value = NULL;
	s.number = 50000;
	(void) lead_llm_check_slot(&s, &m, 1, &feature);
	lead_llm_reason_words(&s, LEAD_REASONS_PT, "\"", "\"", words, sizeof(words));
	if (memchr(words, '\0', sizeof(words)) == NULL)
		fail("reason words are not terminated");
	free(quote);
	free(body);
	free(around);
	return 0;
}
