/*
 * decision.c
 *		SEND / QUEUE / REJECT.
 *
 * Order of preference: a number the caller pinned; otherwise the number this
 * recipient last talked to (sticky sender) while it stays eligible, unless the
 * message is critical; otherwise the healthiest eligible numbers first, with
 * recipients spread over numbers of equal health by their hash.  The first
 * number that admits the message now wins.  If none does, the message is
 * queued for the earliest time any of them will, unless that time is never
 * or lies beyond the message's validity.
 *
 * Account signals from Meta: a number whose WABA is out of rotation (disabled,
 * removed from its partner, offboarded) is not eligible at all; a WABA
 * restricted from business-initiated messaging still answers inside open
 * service windows, and holds everything else until the restriction expires.
 */
#include "decision.h"
#include "names.h"

#include <stdio.h>
#include <string.h>

static const char *const outcome_names[] = {"SEND", "QUEUE", "REJECT"};

static const char *const reason_names[] = {
	[REASON_STICKY_SENDER] = "sticky_sender",
	[REASON_HEALTHIEST] = "healthiest",
	[REASON_CRITICAL_HEALTHIEST] = "critical_healthiest",
	[REASON_PINNED_NUMBER] = "pinned_number",
	[REASON_NUMBER_THROUGHPUT] = "number_throughput",
	[REASON_PAIR_RATE] = "pair_rate",
	[REASON_PORTFOLIO_LIMIT] = "portfolio_limit",
	[REASON_TABLE_FULL] = "table_full",
	[REASON_INVALID_RECIPIENT] = "invalid_recipient",
	[REASON_NO_ELIGIBLE_NUMBER] = "no_eligible_number",
	[REASON_NO_SERVICE_WINDOW] = "no_service_window",
	[REASON_VALIDITY_WOULD_PASS] = "validity_would_pass",
	[REASON_EXPIRED] = "expired",
	[REASON_OPTED_OUT] = "opted_out",
	[REASON_WARMUP_CAP] = "warmup_cap",
	[REASON_ACCOUNT_RESTRICTED] = "account_restricted",
	[REASON_MARKETING_CAP] = "marketing_cap",
	[REASON_NO_OPT_IN] = "no_opt_in",
	[REASON_FREQUENCY_CAP] = "frequency_cap",
	[REASON_QUIET_HOURS] = "quiet_hours",
};

static const char *const limiter_names[] = {
	[LIMITER_NONE] = "none",
	[LIMITER_NUMBER] = "number throughput",
	[LIMITER_PAIR] = "pair rate",
	[LIMITER_PORTFOLIO] = "portfolio messaging limit",
	[LIMITER_WINDOW] = "service window",
	[LIMITER_CAPACITY] = "antiban table capacity",
	[LIMITER_CONSENT] = "consent",
	[LIMITER_WARMUP] = "warm-up daily cap",
	[LIMITER_RESTRICTION] = "account restriction",
	[LIMITER_MARKETING_CAP] = "per-user marketing cap",
	[LIMITER_NO_OPT_IN] = "marketing opt-in",
	[LIMITER_FREQUENCY_CAP] = "frequency cap",
	[LIMITER_QUIET_HOURS] = "quiet hours",
};

static const char *const category_names[] = {"marketing", "utility", "authentication", "service"};
static const char *const priority_names[] = {"low", "normal", "high", "critical"};
static const char *const mode_names[] = {
	[MODE_ACTIVE] = "active",
	[MODE_THROTTLED] = "throttled",
	[MODE_PAUSED] = "paused",
	[MODE_WARMING] = "warming",
	[MODE_RECOVERING] = "recovering",
};

const char *
outcome_name(Outcome o)
{
	return outcome_names[o];
}

const char *
reason_name(Reason r)
{
	return reason_names[r];
}

const char *
limiter_name(Limiter l)
{
	return limiter_names[l];
}

bool
category_parse(const char *s, Category *out)
{
	int			i;

	if (!names_find(category_names, NAMES_COUNT(category_names), s, &i))
		return false;
	*out = (Category) i;
	return true;
}

const char *
category_name(Category c)
{
	return category_names[c];
}

bool
priority_parse(const char *s, Priority *out)
{
	int			i;

	if (!names_find(priority_names, NAMES_COUNT(priority_names), s, &i))
		return false;
	*out = (Priority) i;
	return true;
}

const char *
priority_name(Priority p)
{
	return priority_names[p];
}

bool
number_mode_parse(const char *s, NumberMode *out)
{
	int			i;

	if (!names_find(mode_names, NAMES_COUNT(mode_names), s, &i))
		return false;
	*out = (NumberMode) i;
	return true;
}

/* The antiban.number_mode enum label. */
const char *
number_mode_name(NumberMode m)
{
	return mode_names[m];
}

bool
number_is_eligible(const NumberView *n, int min_health)
{
	return n->can_send && n->account_block == NULL && n->mode != MODE_PAUSED &&
		n->health > min_health;
}

/* A warming number that sent its daily cap waits, like a bucket, until then. */
bool
number_is_full(const NumberView *n, int64_t now)
{
	return n->full_until > now;
}

/*
 * Meta's RESTRICTED_BIZ_INITIATED_MESSAGING: until it expires the number may
 * not start a conversation (a template, or anything, outside a service
 * window), but a reply inside a window the user opened still goes.  Returns
 * when the hold lifts (INT64_MAX: only when Meta lifts it), or 0 when this
 * message is not held.  It lifts by itself: 'now' decides, not a worker.
 */
int64_t
restriction_hold(const NumberView *n, bool in_window, int64_t now)
{
	if (in_window || n->restricted_until <= now)
		return 0;
	return n->restricted_until;
}

/* Why a number is out of rotation, for the detail sentence. */
static void
ineligible_why(const NumberView *n, char *buf, size_t size)
{
	if (!n->can_send)
		snprintf(buf, size, "its status does not allow sending");
	else if (n->account_block)
		snprintf(buf, size, "its WhatsApp Business Account is out of rotation (%s)", n->account_block);
	else if (n->mode == MODE_PAUSED)
		snprintf(buf, size, "it is paused");
	else
		snprintf(buf, size, "its health is at or below antiban.min_health");
}

/*
 * Walks the numbers (sorted by health, best first) group by group; inside a
 * group of equal health it starts at an offset chosen by the recipient hash,
 * so new recipients spread evenly instead of piling onto the first number.
 */
typedef struct Rotation
{
	const NumberView *numbers;
	int			n;
	uint64_t	hash;
	int			group_start;
	int			group_len;
	int			offset;
	int			k;
} Rotation;

/*
 * The group of equal health from 'start': found by bisection (the numbers
 * are sorted, best first), not by a walk, since every decision starts a
 * group and a portfolio may have a thousand numbers of one health.
 */
static void
rotation_start_group(Rotation *r, int start)
{
	int			end = start;
	int			hi = r->n;

	if (start < r->n)
	{
		int			health = r->numbers[start].health;

		/* the first number after 'start' less healthy than it */
		end = start + 1;
		while (end < hi)
		{
			int			mid = end + (hi - end) / 2;

			if (r->numbers[mid].health >= health)
				end = mid + 1;
			else
				hi = mid;
		}
	}
	r->group_start = start;
	r->group_len = end - start;
	r->offset = r->group_len > 0 ? (int) (r->hash % (uint64_t) r->group_len) : 0;
	r->k = 0;
}

static int
rotation_next(Rotation *r)
{
	while (r->group_start < r->n)
	{
		if (r->k < r->group_len)
			return r->group_start + (r->offset + r->k++) % r->group_len;
		rotation_start_group(r, r->group_start + r->group_len);
	}
	return -1;
}

/* "in 0.012 s" for short waits, "in 24 h 01 min 00 s" for long ones. */
static void
format_wait(char *buf, size_t size, int64_t t, int64_t now)
{
	int64_t		us = t - now;
	int64_t		s = us / 1000000;

	if (t == INT64_MAX)
		snprintf(buf, size, "never");
	else if (us < 60 * INT64_C(1000000))
		snprintf(buf, size, "in %.3f s", (double) us / 1e6);
	else
		snprintf(buf, size, "in %lld h %02lld min %02lld s",
				 (long long) (s / 3600), (long long) (s / 60 % 60), (long long) (s % 60));
}

/* What holds a message back, in words, naming the number where it matters. */
static void
describe_hold(char *buf, size_t size, Limiter l, const NumberView *n, const char *when)
{
	switch (l)
	{
		case LIMITER_PAIR:
			snprintf(buf, size, "number %s reached the pair rate for this recipient; next message %s",
					 n->phone_number_id, when);
			break;
		case LIMITER_PORTFOLIO:
			snprintf(buf, size, "the portfolio's messaging limit (unique users per 24 h) is full; room again %s",
					 when);
			break;
		case LIMITER_CAPACITY:
			snprintf(buf, size, "antiban's shared tables are full; retry %s (raise antiban.max_buckets)",
					 when);
			break;
		case LIMITER_WARMUP:
			snprintf(buf, size, "number %s is warming up and sent its daily cap; room again %s",
					 n->phone_number_id, when);
			break;
		case LIMITER_RESTRICTION:
			snprintf(buf, size, "Meta restricted business-initiated messages on the account of number %s; the restriction lifts %s",
					 n->phone_number_id, when);
			break;
		case LIMITER_MARKETING_CAP:
			snprintf(buf, size, "Meta capped marketing to this recipient (131049); marketing again %s",
					 when);
			break;
		case LIMITER_FREQUENCY_CAP:
			snprintf(buf, size, "this person reached the frequency cap of this category (antiban.frequency_caps); next one %s",
					 when);
			break;
		case LIMITER_QUIET_HOURS:
			snprintf(buf, size, "it is the recipient's quiet hours (antiban.quiet_hours, their local time); allowed again %s",
					 when);
			break;
		default:
			snprintf(buf, size, "number %s is at its throughput limit; next token %s",
					 n->phone_number_id, when);
			break;
	}
}

static Reason
queue_reason(Limiter l)
{
	switch (l)
	{
		case LIMITER_PAIR:
			return REASON_PAIR_RATE;
		case LIMITER_PORTFOLIO:
			return REASON_PORTFOLIO_LIMIT;
		case LIMITER_WINDOW:
			return REASON_NO_SERVICE_WINDOW;
		case LIMITER_CAPACITY:
			return REASON_TABLE_FULL;
		case LIMITER_WARMUP:
			return REASON_WARMUP_CAP;
		case LIMITER_RESTRICTION:
			return REASON_ACCOUNT_RESTRICTED;
		case LIMITER_MARKETING_CAP:
			return REASON_MARKETING_CAP;
		case LIMITER_FREQUENCY_CAP:
			return REASON_FREQUENCY_CAP;
		case LIMITER_QUIET_HOURS:
			return REASON_QUIET_HOURS;
		default:
			return REASON_NUMBER_THROUGHPUT;
	}
}

static void
conclude_send(Decision *out, const DecideRequest *req, const NumberView *n, Reason why)
{
	out->outcome = OUTCOME_SEND;
	out->reason = why;
	out->number = n;
	out->not_before = req->now;
	snprintf(out->detail, sizeof(out->detail),
			 "send now from %s (health %d, %s)", n->phone_number_id, n->health,
			 why == REASON_STICKY_SENDER ? "the number this recipient last talked to" :
			 why == REASON_PINNED_NUMBER ? "the number the caller chose" :
			 why == REASON_CRITICAL_HEALTHIEST ? "healthiest number, critical priority" :
			 "healthiest number with capacity now");
}

static void
conclude_reject(Decision *out, Reason why, const char *detail)
{
	out->outcome = OUTCOME_REJECT;
	out->reason = why;
	out->number = NULL;
	out->not_before = INT64_MAX;
	snprintf(out->detail, sizeof(out->detail), "%s", detail);
}

/* No number admits the message now: queue it for the earliest, or reject. */
static void
conclude_wait(Decision *out, const DecideRequest *req, const NumberView *best,
			  Admission adm)
{
	char		when[48];
	char		hold[DECISION_DETAIL_MAX];

	format_wait(when, sizeof(when), adm.ready_at, req->now);
	out->limiter = adm.limiter;
	if (adm.ready_at == INT64_MAX)
	{
		if (adm.limiter == LIMITER_WINDOW)
			conclude_reject(out, REASON_NO_SERVICE_WINDOW,
							"free-form messages need a service window the recipient opened on an eligible number; send a template instead");
		else if (adm.limiter == LIMITER_CONSENT)
			conclude_reject(out, REASON_OPTED_OUT,
							"the recipient asked to stop marketing messages from this business");
		else if (adm.limiter == LIMITER_NO_OPT_IN)
			conclude_reject(out, REASON_NO_OPT_IN,
							"marketing needs the recipient's opt-in (antiban.require_marketing_opt_in is on) and none is live; record one with antiban.record_opt_in");
		else if (adm.limiter == LIMITER_RESTRICTION)
			conclude_reject(out, REASON_ACCOUNT_RESTRICTED,
							"Meta restricted business-initiated messages on this account with no end date; only replies inside an open service window can go");
		else
			conclude_reject(out, adm.limiter == LIMITER_PORTFOLIO ? REASON_PORTFOLIO_LIMIT : REASON_NO_ELIGIBLE_NUMBER,
							"no eligible number can ever carry it");
		return;
	}
	describe_hold(hold, sizeof(hold), adm.limiter, best, when);
	if (adm.ready_at > req->valid_until)
	{
		char		ends[48];

		format_wait(ends, sizeof(ends), req->valid_until, req->now);
		conclude_reject(out, REASON_VALIDITY_WOULD_PASS, "");
		snprintf(out->detail, sizeof(out->detail), "%s, but its validity ends %s", hold, ends);
		return;
	}
	out->outcome = OUTCOME_QUEUE;
	out->reason = queue_reason(adm.limiter);
	out->number = best;
	out->not_before = adm.ready_at;
	snprintf(out->detail, sizeof(out->detail), "%s", hold);
}

/* Try candidates in order; remember the earliest admission among refusals. */
typedef struct Search
{
	const DecideRequest *req;
	const DecidePorts *ports;
	const NumberView *best;
	Admission	best_adm;
	int			tried;
} Search;

static bool
search_try(Search *s, const NumberView *n)
{
	Admission	adm = {false, n->full_until, LIMITER_WARMUP};

	if (!number_is_full(n, s->req->now))
		adm = s->ports->admit(s->ports->ctx, n);

	s->tried++;
	if (adm.granted)
	{
		s->best = n;
		s->best_adm = adm;
		return true;
	}
	if (s->best == NULL || adm.ready_at < s->best_adm.ready_at)
	{
		s->best = n;
		s->best_adm = adm;
	}
	return false;
}

static const NumberView *
find_number(const NumberView *numbers, int n, int64_t id)
{
	for (int i = 0; i < n; i++)
		if (numbers[i].id == id)
			return &numbers[i];
	return NULL;
}

static void
decide_pinned(const DecideRequest *req, const NumberView *n, Search *s, Decision *out)
{
	char		buf[DECISION_DETAIL_MAX];
	char		why[DECISION_DETAIL_MAX / 2];

	if (!number_is_eligible(n, req->min_health))
	{
		ineligible_why(n, why, sizeof(why));
		snprintf(buf, sizeof(buf), "number %s is not eligible: %s", n->phone_number_id, why);
		conclude_reject(out, REASON_NO_ELIGIBLE_NUMBER, buf);
		return;
	}
	if (search_try(s, n))
		conclude_send(out, req, n, REASON_PINNED_NUMBER);
	else
		conclude_wait(out, req, s->best, s->best_adm);
}

/* Nothing eligible at all: say so, naming one number and why. */
static void
conclude_none_eligible(Decision *out, const NumberView *numbers, int nnumbers)
{
	char		buf[DECISION_DETAIL_MAX];
	char		why[DECISION_DETAIL_MAX / 2];

	if (nnumbers == 0)
		snprintf(buf, sizeof(buf), "no number is registered for this sender (register one with antiban.add_number)");
	else
	{
		ineligible_why(&numbers[0], why, sizeof(why));
		snprintf(buf, sizeof(buf), "none of the %d candidate numbers is eligible; e.g. %s: %s",
				 nnumbers, numbers[0].phone_number_id, why);
	}
	conclude_reject(out, REASON_NO_ELIGIBLE_NUMBER, buf);
}

/*
 * Marketing goes to throttled numbers last: they are the ones Meta is
 * watching, and marketing is what users report.  Other categories take the
 * healthiest number whatever its mode.
 */
static bool
kept_for_last(const DecideRequest *req, const NumberView *n)
{
	return req->category == CATEGORY_MARKETING && n->mode == MODE_THROTTLED;
}

/* Healthiest first, spreading over equal health; the first that admits wins. */
static void
decide_by_rotation(const DecideRequest *req, const NumberView *numbers,
				   int nnumbers, Search *s, Decision *out)
{
	bool		critical = req->priority == PRIORITY_CRITICAL;

	for (int pass = 0; pass < 2; pass++)
	{
		Rotation	rot = {.numbers = numbers, .n = nnumbers, .hash = req->recipient_hash};
		int			i;

		rotation_start_group(&rot, 0);
		while ((i = rotation_next(&rot)) >= 0)
		{
			if (!number_is_eligible(&numbers[i], req->min_health) ||
				kept_for_last(req, &numbers[i]) != (pass == 1))
				continue;
			if (search_try(s, &numbers[i]))
			{
				conclude_send(out, req, &numbers[i],
							  critical ? REASON_CRITICAL_HEALTHIEST : REASON_HEALTHIEST);
				return;
			}
		}
	}
	if (s->tried == 0)
		conclude_none_eligible(out, numbers, nnumbers);
	else
		conclude_wait(out, req, s->best, s->best_adm);
}

/*
 * 'numbers' must be sorted by health, best first.  Writes the decision to
 * 'out'; any tokens taken belong to the SEND it returns.
 */
void
decide(const DecideRequest *req, const NumberView *numbers, int nnumbers,
	   const DecidePorts *ports, Decision *out)
{
	Search		s = {.req = req, .ports = ports};
	const NumberView *sticky = NULL;

	memset(out, 0, sizeof(*out));
	if (req->sticky_number_id != 0 && req->priority != PRIORITY_CRITICAL)
		sticky = find_number(numbers, nnumbers, req->sticky_number_id);

	if (req->invalid_recipient_why)
		conclude_reject(out, REASON_INVALID_RECIPIENT, req->invalid_recipient_why);
	else if (req->valid_until < req->now)
		conclude_reject(out, REASON_EXPIRED, "its validity ended before the decision");
	else if (req->pinned && nnumbers == 1)
		decide_pinned(req, &numbers[0], &s, out);
	else if (sticky && number_is_eligible(sticky, req->min_health))
	{
		/* Keep the conversation on its number: wait for it rather than hop. */
		if (search_try(&s, sticky))
			conclude_send(out, req, sticky, REASON_STICKY_SENDER);
		else
			conclude_wait(out, req, s.best, s.best_adm);
	}
	else
		decide_by_rotation(req, numbers, nnumbers, &s, out);
}
