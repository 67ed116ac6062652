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
static const char *const secret_functions[] = {"secret", "webhook_verify",
	/* a URL setting may carry user:password@ (refused, but PostgreSQL quotes the value) */
	"graph_base_url", "alert_webhook_url", "lead_llm_url",
	/* a Unicode-escaped name can spell "secret" without the letters */
"U&", "u&"};

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

/*
 * Length of the dollar-quote tag starting at s[i] ("$$", "$x$"), or 0 when
 * s[i] does not open one ("$1" is a parameter, not a quote).
 */
static size_t
dollar_tag(const char *s, size_t i)
{
	size_t		j = i + 1;

	if (s[i] != '$')
		return 0;
	if (s[j] >= '0' && s[j] <= '9')
		return 0;
	while ((s[j] >= 'a' && s[j] <= 'z') || (s[j] >= 'A' && s[j] <= 'Z') ||
		   (s[j] >= '0' && s[j] <= '9') || s[j] == '_')
		j++;
	return s[j] == '$' ? j + 1 - i : 0;
}

/*
 * A quoted run at s[i]: '...', "..." or $tag$...$tag$.  Sets the content's
 * start and length and whether it closed; returns the index just past it,
 * or i when s[i] opens no run.
 */
static size_t
quoted_run(const char *s, size_t i, size_t *start, size_t *len, bool *closed)
{
	size_t		tag = dollar_tag(s, i);
	size_t		end;

	if (tag > 0)
	{
		const char *close = NULL;
		const char *p = s + i + tag;

		/* find the same tag again */
		for (; *p; p++)
			if (strncmp(p, s + i, tag) == 0)
			{
				close = p;
				break;
			}
		*start = i + tag;
		*closed = close != NULL;
		*len = close ? (size_t) (close - (s + *start)) : strlen(s + *start);
		return close ? (size_t) (close - s) + tag : *start + *len;
	}
	if (s[i] != '\'' && s[i] != '"')
		return i;
	end = run_end(s, i);
	*closed = end - i >= 2 && s[end - 1] == s[i];
	*start = i + 1;
	*len = end - i - 1 - (*closed ? 1 : 0);
	return end;
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
		size_t		start,
					len,
					next;
		bool		closed;

		next = quoted_run(statement, i, &start, &len, &closed);
		if (next == i)
		{
			i++;
			continue;
		}
		if (len >= REDACT_MIN_LITERAL && !is_kept(statement + start, len, keep, nkeep))
			out[n++] = (Span) {statement + start, len};
		/* a literal inside a dollar-quoted body (a DO block) is a literal too */
		if (statement[i] == '$' && n < MAX_LITERALS)
		{
			char	   *body = strndup(statement + start, len);

			if (body)
			{
				/* spans must point into 'statement': search the body's runs there */
				for (size_t k = 0; body[k] && n < MAX_LITERALS;)
				{
					size_t		s2,
								l2,
								nx = quoted_run(body, k, &s2, &l2, &closed);

					if (nx == k)
					{
						k++;
						continue;
					}
					if (l2 >= REDACT_MIN_LITERAL && !is_kept(body + s2, l2, keep, nkeep))
						out[n++] = (Span) {statement + start + s2, l2};
					k = nx;
				}
				free(body);
			}
		}
		i = next;
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
		size_t		skip,
					start,
					len,
					end;
		bool		closed;

		if ((end = quoted_run(text, i, &start, &len, &closed)) != i)
		{
			if (is_kept(text + start, len, keep, nkeep))
				put(&b, text + i, end - i);
			else
			{
				/* the opening quote or tag, the mask, the closing one */
				put(&b, text + i, start - i);
				put(&b, REDACT_MASK, strlen(REDACT_MASK));
				if (closed)
					put(&b, text + start + len, end - start - len);
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
