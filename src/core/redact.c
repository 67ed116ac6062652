/*
 * redact.c
 *		Masking secrets out of messages about the statements that carried
 *		them.  See redact.h.
 */
#include "redact.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * Statements that may carry a secret: set_secret, clear_secret (a token
 * passed in the WABA's place), webhook_verify (a guess at the verify
 * token), and anything else that talks about secrets; masking too much costs
 * only readability.
 */
static const char *const secret_functions[] = {"secret", "webhook_verify"};

#define MAX_LITERALS 64

typedef struct Buf
{
	char	   *p;
	size_t		len;
	size_t		cap;
	bool		oom;
} Buf;

typedef struct Span
{
	const char *start;
	size_t		len;
} Span;

static bool
contains_ci(const char *hay, const char *needle)
{
	size_t		n = strlen(needle);

	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return false;
}

bool
redact_statement_has_secret(const char *statement)
{
	if (statement == NULL)
		return false;
	for (size_t i = 0; i < sizeof(secret_functions) / sizeof(secret_functions[0]); i++)
		if (contains_ci(statement, secret_functions[i]))
			return true;
	return false;
}

static void
put(Buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap)
	{
		size_t		cap = (b->len + n + 1) * 2;
		char	   *p = realloc(b->p, cap);

		if (p == NULL)
		{
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/*
 * Index just past the quoted run that starts at s[i] (a quote), or the end
 * of the string when it never closes.  A doubled quote or a backslash-escaped
 * character stays inside: when that guess is wrong, more is masked, not less.
 */
static size_t
run_end(const char *s, size_t i)
{
	char		q = s[i];
	size_t		j = i + 1;

	while (s[j])
	{
		if (s[j] == '\\' && s[j + 1])
			j += 2;
		else if (s[j] == q && s[j + 1] == q)
			j += 2;
		else if (s[j] == q)
			return j + 1;
		else
			j++;
	}
	return j;
}

static bool
is_kept(const char *content, size_t len, const char *const *keep, int nkeep)
{
	for (int k = 0; k < nkeep; k++)
		if (strlen(keep[k]) == len && strncmp(keep[k], content, len) == 0)
			return true;
	return false;
}

/* The statement's quoted literals worth searching for (content between the quotes). */
static int
collect_literals(const char *statement, Span *out, const char *const *keep, int nkeep)
{
	int			n = 0;

	if (statement == NULL)
		return 0;
	for (size_t i = 0; statement[i] && n < MAX_LITERALS;)
	{
		size_t		end;
		size_t		len;

		if (statement[i] != '\'' && statement[i] != '"')
		{
			i++;
			continue;
		}
		end = run_end(statement, i);
		len = end - i - 1 - (statement[end - 1] == statement[i] && end - i >= 2 ? 1 : 0);
		if (len >= REDACT_MIN_LITERAL && !is_kept(statement + i + 1, len, keep, nkeep))
			out[n++] = (Span) {statement + i + 1, len};
		i = end;
	}
	return n;
}

static size_t
literal_at(const char *s, const Span *lits, int nlits)
{
	for (int k = 0; k < nlits; k++)
		if (strncmp(s, lits[k].start, lits[k].len) == 0)
			return lits[k].len;
	return 0;
}

char *
redact_text(const char *text, const char *statement, const char *const *keep, int nkeep)
{
	Span		lits[MAX_LITERALS];
	int			nlits = collect_literals(statement, lits, keep, nkeep);
	Buf			b = {NULL, 0, 0, false};

	put(&b, "", 0);
	for (size_t i = 0; text && text[i];)
	{
		size_t		skip;

		if (text[i] == '\'' || text[i] == '"')
		{
			size_t		end = run_end(text, i);
			bool		closed = end - i >= 2 && text[end - 1] == text[i];
			size_t		len = end - i - 1 - (closed ? 1 : 0);

			if (is_kept(text + i + 1, len, keep, nkeep))
				put(&b, text + i, end - i);
			else
			{
				put(&b, text + i, 1);
				put(&b, REDACT_MASK, strlen(REDACT_MASK));
				if (closed)
					put(&b, text + end - 1, 1);
			}
			i = end;
		}
		else if ((skip = literal_at(text + i, lits, nlits)) > 0)
		{
			put(&b, REDACT_MASK, strlen(REDACT_MASK));
			i += skip;
		}
		else
		{
			put(&b, text + i, 1);
			i++;
		}
	}
	if (b.oom)
	{
		free(b.p);
		return NULL;
	}
	return b.p;
}
