/*
 * template_check.c
 *		Does a template send fit the template Meta approved?  See
 *		template_check.h.  Meta's components: HEADER {format, text},
 *		BODY {text}, FOOTER, BUTTONS {buttons: [{type, text, url}]}.
 *
 * Lengths once filled in follow Meta's SDK (unverified elsewhere): a body
 * of at most 1024 characters when the template has other components, 32768
 * when it is a body alone; a text header of 60; a URL of 2000.
 */
#include "payload_check.h"
#include "template_check.h"
#include "template_vars.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PATH_LEN PATH_MAX_LEN
#define MAX_BUTTONS 10
#define WORD_LEN 16

typedef struct Approved
{
	int			ncomponents;
	bool		has_header;
	char		header_format[WORD_LEN];	/* TEXT, IMAGE, VIDEO, DOCUMENT, LOCATION... */
	const char *header_text;
	long		header_len;
	TemplateVars header_vars;
	bool		has_body;
	const char *body_text;
	long		body_len;
	TemplateVars body_vars;
	int			nbuttons;
	char		button_type[MAX_BUTTONS][WORD_LEN];
	bool		button_dynamic[MAX_BUTTONS];	/* a URL with a variable */
	const char *button_url[MAX_BUTTONS];
	long		button_url_len[MAX_BUTTONS];
} Approved;

/* Where each part is in the send: a component index, or -1. */
typedef struct Sent
{
	long		header;
	long		body;
	long		button[MAX_BUTTONS];
} Sent;

/* The send is pc.v; failures go to pc.err (payload_check.h). */
typedef struct Ctx
{
	Check		pc;
	const TemplateSpec *t;
	char		label[160];		/* "oferta_cdb (pt_BR)" */
} Ctx;

#define fail(c, ...) pc_fail(&(c)->pc, __VA_ARGS__)
#define at pc_at

/* An upper-cased copy of a short string ("" when it is not one). */
static void
word(const JsonView *v, const char *path, char *out)
{
	const char *s;
	long		len;
	long		i = 0;

	if (v->text(v->ctx, path, &s, &len))
		for (; i < len && i < WORD_LEN - 1; i++)
			out[i] = (s[i] >= 'a' && s[i] <= 'z') ? s[i] - 'a' + 'A' : s[i];
	out[i] = '\0';
}

static bool
has_variable(const char *s, long len)
{
	for (long i = 0; i + 1 < len; i++)
		if (s[i] == '{' && s[i + 1] == '{')
			return true;
	return false;
}

static void
read_buttons(const JsonView *v, long i, Approved *a)
{
	char		p[PATH_LEN];
	long		n = v->kind(v->ctx, at(p, "%ld.buttons", i)) == JSON_ARRAY ? v->size(v->ctx, p) : 0;

	a->nbuttons = (int) (n < MAX_BUTTONS ? n : MAX_BUTTONS);
	for (int b = 0; b < a->nbuttons; b++)
	{
		word(v, at(p, "%ld.buttons.%d.type", i, b), a->button_type[b]);
		if (v->text(v->ctx, at(p, "%ld.buttons.%d.url", i, b), &a->button_url[b], &a->button_url_len[b]))
			a->button_dynamic[b] = has_variable(a->button_url[b], a->button_url_len[b]);
	}
}

static void
read_approved(const JsonView *v, Approved *a)
{
	char		p[PATH_LEN];
	char		type[WORD_LEN];
	long		n = v->kind(v->ctx, "") == JSON_ARRAY ? v->size(v->ctx, "") : 0;

	memset(a, 0, sizeof(*a));
	a->ncomponents = (int) n;
	for (long i = 0; i < n; i++)
	{
		word(v, at(p, "%ld.type", i), type);
		if (strcmp(type, "HEADER") == 0)
		{
			a->has_header = true;
			word(v, at(p, "%ld.format", i), a->header_format);
			if (v->text(v->ctx, at(p, "%ld.text", i), &a->header_text, &a->header_len))
				template_vars_scan(a->header_text, a->header_len, &a->header_vars);
			if (a->header_format[0] == '\0' && a->header_text)
				strcpy(a->header_format, "TEXT");
		}
		else if (strcmp(type, "BODY") == 0)
		{
			a->has_body = true;
			if (v->text(v->ctx, at(p, "%ld.text", i), &a->body_text, &a->body_len))
				template_vars_scan(a->body_text, a->body_len, &a->body_vars);
		}
		else if (strcmp(type, "BUTTONS") == 0)
			read_buttons(v, i, a);
	}
}

static long
sent_index(const JsonView *v, const char *path)
{
	const char *s;
	long		len;

	if (v->text(v->ctx, path, &s, &len))
		return len == 1 && s[0] >= '0' && s[0] <= '9' ? s[0] - '0' : -1;
	if (v->kind(v->ctx, path) == JSON_NUMBER)
		return (long) v->number(v->ctx, path);
	return -1;
}

static void
read_sent(const JsonView *v, Sent *s)
{
	char		p[PATH_LEN];
	long		n = v->kind(v->ctx, "template.components") == JSON_ARRAY ?
		v->size(v->ctx, "template.components") : 0;

	s->header = s->body = -1;
	for (int b = 0; b < MAX_BUTTONS; b++)
		s->button[b] = -1;
	for (long i = 0; i < n; i++)
	{
		if (v->text_is(v->ctx, at(p, "template.components.%ld.type", i), "header"))
			s->header = i;
		else if (v->text_is(v->ctx, p, "body"))
			s->body = i;
		else if (v->text_is(v->ctx, p, "button"))
		{
			long		b = sent_index(v, at(p, "template.components.%ld.index", i));

			if (b >= 0 && b < MAX_BUTTONS)
				s->button[b] = i;
		}
	}
}

static long
count(Ctx *c, const char *path)
{
	return c->pc.v->kind(c->pc.v->ctx, path) == JSON_ARRAY ? c->pc.v->size(c->pc.v->ctx, path) : 0;
}

/* "{{nome}}, {{cidade}}": the variables, for a message. */
static const char *
var_list(const TemplateVars *vars, char *buf, size_t size)
{
	size_t		n = 0;

	buf[0] = '\0';
	for (int i = 0; i < vars->n && n < size; i++)
		if (template_vars_find(vars, vars->v[i].name, (long) strlen(vars->v[i].name)) == i)
			n += snprintf(buf + n, size - n, "%s{{%s}}", n ? ", " : "", vars->v[i].name);
	return buf;
}

/* Characters a parameter puts in the text: its text, or a fallback value. */
static long
param_chars(Ctx *c, const char *param)
{
	static const char *const where[] = {"text", "currency.fallback_value", "date_time.fallback_value"};
	char		p[PATH_LEN];

	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++)
		if (c->pc.v->kind(c->pc.v->ctx, at(p, "%s.%s", param, where[i])) == JSON_STRING)
			return c->pc.v->size(c->pc.v->ctx, p);
	return 0;
}

/* The send's parameter that fills variable 'var' of a component, or -1. */
static long
param_for(Ctx *c, long comp, const TemplateVar *var, long given)
{
	char		p[PATH_LEN];

	if (var->positional)
	{
		long		k = strtol(var->name, NULL, 10) - 1;

		return k >= 0 && k < given ? k : -1;
	}
	for (long j = 0; j < given; j++)
		if (c->pc.v->text_is(c->pc.v->ctx, at(p, "template.components.%ld.parameters.%ld.parameter_name", comp, j),
							 var->name))
			return j;
	return -1;
}

/* The text once every variable is replaced by its parameter fits in max characters. */
static void
check_filled_length(Ctx *c, const char *what, const char *text, long len, const TemplateVars *vars,
					long comp, long max)
{
	char		p[PATH_LEN];
	long		given = count(c, at(p, "template.components.%ld.parameters", comp));
	long		total = utf8_chars(text, len);

	for (int i = 0; i < vars->n; i++)
	{
		long		j = param_for(c, comp, &vars->v[i], given);

		total -= utf8_chars(text + vars->v[i].start, vars->v[i].end - vars->v[i].start);
		if (j >= 0)
			total += param_chars(c, at(p, "template.components.%ld.parameters.%ld", comp, j));
	}
	if (total > max)
		fail(c, at(p, "template.components.%ld.parameters", comp),
			 "the %s of %s would have %ld characters once filled in; at most %ld are allowed",
			 what, c->label, total, max);
}

/* Named parameters: each one a variable of the text, each variable given once. */
static void
check_named(Ctx *c, const char *what, const TemplateVars *vars, long comp, long given)
{
	char		p[PATH_LEN];
	char		list[200];
	const char *s;
	long		len;

	for (long j = 0; j < given && c->pc.ok; j++)
	{
		at(p, "template.components.%ld.parameters.%ld.parameter_name", comp, j);
		if (!c->pc.v->text(c->pc.v->ctx, p, &s, &len))
			fail(c, at(p, "template.components.%ld.parameters.%ld", comp, j),
				 "the %s of %s takes named parameters (%s): add \"parameter_name\"",
				 what, c->label, var_list(vars, list, sizeof(list)));
		else if (template_vars_find(vars, s, len) < 0)
			fail(c, p, "the %s of %s has no {{%.*s}}; it takes %s",
				 what, c->label, (int) (len < 64 ? len : 64), s, var_list(vars, list, sizeof(list)));
		for (long k = 0; k < j && c->pc.ok; k++)
		{
			char		q[PATH_LEN];
			const char *t;
			long		tlen;

			if (c->pc.v->text(c->pc.v->ctx, at(q, "template.components.%ld.parameters.%ld.parameter_name", comp, k),
							  &t, &tlen) && tlen == len && memcmp(t, s, (size_t) len) == 0)
				fail(c, p, "gives {{%.*s}} a second time (parameter %ld gave it)", (int) (len < 64 ? len : 64), s, k);
		}
	}
	for (int i = 0; i < vars->n && c->pc.ok; i++)
		if (param_for(c, comp, &vars->v[i], given) < 0)
			fail(c, comp >= 0 ? at(p, "template.components.%ld.parameters", comp) : "template.components",
				 "the %s of %s needs {{%s}}, which was not given", what, c->label, vars->v[i].name);
}

static void
check_positional(Ctx *c, const char *what, const TemplateVars *vars, long comp, long given)
{
	char		p[PATH_LEN];

	for (long j = 0; j < given && c->pc.ok; j++)
		if (c->pc.v->kind(c->pc.v->ctx, at(p, "template.components.%ld.parameters.%ld.parameter_name",
										   comp, j)) != JSON_MISSING)
			fail(c, p, "the %s of %s has positional variables ({{1}}, {{2}}...): remove \"parameter_name\"",
				 what, c->label);
	if (c->pc.ok && given != vars->distinct)
		fail(c, comp >= 0 ? at(p, "template.components.%ld.parameters", comp) : "template.components",
			 "the %s of %s takes %d parameter%s, %ld given", what, c->label, vars->distinct,
			 vars->distinct == 1 ? "" : "s", given);
}

/* The variables of a text component ("body", or a TEXT "header") against its parameters. */
static void
check_variables(Ctx *c, const char *what, const TemplateVars *vars, long comp)
{
	char		p[PATH_LEN];
	long		given = comp >= 0 ? count(c, at(p, "template.components.%ld.parameters", comp)) : 0;

	if (vars->named)
		check_named(c, what, vars, comp, given);
	else
		check_positional(c, what, vars, comp, given);
}

static void
check_body(Ctx *c, const Approved *a, const Sent *s)
{
	if (!a->has_body || a->body_text == NULL)
	{
		char		p[PATH_LEN];

		if (s->body >= 0 && count(c, at(p, "template.components.%ld.parameters", s->body)) > 0)
			fail(c, p, "%s has no body variables; it takes no body parameters", c->label);
		return;
	}
	check_variables(c, "body", &a->body_vars, s->body);
	if (c->pc.ok && s->body >= 0)
		check_filled_length(c, "body", a->body_text, a->body_len, &a->body_vars, s->body,
							a->ncomponents > 1 ? 1024 : 32768);
}

/* "an IMAGE", "a VIDEO", "a UTILITY", "a URL" */
static const char *
article(const char *w)
{
	return w[0] && strchr("AEIO", w[0]) ? "an" : "a";
}

static void
check_media_header(Ctx *c, const Approved *a, const Sent *s)
{
	char		p[PATH_LEN];
	char		given[WORD_LEN];
	char		lower[WORD_LEN];

	for (int i = 0; i < WORD_LEN; i++)
		lower[i] = (a->header_format[i] >= 'A' && a->header_format[i] <= 'Z') ?
			a->header_format[i] - 'A' + 'a' : a->header_format[i];
	if (s->header < 0)
	{
		fail(c, "template.components", "the header of %s is %s %s: add a header component with %s %s parameter",
			 c->label, article(a->header_format), a->header_format, article(a->header_format), lower);
		return;
	}
	word(c->pc.v, at(p, "template.components.%ld.parameters.0.type", s->header), given);
	if (strcmp(given, a->header_format) != 0)
		fail(c, p, "the header of %s is %s %s; %s %s was given", c->label, article(a->header_format),
			 a->header_format, article(given), given);
}

static void
check_header(Ctx *c, const Approved *a, const Sent *s)
{
	static const char *const media[] = {"IMAGE", "VIDEO", "DOCUMENT", "LOCATION"};
	char		p[PATH_LEN];

	if (!a->has_header)
	{
		if (s->header >= 0)
			fail(c, at(p, "template.components.%ld", s->header), "%s has no header: remove this component", c->label);
		return;
	}
	if (strcmp(a->header_format, "TEXT") == 0)
	{
		if (a->header_vars.n == 0 && s->header >= 0)
			fail(c, at(p, "template.components.%ld", s->header),
				 "the header of %s is fixed text: remove this component", c->label);
		else if (a->header_vars.n > 0)
		{
			if (s->header >= 0 && !c->pc.v->text_is(c->pc.v->ctx,
													at(p, "template.components.%ld.parameters.0.type", s->header), "text"))
				fail(c, p, "the header of %s is TEXT; its parameter must be a text", c->label);
			check_variables(c, "header", &a->header_vars, s->header);
			if (c->pc.ok)
				check_filled_length(c, "header", a->header_text, a->header_len, &a->header_vars, s->header, 60);
		}
		return;
	}
	for (size_t i = 0; i < sizeof(media) / sizeof(media[0]); i++)
		if (strcmp(a->header_format, media[i]) == 0)
			check_media_header(c, a, s);
	/* other formats (GIF...) are Meta's to judge */
}

/* The sub_type a send uses for each of Meta's button types; NULL: no parameters. */
static const struct
{
	const char *type;
	const char *sub_type;
	bool		required;		/* the send must fill it */
}			button_kinds[] = {
	{"QUICK_REPLY", "quick_reply", false},
	{"URL", "url", false},		/* required when the URL has a variable */
	{"COPY_CODE", "copy_code", true},
	{"OTP", "url", true},		/* the code, for copy-code and one-tap buttons */
	{"FLOW", "flow", false},
	{"CATALOG", "catalog", false},
	{"MPM", "mpm", true},
	{"PHONE_NUMBER", NULL, false},
	{"VOICE_CALL", NULL, false},
};

static int
button_kind(const char *type)
{
	for (size_t i = 0; i < sizeof(button_kinds) / sizeof(button_kinds[0]); i++)
		if (strcmp(button_kinds[i].type, type) == 0)
			return (int) i;
	return -1;
}

static void
check_sent_button(Ctx *c, const Approved *a, int b, long comp)
{
	char		p[PATH_LEN];
	int			k = button_kind(a->button_type[b]);

	if (b >= a->nbuttons)
	{
		if (a->nbuttons == 0)
			fail(c, at(p, "template.components.%ld.index", comp), "%s has no buttons", c->label);
		else
			fail(c, at(p, "template.components.%ld.index", comp), "%s has buttons 0 to %d; there is no button %d",
				 c->label, a->nbuttons - 1, b);
		return;
	}
	if (k < 0)
		return;					/* a kind we do not know: Meta judges */
	if (button_kinds[k].sub_type == NULL)
		fail(c, at(p, "template.components.%ld", comp), "button %d of %s is a %s button; it takes no parameters",
			 b, c->label, a->button_type[b]);
	else if (!c->pc.v->text_is(c->pc.v->ctx, at(p, "template.components.%ld.sub_type", comp), button_kinds[k].sub_type))
		fail(c, p, "button %d of %s is a %s button: sub_type must be \"%s\"", b, c->label,
			 a->button_type[b], button_kinds[k].sub_type);
	else if (strcmp(a->button_type[b], "URL") == 0 && !a->button_dynamic[b])
		fail(c, at(p, "template.components.%ld", comp), "button %d of %s has a fixed URL: remove this component",
			 b, c->label);
	else if (strcmp(a->button_type[b], "URL") == 0)
	{
		TemplateVars vars;

		template_vars_scan(a->button_url[b], a->button_url_len[b], &vars);
		check_filled_length(c, "URL of button", a->button_url[b], a->button_url_len[b], &vars, comp, 2000);
	}
}

static void
check_buttons(Ctx *c, const Approved *a, const Sent *s)
{
	for (int b = 0; b < MAX_BUTTONS && c->pc.ok; b++)
		if (s->button[b] >= 0)
			check_sent_button(c, a, b, s->button[b]);
	for (int b = 0; b < a->nbuttons && c->pc.ok; b++)
	{
		int			k = button_kind(a->button_type[b]);

		if (s->button[b] < 0 && k >= 0 && (button_kinds[k].required || a->button_dynamic[b]))
			fail(c, "template.components", "button %d of %s (%s) needs a button component with sub_type \"%s\" and index \"%d\"",
				 b, c->label, a->button_type[b], button_kinds[k].sub_type, b);
	}
}

static void
check_category(Ctx *c, const char *send_category)
{
	char		lower[WORD_LEN];
	size_t		i;

	if (c->t->category == NULL || c->t->category[0] == '\0')
		return;
	for (i = 0; c->t->category[i] && i < WORD_LEN - 1; i++)
		lower[i] = (c->t->category[i] >= 'A' && c->t->category[i] <= 'Z') ?
			c->t->category[i] - 'A' + 'a' : c->t->category[i];
	lower[i] = '\0';
	if (strcmp(lower, send_category) == 0)
		return;
	fail(c, "category", "is %s, but %s is %s %s template: Meta bills and rates each send at the template's category",
		 send_category, c->label, article(c->t->category), c->t->category);
	snprintf(c->pc.err->hint, sizeof(c->pc.err->hint), "Pass category => '%s'.", lower);
}

bool
template_check(const TemplateSpec *t, const JsonView *send, const char *send_category, PayloadError *err)
{
	Ctx			c = {{send, err, true}, t, ""};
	Approved	a;
	Sent		s;

	err->hint[0] = '\0';
	snprintf(c.label, sizeof(c.label), "%.100s (%.40s)", t->name, t->language);
	check_category(&c, send_category);
	if (!c.pc.ok || t->components == NULL)
		return c.pc.ok;
	read_approved(t->components, &a);
	read_sent(send, &s);
	check_header(&c, &a, &s);
	if (c.pc.ok)
		check_body(&c, &a, &s);
	if (c.pc.ok)
		check_buttons(&c, &a, &s);
	return c.pc.ok;
}

/* Levenshtein distance, bounded by the short names templates have. */
static int
distance(const char *a, const char *b)
{
	int			row[513];
	size_t		la = strlen(a),
				lb = strlen(b);

	if (la > 512 || lb > 512)
		return 1 << 20;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int) j;
	for (size_t i = 1; i <= la; i++)
	{
		int			diag = row[0];

		row[0] = (int) i;
		for (size_t j = 1; j <= lb; j++)
		{
			int			up = row[j];
			int			best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

const char *
template_closest_name(const char *name, const char *const *names, int n)
{
	const char *best = NULL;
	int			best_d = (int) strlen(name) / 3 + 1;	/* a typo, not another name */

	if (best_d > 3)
		best_d = 3;
	for (int i = 0; i < n; i++)
	{
		int			d = distance(name, names[i]);

		if (d <= best_d && (best == NULL || d < best_d))
		{
			best = names[i];
			best_d = d;
		}
	}
	return best;
}
