/*
 * decide.c
 *		antiban.decide(): the SQL face of the send decision.
 *
 * The rules are in core/decision.c.  This adapter supplies them with the
 * numbers (from the backend's cache) and an admit() port that asks shared
 * memory, in order: the service window, the portfolio's messaging limit and
 * the number and pair buckets.  When consuming, a granted admission takes
 * the tokens and records the reach; if the limit filled in between, the
 * tokens go back.  Every decision goes to the journal.
 *
 * consume => true is for a send made right away: tokens and the reach are
 * taken at once, in shared memory, and stay taken if the caller's
 * transaction rolls back (deliberately conservative; concurrent decisions
 * must see them immediately).  What the decision reads, on the other hand,
 * includes the caller's own uncommitted opt-outs, windows and links
 * (reach_get).
 *
 * Every rule about the person (opt-out, window, sticky number, reach, pair
 * rate) reads the person the recipient names in each portfolio: its
 * canonical key (Brazil's ninth digit...) resolved through that
 * portfolio's links to the person's anchor (identity.c).  What is sent to
 * stays the recipient as given.
 */
#include "pg/antiban.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "core/reach_window.h"

/* scope_portfolio() results besides a portfolio index */
#define ANY_PORTFOLIO (-1)		/* a worker's old row: every portfolio */
#define NO_PORTFOLIO (-2)		/* the role's portfolios have no numbers */

/* One message: the amount every decision takes from each bucket. */
#define ONE_MESSAGE TB_SCALE

typedef struct PortfolioView
{
	bool		fetched;
	uint64		anchor;			/* the person in this portfolio */
	RecipientState state;
} PortfolioView;

typedef struct DecideContext
{
	NumbersCache *cache;
	const char *recipient;		/* normalised: the pair buckets' label */
	char		key[RECIPIENT_KEY_SIZE];	/* its canonical key */
	uint64		key_hash;
	Category	category;
	bool		consume;
	TimestampTz now;
	const FrequencyCaps *caps;	/* NULL: antiban.frequency_caps */
	PortfolioView *portfolios;	/* by cache portfolio index */
} DecideContext;

/* What we know of the person in a portfolio, loaded once per call. */
static PortfolioView *
view_in(DecideContext *ctx, int portfolio_index)
{
	PortfolioView *pv = &ctx->portfolios[portfolio_index];
	CachedPortfolio *p = &ctx->cache->portfolios[portfolio_index];

	if (!pv->fetched)
	{
		reach_ensure_loaded(ctx->cache, p, ctx->now);
		reach_get(ctx->cache->instance, p->id, ctx->key_hash, &pv->state, &pv->anchor);
		/* shared memory lost a consent fact since startup: the tables have it */
		if (ctx->category == CATEGORY_MARKETING && reach_consent_spilled())
			reach_consent_from_tables(p->id, ctx->key, &pv->state);
		pv->fetched = true;
	}
	return pv;
}

static RecipientState *
state_in(DecideContext *ctx, int portfolio_index)
{
	return &view_in(ctx, portfolio_index)->state;
}

static bool
window_open_on(const RecipientState *rs, int64 number_id, TimestampTz now)
{
	return rs->window_number_id == number_id && rs->window_until > now;
}

static Admission
refuse(TimestampTz ready_at, Limiter limiter)
{
	Admission	a = {false, ready_at, limiter};

	return a;
}

/* Later of two refusals: the message needs both limits to admit it. */
static void
hold_until(Admission *a, TimestampTz ready_at, Limiter limiter)
{
	if (a->limiter == LIMITER_NONE || ready_at > a->ready_at)
	{
		a->ready_at = ready_at;
		a->limiter = limiter;
	}
	a->granted = false;
}

static void
check_buckets(DecideContext *ctx, const CachedNumber *cn, const PortfolioView *pv,
			  bool take, Admission *a)
{
	BucketTake	t = buckets_take(ctx->cache->instance, cn, ctx->recipient, pv->anchor,
								 pv->state.last_sent, ONE_MESSAGE, ctx->now, take);

	if (t.table_full)
		hold_until(a, ctx->now + USECS_PER_SEC, LIMITER_CAPACITY);
	else if (!t.allowed)
	{
		if (!t.number.allowed)
			hold_until(a, t.number.ready_at, LIMITER_NUMBER);
		if (!t.pair.allowed)
			hold_until(a, t.pair.ready_at, LIMITER_PAIR);
	}
}

/* The DecidePorts.admit callback. */
static Admission
admit(void *arg, const NumberView *n)
{
	DecideContext *ctx = arg;
	const CachedNumber *cn = &ctx->cache->numbers[n->slot];
	const CachedPortfolio *p = &ctx->cache->portfolios[cn->portfolio_index];
	PortfolioView *pv = view_in(ctx, cn->portfolio_index);
	RecipientState *rs = &pv->state;
	bool		in_window = window_open_on(rs, n->id, ctx->now);

	/*
	 * A template sent now inside a window this transaction opened but has
	 * not committed still counts: the send stays if the window is rolled back.
	 */
	bool		counts = ctx->category != CATEGORY_SERVICE &&
		!(in_window && !(ctx->consume && rs->uncommitted_window));
	Admission	a = {true, ctx->now, LIMITER_NONE};
	TimestampTz reach_ready;
	TimestampTz restricted;
	TimestampTz policy_ready;
	Limiter		policy_limiter;

	if (ctx->category == CATEGORY_SERVICE && !in_window)
		return refuse(TB_NEVER, LIMITER_WINDOW);
	if (ctx->category == CATEGORY_MARKETING && rs->opted_out)
		return refuse(TB_NEVER, LIMITER_CONSENT);
	/* our contact policy: opt-in required, frequency caps, quiet hours */
	contact_policy_check(ctx->recipient, ctx->category, rs, ctx->caps, ctx->now,
						 &policy_ready, &policy_limiter);
	if (policy_ready == TB_NEVER)
		return refuse(TB_NEVER, policy_limiter);
	/* Meta's restriction on starting conversations (core/decision.c) */
	restricted = restriction_hold(n, in_window, ctx->now);
	if (restricted != 0)
		return refuse(restricted, LIMITER_RESTRICTION);
	/* Meta capped this person's marketing (131049): it waits, utility goes */
	if (ctx->category == CATEGORY_MARKETING && rs->marketing_not_before > ctx->now)
		hold_until(&a, rs->marketing_not_before, LIMITER_MARKETING_CAP);
	if (policy_limiter != LIMITER_NONE)
		hold_until(&a, policy_ready, policy_limiter);
	if (counts && !reach_admits(ctx->cache->instance, p, rs, ctx->now, &reach_ready))
		hold_until(&a, reach_ready, LIMITER_PORTFOLIO);
	check_buckets(ctx, cn, pv, ctx->consume && a.granted, &a);
	if (!a.granted)
	{
		/* a free-form reply must leave before the window closes */
		if (ctx->category == CATEGORY_SERVICE && a.ready_at > rs->window_until)
			return refuse(TB_NEVER, LIMITER_WINDOW);
		return a;
	}
	if (ctx->consume &&
		!reach_record(ctx->cache->instance, p, ctx->key, ctx->key_hash, n->id, ctx->now, counts,
					  ctx->category))
	{
		buckets_give_back(ctx->cache->instance, cn, pv->anchor, ONE_MESSAGE);
		reach_admits(ctx->cache->instance, p, rs, ctx->now, &reach_ready);
		return refuse(reach_ready, LIMITER_PORTFOLIO);
	}
	return a;
}

/*
 * The number this recipient last talked to in one portfolio: the one whose
 * service window is open, else the last sender within antiban.sticky_ttl.
 */
static void
sticky_in(DecideContext *ctx, int portfolio_index, int64 *best, TimestampTz *best_at)
{
	RecipientState *rs = state_in(ctx, portfolio_index);
	TimestampTz horizon = ctx->now - (TimestampTz) antiban_sticky_ttl_s * USECS_PER_SEC;

	if (rs->window_until > ctx->now && rs->window_until > *best_at)
	{
		*best = rs->window_number_id;
		*best_at = rs->window_until;
	}
	else if (rs->last_number_id != 0 && rs->last_sent > horizon && rs->last_sent > *best_at)
	{
		*best = rs->last_number_id;
		*best_at = rs->last_sent;
	}
}

/* Sticky sender over one portfolio (index >= 0) or all that have numbers. */
static int64
sticky_number(DecideContext *ctx, int portfolio_index)
{
	int64		best = 0;
	TimestampTz best_at = 0;

	if (portfolio_index >= 0)
		sticky_in(ctx, portfolio_index, &best, &best_at);
	else if (portfolio_index == NO_PORTFOLIO)
		return 0;
	else
		for (int i = 0; i < ctx->cache->nportfolios; i++)
			if (ctx->cache->portfolios[i].nnumbers > 0)
				sticky_in(ctx, i, &best, &best_at);
	return best;
}

static void
log_decision(DecideContext *ctx, const char *raw_recipient, Priority priority,
			 const Decision *d, JournalDecision *into)
{
	JournalDecision j = {
		.decided_at = ctx->now,
		.not_before = d->outcome == OUTCOME_QUEUE ? d->not_before : 0,
		.number_id = d->number ? d->number->id : 0,
		.category = (uint8) ctx->category,
		.priority = (uint8) priority,
		.outcome = (uint8) d->outcome,
		.reason = (uint8) d->reason,
		.limiter = (uint8) d->limiter,
		.consumed = ctx->consume && d->outcome == OUTCOME_SEND,
	};

	strlcpy(j.recipient, ctx->recipient ? ctx->recipient : raw_recipient ? raw_recipient : "",
			sizeof(j.recipient));
	strlcpy(j.detail, d->detail, sizeof(j.detail));
	if (into)
		*into = j;
	else
		journal_log_decision(ctx->cache->instance, &j);
}

/*
 * decide()'s result row type, kept for the session: a query calling it in
 * FROM builds a new FmgrInfo at every execution, so fn_extra (result_desc)
 * does not outlive one call.  Its OUT parameters fix the type; a change to
 * the function drops the copy.
 */
static TupleDesc decide_desc = NULL;
static Oid	decide_desc_fn = InvalidOid;

static void
forget_decide_desc(Datum arg, int cacheid, uint32 hashvalue)
{
	decide_desc_fn = InvalidOid;
}

static TupleDesc
decide_result_desc(FunctionCallInfo fcinfo)
{
	static bool callback_set = false;
	TupleDesc	desc;
	MemoryContext old;

	if (OidIsValid(decide_desc_fn) && decide_desc_fn == fcinfo->flinfo->fn_oid)
		return decide_desc;
	if (!callback_set)
	{
		CacheRegisterSyscacheCallback(PROCOID, forget_decide_desc, (Datum) 0);
		callback_set = true;
	}
	desc = result_desc(fcinfo);
	if (decide_desc)
		FreeTupleDesc(decide_desc);
	old = MemoryContextSwitchTo(TopMemoryContext);
	decide_desc = CreateTupleDescCopy(desc);
	MemoryContextSwitchTo(old);
	decide_desc_fn = fcinfo->flinfo->fn_oid;
	return decide_desc;
}

static Datum
decision_tuple(FunctionCallInfo fcinfo, const Decision *d)
{
	TupleDesc	desc;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, d->number == NULL, d->outcome != OUTCOME_QUEUE};

	desc = decide_result_desc(fcinfo);
	values[0] = CStringGetTextDatum(outcome_name(d->outcome));
	values[1] = CStringGetTextDatum(reason_name(d->reason));
	values[2] = CStringGetTextDatum(d->detail);
	values[3] = d->number ? CStringGetTextDatum(d->number->phone_number_id) : (Datum) 0;
	values[4] = TimestampTzGetDatum(d->not_before);
	return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
}

/*
 * The one portfolio this decision may use: the number's, the one named, or
 * the only one the role may use that has numbers.  A role mapped to
 * portfolios never reaches another's numbers; a call that could reach more
 * than one portfolio without naming one is an error (the sender worker,
 * role InvalidOid, deciding a row from before portfolios were recorded, may
 * use any).
 */
static int
scope_portfolio(NumbersCache *c, const DecideArgs *args)
{
	bool	   *allowed;
	bool		restricted = tenancy_scope_of(c, args->role, &allowed);
	int			found = NO_PORTFOLIO;
	int			reachable = 0;

	if (args->from_number)
	{
		CachedNumber *n = lookup_number_or_error(c, args->from_number);

		if (restricted && !allowed[n->portfolio_index])
			tenancy_refuse(args->role, "number", args->from_number);
		if (args->portfolio_id && n->portfolio_id != args->portfolio_id)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("number %s is not in the portfolio named", args->from_number),
					 errhint("Name the number's own portfolio, or leave one of them out.")));
		return n->portfolio_index;
	}
	if (args->portfolio || args->portfolio_id)
	{
		CachedPortfolio *p = args->portfolio ? portfolio_or_error(c, args->portfolio) :
			tenancy_portfolio_by_id(c, args->portfolio_id);

		if (p == NULL)
			return ANY_PORTFOLIO;	/* deleted since: the numbers decide */
		if (args->portfolio && args->portfolio_id && p->id != args->portfolio_id)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("portfolio %s is not the one this message belongs to", args->portfolio)));
		if (restricted && !allowed[p - c->portfolios])
			tenancy_refuse(args->role, "portfolio", p->business_id);
		return (int) (p - c->portfolios);
	}
	if (!OidIsValid(args->role))
		return ANY_PORTFOLIO;
	for (int i = 0; i < c->nportfolios; i++)
		if (c->portfolios[i].nnumbers > 0 && (!restricted || allowed[i]))
		{
			found = i;
			reachable++;
		}
	if (reachable > 1)
		ereport(ERROR,
				(errcode(ERRCODE_AMBIGUOUS_PARAMETER),
				 errmsg("this message could leave from %d portfolios", reachable),
				 errdetail("More than one portfolio has numbers%s and neither from_number nor portfolio says which.",
						   restricted ? " this role may use" : ""),
				 errhint("Pass portfolio => '<business_id>' (or from_number), or map the role to one portfolio with antiban.grant_portfolio.")));
	return found;
}

/* The portfolio a message of these arguments belongs to (0: not one). */
int64
antiban_decide_portfolio(const DecideArgs *args)
{
	int			i = scope_portfolio(args->cache, args);

	return i >= 0 ? args->cache->portfolios[i].id : 0;
}

/*
 * Decide for one message.  Shared by antiban.decide(), the send functions
 * (which only look) and the sender worker (which consumes at send time).
 * Every decision is journalled.  'normalized' receives the recipient in
 * canonical form ("" when invalid).
 */
void
antiban_decide_message(const DecideArgs *args, Decision *d, char *normalized)
{
	DecideContext ctx = {.cache = args->cache, .now = args->now, .category = args->category,
	.consume = args->consume, .caps = args->caps};
	DecideRequest req = {.priority = args->priority, .min_health = antiban_min_health,
	.category = args->category, .now = args->now, .valid_until = args->valid_until};
	DecidePorts ports = {.ctx = &ctx, .admit = admit};
	const NumberView *candidates = ctx.cache->views;
	int			ncandidates = ctx.cache->nnumbers;
	int			portfolio_index = -1;

	ctx.portfolios = palloc0(sizeof(PortfolioView) * Max(ctx.cache->nportfolios, 1));
	portfolio_index = scope_portfolio(ctx.cache, args);
	if (args->from_number)
	{
		CachedNumber *n = lookup_number_or_error(ctx.cache, args->from_number);

		candidates = &n->view;
		ncandidates = 1;
		req.pinned = true;
	}
	else if (portfolio_index >= 0)
	{
		CachedPortfolio *p = &ctx.cache->portfolios[portfolio_index];

		candidates = p->numbers;
		ncandidates = p->nnumbers;
	}
	else if (portfolio_index == NO_PORTFOLIO)
		ncandidates = 0;
	normalized[0] = '\0';
	if (args->recipient == NULL)
		req.invalid_recipient_why = "the recipient is empty";
	else if (recipient_normalize(args->recipient, normalized, &req.invalid_recipient_why) == RECIPIENT_INVALID)
		normalized[0] = '\0';
	else if (!identity_key(normalized, ctx.key, &ctx.key_hash))
	{
		/* can not happen: whatever normalises has a key */
		req.invalid_recipient_why = "the recipient names nobody";
		normalized[0] = '\0';
	}
	else
	{
		ctx.recipient = normalized;
		req.sticky_number_id = sticky_number(&ctx, portfolio_index);
	}
	req.recipient_hash = ctx.key_hash;
	decide(&req, candidates, ncandidates, &ports, d);
	if (!args->quiet)
		log_decision(&ctx, args->recipient, args->priority, d, args->journal_into);
	pfree(ctx.portfolios);
}

PG_FUNCTION_INFO_V1(antiban_decide);

/*
 * antiban.decide(recipient, category, priority, valid_until, from_number,
 *				  portfolio, consume, frequency_caps) -> (outcome, reason,
 *				  detail, phone_number_id, not_before)
 *
 * frequency_caps (a campaign's own, same form as antiban.frequency_caps)
 * replaces the GUC for this decision.
 */
Datum
antiban_decide(PG_FUNCTION_ARGS)
{
	char		normalized[RECIPIENT_MAXLEN + 1];
	FrequencyCaps caps;
	bool		own_caps = PG_NARGS() > 7 && !PG_ARGISNULL(7);
	DecideArgs	args = {
		.cache = numbers_cache_get(),
		.now = antiban_now(),
		.recipient = required_text_arg(fcinfo, 0, "recipient"),
		.category = category_or_error(required_text_arg(fcinfo, 1, "category")),
		.priority = priority_or_error(PG_ARGISNULL(2) ? "normal" : text_to_cstring(PG_GETARG_TEXT_PP(2))),
		.valid_until = PG_ARGISNULL(3) ? TB_NEVER : PG_GETARG_TIMESTAMPTZ(3),
		.from_number = PG_ARGISNULL(4) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(4)),
		.portfolio = PG_ARGISNULL(5) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(5)),
		.consume = PG_ARGISNULL(6) ? true : PG_GETARG_BOOL(6),
		.role = GetUserId(),
	};
	Decision	d;

	if (own_caps)
	{
		frequency_caps_or_error(text_to_cstring(PG_GETARG_TEXT_PP(7)), &caps);
		args.caps = &caps;
	}
	antiban_decide_message(&args, &d, normalized);
	PG_RETURN_DATUM(decision_tuple(fcinfo, &d));
}
