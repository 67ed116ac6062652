/*
 * state.h — the simulated Meta objects: phone numbers, business portfolios,
 * WhatsApp Business Accounts (WABAs) and message templates.
 *
 * Everything here is guarded by sim_lock.
 */
#ifndef STATE_H
#define STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "ring.h"
#include "strmap.h"

/* Kinds of limit violation, in the order they are checked. */
typedef enum limit_kind
{
	LIM_THROUGHPUT,
	LIM_PAIR_RATE,
	LIM_MESSAGING_LIMIT,
	LIM_MARKETING_CAP,
	LIM__COUNT
} limit_kind;

#define LIM_NONE LIM__COUNT

extern const char *const limit_kind_names[LIM__COUNT];

/* The next `remaining` sends (or acceptances) of a number fail with code. */
typedef struct scripted_error
{
	int64_t		remaining;
	int			code;
	int			http;			/* 0: Meta's status for the code */
	char	   *details;		/* NULL: Meta's details for the code */
} scripted_error;

/* A recipient inside a portfolio's 24 h messaging-limit window. */
typedef struct portfolio_recipient
{
	int64_t		last_ms;		/* latest template send to it */
	char		key[];
} portfolio_recipient;

typedef struct portfolio_event
{
	portfolio_recipient *r;
	int64_t		t;
} portfolio_event;

typedef struct sim_portfolio
{
	char	   *id;
	int64_t		limit;			/* unique template recipients per 24 h; 0 = unlimited */
	strmap		recipients;		/* recipient -> portfolio_recipient* */
	ring		events;			/* portfolio_event, oldest first */
} sim_portfolio;

typedef struct sim_template
{
	char	   *id;
	char	   *name;
	char	   *language;
	const char *category;		/* MARKETING, UTILITY, AUTHENTICATION */
	const char *status;			/* APPROVED, PAUSED, ... */
	const char *quality;		/* GREEN, YELLOW, RED, UNKNOWN */
	char	   *components;		/* JSON array text */
	struct json_object *shape;	/* components as configured; NULL: sends not compared */
	int			params;			/* expected body parameters; -1 unchecked */
} sim_template;

typedef struct sim_waba
{
	char	   *id;
	char	   *name;
	sim_template **templates;
	size_t		ntemplates;
	ring		mgmt_window;	/* management call times in the last hour */
	int64_t		mgmt_total;
	int64_t		mgmt_max_hour;
	int64_t		mgmt_rejected;
} sim_waba;

typedef struct sim_number
{
	char	   *id;
	char	   *display;		/* "+55 11 90000-0001" style */
	char	   *verified_name;
	char	   *waba_id;
	char	   *portfolio_id;
	int64_t		throughput;		/* messages per second */
	const char *throughput_level;	/* NULL: derived from throughput */
	const char *quality;
	const char *status;
	const char *health;
	scripted_error fail_next;	/* synchronous failures */
	scripted_error fail_async;	/* accepted, then a failed webhook */
	ring		window;			/* accepted send times in the last second */
	strmap		pairs;			/* recipient -> pair_bucket* */
	size_t		pairs_prune_at; /* prune full buckets at this size */
	int64_t		accepted;
	int64_t		max_in_1s;
	int64_t		violations[LIM__COUNT];
	int64_t		errors_injected;
	int64_t		rejected;		/* invalid payloads and template errors */
	int64_t		async_failed;
} sim_number;

/* Tunables that /_sim/config may change and /_sim/reset restores. */
typedef struct sim_settings
{
	int64_t		default_throughput;
	int64_t		pair_capacity;	/* 0: pair rate not enforced */
	double		pair_refill_ms;
	int64_t		marketing_cap;	/* 0: unlimited */
	int64_t		mgmt_limit;		/* 0: unlimited */
	bool		strict_numbers;
} sim_settings;

extern sim_settings sim_cfg;
extern strmap sim_numbers;
extern strmap sim_portfolios;
extern strmap sim_wabas;

/* Closed value sets; stored values point at these strings. */
extern const char *const quality_values[];
extern const char *const phone_status_values[];
extern const char *const health_values[];
extern const char *const category_values[];
extern const char *const template_status_values[];
extern const char *const throughput_level_values[];
const char *enum_value(const char *const *set, const char *s);

void		state_init(void);
void		state_clear(void);
void		state_reset_runtime(void);
sim_number *number_find(const char *id);
sim_number *number_create(const char *id);
sim_portfolio *portfolio_get(const char *id);
sim_waba   *waba_get(const char *id);
sim_template *template_find(sim_waba *w, const char *name, const char *lang, bool *name_known);
sim_template *template_upsert(sim_waba *w, const char *name, const char *lang);
const char *number_throughput_level(const sim_number *n);
const char *portfolio_tier(const sim_portfolio *p);
void		scripted_set(scripted_error *s, int64_t n, int code, int http, const char *details);

#endif							/* STATE_H */
