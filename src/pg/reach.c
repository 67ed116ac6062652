/*
 * reach.c
 *		What antiban knows about each recipient, and each portfolio's
 *		messaging limit (unique users reached per moving 24 h).
 *
 * Recipients live in a striped slot table in shared memory: the time they
 * were last counted against the limit, the number they last talked to
 * (sticky sender), their open service window and marketing opt-out.  A
 * portfolio is reloaded from antiban.recipient_reach and
 * antiban.recipient_facts the first time it is used after a restart, so the
 * 24 h count survives restarts.
 *
 * Two kinds of change, two rules:
 *  - Sends (reach_record) take effect at once, whatever becomes of the
 *    transaction that decided them: the message may already be on its way,
 *    and counting it early only errs on the safe side.  They are written
 *    behind by the journal, to antiban.recipient_reach only.
 *  - Facts a transaction states (an opt-out, a service window) follow that
 *    transaction: recipient_facts.c writes the row in it and applies them
 *    here at commit (reach_apply_fact), never on abort.
 *
 * Every key carries the clock domain (clock.c): a session that pinned the
 * clock itself works on a copy of this state that real-clock sessions and
 * the workers never see, and nothing it records is written to the tables.
 *
 * Lock order: a portfolio's lock, then a recipient stripe.  Nothing takes
 * them the other way round.
 */
#include "pg/antiban.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/spin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "core/event_time.h"
#include "core/reach_window.h"
#include "pg/privileged.h"

#define RECIPIENT_STRIPES	256
/* Portfolio slots for sessions on their own pinned clock (tests): as many as real ones, to a point. */
#define PINNED_PORTFOLIOS	Min(antiban_max_portfolios, 1024)
/* Persist last_sent at most this often when nothing else changed. */
#define PERSIST_EVERY_US	(60 * USECS_PER_SEC)

typedef struct RecipientKey
{
	uint32		instance;
	uint32		domain;			/* ClockDomain */
	int64		portfolio_id;
	uint64		recipient_hash;
} RecipientKey;

typedef struct PortfolioSlot
{
	uint32		instance;
	uint32		domain;
	int64		portfolio_id;
	pg_atomic_uint32 loaded;
	ReachWindow window;
} PortfolioSlot;

/*
 * Slots [0, max_portfolios) are the real domain's, counted by
 * antiban_shared->nportfolios; the PINNED_PORTFOLIOS after them belong to
 * pinned sessions, so those can never use up a real portfolio's slot.  (A
 * slot is about 6 kB: the pinned pool stops growing at 1,024.)
 */
typedef struct PortfolioPools
{
	int			npinned;		/* under antiban_shared->mutex */
	PortfolioSlot slots[FLEXIBLE_ARRAY_MEMBER];
} PortfolioPools;

static SlotTable recipient_table;
static LWLockPadded *recipient_locks = NULL;
static PortfolioPools *pools = NULL;
static LWLockPadded *portfolio_locks = NULL;

static uint32
stripe_slots(void)
{
	uint32		per = (uint32) ((antiban_max_recipients + RECIPIENT_STRIPES - 1) / RECIPIENT_STRIPES);

	return pg_nextpower2_32(Max(per, 8));
}

static Size
portfolios_size(void)
{
	return add_size(offsetof(PortfolioPools, slots),
					mul_size(sizeof(PortfolioSlot), antiban_max_portfolios + PINNED_PORTFOLIOS));
}

Size
reach_shmem_size(void)
{
	return add_size(slot_table_memory(RECIPIENT_STRIPES, stripe_slots(), sizeof(RecipientKey),
									  sizeof(RecipientState)),
					portfolios_size());
}

void
reach_request_locks(void)
{
	RequestNamedLWLockTranche("antiban_recipients", RECIPIENT_STRIPES);
	RequestNamedLWLockTranche("antiban_portfolios", antiban_max_portfolios + PINNED_PORTFOLIOS);
}

void
reach_shmem_init(void)
{
	bool		found;
	void	   *mem = antiban_shmem_region("antiban recipients",
										   slot_table_memory(RECIPIENT_STRIPES, stripe_slots(),
															 sizeof(RecipientKey), sizeof(RecipientState)),
										   &found);

	slot_table_attach(&recipient_table, mem, RECIPIENT_STRIPES, stripe_slots(),
					  sizeof(RecipientKey), sizeof(RecipientState));
	if (!found)
		slot_table_clear(&recipient_table);
	pools = antiban_shmem_region("antiban portfolios", portfolios_size(), &found);
	if (!found)
		memset(pools, 0, portfolios_size());
	recipient_locks = GetNamedLWLockTranche("antiban_recipients");
	portfolio_locks = GetNamedLWLockTranche("antiban_portfolios");
}

static uint64
key_hash(const RecipientKey *k)
{
	return hash_mix64(hash_mix64(k->instance, (uint64) k->portfolio_id), k->recipient_hash);
}

static LWLock *
stripe_lock(uint64 hash)
{
	return &recipient_locks[slot_table_stripe(&recipient_table, hash)].lock;
}

/* Who inserts: their clock and their domain. */
typedef struct VictimArg
{
	TimestampTz now;
	ClockDomain domain;
} VictimArg;

/*
 * The most recent thing we know about a recipient: older ones go first.
 * Across domains: a pinned session never evicts a real recipient, and a
 * real session evicts pinned ones before any of its own.
 */
static int64_t
recipient_victim_score(const void *key, const void *value, void *arg)
{
	const RecipientKey *k = key;
	const RecipientState *rs = value;
	const VictimArg *va = arg;
	int64		newest = Max(Max(rs->last_sent, rs->last_reach),
							 Max(rs->window_until, rs->marketing_not_before));

	if (k->domain != (uint32) va->domain)
		return va->domain == CLOCK_PINNED ? -1 : PG_INT64_MAX;
	/*
	 * Forgetting an opt-out would let marketing reach someone who said stop:
	 * only when nothing else in the stripe can go (size max_recipients above
	 * the number of opted-out people; a restart reloads every opt-out).
	 */
	if (rs->opted_out)
		return 0;
	/* Forgetting a counted recipient only over-counts: safe, but after the rest. */
	return Max(va->now - newest, 1);
}

/* ---- portfolio slots ---- */

/* A domain's pool: its first slot, its capacity and its counter. */
static PortfolioSlot *
pool_of(ClockDomain domain, int *capacity, int **used)
{
	if (domain == CLOCK_PINNED)
	{
		*capacity = PINNED_PORTFOLIOS;
		*used = &pools->npinned;
		return &pools->slots[antiban_max_portfolios];
	}
	*capacity = antiban_max_portfolios;
	*used = &antiban_shared->nportfolios;
	return &pools->slots[0];
}

static PortfolioSlot *
find_slot(ClockDomain domain, Oid instance, int64 portfolio_id)
{
	int			capacity;
	int		   *used;
	PortfolioSlot *first = pool_of(domain, &capacity, &used);
	int			n = *(volatile int *) used;

	pg_read_barrier();
	for (int i = 0; i < n; i++)
		if (first[i].instance == instance && first[i].portfolio_id == portfolio_id)
			return &first[i];
	return NULL;
}

static void
too_many_portfolios(ClockDomain domain)
{
	if (domain == CLOCK_PINNED)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("too many business portfolios for sessions on a pinned clock"),
				 errdetail("Sessions that set antiban.pinned_now themselves share %d portfolio slots, apart from the real ones.",
						   PINNED_PORTFOLIOS),
				 errhint("Restart the server, or pin the clock server-wide in postgresql.conf.")));
	ereport(ERROR,
			(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
			 errmsg("too many business portfolios for antiban's shared memory"),
			 errdetail("antiban.max_portfolios is %d.", antiban_max_portfolios),
			 errhint("Raise antiban.max_portfolios and restart the server.")));
}

static PortfolioSlot *
claim_slot(ClockDomain domain, Oid instance, int64 portfolio_id)
{
	int			capacity;
	int		   *used;
	PortfolioSlot *first = pool_of(domain, &capacity, &used);
	PortfolioSlot *slot;

	SpinLockAcquire(&antiban_shared->mutex);
	slot = find_slot(domain, instance, portfolio_id);
	if (slot == NULL && *used < capacity)
	{
		slot = &first[*used];
		slot->instance = instance;
		slot->domain = (uint32) domain;
		slot->portfolio_id = portfolio_id;
		pg_atomic_init_u32(&slot->loaded, 0);
		pg_write_barrier();
		(*used)++;
	}
	SpinLockRelease(&antiban_shared->mutex);
	if (slot == NULL)
		too_many_portfolios(domain);
	return slot;
}

static LWLock *
slot_lock(PortfolioSlot *slot)
{
	return &portfolio_locks[slot - pools->slots].lock;
}

/* The portfolio's slot in this session's clock domain. */
static PortfolioSlot *
slot_for(Oid instance, int64 portfolio_id)
{
	ClockDomain domain = antiban_clock_domain();
	PortfolioSlot *slot = find_slot(domain, instance, portfolio_id);

	return slot ? slot : claim_slot(domain, instance, portfolio_id);
}

/* ---- recipients ---- */

static void
state_init(RecipientState *rs)
{
	memset(rs, 0, sizeof(*rs));
	rs->last_reach = REACH_NEVER;
}

static RecipientKey
recipient_key(ClockDomain domain, Oid instance, int64 portfolio_id, uint64 rhash)
{
	RecipientKey key = {instance, (uint32) domain, portfolio_id, rhash};

	return key;
}

/*
 * What this transaction sees of a recipient: shared memory (in its clock
 * domain) with its own uncommitted facts laid over it.  Returns whether
 * shared memory knew them.
 */
bool
reach_get(Oid instance, int64 portfolio_id, uint64 rhash, RecipientState *out)
{
	ClockDomain domain = antiban_clock_domain();
	RecipientKey key = recipient_key(domain, instance, portfolio_id, rhash);
	uint64		h = key_hash(&key);
	RecipientState *rs;

	LWLockAcquire(stripe_lock(h), LW_SHARED);
	rs = slot_table_find(&recipient_table, h, &key);
	if (rs)
		*out = *rs;
	else
		state_init(out);
	LWLockRelease(stripe_lock(h));
	recipient_facts_overlay(domain, instance, portfolio_id, rhash, out);
	return rs != NULL;
}

/*
 * Find or create.  NULL when the stripe can not make room: never in the
 * real domain; in the pinned one when the stripe is full of real recipients.
 */
static RecipientState *
state_for_update(const RecipientKey *key, uint64 h, TimestampTz now)
{
	RecipientState *rs = slot_table_find(&recipient_table, h, key);
	VictimArg	arg = {now, (ClockDomain) key->domain};

	if (rs == NULL)
	{
		rs = slot_table_insert(&recipient_table, h, key, recipient_victim_score, &arg);
		if (rs)
			state_init(rs);
	}
	return rs;
}

/* Sends only: opt-outs and windows are written by the transaction that states them. */
static void
journal_state(Oid instance, int64 portfolio_id, const char *recipient, const RecipientState *rs)
{
	JournalRecipient r = {
		.portfolio_id = portfolio_id,
		.last_number_id = rs->last_number_id,
		.last_sent = rs->last_sent,
		.last_reach = rs->last_reach,
	};

	strlcpy(r.recipient, recipient, sizeof(r.recipient));
	journal_log_recipient(instance, &r);
}

/*
 * Would a template to this recipient fit the portfolio's limit now?  When
 * not, *ready_at is when the oldest counted recipients leave the window.
 */
bool
reach_admits(Oid instance, const CachedPortfolio *p, const RecipientState *rs,
			 TimestampTz now, TimestampTz *ready_at)
{
	PortfolioSlot *slot;
	bool		fits;

	if (p->messaging_limit < 0)
		return true;
	slot = slot_for(instance, p->id);
	LWLockAcquire(slot_lock(slot), LW_EXCLUSIVE);
	reach_window_advance(&slot->window, now);
	fits = reach_window_counts(&slot->window, rs->last_reach) ||
		slot->window.total < p->messaging_limit;
	if (!fits)
		*ready_at = reach_window_ready_at(&slot->window, p->messaging_limit, now);
	LWLockRelease(slot_lock(slot));
	return fits;
}

/*
 * Record a send from 'number_id' to a recipient: counted against the
 * portfolio's limit when 'counts' (a business-initiated template outside a
 * service window), and remembered as their sticky sender.  Returns false,
 * changing nothing, when the limit filled up since reach_admits() said yes.
 *
 * Immediate, not at commit: the send is made right away, and a concurrent
 * decision must see the count at once or two could both take the last
 * place.  If the transaction aborts, the count stays: conservative.  A
 * session on its own pinned clock journals nothing (its copy is not real).
 */
bool
reach_record(Oid instance, const CachedPortfolio *p, const char *recipient,
			 uint64 rhash, int64 number_id, TimestampTz now, bool counts)
{
	ClockDomain domain = antiban_clock_domain();
	PortfolioSlot *slot = slot_for(instance, p->id);
	RecipientKey key = recipient_key(domain, instance, p->id, rhash);
	uint64		h = key_hash(&key);
	RecipientState *rs;
	RecipientState copy;
	bool		ok = true;
	bool		persist = false;

	LWLockAcquire(slot_lock(slot), LW_EXCLUSIVE);
	LWLockAcquire(stripe_lock(h), LW_EXCLUSIVE);
	rs = state_for_update(&key, h, now);
	if (rs && counts)
	{
		reach_window_advance(&slot->window, now);
		ok = reach_window_counts(&slot->window, rs->last_reach) ||
			p->messaging_limit < 0 || slot->window.total < p->messaging_limit;
		if (ok)
		{
			reach_window_record(&slot->window, rs->last_reach, now);
			rs->last_reach = now;
		}
	}
	if (rs && ok)
	{
		/* write behind only what matters: a new sender, a count, or an hour-old stamp */
		persist = domain == CLOCK_REAL &&
			(counts || rs->last_number_id != number_id ||
			 now - rs->persisted_sent > PERSIST_EVERY_US);
		rs->last_sent = now;
		rs->last_number_id = number_id;
		if (persist)
			rs->persisted_sent = now;
		copy = *rs;
	}
	LWLockRelease(stripe_lock(h));
	LWLockRelease(slot_lock(slot));
	if (persist)
		journal_state(instance, p->id, recipient, &copy);
	return ok;
}

/*
 * A fact laid over a recipient's state: at commit in shared memory, and
 * before that over this transaction's own view.  A window never shrinks, and
 * the number of the latest one wins (webhooks arrive out of order).
 */
void
reach_fact_apply_to(RecipientState *rs, const RecipientFact *f)
{
	if (f->kind == FACT_OPT_OUT)
		rs->opted_out = f->opted_out;
	else if (f->kind == FACT_MARKETING_DEFER)
		rs->marketing_not_before = Max(rs->marketing_not_before, f->marketing_not_before);
	else if (f->window_until >= rs->window_until)
	{
		rs->window_until = f->window_until;
		rs->window_number_id = f->window_number_id;
		rs->last_number_id = f->window_number_id;
	}
}

/*
 * Apply a committed fact to shared memory.  Runs in the commit callback:
 * must not throw.  Returns false when there was no room (pinned domain only).
 */
bool
reach_apply_fact(const RecipientFact *f)
{
	RecipientKey key = recipient_key(f->domain, f->instance, f->portfolio_id, f->rhash);
	uint64		h = key_hash(&key);
	RecipientState *rs;

	LWLockAcquire(stripe_lock(h), LW_EXCLUSIVE);
	rs = state_for_update(&key, h, f->noted_at);
	if (rs)
		reach_fact_apply_to(rs, f);
	LWLockRelease(stripe_lock(h));
	return rs != NULL;
}

static RecipientFact
fact_for(Oid instance, int64 portfolio_id, uint64 rhash, FactKind kind)
{
	RecipientFact f = {.kind = kind, .domain = antiban_clock_domain(), .instance = instance,
	.portfolio_id = portfolio_id, .rhash = rhash, .noted_at = antiban_now()};

	return f;
}

/*
 * A recipient wrote to 'number_id': free-form replies are allowed until
 * 'until'.  Takes effect when the caller's transaction commits.
 */
void
reach_open_window(Oid instance, int64 portfolio_id, const char *recipient,
				  uint64 rhash, int64 number_id, TimestampTz until)
{
	RecipientFact f = fact_for(instance, portfolio_id, rhash, FACT_WINDOW);

	f.window_until = until;
	f.window_number_id = number_id;
	recipient_fact_note(&f, recipient);
}

/*
 * Marketing consent: stop (or resume) marketing to this recipient.  Takes
 * effect when the caller's transaction commits; until then only it sees it.
 */
void
reach_set_opt_out(Oid instance, int64 portfolio_id, const char *recipient,
				  uint64 rhash, bool opted_out)
{
	RecipientFact f = fact_for(instance, portfolio_id, rhash, FACT_OPT_OUT);

	f.opted_out = opted_out;
	recipient_fact_note(&f, recipient);
}

/*
 * Meta capped this recipient's marketing (131049): none before 'until'.
 * Takes effect when the caller's transaction commits.
 */
void
reach_defer_marketing(Oid instance, int64 portfolio_id, const char *recipient,
					  uint64 rhash, TimestampTz until)
{
	RecipientFact f = fact_for(instance, portfolio_id, rhash, FACT_MARKETING_DEFER);

	f.marketing_not_before = until;
	recipient_fact_note(&f, recipient);
}

/* ---- loading a portfolio after a restart ---- */

/*
 * What still matters at 'now' ($2).  A send or a window stamped after now
 * was made on a clock ahead of this one (a server pinned in the future and
 * since unpinned, a clock stepped back): ignored, for counting it would
 * hold the limit or a window for years.  An opt-out is not about time and
 * is always kept.
 */
static const char *const load_sql =
"SELECT recipient, coalesce(r.last_number_id, 0), r.last_sent_at, r.last_reached_at,"
" f.window_until, coalesce(f.window_number_id, 0), coalesce(f.marketing_opt_out, false),"
" f.marketing_not_before"
" FROM (SELECT recipient, last_number_id, last_sent_at, last_reached_at"
"       FROM antiban.recipient_reach"
"       WHERE portfolio_id = $1"
"         AND greatest(last_sent_at, last_reached_at) <= $2"
"         AND (last_reached_at > $2 - interval '1441 minutes'"
"              OR last_sent_at > $2 - make_interval(secs => $3))) r"
" FULL JOIN"
"      (SELECT recipient, marketing_opt_out,"
"              CASE WHEN window_opened_at <= $2 THEN window_until END AS window_until,"
"              CASE WHEN window_opened_at <= $2 THEN window_number_id END AS window_number_id,"
"              CASE WHEN marketing_not_before > $2 THEN marketing_not_before END AS marketing_not_before"
"       FROM antiban.recipient_facts"
"       WHERE portfolio_id = $1"
"         AND (marketing_opt_out OR marketing_not_before > $2"
"              OR (window_until > $2 AND window_opened_at <= $2))) f"
" USING (recipient)"
" ORDER BY greatest(r.last_reached_at, r.last_sent_at, f.window_until) DESC"
" LIMIT $4";

static TimestampTz
ts_col(HeapTuple t, TupleDesc d, int col, TimestampTz if_null)
{
	bool		isnull;
	Datum		v = SPI_getbinval(t, d, col, &isnull);

	return isnull ? if_null : DatumGetTimestampTz(v);
}

static void
restore_row(Oid instance, PortfolioSlot *slot, HeapTuple t, TupleDesc d, TimestampTz now)
{
	char	   *recipient = SPI_getvalue(t, d, 1);
	bool		isnull;
	RecipientKey key = recipient_key((ClockDomain) slot->domain, instance, slot->portfolio_id,
									 recipient_hash(recipient));
	uint64		h = key_hash(&key);
	RecipientState *rs;

	LWLockAcquire(stripe_lock(h), LW_EXCLUSIVE);
	rs = state_for_update(&key, h, now);
	if (rs)
	{
		rs->last_number_id = DatumGetInt64(SPI_getbinval(t, d, 2, &isnull));
		rs->last_sent = rs->persisted_sent = ts_col(t, d, 3, 0);
		rs->last_reach = ts_col(t, d, 4, REACH_NEVER);
		rs->window_until = ts_col(t, d, 5, 0);
		rs->window_number_id = DatumGetInt64(SPI_getbinval(t, d, 6, &isnull));
		rs->opted_out = DatumGetBool(SPI_getbinval(t, d, 7, &isnull));
		rs->marketing_not_before = ts_col(t, d, 8, 0);
		if (rs->last_reach != REACH_NEVER)
			reach_window_restore(&slot->window, rs->last_reach);
	}
	LWLockRelease(stripe_lock(h));
}

static void
load_rows(Oid instance, PortfolioSlot *slot, TimestampTz now)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[4] = {INT8OID, TIMESTAMPTZOID, FLOAT8OID, INT8OID};
	Datum		args[4] = {Int64GetDatum(slot->portfolio_id), TimestampTzGetDatum(now),
	Float8GetDatum((double) antiban_sticky_ttl_s), Int64GetDatum(antiban_max_recipients)};

	if (plan == NULL)
		plan = privileged_prepare(load_sql, 4, types);
	if (SPI_execute_plan(plan, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not read antiban.recipient_reach and recipient_facts");
	reach_window_init(&slot->window, now);
	for (uint64 i = 0; i < SPI_processed; i++)
		restore_row(instance, slot, SPI_tuptable->vals[i], SPI_tuptable->tupdesc, now);
}

/*
 * The first use of a portfolio after a restart (or, in the pinned domain,
 * by the first pinned session) rebuilds its window from the tables, under
 * its lock, so that no decision sees a half-loaded count.
 */
void
reach_ensure_loaded(NumbersCache *c, const CachedPortfolio *p, TimestampTz now)
{
	PortfolioSlot *slot = slot_for(c->instance, p->id);
	Privileged	priv;

	if (pg_atomic_read_u32(&slot->loaded))
		return;
	LWLockAcquire(slot_lock(slot), LW_EXCLUSIVE);
	if (!pg_atomic_read_u32(&slot->loaded))
	{
		privileged_begin(&priv);
		SPI_connect();
		load_rows(c->instance, slot, now);
		SPI_finish();
		privileged_end(&priv);
		pg_atomic_write_u32(&slot->loaded, 1);
	}
	LWLockRelease(slot_lock(slot));
}

/* ---- SQL ---- */

PG_FUNCTION_INFO_V1(antiban_portfolio_usage);

/* antiban.portfolio_usage(): unique users counted per portfolio right now (in this session's clock domain). */
Datum
antiban_portfolio_usage(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	NumbersCache *c = numbers_cache_get();
	TimestampTz now = antiban_now();

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < c->nportfolios; i++)
	{
		CachedPortfolio *p = &c->portfolios[i];
		PortfolioSlot *slot;
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};
		int64		used;
		TimestampTz ready;

		reach_ensure_loaded(c, p, now);
		slot = slot_for(c->instance, p->id);
		LWLockAcquire(slot_lock(slot), LW_EXCLUSIVE);
		reach_window_advance(&slot->window, now);
		used = slot->window.total;
		ready = p->messaging_limit < 0 ? now :
			reach_window_ready_at(&slot->window, p->messaging_limit, now);
		LWLockRelease(slot_lock(slot));
		values[0] = Int64GetDatum(p->id);
		values[1] = Int64GetDatum(used);
		values[2] = TimestampTzGetDatum(ready);
		nulls[2] = ready <= now;
		values[3] = Int64GetDatum(p->messaging_limit);
		nulls[3] = p->messaging_limit < 0;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(antiban_open_service_window);

/*
 * antiban.open_service_window(recipient, phone_number_id, until): the
 * recipient wrote to this number, so free-form messages may follow until
 * 'until' (24 h after their message) and templates sent meanwhile do not
 * count against the messaging limit.  From the caller's commit on.
 */
Datum
antiban_open_service_window(PG_FUNCTION_ARGS)
{
	NumbersCache *c = numbers_cache_get();
	char		recipient[RECIPIENT_MAXLEN + 1];
	CachedNumber *n;
	TimestampTz until;

	normalize_recipient_or_error(required_text_arg(fcinfo, 0, "recipient"), recipient);
	n = lookup_number_or_error(c, required_text_arg(fcinfo, 1, "phone_number_id"));
	until = PG_ARGISNULL(2) ? antiban_now() + 24 * USECS_PER_HOUR : PG_GETARG_TIMESTAMPTZ(2);
	/* Meta's window lasts 24 h from the person's message: never longer, clock skew aside */
	if (until > antiban_now() + 24 * USECS_PER_HOUR + EVENT_CLOCK_SKEW_SECONDS * USECS_PER_SEC)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a customer-service window lasts at most 24 hours"),
				 errdetail("until is %s; antiban.now() is %s.", pstrdup(timestamptz_to_str(until)),
						   pstrdup(timestamptz_to_str(antiban_now()))),
				 errhint("Pass the time of the person's message plus 24 hours, or leave until out.")));
	reach_ensure_loaded(c, &c->portfolios[n->portfolio_index], antiban_now());
	reach_open_window(c->instance, n->portfolio_id, recipient, recipient_hash(recipient),
					  n->view.id, until);
	PG_RETURN_TIMESTAMPTZ(until);
}
