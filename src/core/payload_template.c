/*
 * payload_template.c
 *		The shape of a template send (cloud-api.md section 1), before any
 *		comparison with the approved template (template_check.c): which
 *		components, which parameter types each may carry, and the object each
 *		parameter type needs, as Meta's reference and SDK describe them.
 */
#include "iso4217.h"
#include "payload_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* param: its path; type: its "type" (a known one); component: header, body or button */
typedef void (*ParamCheck) (Check *c, const char *param, const char *type, const char *component);

/* Meta refuses body and header text with line breaks, tabs or > 4 spaces in a row. */
static void
one_line(Check *c, const char *path)
{
	const char *s;
	long		len;
	int			spaces = 0;

	if (!c->ok || !c->v->text(c->v->ctx, path, &s, &len))
		return;
	for (long i = 0; i < len; i++)
	{
		if (s[i] == '\n' || s[i] == '\r' || s[i] == '\t')
		{
			pc_fail(c, path, "may not hold line breaks or tabs in a %s parameter",
					strstr(path, "components") ? "template" : "text");
			return;
		}
		spaces = s[i] == ' ' ? spaces + 1 : 0;
		if (spaces > 4)
		{
			pc_fail(c, path, "may not hold more than 4 spaces in a row");
			return;
		}
	}
}

static void
p_text(Check *c, const char *param, const char *type, const char *component)
{
	char		p[PATH_MAX_LEN];
	long		max = strcmp(component, "header") == 0 ? 60 :
		strcmp(component, "body") == 0 ? 32768 : 2000;

	if (pc_string(c, pc_at(p, "%s.text", param), true, max) && strcmp(component, "button") != 0)
		one_line(c, p);
}

static bool
currency_code(Check *c, const char *path)
{
	const char *s;
	long		len;

	if (!pc_string(c, path, true, 0))
		return false;
	if (c->v->text(c->v->ctx, path, &s, &len) && iso4217_known(s, len))
		return true;
	return pc_fail(c, path, "must be an ISO 4217 currency code such as \"BRL\"");
}

/* {"fallback_value": "R$ 10,50", "code": "BRL", "amount_1000": 10500} */
static void
p_currency(Check *c, const char *param, const char *type, const char *component)
{
	char		obj[PATH_MAX_LEN];
	char		p[PATH_MAX_LEN];

	if (!pc_object(c, pc_at(obj, "%s.currency", param), true))
		return;
	pc_string(c, pc_at(p, "%s.fallback_value", obj), true, 0);
	currency_code(c, pc_at(p, "%s.code", obj));
	if (pc_number(c, pc_at(p, "%s.amount_1000", obj), -1e15, 1e15) &&
		c->v->number(c->v->ctx, p) != (double) (long long) c->v->number(c->v->ctx, p))
		pc_fail(c, p, "must be a whole number (the amount times 1000)");
}

/* Cloud API renders only the fallback value of a date_time. */
static void
p_date_time(Check *c, const char *param, const char *type, const char *component)
{
	char		p[PATH_MAX_LEN];

	if (pc_object(c, pc_at(p, "%s.date_time", param), true))
		pc_string(c, pc_at(p, "%s.date_time.fallback_value", param), true, 0);
}

/* image, video, document: the media object named by the type */
static void
p_media(Check *c, const char *param, const char *type, const char *component)
{
	char		p[PATH_MAX_LEN];

	pc_media(c, pc_at(p, "%s.%s", param, type), type);
}

static void
p_location(Check *c, const char *param, const char *type, const char *component)
{
	char		p[PATH_MAX_LEN];

	pc_location(c, pc_at(p, "%s.location", param));
}

/* What a quick-reply button sends back in the reply webhook. */
static void
p_payload(Check *c, const char *param, const char *type, const char *component)
{
	char		p[PATH_MAX_LEN];

	pc_id(c, pc_at(p, "%s.payload", param), 0);
}

/* The code a copy-code button copies: 15 characters, 20 for coupon templates. */
static void
p_coupon_code(Check *c, const char *param, const char *type, const char *component)
{
	char		p[PATH_MAX_LEN];

	pc_id(c, pc_at(p, "%s.coupon_code", param), 20);
}

/* Flow, catalog and multi-product buttons: an action object. */
static void
p_action(Check *c, const char *param, const char *type, const char *component)
{
	char		p[PATH_MAX_LEN];

	if (!pc_object(c, pc_at(p, "%s.action", param), true))
		return;
	pc_string(c, pc_at(p, "%s.action.flow_token", param), false, 0);
	pc_object(c, pc_at(p, "%s.action.flow_action_data", param), false);
	pc_string(c, pc_at(p, "%s.action.thumbnail_product_retailer_id", param), false, 0);
}

static const struct
{
	const char *type;
	const char *components;		/* where it may appear: header, body, a button sub_type */
	ParamCheck	check;
}			param_types[] = {
	{"text", " header body url ", p_text},
	{"currency", " body ", p_currency},
	{"date_time", " body ", p_date_time},
	{"image", " header ", p_media},
	{"video", " header ", p_media},
	{"document", " header ", p_media},
	{"location", " header ", p_location},
	{"payload", " quick_reply ", p_payload},
	{"coupon_code", " copy_code ", p_coupon_code},
	{"action", " flow catalog mpm ", p_action},
};

#define N_PARAM_TYPES (sizeof(param_types) / sizeof(param_types[0]))

/* " url " is in " header body url " */
static bool
listed(const char *list, const char *word)
{
	char		w[32];

	snprintf(w, sizeof(w), " %s ", word);
	return strstr(list, w) != NULL;
}

/* The types that 'where' takes, for a message: "text, currency or date_time". */
static const char *
types_for(const char *where, char *buf, size_t size)
{
	size_t		n = 0;
	int			k = 0,
				total = 0;

	for (size_t i = 0; i < N_PARAM_TYPES; i++)
		total += listed(param_types[i].components, where);
	buf[0] = '\0';
	for (size_t i = 0; i < N_PARAM_TYPES && n < size; i++)
		if (listed(param_types[i].components, where))
		{
			k++;
			n += snprintf(buf + n, size - n, "%s%s", k == 1 ? "" : k == total ? " or " : ", ",
						  param_types[i].type);
		}
	return buf;
}

static void
check_parameter_name(Check *c, const char *param)
{
	char		p[PATH_MAX_LEN];
	const char *s;
	long		len;

	if (pc_kind(c, pc_at(p, "%s.parameter_name", param)) == JSON_MISSING ||
		!pc_string(c, p, true, 0) || !c->v->text(c->v->ctx, p, &s, &len))
		return;
	for (long i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_' || (i > 0 && s[i] >= '0' && s[i] <= '9')))
		{
			pc_fail(c, p, "must be lower-case letters, digits and underscores, as in {{first_name}}");
			return;
		}
}

/* One parameter of a component ('where': header, body, or the button's sub_type). */
static void
check_parameter(Check *c, const char *param, const char *component, const char *where)
{
	char		p[PATH_MAX_LEN];
	char		types[96];

	if (!pc_object(c, param, true) || !pc_string(c, pc_at(p, "%s.type", param), true, 0))
		return;
	check_parameter_name(c, param);
	for (size_t i = 0; i < N_PARAM_TYPES && c->ok; i++)
	{
		if (!pc_is(c, p, param_types[i].type))
			continue;
		if (!listed(param_types[i].components, where))
			pc_fail(c, p, "%s %s parameter is not allowed in a %s %s; use %s",
					strchr("aeiou", param_types[i].type[0]) ? "an" : "a", param_types[i].type,
					where, strcmp(component, "button") == 0 ? "button" : "component",
					types_for(where, types, sizeof(types)));
		else
			param_types[i].check(c, param, param_types[i].type, component);
		return;
	}
	pc_fail(c, p, "must be %s", types_for(where, types, sizeof(types)));
}

static const char *const button_sub_types[] = {"quick_reply", "url", "copy_code", "flow", "catalog", "mpm"};

/* A button's index: "0".."9" (Meta sends it as a string; a number is taken too). */
static long
button_index(Check *c, const char *path)
{
	const char *s;
	long		len;
	double		x;

	if (pc_kind(c, path) == JSON_MISSING)
	{
		pc_fail(c, path, "is required for a button component");
		return -1;
	}
	if (c->v->text(c->v->ctx, path, &s, &len))
	{
		if (len == 1 && s[0] >= '0' && s[0] <= '9')
			return s[0] - '0';
	}
	else if (pc_kind(c, path) == JSON_NUMBER)
	{
		x = c->v->number(c->v->ctx, path);
		if (x >= 0 && x <= 9 && x == (double) (long) x)
			return (long) x;
	}
	pc_fail(c, path, "must be the button's position, \"0\" to \"9\"");
	return -1;
}

/* The button's sub_type, from the known ones; NULL (and a failure) otherwise. */
static const char *
button_sub_type(Check *c, const char *comp)
{
	char		p[PATH_MAX_LEN];

	if (!pc_string(c, pc_at(p, "%s.sub_type", comp), true, 0))
		return NULL;
	for (size_t i = 0; i < sizeof(button_sub_types) / sizeof(button_sub_types[0]); i++)
		if (pc_is(c, p, button_sub_types[i]))
			return button_sub_types[i];
	pc_fail(c, p, "must be quick_reply, url, copy_code, flow, catalog or mpm");
	return NULL;
}

typedef struct Seen
{
	long		header;			/* index of the component, -1: none yet */
	long		body;
	long		button_at[10];	/* component holding each button index */
} Seen;

static bool
once(Check *c, long *slot, long i, const char *comp, const char *what)
{
	char		p[PATH_MAX_LEN];

	if (*slot >= 0)
		return pc_fail(c, pc_at(p, "%s.type", comp), "repeats the %s of component %ld; a template send has one",
					   what, *slot);
	*slot = i;
	return true;
}

static void
check_component(Check *c, long i, Seen *seen)
{
	char		comp[PATH_MAX_LEN];
	char		p[PATH_MAX_LEN];
	const char *component;
	const char *where;
	long		n;

	pc_at(comp, "template.components.%ld", i);
	if (!pc_object(c, comp, true))
		return;
	if (pc_is(c, pc_at(p, "%s.type", comp), "header") || pc_is(c, p, "body"))
	{
		component = where = pc_is(c, p, "header") ? "header" : "body";
		if (!once(c, where[0] == 'h' ? &seen->header : &seen->body, i, comp, where))
			return;
	}
	else if (pc_is(c, p, "button"))
	{
		long		index;

		component = "button";
		if ((where = button_sub_type(c, comp)) == NULL ||
			(index = button_index(c, pc_at(p, "%s.index", comp))) < 0)
			return;
		if (seen->button_at[index] >= 0)
		{
			pc_fail(c, p, "repeats the index of component %ld; each button is filled once",
					seen->button_at[index]);
			return;
		}
		seen->button_at[index] = i;
	}
	else
	{
		pc_fail(c, p, "must be header, body or button");
		return;
	}
	/* a header and a button take exactly one parameter; a body takes its variables */
	if (strcmp(component, "body") == 0)
		n = pc_kind(c, pc_at(p, "%s.parameters", comp)) == JSON_MISSING ? 0 : pc_array(c, p, 0, 0);
	else
		n = pc_array(c, pc_at(p, "%s.parameters", comp), 1, 1);
	for (long j = 0; j < n && c->ok; j++)
		check_parameter(c, pc_at(p, "%s.parameters.%ld", comp, j), component, where);
}

void
payload_check_template(Check *c)
{
	Seen		seen = {-1, -1, {0}};
	long		n;

	memset(seen.button_at, 0xff, sizeof(seen.button_at));	/* all -1 */
	pc_string(c, "template.name", true, 512);
	pc_string(c, "template.language.code", true, 16);
	if (pc_kind(c, "template.components") == JSON_MISSING)
		return;
	n = pc_array(c, "template.components", 0, 0);
	for (long i = 0; i < n && c->ok; i++)
		check_component(c, i, &seen);
}
