/*
 * template_fit.c — a template send against the configured template.
 *
 * Meta's answers: the body's (or a text header's) parameter count differs
 * → 132000; a parameter of the wrong kind (header media type, named against
 * positional, a name the template lacks, a button of another type) → 132012;
 * a parameter the template needs and the send lacks (media header, dynamic
 * URL, copy code, OTP) → 131008; a button index the template does not have
 * → 131009; the body or header too long once filled in → 132005.  Only for
 * templates configured with components: others accept any send.
 */
#include "template_fit.h"
#include "sim.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_VARS 64

typedef struct vars
{
	int			n;				/* occurrences */
	char		name[MAX_VARS][64];
	size_t		placeholder_chars;	/* characters of all "{{x}}" */
	bool		named;
} vars;

static void
scan(const char *text, vars *v)
{
	memset(v, 0, sizeof(*v));
	for (const char *p = text ? strstr(text, "{{") : NULL; p && v->n < MAX_VARS; p = strstr(p, "{{"))
	{
		const char *end = strstr(p + 2, "}}");
		size_t		len;

		if (!end)
			break;
		len = (size_t) (end - p - 2);
		snprintf(v->name[v->n], sizeof(v->name[0]), "%.*s", (int) (len < 63 ? len : 63), p + 2);
		if (strspn(v->name[v->n], "0123456789") != strlen(v->name[v->n]))
			v->named = true;
		v->placeholder_chars += len + 4;
		v->n++;
		p = end + 2;
	}
}

static int
distinct(const vars *v)
{
	int			d = 0;

	for (int i = 0; i < v->n; i++)
	{
		int			j = 0;

		while (j < i && strcmp(v->name[j], v->name[i]) != 0)
			j++;
		d += j == i;
	}
	return d;
}

static const char *
str(json_object *o, const char *key)
{
	json_object *v;

	return o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string) ?
		json_object_get_string(v) : NULL;
}

static json_object *
params_of(json_object *comp)
{
	json_object *p;

	return comp && json_object_object_get_ex(comp, "parameters", &p) && json_object_is_type(p, json_type_array) ? p : NULL;
}

static size_t
nparams(json_object *comp)
{
	json_object *p = params_of(comp);

	return p ? json_object_array_length(p) : 0;
}

/* The characters a parameter puts into the text. */
static size_t
value_chars(json_object *param)
{
	json_object *o;
	const char *s = str(param, "text");

	if (!s && json_object_object_get_ex(param, "currency", &o))
		s = str(o, "fallback_value");
	if (!s && json_object_object_get_ex(param, "date_time", &o))
		s = str(o, "fallback_value");
	return s ? utf8_chars(s) : 0;
}

/* The send's parameter for variable i (positional: its number; named: its name). */
static json_object *
param_for(json_object *comp, const vars *v, int i)
{
	json_object *ps = params_of(comp);
	size_t		n = ps ? json_object_array_length(ps) : 0;

	if (!v->named)
	{
		long		k = strtol(v->name[i], NULL, 10) - 1;

		return k >= 0 && (size_t) k < n ? json_object_array_get_idx(ps, (size_t) k) : NULL;
	}
	for (size_t j = 0; j < n; j++)
	{
		const char *name = str(json_object_array_get_idx(ps, j), "parameter_name");

		if (name && strcmp(name, v->name[i]) == 0)
			return json_object_array_get_idx(ps, j);
	}
	return NULL;
}

/* The variables of a text component ("body", "header") against its parameters. */
static int
fit_text(const char *what, const char *text, json_object *comp, size_t max, char *d, size_t len)
{
	vars		v;
	size_t		given = nparams(comp),
				total;

	scan(text, &v);
	if (v.named)
		for (size_t j = 0; j < given; j++)
		{
			const char *name = str(json_object_array_get_idx(params_of(comp), j), "parameter_name");
			int			i = 0;

			while (name && i < v.n && strcmp(v.name[i], name) != 0)
				i++;
			if (!name || i == v.n)
			{
				snprintf(d, len, "%s: parameter %zu (%.64s) is not a named parameter of the template",
						 what, j, name ? name : "no parameter_name");
				return 132012;
			}
		}
	if ((int) given != distinct(&v))
	{
		snprintf(d, len, "%s: number of localizable_params (%zu) does not match the expected number of params (%d)",
				 what, given, distinct(&v));
		return 132000;
	}
	total = utf8_chars(text ? text : "") - v.placeholder_chars;
	for (int i = 0; i < v.n; i++)
	{
		json_object *p = param_for(comp, &v, i);

		if (!p && v.named)
		{
			snprintf(d, len, "%s: the parameter {{%.64s}} is missing", what, v.name[i]);
			return 132000;
		}
		total += p ? value_chars(p) : 0;
	}
	if (total > max)
	{
		snprintf(d, len, "%s: text is %zu characters long once filled in; the limit is %zu", what, total, max);
		return 132005;
	}
	return 0;
}

static int
fit_header(json_object *hdr, json_object *sent, char *d, size_t len)
{
	const char *format = str(hdr, "format");
	const char *given;

	if (!hdr)
	{
		if (sent && nparams(sent) > 0)
		{
			snprintf(d, len, "header: the template has no header");
			return 132000;
		}
		return 0;
	}
	if (!format || ascii_upper_eq(format, "TEXT"))
		return fit_text("header", str(hdr, "text"), sent, 60, d, len);
	if (!ascii_upper_eq(format, "IMAGE") && !ascii_upper_eq(format, "VIDEO") &&
		!ascii_upper_eq(format, "DOCUMENT") && !ascii_upper_eq(format, "LOCATION"))
		return 0;
	given = nparams(sent) ? str(json_object_array_get_idx(params_of(sent), 0), "type") : NULL;
	if (!given || !ascii_upper_eq(given, format))
	{
		snprintf(d, len, "header: Format mismatch, expected %.16s, received %.16s", format, given ? given : "UNKNOWN");
		return given ? 132012 : 131008;
	}
	return 0;
}

static const struct
{
	const char *type;
	const char *sub_type;		/* NULL: takes no parameters */
	bool		required;
}			button_kinds[] = {
	{"QUICK_REPLY", "quick_reply", false},
	{"URL", "url", false},
	{"COPY_CODE", "copy_code", true},
	{"OTP", "url", true},
	{"FLOW", "flow", false},
	{"CATALOG", "catalog", false},
	{"MPM", "mpm", true},
	{"PHONE_NUMBER", NULL, false},
	{"VOICE_CALL", NULL, false},
};

static int
kind_of(const char *type)
{
	for (size_t i = 0; type && i < sizeof(button_kinds) / sizeof(button_kinds[0]); i++)
		if (ascii_upper_eq(type, button_kinds[i].type))
			return (int) i;
	return -1;
}

static int
fit_buttons(json_object *buttons, json_object *sent[10], char *d, size_t len)
{
	size_t		nb = buttons ? json_object_array_length(buttons) : 0;

	for (size_t i = 0; i < 10; i++)
	{
		json_object *b = i < nb ? json_object_array_get_idx(buttons, i) : NULL;
		const char *url = str(b, "url");
		bool		dynamic = url && strstr(url, "{{");
		int			k = kind_of(str(b, "type"));

		if (sent[i] && i >= nb)
		{
			snprintf(d, len, "buttons: Button at index %zu does not exist in the template", i);
			return 131009;
		}
		if (k < 0)
			continue;
		if (sent[i] && (!button_kinds[k].sub_type || (k == 1 && !dynamic)))
		{
			snprintf(d, len, "buttons: Button at index %zu of type %s takes no parameters", i, button_kinds[k].type);
			return 132000;
		}
		if (sent[i] && strcmp(str(sent[i], "sub_type"), button_kinds[k].sub_type) != 0)
		{
			snprintf(d, len, "buttons: Button at index %zu is of type %s, received sub_type %.32s",
					 i, button_kinds[k].type, str(sent[i], "sub_type"));
			return 132012;
		}
		if (!sent[i] && (button_kinds[k].required || dynamic))
		{
			snprintf(d, len, "buttons: Button at index %zu of type %s requires a parameter", i, button_kinds[k].type);
			return 131008;
		}
		if (sent[i] && dynamic)
		{
			int			code = fit_text("buttons", url, sent[i], 2000, d, len);

			if (code)
				return code;
		}
	}
	return 0;
}

static long
index_of(json_object *comp)
{
	json_object *i;

	if (!json_object_object_get_ex(comp, "index", &i))
		return -1;
	return json_object_is_type(i, json_type_int) ? (long) json_object_get_int64(i) :
		strtol(json_object_get_string(i), NULL, 10);
}

int
template_fit(json_object *shape, json_object *send_components, char *d, size_t len)
{
	json_object *hdr = NULL,
			   *body = NULL,
			   *buttons = NULL,
			   *s_hdr = NULL,
			   *s_body = NULL,
			   *s_btn[10] = {NULL};
	size_t		nshape = json_object_array_length(shape);
	size_t		nsend = send_components ? json_object_array_length(send_components) : 0;
	int			code;

	for (size_t i = 0; i < nshape; i++)
	{
		json_object *c = json_object_array_get_idx(shape, i);
		const char *type = str(c, "type");

		if (type && ascii_upper_eq(type, "HEADER"))
			hdr = c;
		else if (type && ascii_upper_eq(type, "BODY"))
			body = c;
		else if (type && ascii_upper_eq(type, "BUTTONS"))
			json_object_object_get_ex(c, "buttons", &buttons);
	}
	for (size_t i = 0; i < nsend; i++)
	{
		json_object *c = json_object_array_get_idx(send_components, i);
		const char *type = str(c, "type");
		long		k;

		if (ascii_upper_eq(type, "header") || ascii_upper_eq(type, "body"))
		{
			json_object **slot = ascii_upper_eq(type, "header") ? &s_hdr : &s_body;

			if (*slot)
			{
				snprintf(d, len, "%s: the component appears twice", type);
				return 131009;
			}
			*slot = c;
		}
		else if (ascii_upper_eq(type, "button") && (k = index_of(c)) >= 0 && k < 10)
		{
			if (s_btn[k])
			{
				snprintf(d, len, "buttons: Button at index %ld appears twice", k);
				return 131009;
			}
			s_btn[k] = c;
		}
	}
	if ((code = fit_header(hdr, s_hdr, d, len)) != 0 ||
		(code = fit_text("body", str(body, "text"), s_body, nshape > 1 ? 1024 : 32768, d, len)) != 0)
		return code;
	return fit_buttons(buttons && json_object_is_type(buttons, json_type_array) ? buttons : NULL, s_btn, d, len);
}
