/*
 * config.c — see config.h.
 *
 * Every document is walked twice: a dry pass that only validates, then
 * the real pass.  Setters take a NULL target in the dry pass.  Unknown
 * keys are errors, so a test with a typo fails loudly instead of silently
 * running with defaults.
 */
#include "config.h"
#include "faults.h"
#include "ledger.h"
#include "limits.h"
#include "mgmt.h"
#include "pricing.h"
#include "sim.h"
#include "sink.h"
#include "state.h"
#include "validate.h"
#include "webhooks.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct cfg_ctx
{
	bool		dry;
	char	   *err;
	size_t		errlen;
} cfg_ctx;

static bool
cfail(cfg_ctx *c, const char *fmt,...) __attribute__((format(printf, 2, 3)));

static bool
cfail(cfg_ctx *c, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	return false;
}

/* ---- typed values ------------------------------------------------------ */

static bool
is_unlimited(json_object *v)
{
	return v == NULL || json_object_is_type(v, json_type_null) ||
		(json_object_is_type(v, json_type_string) &&
		 strcasecmp(json_object_get_string(v), "unlimited") == 0);
}

static bool
as_i64(cfg_ctx *c, json_object *v, const char *what, int64_t min, int64_t max,
	   bool unlimited_ok, int64_t *out)
{
	int64_t		x;

	if (unlimited_ok && is_unlimited(v))
	{
		*out = 0;
		return true;
	}
	if (!json_object_is_type(v, json_type_int))
		return cfail(c, "%s must be an integer%s", what, unlimited_ok ? " or \"unlimited\"" : "");
	x = json_object_get_int64(v);
	if (x < min || x > max)
		return cfail(c, "%s must be between %lld and %lld", what, (long long) min, (long long) max);
	*out = x;
	return true;
}

static bool
as_double(cfg_ctx *c, json_object *v, const char *what, double min, double max, double *out)
{
	double		x;

	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
		return cfail(c, "%s must be a number", what);
	x = json_object_get_double(v);
	if (!(x >= min && x <= max))
		return cfail(c, "%s must be between %g and %g", what, min, max);
	*out = x;
	return true;
}

static bool
as_string(cfg_ctx *c, json_object *v, const char *what, bool empty_ok, const char **out)
{
	if (!json_object_is_type(v, json_type_string))
		return cfail(c, "%s must be a string", what);
	*out = json_object_get_string(v);
	if (!empty_ok && !**out)
		return cfail(c, "%s must not be empty", what);
	return true;
}

static bool
as_enum(cfg_ctx *c, json_object *v, const char *what, const char *const *set,
		const char **out)
{
	const char *s;
	char		list[256] = "";

	if (!as_string(c, v, what, false, &s))
		return false;
	if ((*out = enum_value(set, s)))
		return true;
	for (int i = 0; set[i]; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "", set[i]);
	return cfail(c, "%s must be one of %s (got \"%.40s\")", what, list, s);
}

static bool
as_object(cfg_ctx *c, json_object *v, const char *what)
{
	if (!json_object_is_type(v, json_type_object))
		return cfail(c, "%s must be an object", what);
	return true;
}

/* ---- scalar settings --------------------------------------------------- */

typedef enum
{
	S_I64,						/* int64_t, 0 = unlimited allowed */
	S_INT,
	S_DBL,
	S_BOOL,
	S_URL,						/* char *, null/"" clears */
	S_SECRET					/* char *, null clears to "" */
} scalar_type;

typedef struct scalar_def
{
	const char *key;
	scalar_type type;
	void	   *ptr;
	double		min;
	double		max;
} scalar_def;

static const scalar_def scalars[] = {
	{"default_throughput", S_I64, &sim_cfg.default_throughput, 1, 1e12},
	{"pair_capacity", S_I64, &sim_cfg.pair_capacity, 0, 1e9},
	{"marketing_cap", S_I64, &sim_cfg.marketing_cap, 0, 1e9},
	{"mgmt_limit", S_I64, &sim_cfg.mgmt_limit, 0, 1e12},
	{"strict_numbers", S_BOOL, &sim_cfg.strict_numbers, 0, 0},
	{"webhook_url", S_URL, &sim_wh.url, 0, 0},
	{"app_secret", S_SECRET, &sim_wh.secret, 0, 0},
	{"webhook_batch", S_INT, &sim_wh.batch, 1, 1000},
	{"webhook_delay_ms", S_INT, &sim_wh.delay_ms, 0, 3600000},
	{"webhook_concurrency", S_INT, &sim_wh.concurrency, 1, 64},
	{"webhook_retry_ms", S_INT, &sim_wh.retry_ms, 1, 3600000},
	{"webhook_retry_max_ms", S_INT, &sim_wh.retry_max_ms, 1, 86400000},
	{"read_rate", S_DBL, &sim_wh.read_rate, 0, 1},
	{"fail_rate", S_DBL, &sim_fault_cfg.fail_rate, 0, 1},
	{"error_rate_2", S_DBL, &sim_fault_cfg.error2_rate, 0, 1},
	{"slow_rate", S_DBL, &sim_fault_cfg.slow_rate, 0, 1},
	{"slow_ms", S_INT, &sim_fault_cfg.slow_ms, 0, 600000},
	{"drop_rate", S_DBL, &sim_fault_cfg.drop_rate, 0, 1},
	{"lost_reply_rate", S_DBL, &sim_fault_cfg.lost_reply_rate, 0, 1},
	{NULL, 0, NULL, 0, 0}
};

static const scalar_def *
find_scalar(const char *key)
{
	for (const scalar_def *d = scalars; d->key; d++)
		if (strcmp(d->key, key) == 0)
			return d;
	return NULL;
}

static bool
set_string_scalar(cfg_ctx *c, const scalar_def *d, json_object *v)
{
	const char *s = NULL;

	if (!json_object_is_type(v, json_type_null) && !as_string(c, v, d->key, true, &s))
		return false;
	if (d->type == S_URL && s && *s && strncmp(s, "http://", 7) && strncmp(s, "https://", 8))
		return cfail(c, "webhook_url must be an http(s) URL");
	if (!c->dry)
		xset_str(d->ptr, (d->type == S_URL && s && !*s) ? NULL : s ? s : d->type == S_SECRET ? "" : NULL);
	return true;
}

static bool
set_scalar(cfg_ctx *c, const scalar_def *d, json_object *v)
{
	int64_t		i;
	double		x;

	switch (d->type)
	{
		case S_I64:
			if (!as_i64(c, v, d->key, (int64_t) d->min, (int64_t) d->max, d->min == 0, &i))
				return false;
			if (!c->dry)
				*(int64_t *) d->ptr = i;
			return true;
		case S_INT:
			if (!as_i64(c, v, d->key, (int64_t) d->min, (int64_t) d->max, false, &i))
				return false;
			if (!c->dry)
				*(int *) d->ptr = (int) i;
			return true;
		case S_DBL:
			if (!as_double(c, v, d->key, d->min, d->max, &x))
				return false;
			if (!c->dry)
				*(double *) d->ptr = x;
			return true;
		case S_BOOL:
			if (!json_object_is_type(v, json_type_boolean))
				return cfail(c, "%s must be true or false", d->key);
			if (!c->dry)
				*(bool *) d->ptr = json_object_get_boolean(v);
			return true;
		default:
			return set_string_scalar(c, d, v);
	}
}

/* pair_refill_seconds is stored in ms, so it is not a plain scalar. */
static bool
set_refill(cfg_ctx *c, json_object *v)
{
	double		x;

	if (!as_double(c, v, "pair_refill_seconds", 0.001, 86400, &x))
		return false;
	if (!c->dry)
		sim_cfg.pair_refill_ms = x * 1000.0;
	return true;
}

/* ---- numbers ----------------------------------------------------------- */

typedef bool (*number_setter) (cfg_ctx *c, sim_number *n, json_object *v);

static bool
nk_throughput(cfg_ctx *c, sim_number *n, json_object *v)
{
	int64_t		x;

	if (!as_i64(c, v, "throughput", 1, (int64_t) 1e12, false, &x))
		return false;
	if (n)
		n->throughput = x;
	return true;
}

static bool
nk_throughput_level(cfg_ctx *c, sim_number *n, json_object *v)
{
	const char *s = NULL;

	if (!json_object_is_type(v, json_type_null) &&
		!as_enum(c, v, "throughput_level", throughput_level_values, &s))
		return false;
	if (n)
		n->throughput_level = s;
	return true;
}

#define STRING_SETTER(fn, field) \
static bool \
fn(cfg_ctx *c, sim_number *n, json_object *v) \
{ \
	const char *s = NULL; \
	if (!as_string(c, v, #field, false, &s)) \
		return false; \
	if (n) \
		xset_str(&n->field, s); \
	return true; \
}

#define ENUM_SETTER(fn, field, set) \
static bool \
fn(cfg_ctx *c, sim_number *n, json_object *v) \
{ \
	const char *s = NULL; \
	if (!as_enum(c, v, #field, set, &s)) \
		return false; \
	if (n) \
		n->field = s; \
	return true; \
}

STRING_SETTER(nk_portfolio, portfolio_id)
STRING_SETTER(nk_waba, waba_id)
STRING_SETTER(nk_display, display)
STRING_SETTER(nk_verified_name, verified_name)
ENUM_SETTER(nk_quality, quality, quality_values)
ENUM_SETTER(nk_status, status, phone_status_values)
ENUM_SETTER(nk_health, health, health_values)

static const struct
{
	const char *key;
	number_setter fn;
}			number_keys[] = {
	{"throughput", nk_throughput},
	{"throughput_level", nk_throughput_level},
	{"portfolio", nk_portfolio},
	{"waba", nk_waba},
	{"display", nk_display},
	{"verified_name", nk_verified_name},
	{"quality", nk_quality},
	{"status", nk_status},
	{"health", nk_health},
	{NULL, NULL}
};

static number_setter
find_number_key(const char *key)
{
	for (int i = 0; number_keys[i].key; i++)
		if (strcmp(number_keys[i].key, key) == 0)
			return number_keys[i].fn;
	return NULL;
}

static sim_number *
number_target(cfg_ctx *c, const char *id)
{
	sim_number *n;

	if (c->dry)
		return NULL;
	n = number_find(id);
	return n ? n : number_create(id);
}

static bool
apply_number(cfg_ctx *c, const char *id, json_object *spec)
{
	sim_number *n;

	if (!*id)
		return cfail(c, "a phone number id must not be empty");
	if (!as_object(c, spec, "numbers[id]"))
		return false;
	n = number_target(c, id);
	json_object_object_foreach(spec, key, v)
	{
		number_setter fn = find_number_key(key);

		if (!fn)
			return cfail(c, "unknown key \"%s\" for number %s", key, id);
		if (!fn(c, n, v))
			return false;
	}
	return true;
}

static bool
apply_numbers(cfg_ctx *c, json_object *v)
{
	if (!as_object(c, v, "numbers"))
		return false;
	json_object_object_foreach(v, id, spec)
		if (!apply_number(c, id, spec))
		return false;
	return true;
}

/* ---- portfolios -------------------------------------------------------- */

/* A limit as a number, "unlimited"/null, or a tier name like "TIER_2K". */
static bool
parse_limit(cfg_ctx *c, json_object *v, int64_t *out)
{
	static const struct
	{
		const char *tier;
		int64_t		limit;
	}			tiers[] = {
		{"TIER_50", 50}, {"TIER_250", 250}, {"TIER_1K", 1000}, {"TIER_2K", 2000},
		{"TIER_10K", 10000}, {"TIER_100K", 100000}, {"TIER_UNLIMITED", 0}
	};

	if (json_object_is_type(v, json_type_string))
		for (size_t i = 0; i < sizeof(tiers) / sizeof(tiers[0]); i++)
			if (strcasecmp(json_object_get_string(v), tiers[i].tier) == 0)
			{
				*out = tiers[i].limit;
				return true;
			}
	return as_i64(c, v, "portfolio limit", 0, (int64_t) 1e12, true, out);
}

static bool
apply_portfolios(cfg_ctx *c, json_object *v)
{
	if (!as_object(c, v, "portfolios"))
		return false;
	json_object_object_foreach(v, id, spec)
	{
		if (!as_object(c, spec, "portfolios[id]"))
			return false;
		json_object_object_foreach(spec, key, val)
		{
			int64_t		limit;

			if (strcmp(key, "limit") != 0)
				return cfail(c, "unknown key \"%s\" for portfolio %s", key, id);
			if (!parse_limit(c, val, &limit))
				return false;
			if (!c->dry)
				portfolio_get(id)->limit = limit;
		}
	}
	return true;
}

/* ---- templates --------------------------------------------------------- */

typedef struct template_spec
{
	const char *name;
	const char *language;
	const char *category;
	const char *status;
	const char *quality;
	const char *id;
	const char *components;
	int64_t		params;
	bool		has_params;
} template_spec;

static bool
template_key(cfg_ctx *c, template_spec *t, const char *key, json_object *v)
{
	if (strcmp(key, "name") == 0)
		return as_string(c, v, "template name", false, &t->name);
	if (strcmp(key, "language") == 0)
		return as_string(c, v, "template language", false, &t->language);
	if (strcmp(key, "category") == 0)
		return as_enum(c, v, "template category", category_values, &t->category);
	if (strcmp(key, "status") == 0)
		return as_enum(c, v, "template status", template_status_values, &t->status);
	if (strcmp(key, "quality") == 0)
		return as_enum(c, v, "template quality", quality_values, &t->quality);
	if (strcmp(key, "id") == 0)
		return as_string(c, v, "template id", false, &t->id);
	if (strcmp(key, "components") == 0)
	{
		if (!json_object_is_type(v, json_type_array))
			return cfail(c, "template components must be an array");
		t->components = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
		return true;
	}
	if (strcmp(key, "params") == 0)
	{
		t->has_params = true;
		return as_i64(c, v, "template params", -1, 1000, false, &t->params);
	}
	return cfail(c, "unknown template key \"%s\"", key);
}

static void
template_store(sim_template *t, const template_spec *s)
{
	if (s->category)
		t->category = s->category;
	if (s->status)
		t->status = s->status;
	if (s->quality)
		t->quality = s->quality;
	if (s->id)
		xset_str(&t->id, s->id);
	if (s->components)
	{
		xset_str(&t->components, s->components);
		/* configured components: sends are compared with them */
		json_object_put(t->shape);
		t->shape = json_tokener_parse(s->components);
	}
	if (s->has_params)
		t->params = (int) s->params;
}

static bool
apply_template(cfg_ctx *c, const char *waba, json_object *spec)
{
	template_spec s = {0};

	if (!as_object(c, spec, "template"))
		return false;
	json_object_object_foreach(spec, key, v)
		if (!template_key(c, &s, key, v))
		return false;
	if (!s.name || !s.language)
		return cfail(c, "templates of %s need a name and a language", waba);
	if (!c->dry)
		template_store(template_upsert(waba_get(waba), s.name, s.language), &s);
	return true;
}

static bool
apply_templates(cfg_ctx *c, json_object *v)
{
	if (!as_object(c, v, "templates"))
		return false;
	json_object_object_foreach(v, waba, list)
	{
		if (!json_object_is_type(list, json_type_array))
			return cfail(c, "templates[%s] must be an array", waba);
		for (size_t i = 0; i < json_object_array_length(list); i++)
			if (!apply_template(c, waba, json_object_array_get_idx(list, i)))
				return false;
	}
	return true;
}

/* ---- prices (pricing_analytics) ---------------------------------------- */

static bool
is_country_key(const char *k)
{
	return strcmp(k, "*") == 0 ||
		(strlen(k) == 2 && isupper((unsigned char) k[0]) && isupper((unsigned char) k[1]));
}

/* {"BR": {"marketing": 0.0625, "utility": 0.0068}, "*": {...}} */
static bool
apply_prices(cfg_ctx *c, json_object *v)
{
	static const char *const categories[] = {"marketing", "utility", "authentication", "service"};

	if (!as_object(c, v, "prices"))
		return false;
	json_object_object_foreach(v, country, per)
	{
		if (!is_country_key(country))
			return cfail(c, "prices: \"%s\" is not a country code (two capitals) or \"*\"", country);
		if (!as_object(c, per, "prices[country]"))
			return false;
		json_object_object_foreach(per, category, price)
		{
			bool		known = false;

			for (size_t i = 0; i < sizeof(categories) / sizeof(categories[0]); i++)
				known |= strcmp(category, categories[i]) == 0;
			if (!known)
				return cfail(c, "prices[%s]: unknown category \"%s\" (marketing, utility, authentication, service)",
							 country, category);
			if (!(json_object_is_type(price, json_type_double) || json_object_is_type(price, json_type_int)) ||
				json_object_get_double(price) < 0)
				return cfail(c, "prices[%s][%s] must be a number >= 0", country, category);
			if (!c->dry)
				pricing_set(country, category, json_object_get_double(price));
		}
	}
	return true;
}

/* ---- documents --------------------------------------------------------- */

static bool
apply_config_key(cfg_ctx *c, const char *key, json_object *v)
{
	const scalar_def *d;

	if (strcmp(key, "numbers") == 0)
		return apply_numbers(c, v);
	if (strcmp(key, "portfolios") == 0)
		return apply_portfolios(c, v);
	if (strcmp(key, "templates") == 0)
		return apply_templates(c, v);
	if (strcmp(key, "prices") == 0)
		return apply_prices(c, v);
	if (strcmp(key, "pair_refill_seconds") == 0)
		return set_refill(c, v);
	if ((d = find_scalar(key)))
		return set_scalar(c, d, v);
	return cfail(c, "unknown config key \"%s\"", key);
}

static bool
is_object_key(const char *key)
{
	return strcmp(key, "numbers") == 0 || strcmp(key, "portfolios") == 0 ||
		strcmp(key, "templates") == 0;
}

/* Scalars first, so a number created by the same document already gets
 * the document's default_throughput. */
static bool
walk_config(cfg_ctx *c, json_object *cfg)
{
	if (!as_object(c, cfg, "config"))
		return false;
	json_object_object_foreach(cfg, key, v)
		if (!is_object_key(key) && !apply_config_key(c, key, v))
		return false;
	json_object_object_foreach(cfg, okey, ov)
		if (is_object_key(okey) && !apply_config_key(c, okey, ov))
		return false;
	return true;
}

bool
config_apply(json_object *cfg, char *err, size_t errlen)
{
	cfg_ctx		c = {.dry = true, .err = err, .errlen = errlen};

	if (!walk_config(&c, cfg))
		return false;
	c.dry = false;
	if (!walk_config(&c, cfg))
		return false;
	faults_changed();
	return true;
}

/* ---- scripts ----------------------------------------------------------- */

typedef struct number_script
{
	int64_t		fail_next;
	int64_t		fail_async_next;
	int64_t		code;
	int64_t		async_code;
	int64_t		http;
	const char *details;
	bool		has_fail_next;
	bool		has_fail_async;
} number_script;

static bool
script_number_key(cfg_ctx *c, number_script *s, const char *key, json_object *v)
{
	if (strcmp(key, "fail_next") == 0)
		return (s->has_fail_next = true) && as_i64(c, v, key, 0, (int64_t) 1e12, false, &s->fail_next);
	if (strcmp(key, "fail_async_next") == 0)
		return (s->has_fail_async = true) && as_i64(c, v, key, 0, (int64_t) 1e12, false, &s->fail_async_next);
	if (strcmp(key, "code") == 0)
		return as_i64(c, v, key, 0, 99999999, false, &s->code);
	if (strcmp(key, "async_code") == 0)
		return as_i64(c, v, key, 0, 99999999, false, &s->async_code);
	if (strcmp(key, "http_status") == 0)
		return as_i64(c, v, key, 100, 599, false, &s->http);
	if (strcmp(key, "details") == 0)
		return as_string(c, v, key, true, &s->details);
	return cfail(c, "unknown key \"%s\" in a number script", key);
}

/* {"number":"1001", "fail_next":N, "code":C, "quality":"RED", ...} */
static bool
script_number(cfg_ctx *c, const char *id, json_object *script)
{
	number_script s = {0};
	sim_number *n;

	if (!*id)
		return cfail(c, "number must not be empty");
	n = number_target(c, id);
	json_object_object_foreach(script, key, v)
	{
		number_setter fn;

		if (strcmp(key, "number") == 0)
			continue;
		if ((fn = find_number_key(key)) ? !fn(c, n, v) : !script_number_key(c, &s, key, v))
			return false;
	}
	/* "code" serves both kinds; each has its own default. */
	if (!s.async_code)
		s.async_code = s.code ? s.code : 131049;
	if (s.has_fail_next && n)
		scripted_set(&n->fail_next, s.fail_next, s.code ? (int) s.code : 131000,
					 (int) s.http, s.details);
	if (s.has_fail_async && n)
		scripted_set(&n->fail_async, s.fail_async_next, (int) s.async_code, 0, NULL);
	return true;
}

/* {"template":{"waba":"w1","name":"promo","language"?:..,"status"?:..}} */
static bool
script_template(cfg_ctx *c, json_object *v)
{
	template_spec s = {0};
	const char *waba = NULL;
	sim_waba   *w;
	size_t		hits = 0;

	if (!as_object(c, v, "template"))
		return false;
	json_object_object_foreach(v, key, val)
	{
		if (strcmp(key, "waba") == 0 ? !as_string(c, val, "waba", false, &waba) :
			!template_key(c, &s, key, val))
			return false;
	}
	if (!waba || !s.name)
		return cfail(c, "a template script needs waba and name");
	w = strmap_get(&sim_wabas, waba);
	for (size_t i = 0; w && i < w->ntemplates; i++)
		if (strcmp(w->templates[i]->name, s.name) == 0 &&
			(!s.language || strcmp(w->templates[i]->language, s.language) == 0))
		{
			hits++;
			if (!c->dry)
				template_store(w->templates[i], &s);
		}
	if (hits == 0 && !s.language)
		return cfail(c, "WABA %s has no template named %s", waba, s.name);
	if (hits == 0 && !c->dry)
		template_store(template_upsert(waba_get(waba), s.name, s.language), &s);
	return true;
}

static bool
script_key(cfg_ctx *c, const char *key, json_object *v)
{
	int64_t		x;

	if (strcmp(key, "template") == 0)
		return script_template(c, v);
	if (strcmp(key, "advance_ms") == 0)
	{
		if (!as_i64(c, v, key, 0, (int64_t) 1e12, false, &x))
			return false;
		if (!c->dry)
			sim_clock_advance(x);
		return true;
	}
	if (strcmp(key, "sink_fail_next") == 0)
	{
		if (!as_i64(c, v, key, 0, (int64_t) 1e12, false, &x))
			return false;
		if (!c->dry)
			sink_fail_next(x);
		return true;
	}
	return apply_config_key(c, key, v);
}

static bool
walk_script(cfg_ctx *c, json_object *s)
{
	json_object *num;

	if (json_object_is_type(s, json_type_array))
	{
		for (size_t i = 0; i < json_object_array_length(s); i++)
			if (!walk_script(c, json_object_array_get_idx(s, i)))
				return false;
		return true;
	}
	if (!as_object(c, s, "script"))
		return false;
	if (json_object_object_get_ex(s, "number", &num))
	{
		if (!json_object_is_type(num, json_type_string))
			return cfail(c, "number must be a string");
		return script_number(c, json_object_get_string(num), s);
	}
	json_object_object_foreach(s, key, v)
		if (!script_key(c, key, v))
		return false;
	return true;
}

bool
script_apply(json_object *script, char *err, size_t errlen)
{
	cfg_ctx		c = {.dry = true, .err = err, .errlen = errlen};

	if (!walk_script(&c, script))
		return false;
	c.dry = false;
	if (!walk_script(&c, script))
		return false;
	faults_changed();
	return true;
}

/* ---- dump -------------------------------------------------------------- */

static void
dump_scalars(sbuf *b)
{
	for (const scalar_def *d = scalars; d->key; d++)
	{
		sbuf_printf(b, "\"%s\":", d->key);
		if (d->type == S_I64)
			sbuf_printf(b, "%lld,", (long long) *(int64_t *) d->ptr);
		else if (d->type == S_INT)
			sbuf_printf(b, "%d,", *(int *) d->ptr);
		else if (d->type == S_DBL)
			sbuf_printf(b, "%g,", *(double *) d->ptr);
		else if (d->type == S_BOOL)
			sbuf_printf(b, "%s,", *(bool *) d->ptr ? "true" : "false");
		else if (*(char **) d->ptr && d->type == S_URL)
		{
			sbuf_json_str(b, *(char **) d->ptr);
			sbuf_putc(b, ',');
		}
		else					/* the app secret is not echoed */
			sbuf_puts(b, d->type == S_SECRET ? "\"***\"," : "null,");
	}
	sbuf_printf(b, "\"pair_refill_seconds\":%g", sim_cfg.pair_refill_ms / 1000.0);
}

static void
dump_numbers(sbuf *b)
{
	const char **keys = strmap_sorted_keys(&sim_numbers);

	sbuf_puts(b, "\"numbers\":{");
	for (size_t i = 0; keys[i]; i++)
	{
		const sim_number *n = strmap_get(&sim_numbers, keys[i]);

		sbuf_puts(b, i ? "," : "");
		sbuf_json_str(b, n->id);
		sbuf_printf(b, ":{\"throughput\":%lld,\"throughput_level\":\"%s\",\"portfolio\":",
					(long long) n->throughput, number_throughput_level(n));
		sbuf_json_str(b, n->portfolio_id);
		sbuf_puts(b, ",\"waba\":");
		sbuf_json_str(b, n->waba_id);
		sbuf_puts(b, ",\"display\":");
		sbuf_json_str(b, n->display);
		sbuf_printf(b, ",\"quality\":\"%s\",\"status\":\"%s\",\"health\":\"%s\","
					"\"fail_next\":%lld,\"fail_async_next\":%lld}",
					n->quality, n->status, n->health, (long long) n->fail_next.remaining,
					(long long) n->fail_async.remaining);
	}
	sbuf_puts(b, "}");
	free(keys);
}

static void
dump_templates(sbuf *b)
{
	const char **keys = strmap_sorted_keys(&sim_wabas);

	sbuf_puts(b, "\"templates\":{");
	for (size_t i = 0; keys[i]; i++)
	{
		const sim_waba *w = strmap_get(&sim_wabas, keys[i]);

		sbuf_puts(b, i ? "," : "");
		sbuf_json_str(b, w->id);
		sbuf_puts(b, ":[");
		for (size_t j = 0; j < w->ntemplates; j++)
		{
			const sim_template *t = w->templates[j];

			sbuf_puts(b, j ? ",{\"name\":" : "{\"name\":");
			sbuf_json_str(b, t->name);
			sbuf_puts(b, ",\"language\":");
			sbuf_json_str(b, t->language);
			sbuf_printf(b, ",\"category\":\"%s\",\"status\":\"%s\",\"quality\":\"%s\",\"params\":%d,\"id\":",
						t->category, t->status, t->quality, t->params);
			sbuf_json_str(b, t->id);
			sbuf_puts(b, "}");
		}
		sbuf_puts(b, "]");
	}
	sbuf_puts(b, "}");
	free(keys);
}

static void
dump_portfolios(sbuf *b)
{
	const char **keys = strmap_sorted_keys(&sim_portfolios);

	sbuf_puts(b, "\"portfolios\":{");
	for (size_t i = 0; keys[i]; i++)
	{
		const sim_portfolio *p = strmap_get(&sim_portfolios, keys[i]);

		sbuf_puts(b, i ? "," : "");
		sbuf_json_str(b, p->id);
		sbuf_printf(b, ":{\"limit\":%lld,\"tier\":\"%s\",\"recipients_24h\":%zu}",
					(long long) p->limit, portfolio_tier(p), p->recipients.len);
	}
	sbuf_puts(b, "}");
	free(keys);
}

void
config_dump(sbuf *b)
{
	sbuf_putc(b, '{');
	dump_scalars(b);
	sbuf_putc(b, ',');
	dump_numbers(b);
	sbuf_putc(b, ',');
	dump_portfolios(b);
	sbuf_putc(b, ',');
	dump_templates(b);
	sbuf_puts(b, "}\n");
}

/* ---- lifecycle --------------------------------------------------------- */

bool
sim_state_setup(char *err, size_t errlen)
{
	json_object *cfg;
	bool		ok;

	state_init();
	limits_init();
	ledger_init();
	mgmt_init();
	pricing_init();
	sink_init();
	faults_init();
	webhooks_reset_settings();
	if (!sim_opts.config_text)
		return true;
	cfg = json_parse_strict(sim_opts.config_text, strlen(sim_opts.config_text), err, errlen);
	if (!cfg)
		return false;
	ok = config_apply(cfg, err, errlen);
	json_object_put(cfg);
	return ok;
}

void
sim_state_teardown(void)
{
	webhooks_clear();
	ledger_clear();
	mgmt_clear();
	pricing_clear();
	sink_clear();
	limits_clear();
	state_clear();
}

bool
sim_reset(bool keep_config, char *err, size_t errlen)
{
	bool		ok = true;

	SIM_LOCK();
	sim_clock_advance(-sim_clock_offset());
	if (keep_config)
	{
		webhooks_clear();
		ledger_clear();
		ledger_init();
		mgmt_clear();
		mgmt_init();
		sink_clear();
		sink_init();
		limits_clear();
		limits_init();
		state_reset_runtime();
	}
	else
	{
		sim_state_teardown();
		ok = sim_state_setup(err, errlen);
	}
	SIM_UNLOCK();
	return ok;
}
