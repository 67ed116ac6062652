/*
 * validate.c — envelope and per-type checks for message sends.
 *
 * Error codes follow Meta: a missing required parameter is 131008, a wrong
 * JSON type or an over-long field is 100 ("Param x must be at most N
 * characters long."), a value that is well-formed but not acceptable
 * (too many buttons, both id and link, bad phone number) is 131009.
 * Paths in details use Graph's notation: interactive['action']['buttons'][0].
 */
#include "validate.h"
#include "sim.h"

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const msg_type_names[MT__COUNT] = {
	"text", "image", "audio", "video", "document", "sticker",
	"location", "contacts", "interactive", "template", "reaction"
};

#define CALLBACK_MAX 512
#define PATH_MAX_LEN 160

static bool
fail(verr *e, int code, const char *fmt,...) __attribute__((format(printf, 3, 4)));

static bool
fail(verr *e, int code, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(e->details, sizeof(e->details), fmt, ap);
	va_end(ap);
	e->code = code;
	return false;
}

/* parent['key'], or just key at the top level. */
static const char *
child_path(char *buf, const char *parent, const char *key)
{
	int			n = parent ? snprintf(buf, PATH_MAX_LEN, "%s['%s']", parent, key) :
		snprintf(buf, PATH_MAX_LEN, "%s", key);

	/* Very deep paths are cut short; the details text stays readable. */
	if (n >= PATH_MAX_LEN)
		buf[PATH_MAX_LEN - 1] = '\0';
	return buf;
}

static const char *
index_path(char *buf, const char *parent, size_t i)
{
	if (snprintf(buf, PATH_MAX_LEN, "%s[%zu]", parent, i) >= PATH_MAX_LEN)
		buf[PATH_MAX_LEN - 1] = '\0';
	return buf;
}

static const char *
type_word(json_type t)
{
	switch (t)
	{
		case json_type_object:
			return "an object";
		case json_type_array:
			return "an array";
		case json_type_string:
			return "a string";
		case json_type_boolean:
			return "a boolean";
		default:
			return "a number";
	}
}

/* Look up key; *out is NULL when absent (or JSON null).  A present value of
 * the wrong JSON type is an error; so is an absent required one. */
static bool
get_typed(json_object *obj, const char *parent, const char *key, json_type want,
		  bool required, json_object **out, verr *e)
{
	json_object *v = NULL;
	char		p[PATH_MAX_LEN];

	*out = NULL;
	if (!json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null))
	{
		if (required)
			return fail(e, 131008, "The parameter %s is required.", child_path(p, parent, key));
		return true;
	}
	if (!json_object_is_type(v, want))
		return fail(e, 100, "Param %s must be %s.", child_path(p, parent, key), type_word(want));
	*out = v;
	return true;
}

/* A string member with a minimum (0 or 1) and maximum length in characters
 * (0: no maximum). */
static bool
get_str(json_object *obj, const char *parent, const char *key, bool required,
		size_t min, size_t max, const char **out, verr *e)
{
	json_object *v;
	char		p[PATH_MAX_LEN];
	size_t		n;

	*out = NULL;
	if (!get_typed(obj, parent, key, json_type_string, required, &v, e))
		return false;
	if (!v)
		return true;
	*out = json_object_get_string(v);
	n = (min || max) ? utf8_chars(*out) : 0;
	if (n < min)
		return fail(e, 100, "Param %s must be at least %zu character long.", child_path(p, parent, key), min);
	if (max && n > max)
		return fail(e, 100, "Param %s must be at most %zu characters long.", child_path(p, parent, key), max);
	return true;
}

static bool
get_bool(json_object *obj, const char *parent, const char *key, verr *e)
{
	json_object *v;

	return get_typed(obj, parent, key, json_type_boolean, false, &v, e);
}

/* Numbers may arrive as JSON numbers or numeric strings. */
static bool
get_coord(json_object *obj, const char *parent, const char *key, double lim, verr *e)
{
	json_object *v = NULL;
	char		p[PATH_MAX_LEN];
	double		d;
	char	   *end = NULL;

	if (!json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null))
		return fail(e, 131008, "The parameter %s is required.", child_path(p, parent, key));
	if (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int))
		d = json_object_get_double(v);
	else if (json_object_is_type(v, json_type_string))
	{
		d = strtod(json_object_get_string(v), &end);
		if (end == json_object_get_string(v) || *end)
			return fail(e, 100, "Param %s must be a number.", child_path(p, parent, key));
	}
	else
		return fail(e, 100, "Param %s must be a number.", child_path(p, parent, key));
	if (d < -lim || d > lim)
		return fail(e, 131009, "Param %s must be between %g and %g.", child_path(p, parent, key), -lim, lim);
	return true;
}

/* ---- per-type validators ---------------------------------------------- */

typedef bool (*type_fn) (json_object *obj, const char *path, send_request *req, verr *e);

static bool
v_text(json_object *o, const char *path, send_request *req, verr *e)
{
	const char *body;

	(void) req;
	return get_str(o, path, "body", true, 1, 4096, &body, e) &&
		get_bool(o, path, "preview_url", e);
}

/* Exactly one of id/link; caption/filename where the type has them. */
static bool
v_media(json_object *o, const char *path, send_request *req, verr *e)
{
	const char *id,
			   *link,
			   *s;
	char		p[PATH_MAX_LEN];

	if (!get_str(o, path, "id", false, 1, 0, &id, e) ||
		!get_str(o, path, "link", false, 1, 2000, &link, e))
		return false;
	if (id && link)
		return fail(e, 131009, "Param %s must contain only one of id or link.", path);
	if (!id && !link)
		return fail(e, 131008, "The parameter %s['id'] or %s['link'] is required.", path, path);
	if (link && strncmp(link, "https://", 8) != 0 && strncmp(link, "http://", 7) != 0)
		return fail(e, 131009, "Param %s must be an http(s) URL.", child_path(p, path, "link"));
	if (req->type == MT_IMAGE || req->type == MT_VIDEO || req->type == MT_DOCUMENT)
		if (!get_str(o, path, "caption", false, 0, 1024, &s, e))
			return false;
	if (req->type == MT_DOCUMENT && !get_str(o, path, "filename", false, 0, 240, &s, e))
		return false;
	if (req->type == MT_AUDIO && !get_bool(o, path, "voice", e))
		return false;
	return true;
}

static bool
v_location(json_object *o, const char *path, send_request *req, verr *e)
{
	const char *s;

	(void) req;
	return get_coord(o, path, "latitude", 90.0, e) &&
		get_coord(o, path, "longitude", 180.0, e) &&
		get_str(o, path, "name", false, 0, 1000, &s, e) &&
		get_str(o, path, "address", false, 0, 1000, &s, e);
}

static bool
v_contacts(json_object *arr, const char *path, send_request *req, verr *e)
{
	size_t		n = json_object_array_length(arr);
	char		ip[PATH_MAX_LEN],
				np[PATH_MAX_LEN];

	(void) req;
	if (n == 0)
		return fail(e, 131009, "Param %s must contain at least one contact.", path);
	for (size_t i = 0; i < n; i++)
	{
		json_object *c = json_object_array_get_idx(arr, i),
				   *name;
		const char *fn;

		index_path(ip, path, i);
		if (!json_object_is_type(c, json_type_object))
			return fail(e, 100, "Param %s must be an object.", ip);
		if (!get_typed(c, ip, "name", json_type_object, true, &name, e) ||
			!get_str(name, child_path(np, ip, "name"), "formatted_name", true, 1, 0, &fn, e))
			return false;
	}
	return true;
}

static bool
v_reaction(json_object *o, const char *path, send_request *req, verr *e)
{
	const char *s;

	(void) req;
	/* An empty emoji removes the reaction, so it is allowed. */
	return get_str(o, path, "message_id", true, 1, 0, &s, e) &&
		get_str(o, path, "emoji", true, 0, 0, &s, e);
}

/* ---- interactive ------------------------------------------------------- */

static bool
has_duplicate(const char **ids, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(ids[i], id) == 0)
			return true;
	return false;
}

static bool
iv_buttons(json_object *action, const char *apath, verr *e)
{
	json_object *buttons;
	const char *ids[3];
	char		bp[PATH_MAX_LEN],
				ip[PATH_MAX_LEN],
				rp[PATH_MAX_LEN];
	size_t		n;

	if (!get_typed(action, apath, "buttons", json_type_array, true, &buttons, e))
		return false;
	child_path(bp, apath, "buttons");
	n = json_object_array_length(buttons);
	if (n < 1 || n > 3)
		return fail(e, 131009, "Param %s must have between 1 and 3 buttons.", bp);
	for (size_t i = 0; i < n; i++)
	{
		json_object *b = json_object_array_get_idx(buttons, i),
				   *reply;
		const char *type,
				   *id,
				   *title;

		index_path(ip, bp, i);
		if (!json_object_is_type(b, json_type_object))
			return fail(e, 100, "Param %s must be an object.", ip);
		if (!get_str(b, ip, "type", true, 1, 0, &type, e))
			return false;
		if (strcmp(type, "reply") != 0)
			return fail(e, 100, "Param %s must be one of {REPLY} - got \"%s\".", child_path(rp, ip, "type"), type);
		if (!get_typed(b, ip, "reply", json_type_object, true, &reply, e))
			return false;
		child_path(rp, ip, "reply");
		if (!get_str(reply, rp, "id", true, 1, 256, &id, e) ||
			!get_str(reply, rp, "title", true, 1, 20, &title, e))
			return false;
		if (has_duplicate(ids, i, id))
			return fail(e, 131009, "Param %s['id'] must be unique: duplicate button id \"%s\".", rp, id);
		ids[i] = id;
	}
	return true;
}

static bool
iv_rows(json_object *section, const char *spath, size_t *total, const char **ids, verr *e)
{
	json_object *rows;
	char		rp[PATH_MAX_LEN],
				ip[PATH_MAX_LEN];
	size_t		n;

	if (!get_typed(section, spath, "rows", json_type_array, true, &rows, e))
		return false;
	child_path(rp, spath, "rows");
	n = json_object_array_length(rows);
	if (n == 0)
		return fail(e, 131009, "Param %s must contain at least one row.", rp);
	for (size_t i = 0; i < n; i++)
	{
		json_object *row = json_object_array_get_idx(rows, i);
		const char *id,
				   *s;

		index_path(ip, rp, i);
		if (!json_object_is_type(row, json_type_object))
			return fail(e, 100, "Param %s must be an object.", ip);
		if (!get_str(row, ip, "id", true, 1, 200, &id, e) ||
			!get_str(row, ip, "title", true, 1, 24, &s, e) ||
			!get_str(row, ip, "description", false, 0, 72, &s, e))
			return false;
		if (*total >= 10)
			return fail(e, 131009, "Param interactive['action']['sections'] must have at most 10 rows in total.");
		if (has_duplicate(ids, *total, id))
			return fail(e, 131009, "Param %s must be unique: duplicate row id \"%s\".", ip, id);
		ids[(*total)++] = id;
	}
	return true;
}

static bool
iv_list(json_object *action, const char *apath, verr *e)
{
	json_object *sections;
	const char *button,
			   *title,
			   *ids[10];
	char		sp[PATH_MAX_LEN],
				ip[PATH_MAX_LEN];
	size_t		n,
				total = 0;

	if (!get_str(action, apath, "button", true, 1, 20, &button, e) ||
		!get_typed(action, apath, "sections", json_type_array, true, &sections, e))
		return false;
	child_path(sp, apath, "sections");
	n = json_object_array_length(sections);
	if (n < 1 || n > 10)
		return fail(e, 131009, "Param %s must have between 1 and 10 sections.", sp);
	for (size_t i = 0; i < n; i++)
	{
		json_object *s = json_object_array_get_idx(sections, i);

		index_path(ip, sp, i);
		if (!json_object_is_type(s, json_type_object))
			return fail(e, 100, "Param %s must be an object.", ip);
		/* A title is only mandatory when there is more than one section. */
		if (!get_str(s, ip, "title", n > 1, n > 1 ? 1 : 0, 24, &title, e) ||
			!iv_rows(s, ip, &total, ids, e))
			return false;
	}
	return true;
}

static bool
iv_cta_url(json_object *action, const char *apath, verr *e)
{
	json_object *params;
	const char *s;
	char		pp[PATH_MAX_LEN];

	if (!get_typed(action, apath, "parameters", json_type_object, true, &params, e))
		return false;
	child_path(pp, apath, "parameters");
	return get_str(params, pp, "display_text", true, 1, 20, &s, e) &&
		get_str(params, pp, "url", true, 1, 2000, &s, e);
}

static bool
iv_flow(json_object *action, const char *apath, verr *e)
{
	json_object *params;

	return get_typed(action, apath, "parameters", json_type_object, true, &params, e);
}

static bool
iv_any(json_object *action, const char *apath, verr *e)
{
	(void) action;
	(void) apath;
	(void) e;
	return true;
}

/* A single product: the catalog and the product's retailer id. */
static bool
iv_product(json_object *action, const char *apath, verr *e)
{
	const char *s;

	return get_str(action, apath, "catalog_id", true, 1, 0, &s, e) &&
		get_str(action, apath, "product_retailer_id", true, 1, 0, &s, e);
}

/* Sections of products: 1-10 sections, at most 30 products in all. */
static bool
iv_product_list(json_object *action, const char *apath, verr *e)
{
	json_object *sections;
	const char *s;
	char		sp[PATH_MAX_LEN],
				ip[PATH_MAX_LEN],
				pp[PATH_MAX_LEN],
				xp[PATH_MAX_LEN];
	size_t		n,
				total = 0;

	if (!get_str(action, apath, "catalog_id", true, 1, 0, &s, e) ||
		!get_typed(action, apath, "sections", json_type_array, true, &sections, e))
		return false;
	child_path(sp, apath, "sections");
	n = json_object_array_length(sections);
	if (n < 1 || n > 10)
		return fail(e, 131009, "Param %s must have between 1 and 10 sections.", sp);
	for (size_t i = 0; i < n; i++)
	{
		json_object *sec = json_object_array_get_idx(sections, i),
				   *items;

		index_path(ip, sp, i);
		if (!json_object_is_type(sec, json_type_object))
			return fail(e, 100, "Param %s must be an object.", ip);
		if (!get_str(sec, ip, "title", n > 1, n > 1 ? 1 : 0, 24, &s, e) ||
			!get_typed(sec, ip, "product_items", json_type_array, true, &items, e))
			return false;
		child_path(pp, ip, "product_items");
		if (json_object_array_length(items) == 0)
			return fail(e, 131009, "Param %s must contain at least one product.", pp);
		for (size_t k = 0; k < json_object_array_length(items); k++)
		{
			json_object *it = json_object_array_get_idx(items, k);

			index_path(xp, pp, k);
			if (!json_object_is_type(it, json_type_object))
				return fail(e, 100, "Param %s must be an object.", xp);
			if (!get_str(it, xp, "product_retailer_id", true, 1, 0, &s, e))
				return false;
			if (++total > 30)
				return fail(e, 131009, "Param %s must have at most 30 products in total.", sp);
		}
	}
	return true;
}

typedef bool (*action_fn) (json_object *action, const char *apath, verr *e);

static const struct
{
	const char *name;
	bool		body_required;
	bool		action_required;
	action_fn	fn;
}			interactive_types[] = {
	{"button", true, true, iv_buttons},
	{"list", true, true, iv_list},
	{"cta_url", true, true, iv_cta_url},
	{"flow", true, true, iv_flow},
	{"product", false, true, iv_product},
	{"product_list", true, true, iv_product_list},
	{"catalog_message", true, true, iv_any},
	{"location_request_message", true, true, iv_any},
	{"address_message", true, true, iv_any},
	{"call_permission_request", true, true, iv_any},
	{"voice_call", true, true, iv_any},
};

#define N_INTERACTIVE (sizeof(interactive_types) / sizeof(interactive_types[0]))

/* A text header, or a media one carrying its media object (id or link). */
static bool
iv_header(json_object *o, const char *itype, verr *e)
{
	json_object *h,
			   *media;
	const char *type,
			   *s;
	send_request dummy = {0};
	char		mp[PATH_MAX_LEN];

	if (!get_typed(o, "interactive", "header", json_type_object, strcmp(itype, "product_list") == 0, &h, e))
		return false;
	if (!h)
		return true;
	if (!get_str(h, "interactive['header']", "type", true, 1, 0, &type, e))
		return false;
	if (strcmp(type, "text") == 0)
		return get_str(h, "interactive['header']", "text", true, 1, 60, &s, e);
	if (strcmp(itype, "product_list") == 0)
		return fail(e, 100, "Param interactive['header']['type'] must be one of {TEXT} - got \"%.32s\".", type);
	if (strcmp(type, "image") && strcmp(type, "video") && strcmp(type, "document"))
		return fail(e, 100, "Param interactive['header']['type'] must be one of {TEXT, IMAGE, VIDEO, DOCUMENT} - got \"%.32s\".", type);
	if (!get_typed(h, "interactive['header']", type, json_type_object, true, &media, e))
		return false;
	dummy.type = strcmp(type, "image") == 0 ? MT_IMAGE : strcmp(type, "video") == 0 ? MT_VIDEO : MT_DOCUMENT;
	return v_media(media, child_path(mp, "interactive['header']", type), &dummy, e);
}

static bool
v_interactive(json_object *o, const char *path, send_request *req, verr *e)
{
	const char *type,
			   *s;
	json_object *body,
			   *footer,
			   *action;
	size_t		i;

	(void) req;
	if (!get_str(o, path, "type", true, 1, 0, &type, e))
		return false;
	for (i = 0; i < N_INTERACTIVE; i++)
		if (strcmp(interactive_types[i].name, type) == 0)
			break;
	if (i == N_INTERACTIVE)
		return fail(e, 100, "Param interactive['type'] must be one of {BUTTON, LIST, CTA_URL, FLOW, PRODUCT, PRODUCT_LIST, CATALOG_MESSAGE, LOCATION_REQUEST_MESSAGE, ADDRESS_MESSAGE, CALL_PERMISSION_REQUEST, VOICE_CALL} - got \"%s\".", type);
	if (!get_typed(o, path, "body", json_type_object, interactive_types[i].body_required, &body, e) ||
		(body && !get_str(body, "interactive['body']", "text", true, 1, 1024, &s, e)) ||
		!get_typed(o, path, "footer", json_type_object, false, &footer, e) ||
		(footer && !get_str(footer, "interactive['footer']", "text", true, 1, 60, &s, e)) ||
		!iv_header(o, type, e) ||
		!get_typed(o, path, "action", json_type_object, interactive_types[i].action_required, &action, e))
		return false;
	return interactive_types[i].fn(action, "interactive['action']", e);
}

/* ---- template ---------------------------------------------------------- */

static const char *const component_types[] = {
	"header", "body", "footer", "button", "carousel", "limited_time_offer", NULL
};

static bool
known_component(const char *type)
{
	for (int i = 0; component_types[i]; i++)
		if (ascii_upper_eq(type, component_types[i]))
			return true;
	return false;
}

/* ---- template parameters, by type (the Cloud API reference and SDK) ---- */

typedef bool (*param_fn) (json_object *p, const char *ppath, const char *where, verr *e);

static bool
pv_text(json_object *p, const char *ppath, const char *where, verr *e)
{
	const char *s;
	size_t		max = strcmp(where, "header") == 0 ? 60 : strcmp(where, "body") == 0 ? 32768 : 2000;
	int			spaces = 0;

	if (!get_str(p, ppath, "text", true, 1, max, &s, e))
		return false;
	if (strcmp(where, "header") && strcmp(where, "body"))
		return true;
	for (const char *c = s; *c; c++)
	{
		spaces = *c == ' ' ? spaces + 1 : 0;
		if (*c == '\n' || *c == '\t' || *c == '\r' || spaces > 4)
			return fail(e, 131009, "Param %s['text'] cannot have new-line/tab characters or more than 4 consecutive spaces.", ppath);
	}
	return true;
}

static bool
pv_currency(json_object *p, const char *ppath, const char *where, verr *e)
{
	json_object *cur,
			   *amount;
	const char *s;
	char		cp[PATH_MAX_LEN];

	(void) where;
	if (!get_typed(p, ppath, "currency", json_type_object, true, &cur, e))
		return false;
	child_path(cp, ppath, "currency");
	if (!get_str(cur, cp, "fallback_value", true, 1, 0, &s, e) ||
		!get_str(cur, cp, "code", true, 1, 0, &s, e))
		return false;
	if (strlen(s) != 3 || !isupper((unsigned char) s[0]) || !isupper((unsigned char) s[1]) ||
		!isupper((unsigned char) s[2]))
		return fail(e, 131009, "Param %s['code'] must be an ISO 4217 currency code - got \"%.16s\".", cp, s);
	if (!json_object_object_get_ex(cur, "amount_1000", &amount) || json_object_is_type(amount, json_type_null))
		return fail(e, 131008, "The parameter %s['amount_1000'] is required.", cp);
	if (!json_object_is_type(amount, json_type_int))
		return fail(e, 100, "Param %s['amount_1000'] must be an integer.", cp);
	return true;
}

static bool
pv_date_time(json_object *p, const char *ppath, const char *where, verr *e)
{
	json_object *dt;
	const char *s;
	char		dp[PATH_MAX_LEN];

	(void) where;
	return get_typed(p, ppath, "date_time", json_type_object, true, &dt, e) &&
		get_str(dt, child_path(dp, ppath, "date_time"), "fallback_value", true, 1, 0, &s, e);
}

static bool
pv_media(json_object *p, const char *ppath, const char *kind, msg_type mt, verr *e)
{
	json_object *m;
	send_request dummy = {0};
	char		mp[PATH_MAX_LEN];

	dummy.type = mt;
	return get_typed(p, ppath, kind, json_type_object, true, &m, e) &&
		v_media(m, child_path(mp, ppath, kind), &dummy, e);
}

static bool
pv_image(json_object *p, const char *ppath, const char *where, verr *e)
{
	(void) where;
	return pv_media(p, ppath, "image", MT_IMAGE, e);
}

static bool
pv_video(json_object *p, const char *ppath, const char *where, verr *e)
{
	(void) where;
	return pv_media(p, ppath, "video", MT_VIDEO, e);
}

static bool
pv_document(json_object *p, const char *ppath, const char *where, verr *e)
{
	(void) where;
	return pv_media(p, ppath, "document", MT_DOCUMENT, e);
}

static bool
pv_location(json_object *p, const char *ppath, const char *where, verr *e)
{
	json_object *l;
	char		lp[PATH_MAX_LEN];
	send_request dummy = {0};

	(void) where;
	return get_typed(p, ppath, "location", json_type_object, true, &l, e) &&
		v_location(l, child_path(lp, ppath, "location"), &dummy, e);
}

static bool
pv_payload(json_object *p, const char *ppath, const char *where, verr *e)
{
	const char *s;

	(void) where;
	if (!get_str(p, ppath, "payload", true, 1, 0, &s, e))
		return false;
	if (strspn(s, " \t\r\n") == strlen(s))
		return fail(e, 131009, "Param %s['payload'] must not be blank.", ppath);
	return true;
}

static bool
pv_coupon_code(json_object *p, const char *ppath, const char *where, verr *e)
{
	const char *s;

	(void) where;
	return get_str(p, ppath, "coupon_code", true, 1, 20, &s, e);
}

static bool
pv_action(json_object *p, const char *ppath, const char *where, verr *e)
{
	json_object *a;

	(void) where;
	return get_typed(p, ppath, "action", json_type_object, true, &a, e);
}

static const struct
{
	const char *type;
	const char *where;			/* " header body " or the button sub_types */
	param_fn	fn;
}			param_types[] = {
	{"text", " header body url ", pv_text},
	{"currency", " body ", pv_currency},
	{"date_time", " body ", pv_date_time},
	{"image", " header ", pv_image},
	{"video", " header ", pv_video},
	{"document", " header ", pv_document},
	{"location", " header ", pv_location},
	{"payload", " quick_reply ", pv_payload},
	{"coupon_code", " copy_code ", pv_coupon_code},
	{"action", " flow catalog mpm ", pv_action},
};

#define N_PARAM_TYPES (sizeof(param_types) / sizeof(param_types[0]))

static bool
listed(const char *list, const char *word)
{
	char		w[40];

	snprintf(w, sizeof(w), " %.32s ", word);
	return strstr(list, w) != NULL;
}

/* Each parameter: an object whose type fits the component and carries its object.
 * Returns the count through *count. */
static bool
v_parameters(json_object *comp, const char *cpath, const char *where, int *count, verr *e)
{
	json_object *params;
	char		pp[PATH_MAX_LEN],
				ip[PATH_MAX_LEN],
				tp[PATH_MAX_LEN];
	size_t		n;

	*count = 0;
	if (!get_typed(comp, cpath, "parameters", json_type_array, false, &params, e))
		return false;
	if (!params)
		return true;
	child_path(pp, cpath, "parameters");
	n = json_object_array_length(params);
	for (size_t i = 0; i < n; i++)
	{
		json_object *p = json_object_array_get_idx(params, i);
		const char *type,
				   *name;
		size_t		k;

		index_path(ip, pp, i);
		if (!json_object_is_type(p, json_type_object))
			return fail(e, 100, "Param %s must be an object.", ip);
		if (!get_str(p, ip, "type", true, 1, 0, &type, e) ||
			!get_str(p, ip, "parameter_name", false, 1, 0, &name, e))
			return false;
		for (k = 0; k < N_PARAM_TYPES; k++)
			if (strcmp(type, param_types[k].type) == 0)
				break;
		child_path(tp, ip, "type");
		if (k == N_PARAM_TYPES)
			return fail(e, 100, "Param %s must be one of {TEXT, CURRENCY, DATE_TIME, IMAGE, VIDEO, DOCUMENT, LOCATION, PAYLOAD, COUPON_CODE, ACTION} - got \"%.32s\".", tp, type);
		if (!listed(param_types[k].where, where))
			return fail(e, 132012, "Param %s: a %s parameter does not fit a %s.", tp, type, where);
		if (!param_types[k].fn(p, ip, where, e))
			return false;
	}
	*count = (int) n;
	return true;
}

static const char *const button_sub_types[] = {"quick_reply", "url", "copy_code", "flow", "catalog", "mpm", NULL};

/* A button's sub_type (a known one) and its index, 0-9 as a string or number. */
static bool
v_button(json_object *comp, const char *cpath, const char **sub_type, verr *e)
{
	json_object *index = NULL;
	char		p[PATH_MAX_LEN];
	long		i = -1;

	if (!get_str(comp, cpath, "sub_type", true, 1, 0, sub_type, e))
		return false;
	for (int k = 0;; k++)
	{
		if (!button_sub_types[k])
			return fail(e, 100, "Param %s must be one of {QUICK_REPLY, URL, COPY_CODE, FLOW, CATALOG, MPM} - got \"%.32s\".",
						child_path(p, cpath, "sub_type"), *sub_type);
		if (strcmp(button_sub_types[k], *sub_type) == 0)
			break;
	}
	if (!json_object_object_get_ex(comp, "index", &index) ||
		!(json_object_is_type(index, json_type_string) || json_object_is_type(index, json_type_int)))
		return fail(e, 131008, "The parameter %s is required.", child_path(p, cpath, "index"));
	if (json_object_is_type(index, json_type_int))
		i = (long) json_object_get_int64(index);
	else if (strlen(json_object_get_string(index)) == 1 && isdigit((unsigned char) json_object_get_string(index)[0]))
		i = json_object_get_string(index)[0] - '0';
	if (i < 0 || i > 9)
		return fail(e, 131009, "Param %s must be a button index from 0 to 9.", child_path(p, cpath, "index"));
	return true;
}

static bool
v_component(json_object *comp, const char *cpath, send_request *req, verr *e)
{
	const char *type,
			   *where;
	char		p[PATH_MAX_LEN];
	int			count;

	if (!json_object_is_type(comp, json_type_object))
		return fail(e, 100, "Param %s must be an object.", cpath);
	if (!get_str(comp, cpath, "type", true, 1, 0, &type, e))
		return false;
	if (!known_component(type))
		return fail(e, 100, "Param %s must be one of {HEADER, BODY, FOOTER, BUTTON, CAROUSEL, LIMITED_TIME_OFFER} - got \"%s\".", child_path(p, cpath, "type"), type);
	if (ascii_upper_eq(type, "button"))
	{
		if (!v_button(comp, cpath, &where, e))
			return false;
	}
	else
		where = ascii_upper_eq(type, "header") ? "header" : ascii_upper_eq(type, "body") ? "body" : "other";
	if (!v_parameters(comp, cpath, where, &count, e))
		return false;
	if (ascii_upper_eq(type, "body"))
		req->body_params += count;
	return true;
}

static bool
v_template(json_object *o, const char *path, send_request *req, verr *e)
{
	json_object *lang,
			   *comps;
	char		cp[PATH_MAX_LEN];

	if (!get_str(o, path, "name", true, 1, 512, &req->template_name, e) ||
		!get_typed(o, path, "language", json_type_object, true, &lang, e) ||
		!get_str(lang, "template['language']", "code", true, 1, 20, &req->template_lang, e) ||
		!get_typed(o, path, "components", json_type_array, false, &comps, e))
		return false;
	req->template_components = comps;
	if (!comps)
		return true;
	for (size_t i = 0; i < json_object_array_length(comps); i++)
	{
		index_path(cp, "template['components']", i);
		if (!v_component(json_object_array_get_idx(comps, i), cp, req, e))
			return false;
	}
	return true;
}

static const struct
{
	json_type	shape;
	type_fn		fn;
}			type_table[MT__COUNT] = {
	[MT_TEXT] = {json_type_object, v_text},
	[MT_IMAGE] = {json_type_object, v_media},
	[MT_AUDIO] = {json_type_object, v_media},
	[MT_VIDEO] = {json_type_object, v_media},
	[MT_DOCUMENT] = {json_type_object, v_media},
	[MT_STICKER] = {json_type_object, v_media},
	[MT_LOCATION] = {json_type_object, v_location},
	[MT_CONTACTS] = {json_type_array, v_contacts},
	[MT_INTERACTIVE] = {json_type_object, v_interactive},
	[MT_TEMPLATE] = {json_type_object, v_template},
	[MT_REACTION] = {json_type_object, v_reaction},
};

/* ---- envelope ---------------------------------------------------------- */

/* A phone number (E.164 digits with optional + and separators), or a
 * business-scoped user id (letters, digits, '.', '_', '-'; ≤ 256). */
static bool
check_to(const char *to, send_request *req, verr *e)
{
	size_t		ndig = 0,
				len = strlen(to);
	bool		letters = false,
				phone_ok = true,
				bsuid_ok = len <= 256;

	for (const char *p = to; *p; p++)
	{
		unsigned char c = (unsigned char) *p;

		if (isdigit(c))
			ndig++;
		else if (isalpha(c))
			letters = true;
		if (!(isdigit(c) || (c == '+' && p == to) || strchr(" -().", c)))
			phone_ok = false;
		if (!(isalnum(c) || c == '.' || c == '_' || c == '-'))
			bsuid_ok = false;
	}
	if (phone_ok && ndig >= 7 && ndig <= 15)
	{
		digits_only(req->wa_id, to, sizeof(req->wa_id));
		snprintf(req->recipient, sizeof(req->recipient), "%s", req->wa_id);
		return true;
	}
	if (letters && bsuid_ok)
	{
		req->is_bsuid = true;
		req->wa_id[0] = '\0';
		snprintf(req->recipient, sizeof(req->recipient), "%s", to);
		return true;
	}
	return fail(e, 131009, "Param to must be a phone number in E.164 format or a business-scoped user id - got \"%.64s\".", to);
}

static bool
v_mark_read(json_object *root, const char *status, send_request *req, verr *e)
{
	json_object *typing;
	const char *s;

	if (strcmp(status, "read") != 0)
		return fail(e, 100, "Param status must be one of {READ} - got \"%.32s\".", status);
	if (!get_str(root, NULL, "message_id", true, 1, 0, &req->message_id, e) ||
		!get_typed(root, NULL, "typing_indicator", json_type_object, false, &typing, e))
		return false;
	if (strspn(req->message_id, " \t\r\n") == strlen(req->message_id))
		return fail(e, 100, "Param message_id must be a valid WhatsApp message id - got a blank one.");
	if (typing)
	{
		if (!get_str(typing, "typing_indicator", "type", true, 1, 0, &s, e))
			return false;
		if (strcmp(s, "text") != 0)
			return fail(e, 100, "Param typing_indicator['type'] must be one of {TEXT} - got \"%.32s\".", s);
	}
	req->mark_read = true;
	return true;
}

static bool
v_type(json_object *root, send_request *req, verr *e)
{
	const char *type;

	if (!get_str(root, NULL, "type", false, 0, 0, &type, e))
		return false;
	if (!type)					/* Graph defaults a missing type to text */
		type = "text";
	for (int i = 0; i < MT__COUNT; i++)
		if (strcmp(type, msg_type_names[i]) == 0)
		{
			req->type = (msg_type) i;
			return true;
		}
	return fail(e, 100, "Param type must be one of {AUDIO, CONTACTS, DOCUMENT, IMAGE, INTERACTIVE, LOCATION, REACTION, STICKER, TEMPLATE, TEXT, VIDEO} - got \"%.32s\".", type);
}

static bool
v_envelope(json_object *root, send_request *req, verr *e)
{
	const char *s;
	json_object *ctx;

	if (!get_str(root, NULL, "recipient_type", false, 0, 0, &s, e))
		return false;
	if (s && strcmp(s, "individual") != 0 && strcmp(s, "group") != 0)
		return fail(e, 100, "Param recipient_type must be one of {INDIVIDUAL, GROUP} - got \"%.32s\".", s);
	if (!get_str(root, NULL, "to", true, 1, 0, &req->to, e))
		return false;
	if (s && strcmp(s, "group") == 0)
		snprintf(req->recipient, sizeof(req->recipient), "%.256s", req->to);
	else if (!check_to(req->to, req, e))
		return false;
	if (!get_typed(root, NULL, "context", json_type_object, false, &ctx, e) ||
		(ctx && !get_str(ctx, "context", "message_id", true, 1, 0, &s, e)))
		return false;
	return get_str(root, NULL, "biz_opaque_callback_data", false, 0, CALLBACK_MAX, &req->callback, e);
}

bool
validate_send(json_object *root, send_request *req, verr *e)
{
	const char *mp,
			   *status;
	json_object *payload;

	memset(req, 0, sizeof(*req));
	if (!json_object_is_type(root, json_type_object))
		return fail(e, 100, "The request body must be a JSON object.");
	if (!get_str(root, NULL, "messaging_product", true, 1, 0, &mp, e))
		return false;
	if (strcmp(mp, "whatsapp") != 0)
		return fail(e, 100, "Param messaging_product must be one of {WHATSAPP} - got \"%.32s\".", mp);
	if (!get_str(root, NULL, "status", false, 0, 0, &status, e))
		return false;
	if (status)
		return v_mark_read(root, status, req, e);
	if (!v_envelope(root, req, e) || !v_type(root, req, e))
		return false;
	if (!get_typed(root, NULL, msg_type_names[req->type], type_table[req->type].shape, true, &payload, e))
		return false;
	return type_table[req->type].fn(payload, msg_type_names[req->type], req, e);
}

/* One tokener per thread, reused: creating one per request costs a calloc
 * and a 2 KB memset, measurable at 50k requests/s. */
static pthread_key_t tokener_key;
static pthread_once_t tokener_once = PTHREAD_ONCE_INIT;

static void
tokener_free(void *tok)
{
	json_tokener_free(tok);
}

static void
tokener_key_init(void)
{
	pthread_key_create(&tokener_key, tokener_free);
}

static json_tokener *
thread_tokener(void)
{
	json_tokener *tok;

	pthread_once(&tokener_once, tokener_key_init);
	if ((tok = pthread_getspecific(tokener_key)))
	{
		json_tokener_reset(tok);
		return tok;
	}
	if ((tok = json_tokener_new_ex(64)))
	{
		json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
		pthread_setspecific(tokener_key, tok);
	}
	return tok;
}

json_object *
json_parse_strict(const char *s, size_t len, char *err, size_t errlen)
{
	json_tokener *tok = thread_tokener();
	json_object *o;
	enum json_tokener_error jerr;
	size_t		end;

	if (!tok)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	o = json_tokener_parse_ex(tok, s, (int) len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (o && jerr == json_tokener_success)
	{
		/* Trailing whitespace is fine; anything else is garbage. */
		while (end < len && isspace((unsigned char) s[end]))
			end++;
		if (end < len)
		{
			json_object_put(o);
			o = NULL;
			snprintf(err, errlen, "unexpected data after the JSON value at offset %zu", end);
		}
	}
	else
	{
		json_object_put(o);
		o = NULL;
		snprintf(err, errlen, "%s", len == 0 ? "empty body" :
				 jerr == json_tokener_continue ? "truncated JSON" : json_tokener_error_desc(jerr));
	}
	return o;
}
