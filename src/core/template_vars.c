/*
 * template_vars.c
 *		Finding {{...}} in a template text.  An unclosed "{{" is a variable
 *		that runs to the end of the text, and not a well-formed one: Meta
 *		rejects malformed braces, so the lint reports it.
 */
#include "template_vars.h"
#include "utf8_fold.h"

#include <stdio.h>
#include <string.h>

long
utf8_chars(const char *s, long len)
{
	long		n = 0;
	unsigned	cp;

	for (long i = 0; i < len; n++)
		i += utf8_at(s, i, len, &cp);
	return n;
}

int
utf8_at(const char *s, long i, long len, unsigned *cp)
{
	int			n = utf8_decode((const unsigned char *) s + i, (size_t) (len - i), cp);

	if (n == 0)
	{
		*cp = 0xFFFD;			/* a bad byte: one replacement character */
		return 1;
	}
	return n;
}

static void
classify(TemplateVar *v)
{
	size_t		len = strlen(v->name);
	bool		digits = len > 0;
	bool		lower = len > 0 && ((v->name[0] >= 'a' && v->name[0] <= 'z') || v->name[0] == '_');

	for (size_t i = 0; i < len; i++)
	{
		char		ch = v->name[i];

		digits = digits && ch >= '0' && ch <= '9';
		lower = lower && ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_');
	}
	v->positional = digits;
	v->well_formed = digits || lower;
}

int
template_vars_find(const TemplateVars *vars, const char *name, long len)
{
	for (int i = 0; i < vars->n; i++)
		if ((long) strlen(vars->v[i].name) == len && memcmp(vars->v[i].name, name, (size_t) len) == 0)
			return i;
	return -1;
}

void
template_vars_scan(const char *text, long len, TemplateVars *out)
{
	memset(out, 0, sizeof(*out));
	for (long i = 0; i + 1 < len; i++)
	{
		TemplateVar *v;
		long		close = -1;
		long		inner;

		if (text[i] != '{' || text[i + 1] != '{')
			continue;
		if (out->n == TEMPLATE_MAX_VARS)
		{
			out->truncated = true;
			return;
		}
		for (long j = i + 2; j + 1 < len && close < 0; j++)
			if (text[j] == '}' && text[j + 1] == '}')
				close = j;
		v = &out->v[out->n];
		v->start = i;
		v->end = close < 0 ? len : close + 2;
		inner = (close < 0 ? len : close) - (i + 2);
		snprintf(v->name, sizeof(v->name), "%.*s", (int) (inner < TEMPLATE_VAR_NAME_MAX - 1 ? inner : TEMPLATE_VAR_NAME_MAX - 1), text + i + 2);
		classify(v);
		if (close < 0 || inner >= TEMPLATE_VAR_NAME_MAX)
			v->well_formed = false;
		if (template_vars_find(out, v->name, (long) strlen(v->name)) < 0)
			out->distinct++;
		out->named |= !v->positional;
		out->n++;
		i = v->end - 1;
	}
}
