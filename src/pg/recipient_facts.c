/*
 * recipient_facts.c
 *		What a transaction states about a person (a marketing opt-out, an
 *		open service window, a link between two of their identifiers) takes
 *		effect if, and when, it commits.
 *
 * The durable row, antiban.recipient_facts, is written through SPI inside
 * the caller's transaction, so it commits or aborts with it.  The copy in
 * shared memory that every decision reads must follow the same fate, but
 * shared memory has no rollback: the change waits in a backend-local list,
 * stamped with the subtransaction that made it, and is applied by the
 * transaction callback at COMMIT.  ABORT forgets the list; a subtransaction
 * that aborts (ROLLBACK TO SAVEPOINT, a PL/pgSQL exception block) drops its
 * own entries, one that commits hands them to its parent.  Meanwhile the
 * transaction sees its own changes: reach_get() lays the list over shared
 * memory, and identity_anchor() reads its links first.
 *
 * Facts are keyed by the identifier they were stated for and find their
 * person when applied (at commit, in the order stated), so a link made
 * earlier in the same transaction carries them to the right record.  Links
 * write no row here: antiban.link_identifiers writes antiban.person_ids.
 *
 * PREPARE TRANSACTION is refused while changes wait: COMMIT PREPARED runs
 * in a backend that never sees this list, so they would be lost.
 *
 * A session that pinned antiban.pinned_now itself writes no row: its facts
 * live only in its clock domain's copy of shared memory (clock.c), which no
 * real-clock session reads.
 */
#include "pg/antiban.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "pg/privileged.h"

typedef struct PendingFact
{
	SubTransactionId subxid;
	RecipientFact fact;
} PendingFact;

/* This transaction's facts, oldest first, in TopTransactionContext. */
static PendingFact *pending = NULL;
static int	npending = 0;
static int	pending_capacity = 0;
static bool callbacks_registered = false;

/* ---- the durable row ---- */

/*
 * The same rule as recipient_state_set_consent(): the later statement wins,
 * a stop on a tie ($5: stated as of now, winning a tie).  Whatever wins, a
 * stop is remembered (it ends the opt-ins before it) and so is an opt-in
 * ($6), as recipient_state_opt_in() does.
 */
static const char *const store_opt_out_sql =
"INSERT INTO antiban.recipient_facts AS f (portfolio_id, recipient, marketing_opt_out, consent_at,"
" last_stop_at, opt_in_at)"
" VALUES ($1, $2, $3, $4, CASE WHEN $3 THEN $4 END, CASE WHEN $6 THEN $4 END)"
" ON CONFLICT (portfolio_id, recipient) DO UPDATE SET"
"  marketing_opt_out = CASE WHEN antiban.consent_statement_wins(f.consent_at, f.marketing_opt_out,"
"   excluded.consent_at, excluded.marketing_opt_out, $5) THEN excluded.marketing_opt_out"
"   ELSE f.marketing_opt_out END,"
"  consent_at = CASE WHEN antiban.consent_statement_wins(f.consent_at, f.marketing_opt_out,"
"   excluded.consent_at, excluded.marketing_opt_out, $5) THEN excluded.consent_at ELSE f.consent_at END,"
"  last_stop_at = greatest(f.last_stop_at, excluded.last_stop_at),"
"  opt_in_at = greatest(f.opt_in_at, excluded.opt_in_at),"
"  updated_at = now()";

/* The same rule as reach_fact_apply_to(): a window never shrinks, the latest one's number wins. */
static const char *const store_window_sql =
"INSERT INTO antiban.recipient_facts AS f (portfolio_id, recipient, window_until,"
" window_number_id, window_opened_at)"
" VALUES ($1, $2, $3, $4, $5)"
" ON CONFLICT (portfolio_id, recipient) DO UPDATE SET"
"  window_number_id = CASE WHEN f.window_until IS NULL OR excluded.window_until >= f.window_until"
"   THEN excluded.window_number_id ELSE f.window_number_id END,"
"  window_opened_at = CASE WHEN f.window_until IS NULL OR excluded.window_until >= f.window_until"
"   THEN excluded.window_opened_at ELSE f.window_opened_at END,"
"  window_until = greatest(f.window_until, excluded.window_until),"
"  updated_at = now()";

/* 131049: the later of two deferrals wins. */
static const char *const store_defer_sql =
"INSERT INTO antiban.recipient_facts AS f (portfolio_id, recipient, marketing_not_before)"
" VALUES ($1, $2, $3)"
" ON CONFLICT (portfolio_id, recipient) DO UPDATE SET"
"  marketing_not_before = greatest(f.marketing_not_before, excluded.marketing_not_before),"
"  updated_at = now()";

/* The later statement of a person's own zone wins (NULL: none, the number decides). */
static const char *const store_time_zone_sql =
"INSERT INTO antiban.recipient_facts AS f (portfolio_id, recipient, time_zone, time_zone_at)"
" VALUES ($1, $2, $3, $4)"
" ON CONFLICT (portfolio_id, recipient) DO UPDATE SET"
"  time_zone = CASE WHEN f.time_zone_at IS NULL OR excluded.time_zone_at >= f.time_zone_at"
"   THEN excluded.time_zone ELSE f.time_zone END,"
"  time_zone_at = greatest(f.time_zone_at, excluded.time_zone_at),"
"  updated_at = now()";

static void
store_fact(const RecipientFact *f, const char *recipient)
{
	static SPIPlanPtr opt_out_plan = NULL;
	static SPIPlanPtr window_plan = NULL;
	static SPIPlanPtr defer_plan = NULL;
	static SPIPlanPtr zone_plan = NULL;
	Oid			zone_types[4] = {INT8OID, TEXTOID, TEXTOID, TIMESTAMPTZOID};
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	Oid			defer_types[3] = {INT8OID, TEXTOID, TIMESTAMPTZOID};
	Oid			opt_out_types[6] = {INT8OID, TEXTOID, BOOLOID, TIMESTAMPTZOID, BOOLOID, BOOLOID};
	Oid			window_types[5] = {INT8OID, TEXTOID, TIMESTAMPTZOID, INT8OID, TIMESTAMPTZOID};
	Datum		args[6] = {Int64GetDatum(f->portfolio_id), CStringGetTextDatum(recipient)};
	SPIPlanPtr	plan;
	Privileged	priv;

	privileged_begin(&priv);
	SPI_connect();
	if (f->kind == FACT_OPT_OUT)
	{
		if (opt_out_plan == NULL)
			opt_out_plan = privileged_prepare(store_opt_out_sql, 6, opt_out_types);
		plan = opt_out_plan;
		args[2] = BoolGetDatum(f->opted_out);
		args[3] = TimestampTzGetDatum(f->consent_at);
		args[4] = BoolGetDatum(f->as_of_now);
		args[5] = BoolGetDatum(f->opt_in);
	}
	else if (f->kind == FACT_TIME_ZONE)
	{
		const char *zone = person_zone_name(f->time_zone);

		if (zone_plan == NULL)
			zone_plan = privileged_prepare(store_time_zone_sql, 4, zone_types);
		plan = zone_plan;
		args[2] = zone ? CStringGetTextDatum(zone) : (Datum) 0;
		nulls[2] = zone ? ' ' : 'n';
		args[3] = TimestampTzGetDatum(f->noted_at);
	}
	else if (f->kind == FACT_MARKETING_DEFER)
	{
		if (defer_plan == NULL)
			defer_plan = privileged_prepare(store_defer_sql, 3, defer_types);
		plan = defer_plan;
		args[2] = TimestampTzGetDatum(f->marketing_not_before);
	}
	else
	{
		if (window_plan == NULL)
			window_plan = privileged_prepare(store_window_sql, 5, window_types);
		plan = window_plan;
		args[2] = TimestampTzGetDatum(f->window_until);
		args[3] = Int64GetDatum(f->window_number_id);
		args[4] = TimestampTzGetDatum(f->noted_at);
	}
	if (SPI_execute_plan(plan, args, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "antiban: could not write antiban.recipient_facts");
	SPI_finish();
	privileged_end(&priv);
}

/* ---- the pending list ---- */

static void
forget_pending(void)
{
	/* the memory goes with TopTransactionContext */
	pending = NULL;
	npending = 0;
	pending_capacity = 0;
}

/* Commit: apply in the order stated.  Must not throw (the commit is done). */
static void
apply_pending(void)
{
	for (int i = 0; i < npending; i++)
	{
		if (pending[i].fact.kind == FACT_LINK)
			reach_apply_link(&pending[i].fact);
		else if (!reach_apply_fact(&pending[i].fact))
			elog(WARNING, "antiban: no room in shared memory for a committed recipient fact of portfolio " INT64_FORMAT,
				 pending[i].fact.portfolio_id);
	}
}

static void
facts_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_PREPARE:
			if (npending > 0)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot prepare a transaction that changed a marketing opt-out or a service window, or linked a person's identifiers"),
						 errdetail("antiban applies these changes to shared memory when the transaction commits, which COMMIT PREPARED would skip."),
						 errhint("Commit this transaction directly, or make the change in a transaction that is not prepared.")));
			break;
		case XACT_EVENT_COMMIT:
			apply_pending();
			forget_pending();
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			forget_pending();
			break;
		default:
			break;
	}
}

static void
facts_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	int			kept = 0;

	if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		for (int i = 0; i < npending; i++)
			if (pending[i].subxid == mySubid)
				pending[i].subxid = parentSubid;
	}
	else if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		for (int i = 0; i < npending; i++)
			if (pending[i].subxid != mySubid)
				pending[kept++] = pending[i];
		npending = kept;
	}
}

static void
add_pending(const RecipientFact *f)
{
	if (!callbacks_registered)
	{
		RegisterXactCallback(facts_xact_callback, NULL);
		RegisterSubXactCallback(facts_subxact_callback, NULL);
		callbacks_registered = true;
	}
	if (pending == NULL)
	{
		pending_capacity = 8;
		pending = MemoryContextAlloc(TopTransactionContext, sizeof(PendingFact) * pending_capacity);
	}
	else if (npending == pending_capacity)
	{
		pending_capacity *= 2;
		pending = repalloc(pending, sizeof(PendingFact) * pending_capacity);
	}
	pending[npending].subxid = GetCurrentSubTransactionId();
	pending[npending].fact = *f;
	npending++;
}

/*
 * State a fact in the caller's transaction: the row now (real clock only;
 * a link's rows are antiban.link_identifiers'), shared memory at commit.
 */
void
recipient_fact_note(const RecipientFact *f, const char *key)
{
	if (f->domain == CLOCK_REAL && f->kind != FACT_LINK)
		store_fact(f, key);
	add_pending(f);
}

static bool
same_portfolio(const RecipientFact *f, ClockDomain domain, Oid instance, int64 portfolio_id)
{
	return f->domain == domain && f->instance == instance && f->portfolio_id == portfolio_id;
}

/* This transaction's latest link for a key: the anchor it reads for it. */
bool
recipient_facts_pending_anchor(ClockDomain domain, Oid instance, int64 portfolio_id,
							   uint64 key_hash, uint64 *anchor)
{
	for (int i = npending - 1; i >= 0; i--)
	{
		const RecipientFact *f = &pending[i].fact;

		if (f->kind == FACT_LINK && f->key_hash == key_hash &&
			same_portfolio(f, domain, instance, portfolio_id))
		{
			*anchor = f->anchor;
			return true;
		}
	}
	return false;
}

/*
 * Read your own writes: this transaction's links and facts over what
 * shared memory says of the person known by 'anchor'.  A link brings in the
 * record its identifier had before (not merged until commit); a fact counts
 * when its identifier names this person.
 */
void
recipient_facts_overlay(ClockDomain domain, Oid instance, int64 portfolio_id, uint64 anchor,
						RecipientState *rs)
{
	for (int i = 0; i < npending; i++)
	{
		const RecipientFact *f = &pending[i].fact;

		if (!same_portfolio(f, domain, instance, portfolio_id))
			continue;
		if (f->kind == FACT_LINK)
		{
			uint64		before;
			RecipientState other;

			if (f->anchor != anchor)
				continue;
			if (!identity_lookup(domain, instance, portfolio_id, f->key_hash, &before))
				before = f->key_hash;
			if (before != anchor && reach_peek(domain, instance, portfolio_id, before, &other))
				recipient_state_merge(rs, &other);
			continue;
		}
		if (identity_anchor(domain, instance, portfolio_id, f->key_hash) != anchor)
			continue;
		reach_fact_apply_to(rs, f);
		if (f->kind == FACT_WINDOW)
			rs->uncommitted_window = true;
	}
}
