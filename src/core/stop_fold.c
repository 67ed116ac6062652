/*
 * stop_fold.c
 *		UTF-8 text to folded words and clause breaks.
 *
 * Leads type fast: no accents or all of them, capitals for emphasis,
 * "PARAAAA", emoji instead of full stops.  So: lower case; Latin-1 letters
 * and combining accents folded to ASCII; apostrophes joined ("don't" ->
 * "dont"); runs of three or more equal letters cut to one; , . ! ? ; : and
 * emoji become clause breaks (a stop word alone in its clause is a request;
 * "para quando" is not); anything else separates words.  Invalid UTF-8 is a
 * separator, never a reason to read past the end.
 */
#include "stop_fold.h"

#include <string.h>

#include "utf8_fold.h"

typedef struct Builder
{
	StopText   *out;
	char		word[STOP_WORD_MAX];
	int			len;
	int			start;
	int			end;
	bool		overlong;
} Builder;

static void
set_token(StopToken *t, const char *word, int start, int end)
{
	const char *canon = stop_lexicon_lookup(word, &t->classes);

	strncpy(t->word, canon, STOP_WORD_MAX - 1);
	t->word[STOP_WORD_MAX - 1] = '\0';
	t->start = start;
	t->end = end;
	t->boundary = false;
}

static void
push_word(Builder *b)
{
	StopText   *o = b->out;
	StopToken  *prev = o->ntok > 0 ? &o->tok[o->ntok - 1] : NULL;
	StopClass	ignored;
	const char *merged;

	if (b->len == 0)
		return;
	b->word[b->len] = '\0';
	b->len = 0;
	cut_letter_runs(b->word);
	if (b->overlong)
	{
		/* no stop word is this long: keep it as an unmatchable word */
		strcpy(b->word, "#");
		b->overlong = false;
	}
	merged = prev && !prev->boundary ?
		stop_lexicon_bigram(prev->word, stop_lexicon_lookup(b->word, &ignored)) : NULL;
	if (merged)
	{
		set_token(prev, merged, prev->start, b->end);
		return;
	}
	if (o->ntok == STOP_MAX_TOKENS)
	{
		o->truncated = true;
		return;
	}
	set_token(&o->tok[o->ntok++], b->word, b->start, b->end);
}

static void
push_break(Builder *b)
{
	StopText   *o = b->out;

	push_word(b);
	if (o->ntok == 0 || o->tok[o->ntok - 1].boundary)
		return;
	if (o->ntok == STOP_MAX_TOKENS)
	{
		o->truncated = true;
		return;
	}
	memset(&o->tok[o->ntok], 0, sizeof(StopToken));
	strcpy(o->tok[o->ntok].word, ",");
	o->tok[o->ntok].boundary = true;
	o->ntok++;
}

static void
add_letter(Builder *b, char c, int at, int width)
{
	if (c >= 'A' && c <= 'Z')
		c = (char) (c - 'A' + 'a');
	if (b->len == 0)
		b->start = at;
	b->end = at + width;
	if (b->len == STOP_WORD_MAX - 1)
		b->overlong = true;
	else
		b->word[b->len++] = c;
}

static void
fold_ascii(Builder *b, char c, int at)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		add_letter(b, c, at, 1);
	else if (c == '\'' || c == '`')
		return;					/* don't -> dont */
	else if (strchr(",.!?;:\n\r()", c))
		push_break(b);
	else
		push_word(b);
}

static void
fold_wide(Builder *b, unsigned cp, int at, int width)
{
	if (latin1_fold(cp) >= 'a')
		add_letter(b, latin1_fold(cp), at, width);
	else if (cp >= 0x300 && cp <= 0x36F)
		b->end = at + width;	/* a combining accent: the letter stays */
	else if (cp == 0x2018 || cp == 0x2019)
		return;					/* typographic apostrophe */
	else if (cp == 0x2026 || cp >= 0x2190)
		push_break(b);			/* ellipsis, symbols, emoji */
	else
		push_word(b);
}

void
stop_fold(const char *utf8, StopText *out)
{
	stop_fold_at(utf8, 0, out);
}

void
stop_fold_at(const char *utf8, int from, StopText *out)
{
	Builder		b = {.out = out};
	const unsigned char *s = (const unsigned char *) (utf8 ? utf8 : "");

	out->text = (const char *) s;
	out->ntok = 0;
	out->from = utf8 ? from : 0;
	out->truncated = false;
	for (const unsigned char *p = s + out->from; *p && !out->truncated;)
	{
		unsigned	cp;
		int			n;

		if (*p < 0x80)
		{
			fold_ascii(&b, (char) *p, (int) (p - s));
			p++;
		}
		else if ((n = utf8_next(p, &cp)) == 0)
		{
			push_word(&b);		/* invalid byte: a separator */
			p++;
		}
		else
		{
			fold_wide(&b, cp, (int) (p - s), n);
			p += n;
		}
	}
	push_word(&b);
	if (out->ntok > 0 && out->tok[out->ntok - 1].boundary)
		out->ntok--;
}
