/*
 * reach.c
 *		What antiban knows about each person, and each portfolio's
 *		messaging limit (unique users reached per moving 24 h).
 *
 * People live in a striped slot table in shared memory, keyed by their
 * anchor (identity.c: the canonical key of the identifier they were first
 * known by): the time they were last counted against the limit, the number
 * they last talked to (sticky sender), their open service window and
 * marketing opt-out (with the time they said it).  A portfolio is reloaded
 * from antiban.recipient_reach and antiban.recipient_facts the first time
 * it is used after a restart, so the 24 h count survives restarts; those
 * rows are keyed by the identifier they were stated for, and each is folded
 * into its person's record through the links (core/recipient_state.c's
 * merge rule), so a link never rewrites them.
 *
 * Two kinds of change, two rules:
 *  - Sends (reach_record) take effect at once, whatever becomes of the
 *    transaction that decided them: the message may already be on its way,
 *    and counting it early only errs on the safe side.  They are written
 *    behind by the journal, to antiban.recipient_reach only.
 *  - Facts a transaction states (an opt-out, a service window) and links
 *    between identifiers follow that transaction: recipient_facts.c writes
 *    the row in it and applies them here at commit (reach_apply_fact,
 *    reach_apply_link), never on abort.  A link merges the record of the
 *    identifier's old anchor into its new one.
 *
 * Every key carries the clock domain (clock.c): a session that pinned the
 * clock itself works on a copy of this state that real-clock sessions and
 * the workers never see, and nothing it records is written to the tables.
 *
 * Lock order: a portfolio's lock, then a recipient stripe or a link stripe
 * (never two stripes at once).  Nothing takes them the other way round.
 * Whatever resolves an identifier and then writes a record does both under
 * the portfolio's lock, so a link applied meanwhile can not leave the write
 * on a record it just merged away.
 */
#include "pg/antiban.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/spin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "core/event_time.h"
#include "core/reach_window.h"
#include "core/recipient_match.h"
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
	pg_atomic_uint32 consent_spilled;	/* see note_spill() */
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

/* A person's links are part of what is known about them: identity.c's table rides along. */
Size
reach_shmem_size(void)
{
	return add_size(add_size(slot_table_memory(RECIPIENT_STRIPES, stripe_slots(), sizeof(RecipientKey),
											   sizeof(RecipientState)),
							 portfolios_size()),
					identity_shmem_size());
}

void
reach_request_locks(void)
{
	RequestNamedLWLockTranche("antiban_recipients", RECIPIENT_STRIPES);
	RequestNamedLWLockTranche("antiban_portfolios", antiban_max_portfolios + PINNED_PORTFOLIOS);
	identity_request_locks();
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
	{
		memset(pools, 0, portfolios_size());
		pg_atomic_init_u32(&pools->consent_spilled, 0);
	}
	recipient_locks = GetNamedLWLockTranche("antiban_recipients");
	portfolio_locks = GetNamedLWLockTranche("antiban_portfolios");
	identity_shmem_init();
}

static uint64
record_hash(const RecipientKey *k)
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
	int64		best;			/* the highest score seen: the victim's */
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
	VictimArg  *va = arg;
	int64		score;
	int64		newest = Max(Max(rs->last_sent, rs->last_reach),
							 Max(rs->window_until, rs->marketing_not_before));

	if (k->domain != (uint32) va->domain)
		score = va->domain == CLOCK_PINNED ? -1 : PG_INT64_MAX;

	/*
	 * Forgetting an opt-out would let marketing reach someone who said stop,
	 * forgetting an opt-in would reject marketing they asked for: only when
	 * nothing else in the stripe can go, and then decisions read consent
	 * from the tables too (note_spill).
	 */
	else if (rs->opted_out || recipient_state_opt_in_live(rs))
		score = 0;
	/* Forgetting a counted recipient only over-counts: safe, but after the rest. */
	else
		score = Max(va->now - newest, 1);
	va->best = Max(va->best, score);
	return score;
}

/*
 * Shared memory could not keep something a consent rule needs (an opted-out
 * record evicted, a link or a merge that found no room): from now on until
 * the next restart, marketing decisions also read consent from the tables
 * (reach_consent_from_tables), slower but never wrong.  Must not throw.
 */
static void
note_spill(const char *what)
{
	if (pg_atomic_exchange_u32(&pools->consent_spilled, 1) == 0)
		ereport(WARNING,
				(errmsg("antiban: shared memory has no room for %s", what),
				 errdetail("Marketing decisions now also read consent from antiban.recipient_facts and antiban.person_ids, until the next restart."),
				 errhint("Raise antiban.max_recipients and restart the server.")));
}

/* Has shared memory lost a consent fact since the server started? */
bool
reach_consent_spilled(void)
{
	return pools != NULL && pg_atomic_read_u32(&pools->consent_spilled) != 0;
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

/* ---- people ---- */

static RecipientKey
recipient_key(ClockDomain domain, Oid instance, int64 portfolio_id, uint64 anchor)
{
	RecipientKey key = {instance, (uint32) domain, portfolio_id, anchor};

	return key;
}

/* A person's record as shared memory holds it, or false (and a fresh one). */
bool
reach_peek(ClockDomain domain, Oid instance, int64 portfolio_id, uint64 anchor,
		   RecipientState *out)
{
	RecipientKey key = recipient_key(domain, instance, portfolio_id, anchor);
	uint64		h = record_hash(&key);
	RecipientState *rs;

	LWLockAcquire(stripe_lock(h), LW_SHARED);
	rs = slot_table_find(&recipient_table, h, &key);
	if (rs)
		*out = *rs;
	else
		recipient_state_init(out);
	LWLockRelease(stripe_lock(h));
	return rs != NULL;
}

/*
 * What this transaction sees of the person an identifier names: shared
 * memory (in its clock domain) with its own uncommitted links and facts
 * laid over it.  *anchor is the person's anchor, which the pair buckets are
 * keyed by too.  Returns whether shared memory knew them.
 */
bool
reach_get(Oid instance, int64 portfolio_id, uint64 key_hash, RecipientState *out,
		  uint64 *anchor)
{
	ClockDomain domain = antiban_clock_domain();
	bool		known;

	*anchor = identity_anchor(domain, instance, portfolio_id, key_hash);
	known = reach_peek(domain, instance, portfolio_id, *anchor, out);
	recipient_facts_overlay(domain, instance, portfolio_id, *anchor, out);
	return known;
}

/*
 * Find or create.  NULL when the stripe can not make room: never in the
 * real domain; in the pinned one when the stripe is full of real recipients.
 */
static RecipientState *
state_for_update(const RecipientKey *key, uint64 h, TimestampTz now)
{
	RecipientState *rs = slot_table_find(&recipient_table, h, key);
	VictimArg	arg = {now, (ClockDomain) key->domain, -1};

	if (rs == NULL)
	{
		rs = slot_table_insert(&recipient_table, h, key, recipient_victim_score, &arg);
		if (rs)
			recipient_state_init(rs);
		/* the victim is the best score: 0 is an opted-out person's */
		if (arg.best == 0)
			note_spill("every opted-out person");
	}
	return rs;
}

/* The anchor shared memory knows for a key (writers: under the portfolio's lock). */
static uint64
shared_anchor(ClockDomain domain, Oid instance, int64 portfolio_id, uint64 key_hash)
{
	uint64		anchor;

	return identity_lookup(domain, instance, portfolio_id, key_hash, &anchor) ? anchor : key_hash;
}

/* Sends only: opt-outs and windows are written by the transaction that states them. */
static void
journal_state(Oid instance, int64 portfolio_id, const char *key, const RecipientState *rs)
{
	JournalRecipient r = {
		.portfolio_id = portfolio_id,
		.last_number_id = rs->last_number_id,
		.last_sent = rs->last_sent,
		.last_reach = rs->last_reach,
	};

	strlcpy(r.recipient, key, sizeof(r.recipient));
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
 * Record a send from 'number_id' to a person (an identifier's canonical
 * key and its hash): counted against the portfolio's limit when 'counts'
 * (a business-initiated template outside a service window), remembered
 * as their sticky sender and, for marketing and utility, in the log the
 * frequency caps read.  Returns false, changing nothing, when the limit
 * filled up since reach_admits() said yes.
 *
 * Immediate, not at commit: the send is made right away, and a concurrent
 * decision must see the count at once or two could both take the last
 * place.  If the transaction aborts, the count stays: conservative.  A
 * session on its own pinned clock journals nothing (its copy is not real).
 * The journal row is keyed by the identifier; a restart folds it into its
 * person through the links.
 */
bool
reach_record(Oid instance, const CachedPortfolio *p, const char *key,
			 uint64 key_hash, int64 number_id, TimestampTz now, bool counts,
			 Category category)
{
	ClockDomain domain = antiban_clock_domain();
	PortfolioSlot *slot = slot_for(instance, p->id);
	RecipientKey rkey;
	uint64		h;
	RecipientState *rs;
	RecipientState copy;
	bool		ok = true;
	bool		persist = false;

	LWLockAcquire(slot_lock(slot), LW_EXCLUSIVE);
	rkey = recipient_key(domain, instance, p->id, shared_anchor(domain, instance, p->id, key_hash));
	h = record_hash(&rkey);
	LWLockAcquire(stripe_lock(h), LW_EXCLUSIVE);
	rs = state_for_update(&rkey, h, now);
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
		/* the frequency caps count sends (rebuilt from the outbox after a restart) */
		if (category == CATEGORY_MARKETING)
			frequency_log_record(&rs->sent[CAP_MARKETING], now);
		else if (category == CATEGORY_UTILITY)
			frequency_log_record(&rs->sent[CAP_UTILITY], now);
		if (persist)
			rs->persisted_sent = now;
		copy = *rs;
	}
	LWLockRelease(stripe_lock(h));
	LWLockRelease(slot_lock(slot));
	if (persist)
		journal_state(instance, p->id, key, &copy);
	return ok;
}

/*
 * A fact laid over a person's record: at commit in shared memory, and
 * before that over this transaction's own view (core/recipient_state.c:
 * consent by event time, a window never shrinks and the latest one's
 * number wins, as webhooks arrive out of order).
 */
void
reach_fact_apply_to(RecipientState *rs, const RecipientFact *f)
{
	if (f->kind == FACT_OPT_OUT && f->opt_in)
		recipient_state_opt_in(rs, f->consent_at, f->as_of_now);
	else if (f->kind == FACT_OPT_OUT && f->as_of_now)
		recipient_state_set_consent_now(rs, f->opted_out, f->consent_at);
	else if (f->kind == FACT_OPT_OUT)
		recipient_state_set_consent(rs, f->opted_out, f->consent_at);
	else if (f->kind == FACT_MARKETING_DEFER)
		recipient_state_defer_marketing(rs, f->marketing_not_before);
	else if (f->kind == FACT_TIME_ZONE)
		recipient_state_set_time_zone(rs, f->time_zone, f->noted_at);
	else if (f->kind == FACT_WINDOW)
		recipient_state_open_window(rs, f->window_until, f->window_number_id);
}

/*
 * Apply a committed fact to shared memory, on the record of the person its
 * identifier names now.  Runs in the commit callback: must not throw.
 * Returns false when there was no room (pinned domain only).  The
 * portfolio's lock (shared) keeps a link from moving the record meanwhile.
 */
bool
reach_apply_fact(const RecipientFact *f)
{
	PortfolioSlot *slot = find_slot(f->domain, f->instance, f->portfolio_id);
	RecipientKey key;
	uint64		h;
	RecipientState *rs;

	if (slot)
		LWLockAcquire(slot_lock(slot), LW_SHARED);
	key = recipient_key(f->domain, f->instance, f->portfolio_id,
						shared_anchor(f->domain, f->instance, f->portfolio_id, f->key_hash));
	h = record_hash(&key);
	LWLockAcquire(stripe_lock(h), LW_EXCLUSIVE);
	rs = state_for_update(&key, h, f->noted_at);
	if (rs)
		reach_fact_apply_to(rs, f);
	LWLockRelease(stripe_lock(h));
	if (slot)
		LWLockRelease(slot_lock(slot));
	return rs != NULL;
}

/*
 * Fold a record into a person's, in place.  A person is counted once
 * against the limit: when both records are counted, the older count goes.
 * 'from_counted' says whether from's reach is already in the window (a
 * record in shared memory) or not yet (a row being loaded).
 */
static void
absorb(PortfolioSlot *slot, RecipientState *into, const RecipientState *from, bool from_counted)
{
	ReachWindow *w = &slot->window;
	bool		into_counts = reach_window_counts(w, into->last_reach);
	bool		from_counts = reach_window_counts(w, from->last_reach);

	if (from_counts && !from_counted)
		reach_window_restore(w, from->last_reach);
	if (into_counts && from_counts)
		reach_window_forget(w, Min(into->last_reach, from->last_reach));
	recipient_state_merge(into, from);
}

/* Merge 'from' into the record of 'anchor' (portfolio lock held). */
static bool
absorb_into(PortfolioSlot *slot, uint64 anchor, const RecipientState *from, bool from_counted,
			TimestampTz now)
{
	RecipientKey key = recipient_key((ClockDomain) slot->domain, slot->instance,
									 slot->portfolio_id, anchor);
	uint64		h = record_hash(&key);
	RecipientState *rs;

	LWLockAcquire(stripe_lock(h), LW_EXCLUSIVE);
	rs = state_for_update(&key, h, now);
	if (rs)
		absorb(slot, rs, from, from_counted);
	LWLockRelease(stripe_lock(h));
	return rs != NULL;
}

/*
 * One identifier now names the person known by f->anchor, in one domain:
 * the record of its old anchor joins the new one, then the link changes
 * and the old record goes.  In that order, so that a decision reading at
 * any instant finds what the old record held in one place or the other.
 */
static void
move_in_domain(PortfolioSlot *slot, const RecipientFact *f)
{
	ClockDomain domain = (ClockDomain) slot->domain;
	uint64		old = shared_anchor(domain, f->instance, f->portfolio_id, f->key_hash);
	RecipientKey oldkey = recipient_key(domain, f->instance, f->portfolio_id, old);
	uint64		h = record_hash(&oldkey);
	RecipientState *found;
	RecipientState from;
	bool		had;

	LWLockAcquire(stripe_lock(h), LW_SHARED);
	found = slot_table_find(&recipient_table, h, &oldkey);
	had = found != NULL;
	if (had)
		from = *found;
	LWLockRelease(stripe_lock(h));
	if (old != f->anchor && had && !absorb_into(slot, f->anchor, &from, true, f->noted_at))
		note_spill("a merge of two records of one person");
	if (!identity_set(domain, f->instance, f->portfolio_id, f->key_hash, f->anchor))
	{
		note_spill("every linked identifier");
		return;
	}
	if (old != f->anchor && had)
	{
		RecipientState *rs;

		LWLockAcquire(stripe_lock(h), LW_EXCLUSIVE);
		rs = slot_table_find(&recipient_table, h, &oldkey);
		if (rs)
			slot_table_remove(&recipient_table, rs);
		LWLockRelease(stripe_lock(h));
	}
}

/*
 * Apply a committed link in every clock domain that has loaded the
 * portfolio (one that has not will read it from antiban.person_ids).
 * Runs in the commit callback: must not throw.
 */
void
reach_apply_link(const RecipientFact *f)
{
	ClockDomain domains[2] = {CLOCK_REAL, CLOCK_PINNED};

	for (int i = 0; i < 2; i++)
	{
		PortfolioSlot *slot = find_slot(domains[i], f->instance, f->portfolio_id);

		if (slot == NULL)
			continue;
		LWLockAcquire(slot_lock(slot), LW_EXCLUSIVE);
		if (pg_atomic_read_u32(&slot->loaded))
			move_in_domain(slot, f);
		LWLockRelease(slot_lock(slot));
	}
}

static RecipientFact
fact_for(Oid instance, int64 portfolio_id, uint64 key_hash, FactKind kind)
{
	RecipientFact f = {.kind = kind, .domain = antiban_clock_domain(), .instance = instance,
	.portfolio_id = portfolio_id, .key_hash = key_hash, .noted_at = antiban_now()};

	return f;
}

/*
 * A person wrote to 'number_id': free-form replies are allowed until
 * 'until'.  Takes effect when the caller's transaction commits.
 */
void
reach_open_window(Oid instance, int64 portfolio_id, const char *key,
				  uint64 key_hash, int64 number_id, TimestampTz until)
{
	RecipientFact f = fact_for(instance, portfolio_id, key_hash, FACT_WINDOW);

	f.window_until = until;
	f.window_number_id = number_id;
	recipient_fact_note(&f, key);
}

static void
note_consent_fact(Oid instance, int64 portfolio_id, const char *key, uint64 key_hash,
				  bool opted_out, bool opt_in, TimestampTz at, bool as_of_now)
{
	RecipientFact f = fact_for(instance, portfolio_id, key_hash, FACT_OPT_OUT);

	f.opted_out = opted_out;
	f.opt_in = opt_in;
	f.consent_at = at;
	f.as_of_now = as_of_now;
	recipient_fact_note(&f, key);
}

/*
 * Marketing consent: the person said stop (or resume) at 'at' (as_of_now:
 * someone states it now, winning a tie).  An older statement than the one
 * in force changes nothing.  Takes effect when the caller's transaction
 * commits; until then only it sees it.
 */
void
reach_set_opt_out(Oid instance, int64 portfolio_id, const char *key,
				  uint64 key_hash, bool opted_out, TimestampTz at, bool as_of_now)
{
	note_consent_fact(instance, portfolio_id, key, key_hash, opted_out, false, at, as_of_now);
}

/*
 * The person opted in to marketing at 'at' (as_of_now: recorded now): a
 * resume at that time too.  Takes effect when the caller's transaction
 * commits; until then only it sees it.
 */
void
reach_note_opt_in(Oid instance, int64 portfolio_id, const char *key,
				  uint64 key_hash, TimestampTz at, bool as_of_now)
{
	note_consent_fact(instance, portfolio_id, key, key_hash, false, true, at, as_of_now);
}

/*
 * The person's own time zone (person_time_zone.c's index; 0: none, their
 * number decides), as of now.  Takes effect when the caller's transaction
 * commits.
 */
void
reach_set_time_zone(Oid instance, int64 portfolio_id, const char *key,
					uint64 key_hash, uint16 time_zone)
{
	RecipientFact f = fact_for(instance, portfolio_id, key_hash, FACT_TIME_ZONE);

	f.time_zone = time_zone;
	recipient_fact_note(&f, key);
}

/*
 * Meta capped this person's marketing (131049): none before 'until'.
 * Takes effect when the caller's transaction commits.
 */
void
reach_defer_marketing(Oid instance, int64 portfolio_id, const char *key,
					  uint64 key_hash, TimestampTz until)
{
	RecipientFact f = fact_for(instance, portfolio_id, key_hash, FACT_MARKETING_DEFER);

	f.marketing_not_before = until;
	recipient_fact_note(&f, key);
}

/*
 * After a spill: the consent statements stored for every identifier of the
 * person 'key' names (one of them, if no link is known), folded into rs by
 * the rule of event time.  The caller's own uncommitted rows count too.
 */
static const char *const spilled_consent_sql =
"SELECT f.marketing_opt_out, f.consent_at FROM antiban.recipient_facts f"
" WHERE f.portfolio_id = $1 AND (f.marketing_opt_out OR f.consent_at IS NOT NULL)"
"   AND f.recipient IN (SELECT $2 UNION ALL"
"                       SELECT i.key FROM antiban.person_ids i"
"                       WHERE i.portfolio_id = $1 AND i.person_id ="
"                             (SELECT j.person_id FROM antiban.person_ids j"
"                              WHERE j.portfolio_id = $1 AND j.key = $2))";

void
reach_consent_from_tables(int64 portfolio_id, const char *key, RecipientState *rs)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		args[2] = {Int64GetDatum(portfolio_id), CStringGetTextDatum(key)};
	Privileged	priv;

	privileged_begin(&priv);
	SPI_connect();
	if (plan == NULL)
		plan = privileged_prepare(spilled_consent_sql, 2, types);
	if (SPI_execute_plan(plan, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not read consent from antiban.recipient_facts");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		bool		stop = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		Datum		at = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull);

		recipient_state_set_consent(rs, stop, isnull ? CONSENT_NEVER : DatumGetTimestampTz(at));
	}
	SPI_finish();
	privileged_end(&priv);
}

/* ---- loading a portfolio after a restart ---- */

/*
 * What still matters at 'now' ($2).  A send or a window stamped after now
 * was made on a clock ahead of this one (a server pinned in the future and
 * since unpinned, a clock stepped back): ignored, for counting it would
 * hold the limit or a window for years.  Consent is not about time and is
 * always kept: stops, and resumes too, for a resume under one identifier
 * may be newer than a stop under another of the same person.
 */
static const char *const load_sql =
"SELECT recipient, coalesce(r.last_number_id, 0), r.last_sent_at, r.last_reached_at,"
" f.window_until, coalesce(f.window_number_id, 0), coalesce(f.marketing_opt_out, false),"
" f.consent_at, f.marketing_opt_out IS NOT NULL AND (f.marketing_opt_out OR f.consent_at IS NOT NULL),"
" f.marketing_not_before, f.opt_in_at, f.last_stop_at, f.time_zone, f.time_zone_at"
" FROM (SELECT recipient, last_number_id, last_sent_at, last_reached_at"
"       FROM antiban.recipient_reach"
"       WHERE portfolio_id = $1"
"         AND greatest(last_sent_at, last_reached_at) <= $2"
"         AND (last_reached_at > $2 - interval '1441 minutes'"
"              OR last_sent_at > $2 - make_interval(secs => $3))) r"
" FULL JOIN"
"      (SELECT recipient, marketing_opt_out, consent_at, opt_in_at, last_stop_at, time_zone, time_zone_at,"
"              CASE WHEN window_opened_at <= $2 THEN window_until END AS window_until,"
"              CASE WHEN window_opened_at <= $2 THEN window_number_id END AS window_number_id,"
"              CASE WHEN marketing_not_before > $2 THEN marketing_not_before END AS marketing_not_before"
"       FROM antiban.recipient_facts"
"       WHERE portfolio_id = $1"
"         AND (marketing_opt_out OR consent_at IS NOT NULL OR marketing_not_before > $2"
"              OR opt_in_at IS NOT NULL OR time_zone_at IS NOT NULL"
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

/* One stored row, as a record of its own. */
static void
row_state(HeapTuple t, TupleDesc d, RecipientState *rs)
{
	bool		isnull;

	recipient_state_init(rs);
	rs->last_number_id = DatumGetInt64(SPI_getbinval(t, d, 2, &isnull));
	rs->last_sent = rs->persisted_sent = ts_col(t, d, 3, 0);
	rs->last_reach = ts_col(t, d, 4, REACH_NEVER);
	rs->window_until = ts_col(t, d, 5, 0);
	rs->window_number_id = DatumGetInt64(SPI_getbinval(t, d, 6, &isnull));
	if (DatumGetBool(SPI_getbinval(t, d, 9, &isnull)))
		recipient_state_set_consent(rs, DatumGetBool(SPI_getbinval(t, d, 7, &isnull)),
									ts_col(t, d, 8, CONSENT_NEVER));
	recipient_state_defer_marketing(rs, ts_col(t, d, 10, 0));
	rs->opt_in_at = ts_col(t, d, 11, CONSENT_NEVER);
	rs->stop_at = Max(rs->stop_at, ts_col(t, d, 12, CONSENT_NEVER));
	if (!heap_attisnull(t, 14, d))
	{
		char	   *zone = SPI_getvalue(t, d, 13);

		recipient_state_set_time_zone(rs, zone ? person_zone_index(zone) : 0, ts_col(t, d, 14, 0));
	}
}

/*
 * Fold a row into its person's record.  Rows are keyed by the identifier
 * they were stated for (older ones maybe not in canonical form): the
 * person is found through the links loaded just before.
 */
static void
restore_row(Oid instance, PortfolioSlot *slot, HeapTuple t, TupleDesc d, TimestampTz now)
{
	char	   *recipient = SPI_getvalue(t, d, 1);
	char		key[RECIPIENT_KEY_SIZE];
	uint64		kh;
	RecipientState rs;

	if (!identity_key(recipient, key, &kh))
		kh = recipient_hash(recipient);
	row_state(t, d, &rs);
	absorb_into(slot, shared_anchor((ClockDomain) slot->domain, instance, slot->portfolio_id, kh),
				&rs, false, now);
}

/*
 * The sends the frequency caps count, newest first per recipient and
 * category, as the outbox remembers them: a message counts from its claim
 * (sending_at) unless it never left (failed, dead...).
 */
static const char *const sends_sql =
"SELECT recipient, category = 'marketing', array_agg(at ORDER BY at DESC)"
" FROM (SELECT recipient, category, sending_at AS at,"
"              row_number() OVER (PARTITION BY recipient, category ORDER BY sending_at DESC) AS n"
"       FROM antiban.outbox"
"       WHERE portfolio_id = $1 AND category IN ('marketing', 'utility')"
"         AND state IN ('sending', 'sent', 'delivered', 'read', 'unknown')"
"         AND sending_at > $2 - make_interval(secs => $3) AND sending_at <= $2"
"         AND recipient IS NOT NULL) s"
" WHERE n <= $4"
" GROUP BY recipient, category";

/* Fold each recipient's recent sends into their person's log. */
static void
load_sends(Oid instance, PortfolioSlot *slot, TimestampTz now)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[4] = {INT8OID, TIMESTAMPTZOID, FLOAT8OID, INT4OID};
	Datum		args[4] = {Int64GetDatum(slot->portfolio_id), TimestampTzGetDatum(now),
		Float8GetDatum((double) frequency_cap_horizon() / USECS_PER_SEC), Int32GetDatum(FREQUENCY_LOG_SIZE)};

	if (plan == NULL)
		plan = privileged_prepare(sends_sql, 4, types);
	if (SPI_execute_plan(plan, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not read the recent sends from antiban.outbox");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		char	   *recipient = SPI_getvalue(t, d, 1);
		bool		isnull;
		bool		marketing = DatumGetBool(SPI_getbinval(t, d, 2, &isnull));
		ArrayType  *times = DatumGetArrayTypeP(SPI_getbinval(t, d, 3, &isnull));
		Datum	   *elems;
		int			nelems;
		char		key[RECIPIENT_KEY_SIZE];
		uint64		kh;
		RecipientState rs;

		if (!identity_key(recipient, key, &kh))
			continue;
		recipient_state_init(&rs);
		deconstruct_array(times, TIMESTAMPTZOID, sizeof(TimestampTz), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
						  &elems, NULL, &nelems);
		for (int e = 0; e < nelems; e++)
			frequency_log_record(&rs.sent[marketing ? CAP_MARKETING : CAP_UTILITY],
								 DatumGetTimestampTz(elems[e]));
		absorb_into(slot, shared_anchor((ClockDomain) slot->domain, instance, slot->portfolio_id, kh),
					&rs, false, now);
	}
}

static void
load_rows(Oid instance, PortfolioSlot *slot, TimestampTz now)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[4] = {INT8OID, TIMESTAMPTZOID, FLOAT8OID, INT8OID};
	Datum		args[4] = {Int64GetDatum(slot->portfolio_id), TimestampTzGetDatum(now),
	Float8GetDatum((double) antiban_sticky_ttl_s), Int64GetDatum(antiban_max_recipients)};

	identity_load((ClockDomain) slot->domain, instance, slot->portfolio_id);
	if (plan == NULL)
		plan = privileged_prepare(load_sql, 4, types);
	if (SPI_execute_plan(plan, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not read antiban.recipient_reach and recipient_facts");
	reach_window_init(&slot->window, now);
	for (uint64 i = 0; i < SPI_processed; i++)
		restore_row(instance, slot, SPI_tuptable->vals[i], SPI_tuptable->tupdesc, now);
	load_sends(instance, slot, now);
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

/*
 * antiban.portfolio_usage(): unique users counted per portfolio right now (in
 * this session's clock domain).  A role mapped to portfolios gets its own
 * portfolios' rows only (GetUserId(): the caller, or antiban_owner inside
 * antiban's own SECURITY DEFINER code, which campaign pacing runs in).
 */
Datum
antiban_portfolio_usage(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	NumbersCache *c = numbers_cache_get();
	TimestampTz now = antiban_now();
	bool	   *allowed;
	bool		restricted = tenancy_scope_of(c, GetUserId(), &allowed);

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < c->nportfolios; i++)
	{
		CachedPortfolio *p = &c->portfolios[i];
		PortfolioSlot *slot;
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};
		int64		used;
		TimestampTz ready;

		if (restricted && !allowed[i])
			continue;
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

/*
 * The SQL face of a fact: the person argument 0 names in the portfolio of
 * the number argument 1 names (loaded), as a canonical key and its hash.
 * The number must be one of the caller's portfolios (a mapped app may not
 * record consent or move quiet hours in another's).
 */
CachedNumber *
reach_fact_args(FunctionCallInfo fcinfo, NumbersCache *c, char *key, uint64 *key_hash)
{
	char		normalized[RECIPIENT_MAXLEN + 1];
	CachedNumber *n;

	recipient_key_or_error(required_text_arg(fcinfo, 0, "recipient"), normalized, key, key_hash);
	n = tenancy_caller_number(c, GetUserId(), required_text_arg(fcinfo, 1, "phone_number_id"));
	reach_ensure_loaded(c, &c->portfolios[n->portfolio_index], antiban_now());
	return n;
}

PG_FUNCTION_INFO_V1(antiban_open_service_window);

/*
 * antiban.open_service_window(recipient, phone_number_id, until): the
 * person wrote to this number, so free-form messages may follow until
 * 'until' (24 h after their message) and templates sent meanwhile do not
 * count against the messaging limit.  From the caller's commit on.
 */
Datum
antiban_open_service_window(PG_FUNCTION_ARGS)
{
	NumbersCache *c = numbers_cache_get();
	char		key[RECIPIENT_KEY_SIZE];
	uint64		kh;
	CachedNumber *n = reach_fact_args(fcinfo, c, key, &kh);
	TimestampTz until = PG_ARGISNULL(2) ? antiban_now() + 24 * USECS_PER_HOUR : PG_GETARG_TIMESTAMPTZ(2);

	/* Meta's window lasts 24 h from the person's message: never longer, clock skew aside */
	if (until > antiban_now() + 24 * USECS_PER_HOUR + EVENT_CLOCK_SKEW_SECONDS * USECS_PER_SEC)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a customer-service window lasts at most 24 hours"),
				 errdetail("until is %s; antiban.now() is %s.", pstrdup(timestamptz_to_str(until)),
						   pstrdup(timestamptz_to_str(antiban_now()))),
				 errhint("Pass the time of the person's message plus 24 hours, or leave until out.")));
	reach_open_window(c->instance, n->portfolio_id, key, kh, n->view.id, until);
	PG_RETURN_TIMESTAMPTZ(until);
}

PG_FUNCTION_INFO_V1(antiban_set_marketing_opt_out);

/*
 * antiban.set_marketing_opt_out(recipient, phone_number_id, opted_out
 * [, at [, channel]]): the person, in the portfolio of this number, said
 * stop (or resume) at 'at' (default: as of antiban.now()), through
 * 'channel' (default operator).  The latest statement wins whatever order
 * they arrive in; from the caller's commit on.
 */
Datum
antiban_set_marketing_opt_out(PG_FUNCTION_ARGS)
{
	NumbersCache *c = numbers_cache_get();
	char		key[RECIPIENT_KEY_SIZE];
	uint64		kh;
	CachedNumber *n = reach_fact_args(fcinfo, c, key, &kh);
	bool		opted_out = PG_ARGISNULL(2) ? true : PG_GETARG_BOOL(2);
	bool		as_of_now = PG_NARGS() <= 3 || PG_ARGISNULL(3);
	TimestampTz at = as_of_now ? antiban_now() : PG_GETARG_TIMESTAMPTZ(3);
	const char *channel = PG_NARGS() <= 4 || PG_ARGISNULL(4) ? "operator" :
		text_to_cstring(PG_GETARG_TEXT_PP(4));

	if (!as_of_now && !opted_out)
		consent_check_stated_at(at, "a resume");
	/* the registry, the contact and (at commit) shared memory: consent.c */
	consent_register(n->portfolio_id, key, opted_out ? "opt_out" : "resume", at, as_of_now,
					 channel, NULL);
	reach_set_opt_out(c->instance, n->portfolio_id, key, kh, opted_out, at, as_of_now);
	PG_RETURN_BOOL(opted_out);
}
