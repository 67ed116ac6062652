/*
 * lead_corpus.c
 *		Reading the labelled conversation corpus.
 */
#include "lead_corpus.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a conversation spans a century at most: times stay far inside timestamptz */
#define MAX_MINUTES (INT64_C(100) * 366 * 1440)

typedef struct Reader
{
	LeadCorpusConversation conv;
	bool		open;			/* a conversation is being read */
	bool		observed;		/* it has its "@" line */
	int			count;
	char	   *err;
	size_t		errlen;
} Reader;

static int	fail(Reader *r, int line, const char *fmt,...) __attribute__((format(printf, 3, 4)));

static int
fail(Reader *r, int line, const char *fmt,...)
{
	va_list		ap;
	int			n = snprintf(r->err, r->errlen, "line %d: ", line);

	va_start(ap, fmt);
	if (n >= 0 && (size_t) n < r->errlen)
		vsnprintf(r->err + n, r->errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

/* "90", "2h", "3d" -> minutes; false if it is not a time. */
static bool
parse_minutes(const char **p, const char *end, int64_t *out)
{
	const char *s = *p;
	int64_t		v = 0;

	if (s >= end || !isdigit((unsigned char) *s))
		return false;
	while (s < end && isdigit((unsigned char) *s))
	{
		if (v > INT64_C(100000000))
			return false;
		v = v * 10 + (*s++ - '0');
	}
	if (s < end && (*s == 'm' || *s == 'h' || *s == 'd'))
	{
		v *= *s == 'h' ? 60 : *s == 'd' ? 1440 : 1;
		s++;
	}
	if (v > MAX_MINUTES)
		return false;
	if (s < end && !isspace((unsigned char) *s))
		return false;
	while (s < end && isspace((unsigned char) *s))
		s++;
	*p = s;
	*out = v;
	return true;
}

static int
close_conversation(Reader *r, LeadCorpusEach each, void *ctx, int line)
{
	if (!r->open)
		return 0;
	if (!r->observed)
		return fail(r, r->conv.line, "conversation %s has no \"@\" line (when its outcome was known)", r->conv.id);
	for (int i = 0; i < r->conv.nev; i++)
		if (r->conv.ev[i].minute > r->conv.observed_minute)
			return fail(r, r->conv.line, "conversation %s has an event after its \"@\" time", r->conv.id);
	r->open = false;
	r->count++;
	return each(&r->conv, ctx) ? 0 : 1;
}

static int
start_conversation(Reader *r, const char *s, const char *end, int line)
{
	char		id[64],
				lang[16],
				label[16],
				extra[2];
	char		buf[160];
	size_t		len = (size_t) (end - s);

	if (len >= sizeof(buf))
		return fail(r, line, "header too long");
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (sscanf(buf, "%63s %15s %15s %1s", id, lang, label, extra) != 3)
		return fail(r, line, "a header is \"= ID LANGUAGE won|lost\"");
	if (strlen(id) >= LEAD_CORPUS_ID_MAX)
		return fail(r, line, "id \"%s\" is too long", id);
	memset(&r->conv, 0, sizeof(r->conv));
	if (!lead_language_parse(lang, &r->conv.lang))
		return fail(r, line, "unknown language \"%s\" (pt, es or en)", lang);
	if (strcmp(label, "won") != 0 && strcmp(label, "lost") != 0)
		return fail(r, line, "unknown outcome \"%s\" (won or lost)", label);
	strcpy(r->conv.id, id);
	r->conv.won = strcmp(label, "won") == 0;
	r->conv.line = line;
	r->open = true;
	r->observed = false;
	return 0;
}

static const struct
{
	char		mark;
	LeadEventKind kind;
	bool		text;			/* takes a text (required for > and t) */
}			marks[] = {
	{'>', LEAD_EVENT_INBOUND, true},
	{'t', LEAD_EVENT_TAP, true},
	{'<', LEAD_EVENT_OUTBOUND, false},
	{'r', LEAD_EVENT_READ, false},
	{'f', LEAD_EVENT_FAILURE, false},
	{'o', LEAD_EVENT_OPT_OUT, false},
	{'i', LEAD_EVENT_OPT_IN, false},
	{'b', LEAD_EVENT_BLOCK, false},
};

static int
add_event(Reader *r, char mark, const char *s, const char *end, int line)
{
	LeadCorpusEvent *e;
	int64_t		minute;
	size_t		m;

	for (m = 0; m < sizeof(marks) / sizeof(marks[0]) && marks[m].mark != mark; m++)
		;
	if (m == sizeof(marks) / sizeof(marks[0]))
		return fail(r, line, "unknown line \"%c\"", mark);
	if (!r->open)
		return fail(r, line, "an event before any \"=\" header");
	if (r->conv.nev == LEAD_CORPUS_MAX_EVENTS)
		return fail(r, line, "more than %d events in %s", LEAD_CORPUS_MAX_EVENTS, r->conv.id);
	if (!parse_minutes(&s, end, &minute))
		return fail(r, line, "\"%c\" needs a time in minutes (or 2h, 3d)", mark);
	e = &r->conv.ev[r->conv.nev++];
	e->kind = marks[m].kind;
	e->minute = minute;
	if (marks[m].kind == LEAD_EVENT_FAILURE)
	{
		char	   *stop;

		e->code = (int) strtol(s, &stop, 10);
		if (stop == s || e->code <= 0)
			return fail(r, line, "\"f\" needs a Cloud API error code");
	}
	else if (marks[m].kind != LEAD_EVENT_OUTBOUND && marks[m].text)
	{
		if (s >= end)
			return fail(r, line, "\"%c\" needs the lead's text", mark);
		e->text = s;
		e->text_len = (int) (end - s);
	}
	return 0;
}

static int
read_line(Reader *r, const char *s, const char *end, int line, LeadCorpusEach each, void *ctx)
{
	char		mark;

	while (end > s && isspace((unsigned char) end[-1]))
		end--;
	if (s == end || *s == '#')
		return 0;
	mark = *s++;
	if (s < end && !isspace((unsigned char) *s))
		return fail(r, line, "a line starts with one mark and a space");
	while (s < end && isspace((unsigned char) *s))
		s++;
	if (mark == '=')
	{
		int			rc = close_conversation(r, each, ctx, line);

		return rc != 0 ? rc : start_conversation(r, s, end, line);
	}
	if (mark == '@')
	{
		if (!r->open)
			return fail(r, line, "\"@\" before any \"=\" header");
		if (!parse_minutes(&s, end, &r->conv.observed_minute) || s != end)
			return fail(r, line, "\"@\" needs a time in minutes (or 2h, 3d)");
		r->observed = true;
		return 0;
	}
	return add_event(r, mark, s, end, line);
}

int
lead_corpus_parse(const char *text, LeadCorpusEach each, void *ctx, char *err, size_t errlen)
{
	Reader		r = {.err = err, .errlen = errlen};
	int			line = 0,
				rc = 0;

	if (errlen > 0)
		err[0] = '\0';
	for (const char *s = text ? text : ""; *s && rc == 0;)
	{
		const char *nl = strchr(s, '\n');
		const char *end = nl ? nl : s + strlen(s);

		rc = read_line(&r, s, end, ++line, each, ctx);
		s = nl ? nl + 1 : end;
	}
	if (rc == 0)
		rc = close_conversation(&r, each, ctx, line);
	if (rc < 0)
		return -1;
	return r.count;
}
