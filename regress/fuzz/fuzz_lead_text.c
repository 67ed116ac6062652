/*
 * fuzz_lead_text.c
 *		libFuzzer harness for the lead model's readers of untrusted text:
 *		src/core/lead_text.c (tokens, language), lead_lexicon.c and
 *		lead_quantity.c (fit signals, amounts, horizons) on what a lead
 *		writes, and lead_corpus.c on a labelled corpus.
 *
 * The input is the message (as PostgreSQL text it has no NUL: the bytes up
 * to the first one are used), copied to a heap buffer of its exact length
 * so AddressSanitizer sees a read past it.  What comes out is checked:
 * tokens within bounds and terminated, signals named, each once, amounts
 * and horizons finite and not negative.
 */
#include "core/lead_corpus.h"
#include "core/lead_features.h"
#include "core/lead_signals.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
fail(const char *what, const char *in)
{
	fprintf(stderr, "lead text: %s (input \"%.200s\")\n", what, in);
	abort();
}

static void
check_tokens(const LeadTokens *t, const char *in)
{
	if (t->n < 0 || t->n > LEAD_MAX_TOKENS || t->questions < 0)
		fail("token count out of bounds", in);
	for (int i = 0; i < t->n; i++)
	{
		if (memchr(t->tok[i].word, '\0', LEAD_WORD_MAX) == NULL)
			fail("a token word without its terminator", in);
		if (t->tok[i].kind == LT_NUMBER && !(t->tok[i].number >= 0))
			fail("a negative or NaN number", in);
	}
	if (t->n > 0 && t->tok[t->n - 1].kind == LT_BREAK)
		fail("a trailing break", in);
}

static bool
count(const LeadCorpusConversation *c, void *ctx)
{
	if (c->nev < 0 || c->nev > LEAD_CORPUS_MAX_EVENTS || strlen(c->id) >= LEAD_CORPUS_ID_MAX)
		abort();
	for (int i = 0; i < c->nev; i++)
		if (c->ev[i].text_len < 0 || (c->ev[i].text_len > 0 && c->ev[i].text == NULL))
			abort();
	(*(int *) ctx)++;
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t		len = strnlen((const char *) data, size);
	char	   *in = malloc(len + 1);
	LeadTokens *t = malloc(sizeof(LeadTokens));
	LeadEntry	fit[LEAD_FIT_MAX];
	bool		seen[LEAD_FIT_LAST + 1] = {false};
	LeadLanguage lang;
	double		brl,
				months;
	int			n,
				conversations = 0;
	char		err[256];

	memcpy(in, data, len);
	in[len] = '\0';
	lead_tokenize_surface(in, t);
	check_tokens(t, in);
	lead_tokenize(in, t);
	check_tokens(t, in);
	lang = lead_language_of(t);
	n = lead_fit_signals(t, lang, fit);
	if (n < 0 || n > LEAD_FIT_MAX)
		fail("signal count out of bounds", in);
	for (int i = 0; i < n; i++)
	{
		if (!lead_feature_is_fit(fit[i].idx) || lead_feature_info(fit[i].idx) == NULL)
			fail("an unnamed signal", in);
		if (seen[fit[i].idx])
			fail("a signal twice", in);
		seen[fit[i].idx] = true;
	}
	brl = lead_amount_brl(t, lang);
	months = lead_horizon_months(t);
	if (!isfinite(brl) || brl < 0 || !isfinite(months) || months < 0)
		fail("an amount or horizon that is negative or not finite", in);
	if (lead_corpus_parse(in, count, &conversations, err, sizeof(err)) < 0 &&
		strncmp(err, "line ", 5) != 0)
		fail("a corpus error that names no line", in);
	free(t);
	free(in);
	return 0;
}
