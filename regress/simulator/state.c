/*
 * state.c — creation, lookup and teardown of numbers, portfolios, WABAs
 * and templates.
 */
#include "state.h"

#include <json-c/json.h>
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const limit_kind_names[LIM__COUNT] = {
	"throughput", "pair_rate", "messaging_limit", "marketing_cap"
};

const char *const quality_values[] = {"GREEN", "YELLOW", "RED", "NA", "UNKNOWN", NULL};
const char *const phone_status_values[] = {
	"PENDING", "DELETED", "MIGRATED", "BANNED", "RESTRICTED", "RATE_LIMITED",
	"FLAGGED", "CONNECTED", "DISCONNECTED", "UNKNOWN", "UNVERIFIED", "OFFLINE", NULL
};
const char *const health_values[] = {"AVAILABLE", "LIMITED", "BLOCKED", NULL};
const char *const category_values[] = {"MARKETING", "UTILITY", "AUTHENTICATION", NULL};
const char *const template_status_values[] = {
	"APPROVED", "PENDING", "REJECTED", "IN_APPEAL", "PAUSED", "DISABLED",
	"PENDING_DELETION", "DELETED", "LIMIT_EXCEEDED", "ARCHIVED", "LOCKED", NULL
};
const char *const throughput_level_values[] = {"STANDARD", "HIGH", "NOT_APPLICABLE", NULL};

sim_settings sim_cfg;
strmap		sim_numbers;
strmap		sim_portfolios;
strmap		sim_wabas;

static int64_t template_seq;

/* Case-insensitive match against a closed set; returns the canonical
 * spelling, or NULL when s is not a member. */
const char *
enum_value(const char *const *set, const char *s)
{
	for (int i = 0; set[i]; i++)
		if (ascii_upper_eq(set[i], s))
			return set[i];
	return NULL;
}

void
state_init(void)
{
	strmap_init(&sim_numbers);
	strmap_init(&sim_portfolios);
	strmap_init(&sim_wabas);
	sim_cfg.default_throughput = sim_opts.default_throughput;
	sim_cfg.pair_capacity = sim_opts.pair_capacity;
	sim_cfg.pair_refill_ms = sim_opts.pair_refill_seconds * 1000.0;
	sim_cfg.marketing_cap = sim_opts.marketing_cap;
	sim_cfg.mgmt_limit = sim_opts.mgmt_limit;
	sim_cfg.strict_numbers = sim_opts.strict_numbers;
	template_seq = 0;
}

static void
free_pair(void *p)
{
	free(p);
}

static void
free_number(void *p)
{
	sim_number *n = p;

	free(n->id);
	free(n->display);
	free(n->verified_name);
	free(n->waba_id);
	free(n->portfolio_id);
	free(n->fail_next.details);
	free(n->fail_async.details);
	ring_free(&n->window);
	strmap_free(&n->pairs, free_pair);
	free(n);
}

static void
free_portfolio(void *p)
{
	sim_portfolio *pf = p;

	free(pf->id);
	strmap_free(&pf->recipients, free);
	ring_free(&pf->events);
	free(pf);
}

static void
free_template(sim_template *t)
{
	free(t->id);
	free(t->name);
	free(t->language);
	free(t->components);
	json_object_put(t->shape);
	free(t);
}

static void
free_waba(void *p)
{
	sim_waba   *w = p;

	for (size_t i = 0; i < w->ntemplates; i++)
		free_template(w->templates[i]);
	free(w->templates);
	free(w->id);
	free(w->name);
	ring_free(&w->mgmt_window);
	free(w);
}

/* Forget every object; state_init() must follow. */
void
state_clear(void)
{
	strmap_free(&sim_numbers, free_number);
	strmap_free(&sim_portfolios, free_portfolio);
	strmap_free(&sim_wabas, free_waba);
}

sim_number *
number_find(const char *id)
{
	return strmap_get(&sim_numbers, id);
}

/* A new number as Meta would show a freshly registered one. */
sim_number *
number_create(const char *id)
{
	sim_number *n = xcalloc(1, sizeof(sim_number));
	char		display[64];

	n->id = xstrdup(id);
	snprintf(display, sizeof(display), "+1 555-%.20s", id);
	n->display = xstrdup(display);
	n->verified_name = xstrdup("Antiban Simulator");
	n->waba_id = xstrdup("default");
	n->portfolio_id = xstrdup("default");
	n->throughput = sim_cfg.default_throughput;
	n->quality = "GREEN";
	n->status = "CONNECTED";
	n->health = "AVAILABLE";
	ring_init(&n->window, sizeof(int64_t));
	strmap_init(&n->pairs);
	*strmap_put(&sim_numbers, id, NULL) = n;
	return n;
}

sim_portfolio *
portfolio_get(const char *id)
{
	bool		created;
	void	  **slot = strmap_put(&sim_portfolios, id, &created);

	if (created)
	{
		sim_portfolio *p = xcalloc(1, sizeof(sim_portfolio));

		p->id = xstrdup(id);
		strmap_init(&p->recipients);
		ring_init(&p->events, sizeof(portfolio_event));
		*slot = p;
	}
	return *slot;
}

sim_waba *
waba_get(const char *id)
{
	bool		created;
	void	  **slot = strmap_put(&sim_wabas, id, &created);

	if (created)
	{
		sim_waba   *w = xcalloc(1, sizeof(sim_waba));

		w->id = xstrdup(id);
		w->name = xstrdup("Antiban Simulator WABA");
		ring_init(&w->mgmt_window, sizeof(int64_t));
		*slot = w;
	}
	return *slot;
}

/* Exact name+language match; *name_known tells 132001's two flavours apart. */
sim_template *
template_find(sim_waba *w, const char *name, const char *lang, bool *name_known)
{
	*name_known = false;
	for (size_t i = 0; i < w->ntemplates; i++)
	{
		sim_template *t = w->templates[i];

		if (strcmp(t->name, name) != 0)
			continue;
		*name_known = true;
		if (!lang || strcmp(t->language, lang) == 0)
			return t;
	}
	return NULL;
}

sim_template *
template_upsert(sim_waba *w, const char *name, const char *lang)
{
	bool		known;
	sim_template *t = template_find(w, name, lang, &known);
	char		id[32];

	if (t)
		return t;
	t = xcalloc(1, sizeof(sim_template));
	/* Template ids are numeric strings in Graph. */
	snprintf(id, sizeof(id), "%lld", (long long) (1000000000000000LL + ++template_seq));
	t->id = xstrdup(id);
	t->name = xstrdup(name);
	t->language = xstrdup(lang);
	t->category = "UTILITY";
	t->status = "APPROVED";
	t->quality = "UNKNOWN";
	/* no shape until configured: shown as null, and sends are not compared */
	t->components = xstrdup("null");
	t->params = -1;
	w->templates = xrealloc(w->templates, (w->ntemplates + 1) * sizeof(sim_template *));
	w->templates[w->ntemplates++] = t;
	return t;
}

/* Meta moves a number to HIGH (1,000 mps) automatically; mirror that. */
const char *
number_throughput_level(const sim_number *n)
{
	if (n->throughput_level)
		return n->throughput_level;
	return n->throughput >= 1000 ? "HIGH" : "STANDARD";
}

const char *
portfolio_tier(const sim_portfolio *p)
{
	static __thread char buf[32];

	switch (p ? p->limit : 0)
	{
		case 0:
			return "TIER_UNLIMITED";
		case 50:
			return "TIER_50";
		case 250:
			return "TIER_250";
		case 1000:
			return "TIER_1K";
		case 2000:
			return "TIER_2K";
		case 10000:
			return "TIER_10K";
		case 100000:
			return "TIER_100K";
		default:
			snprintf(buf, sizeof(buf), "TIER_%lld", (long long) p->limit);
			return buf;
	}
}

void
scripted_set(scripted_error *s, int64_t n, int code, int http, const char *details)
{
	s->remaining = n;
	s->code = code;
	s->http = http;
	xset_str(&s->details, details);
}

/* Forget what happened (windows, buckets, counters, scripts) but keep
 * what was configured (numbers, portfolios, templates). */
void
state_reset_runtime(void)
{
	for (size_t i = 0; i < sim_numbers.cap; i++)
	{
		sim_number *n = sim_numbers.slots[i].value;

		if (!sim_numbers.slots[i].key)
			continue;
		ring_free(&n->window);
		strmap_free(&n->pairs, free_pair);
		n->pairs_prune_at = 0;
		n->accepted = n->max_in_1s = n->errors_injected = n->rejected = n->async_failed = 0;
		memset(n->violations, 0, sizeof(n->violations));
		scripted_set(&n->fail_next, 0, 0, 0, NULL);
		scripted_set(&n->fail_async, 0, 0, 0, NULL);
	}
	for (size_t i = 0; i < sim_portfolios.cap; i++)
	{
		sim_portfolio *p = sim_portfolios.slots[i].value;

		if (!sim_portfolios.slots[i].key)
			continue;
		strmap_free(&p->recipients, free);
		ring_free(&p->events);
	}
	for (size_t i = 0; i < sim_wabas.cap; i++)
	{
		sim_waba   *w = sim_wabas.slots[i].value;

		if (!sim_wabas.slots[i].key)
			continue;
		ring_free(&w->mgmt_window);
		w->mgmt_total = w->mgmt_max_hour = w->mgmt_rejected = 0;
	}
}
