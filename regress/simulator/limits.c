/*
 * limits.c — see limits.h.
 *
 * Throughput is an exact sliding window: the accepted send times of the
 * last second are kept in a FIFO, so "more than N in any 1 s window" is
 * decided precisely, not by fixed buckets.  The pair rate is a token bucket
 * per (number, recipient).  The messaging limit counts unique recipients of
 * template sends per portfolio over a moving 24 h; the marketing cap counts
 * marketing templates per recipient over a moving 24 h.
 */
#include "limits.h"
#include "sim.h"

#include <stdlib.h>
#include <string.h>

#define SECOND_MS 1000
#define DAY_MS (24LL * 3600 * 1000)

typedef struct pair_bucket
{
	double		tokens;
	int64_t		last_ms;
} pair_bucket;

/* recipient -> ring of marketing send times (only while a cap is set) */
static strmap marketing;

void
limits_init(void)
{
	strmap_init(&marketing);
}

static void
free_ring(void *p)
{
	ring_free(p);
	free(p);
}

void
limits_clear(void)
{
	strmap_free(&marketing, free_ring);
}

/* ---- a. throughput ----------------------------------------------------- */

static bool
throughput_ok(sim_number *n, int64_t now)
{
	return (int64_t) ring_expire_ts(&n->window, now - SECOND_MS) < n->throughput;
}

static void
throughput_take(sim_number *n, int64_t now)
{
	ring_push_ts(&n->window, now);
	if ((int64_t) n->window.len > n->max_in_1s)
		n->max_in_1s = (int64_t) n->window.len;
}

/* ---- b. pair rate ------------------------------------------------------ */

static double
pair_tokens(const pair_bucket *b, int64_t now)
{
	double		cap = (double) sim_cfg.pair_capacity;
	double		t;

	if (sim_cfg.pair_refill_ms <= 0)
		return cap;
	t = b->tokens + (double) (now - b->last_ms) / sim_cfg.pair_refill_ms;
	return t > cap ? cap : t;
}

static bool
pair_ok(sim_number *n, const char *rcpt, int64_t now)
{
	pair_bucket *b;

	if (sim_cfg.pair_capacity <= 0)
		return true;
	b = strmap_get(&n->pairs, rcpt);
	return !b || pair_tokens(b, now) >= 1.0;
}

static bool
pair_not_full(void *value, void *arg)
{
	return pair_tokens(value, *(int64_t *) arg) < (double) sim_cfg.pair_capacity;
}

/* A full bucket is the same as no bucket: drop those before the table
 * grows, so millions of one-off recipients do not accumulate. */
static void
pair_prune(sim_number *n, int64_t now)
{
	if (n->pairs.len < n->pairs_prune_at)
		return;
	strmap_retain(&n->pairs, pair_not_full, &now, free);
	n->pairs_prune_at = n->pairs.len * 2 > 4096 ? n->pairs.len * 2 : 4096;
}

static void
pair_take(sim_number *n, const char *rcpt, int64_t now)
{
	bool		created;
	void	  **slot;
	pair_bucket *b;

	if (sim_cfg.pair_capacity <= 0)
		return;
	pair_prune(n, now);
	slot = strmap_put(&n->pairs, rcpt, &created);
	if (created)
	{
		b = xmalloc(sizeof(pair_bucket));
		b->tokens = (double) sim_cfg.pair_capacity;
		b->last_ms = now;
		*slot = b;
	}
	b = *slot;
	b->tokens = pair_tokens(b, now) - 1.0;
	b->last_ms = now;
}

/* ---- c. portfolio messaging limit -------------------------------------- */

static void
portfolio_expire(sim_portfolio *p, int64_t now)
{
	portfolio_event *ev;

	while ((ev = ring_front(&p->events)) && ev->t <= now - DAY_MS)
	{
		/* Only the recipient's latest send ends its membership. */
		if (ev->r->last_ms == ev->t)
		{
			strmap_remove(&p->recipients, ev->r->key);
			free(ev->r);
		}
		ring_pop(&p->events);
	}
}

static bool
messaging_ok(sim_portfolio *p, const char *rcpt, int64_t now)
{
	if (!p || p->limit <= 0)
		return true;
	portfolio_expire(p, now);
	return strmap_get(&p->recipients, rcpt) != NULL ||
		(int64_t) p->recipients.len < p->limit;
}

static void
messaging_take(sim_portfolio *p, const char *rcpt, int64_t now)
{
	bool		created;
	void	  **slot;
	portfolio_recipient *r;
	portfolio_event ev;

	if (!p || p->limit <= 0)
		return;
	slot = strmap_put(&p->recipients, rcpt, &created);
	if (created)
	{
		r = xmalloc(sizeof(portfolio_recipient) + strlen(rcpt) + 1);
		strcpy(r->key, rcpt);
		r->last_ms = now - 1;	/* force the event push below */
		*slot = r;
	}
	r = *slot;
	/* One event per distinct time, so expiry frees r exactly once. */
	if (r->last_ms == now)
		return;
	r->last_ms = now;
	ev.r = r;
	ev.t = now;
	ring_push(&p->events, &ev);
}

/* ---- d. per-user marketing cap ----------------------------------------- */

static bool
marketing_ok(const char *rcpt, int64_t now)
{
	ring	   *r;

	if (sim_cfg.marketing_cap <= 0)
		return true;
	r = strmap_get(&marketing, rcpt);
	return !r || (int64_t) ring_expire_ts(r, now - DAY_MS) < sim_cfg.marketing_cap;
}

static void
marketing_take(const char *rcpt, int64_t now)
{
	bool		created;
	void	  **slot;

	if (sim_cfg.marketing_cap <= 0)
		return;
	slot = strmap_put(&marketing, rcpt, &created);
	if (created)
	{
		*slot = xmalloc(sizeof(ring));
		ring_init(*slot, sizeof(int64_t));
	}
	ring_push_ts(*slot, now);
}

/* ---- all together ------------------------------------------------------ */

limit_kind
limits_admit(sim_number *n, const char *rcpt, bool is_template, bool is_marketing,
			 int64_t now)
{
	sim_portfolio *p = is_template ? portfolio_get(n->portfolio_id) : NULL;

	if (!throughput_ok(n, now))
		return LIM_THROUGHPUT;
	if (!pair_ok(n, rcpt, now))
		return LIM_PAIR_RATE;
	if (!messaging_ok(p, rcpt, now))
		return LIM_MESSAGING_LIMIT;
	if (is_marketing && !marketing_ok(rcpt, now))
		return LIM_MARKETING_CAP;
	throughput_take(n, now);
	pair_take(n, rcpt, now);
	messaging_take(p, rcpt, now);
	if (is_marketing)
		marketing_take(rcpt, now);
	return LIM_NONE;
}

/* Meta has no dedicated code for the messaging limit (cloud-api.md §2), so
 * the simulator answers a plain 100 with a details text tests can match. */
void
limits_error(limit_kind k, meta_error *e)
{
	memset(e, 0, sizeof(*e));
	switch (k)
	{
		case LIM_THROUGHPUT:
			e->code = 130429;
			e->subcode = 2494055;
			break;
		case LIM_PAIR_RATE:
			e->code = 131056;
			break;
		case LIM_MESSAGING_LIMIT:
			e->code = 100;
			e->details = "messaging limit reached (simulator)";
			break;
		default:
			e->code = 131049;
			break;
	}
}
