/*
 * template_lint.c
 *		The template lint (template_lint.h): Meta's review rules for the
 *		variables of a text (creation errors 2388299: a variable at the start
 *		or end; 2388293: too many variables for the length; adjacent,
 *		malformed or out-of-sequence variables), lengths, and the text rules
 *		of text_lint.c on every part.
 *
 * "Too many variables" has no published threshold: the rule here is the
 * one businesses report from Meta's reviews, words + variables >= 3 x
 * variables + 1 (so a warning, not an error).
 */
#include "template_lint.h"
#include "template_vars.h"
#include "text_lint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_LEN 64

const char *
lint_severity_name(LintSeverity s)
{
	return s == LINT_ERROR ? "error" : "warning";
}

bool
lint_category_known(const char *category)
{
	return strcmp(category, "marketing") == 0 || strcmp(category, "utility") == 0 ||
		strcmp(category, "authentication") == 0 || strcmp(category, "service") == 0;
}

static bool
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Nothing but blanks and punctuation: no letter, digit or non-ASCII character. */
static bool
no_words(const char *s, long from, long to)
{
	for (long i = from; i < to; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
			return false;
	}
	return true;
}

/* Words outside the variables: runs of non-blanks holding a letter or digit. */
static long
fixed_words(const char *s, long len, const TemplateVars *vars)
{
	long		words = 0;
	long		from = 0;

	for (int v = 0; v <= vars->n; v++)
	{
		long		to = v < vars->n ? vars->v[v].start : len;
		long		i = from;

		while (i < to)
		{
			long		j = i;

			while (j < to && !blank(s[j]))
				j++;
			words += j > i && !no_words(s, i, j);
			i = j + 1;
		}
		from = v < vars->n ? vars->v[v].end : len;
	}
	return words;
}

static void
variable_placement(const char *s, long len, const TemplateVars *vars, const char *loc, LintReport *r)
{
	long		first = 0,
				last = len;

	if (vars->n == 0)
		return;
	while (first < len && blank(s[first]))
		first++;
	/* Meta counts a variable followed only by punctuation as at the end */
	while (last > 0 && no_words(s, last - 1, last) && s[last - 1] != '}')
		last--;
	if (vars->v[0].start == first)
		lint_add(r, LINT_ERROR, "variable_at_edge", loc,
				 "starts with {{%s}}; Meta rejects a variable at the start or end of the text (2388299)", vars->v[0].name);
	else if (vars->v[vars->n - 1].end == last)
		lint_add(r, LINT_ERROR, "variable_at_edge", loc,
				 "ends with {{%s}}; Meta rejects a variable at the start or end of the text (2388299): add text after it",
				 vars->v[vars->n - 1].name);
	for (int i = 0; i + 1 < vars->n; i++)
		if (no_words(s, vars->v[i].end, vars->v[i + 1].start))
		{
			lint_add(r, LINT_ERROR, "adjacent_variables", loc,
					 "has {{%s}} and {{%s}} with no words between them; Meta rejects adjacent variables",
					 vars->v[i].name, vars->v[i + 1].name);
			break;
		}
}

static void
variable_form(const TemplateVars *vars, const char *loc, LintReport *r)
{
	bool		seen[TEMPLATE_MAX_VARS + 1] = {false};
	int			positional = 0;

	for (int i = 0; i < vars->n; i++)
	{
		const TemplateVar *v = &vars->v[i];

		if (!v->well_formed)
		{
			bool		closed = v->end - v->start == (long) strlen(v->name) + 4 &&
				v->end >= 2;

			lint_add(r, LINT_ERROR, "malformed_variable", loc,
					 closed ? "has {{%s}}; a variable is {{1}} or a lower-case name such as {{first_name}}, with no spaces or #, $, %%" :
					 "has an unclosed {{%s; close it with }}", v->name);
			return;
		}
		if (v->positional)
		{
			long		k = strtol(v->name, NULL, 10);

			positional++;
			if (k >= 1 && k <= TEMPLATE_MAX_VARS)
				seen[k] = true;
		}
	}
	if (positional > 0 && positional < vars->n)
		lint_add(r, LINT_ERROR, "mixed_variables", loc,
				 "mixes positional ({{1}}) and named ({{name}}) variables; a template uses one kind");
	else if (positional > 0)
		for (int k = 1; k <= vars->distinct; k++)
			if (!seen[k])
			{
				lint_add(r, LINT_ERROR, "non_sequential_variables", loc,
						 "numbers its variables without {{%d}}; they must run {{1}}, {{2}}... with no gaps", k);
				break;
			}
}

static void
variable_density(const char *s, long len, const TemplateVars *vars, const char *loc, LintReport *r)
{
	long		words = fixed_words(s, len, vars);

	if (vars->n > 0 && words + vars->n < 3L * vars->n + 1)
		lint_add(r, LINT_WARNING, "too_many_variables", loc,
				 "has %d variables and %ld other words; Meta rejects too many variables for the length (2388293): aim for at least %ld words in all",
				 vars->n, words, 3L * vars->n + 1);
}

static void
length(const char *s, long len, long max, const char *loc, LintReport *r)
{
	long		n = utf8_chars(s, len);

	if (n > max)
		lint_add(r, LINT_ERROR, "too_long", loc, "has %ld characters; at most %ld are allowed", n, max);
}

/* A part with variables (header text, body): Meta's rules on them, then the text rules. */
static void
lint_variable_text(const char *s, long len, const char *category, const char *loc, LintReport *r)
{
	TemplateVars vars;

	template_vars_scan(s, len, &vars);
	variable_form(&vars, loc, r);
	/* Meta writes authentication bodies itself ("{{1}} is your verification code.") */
	if (strcmp(loc, "body") == 0 && strcmp(category, "authentication") != 0)
	{
		variable_placement(s, len, &vars, loc, r);
		variable_density(s, len, &vars, loc, r);
	}
	lint_text_part(s, len, category, loc, r);
}

static void
word_upper(const JsonView *v, const char *path, char *out, size_t size)
{
	const char *s;
	long		len;
	size_t		i = 0;

	if (v->text(v->ctx, path, &s, &len))
		for (; i < (size_t) len && i + 1 < size; i++)
			out[i] = (s[i] >= 'a' && s[i] <= 'z') ? s[i] - 'a' + 'A' : s[i];
	out[i] = '\0';
}

typedef struct Parts
{
	bool		opt_out;		/* some part tells how to stop */
	bool		has_body;
} Parts;

static void
lint_buttons(const JsonView *v, long c, const char *category, Parts *parts, LintReport *r)
{
	char		p[PATH_LEN];
	char		loc[32];
	const char *s;
	long		len;
	long		n = v->kind(v->ctx, (snprintf(p, sizeof(p), "%ld.buttons", c), p)) == JSON_ARRAY ?
		v->size(v->ctx, p) : 0;

	for (long b = 0; b < n; b++)
	{
		snprintf(loc, sizeof(loc), "buttons.%ld", b);
		snprintf(p, sizeof(p), "%ld.buttons.%ld.text", c, b);
		if (v->text(v->ctx, p, &s, &len))
		{
			length(s, len, 25, loc, r);
			parts->opt_out |= lint_has_opt_out(s, len);
			lint_text_part(s, len, category, loc, r);
		}
		snprintf(p, sizeof(p), "%ld.buttons.%ld.url", c, b);
		if (v->text(v->ctx, p, &s, &len))
			lint_text_part(s, len, category, loc, r);
	}
}

static void
lint_component(const JsonView *v, long c, const char *category, Parts *parts, LintReport *r)
{
	char		p[PATH_LEN];
	char		type[16];
	const char *s = NULL;
	long		len = 0;
	bool		has_text;

	word_upper(v, (snprintf(p, sizeof(p), "%ld.type", c), p), type, sizeof(type));
	has_text = v->text(v->ctx, (snprintf(p, sizeof(p), "%ld.text", c), p), &s, &len);
	if (strcmp(type, "BUTTONS") == 0)
		lint_buttons(v, c, category, parts, r);
	else if (!has_text)
		return;
	else if (strcmp(type, "HEADER") == 0)
	{
		length(s, len, 60, "header", r);
		lint_variable_text(s, len, category, "header", r);
	}
	else if (strcmp(type, "BODY") == 0)
	{
		parts->has_body = true;
		length(s, len, 1024, "body", r);
		parts->opt_out |= lint_has_opt_out(s, len);
		lint_variable_text(s, len, category, "body", r);
	}
	else if (strcmp(type, "FOOTER") == 0)
	{
		length(s, len, 60, "footer", r);
		parts->opt_out |= lint_has_opt_out(s, len);
		lint_text_part(s, len, category, "footer", r);
	}
}

void
template_lint(const JsonView *components, const char *category, LintReport *out)
{
	Parts		parts = {false, false};
	long		n = components->kind(components->ctx, "") == JSON_ARRAY ?
		components->size(components->ctx, "") : 0;

	memset(out, 0, sizeof(*out));
	for (long c = 0; c < n; c++)
		lint_component(components, c, category, &parts, out);
	if (!parts.has_body)
		lint_add(out, LINT_ERROR, "missing_body", "body", "a template needs a BODY component with text");
	if (strcmp(category, "marketing") == 0 && !parts.opt_out)
		lint_add(out, LINT_WARNING, "missing_opt_out", "body",
				 "is marketing with no way to opt out: add one to the footer or a quick reply (\"Responda SAIR para não receber mais\")");
}

void
text_lint(const char *text, long len, const char *category, LintReport *out)
{
	memset(out, 0, sizeof(*out));
	length(text, len, 4096, "text", out);
	lint_text_part(text, len, category, "text", out);
	if (strcmp(category, "marketing") == 0 && !lint_has_opt_out(text, len))
		lint_add(out, LINT_WARNING, "missing_opt_out", "text",
				 "is marketing with no way to opt out: say how to stop (\"Responda SAIR para não receber mais\")");
}
