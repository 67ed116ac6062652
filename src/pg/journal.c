/*
 * journal.c
 *		Write-behind journal: decision-log rows and recipients' sends.
 *
 * Every decision is logged, but a commit per decision would cost more than
 * the decision itself.  Backends append fixed-size records to a bounded
 * lock-free ring in shared memory (Vyukov's MPMC queue: one CAS to claim a
 * slot, a sequence number to publish it); the journal writer worker drains
 * it into tables every antiban.journal_flush_interval.  Nothing is dropped:
 * when the ring is full, or the backend is not in antiban.database_name
 * (where the writer runs), the record is written directly, in the caller's
 * own transaction (and so goes if that transaction aborts).  What a crash
 * can lose is the last flush interval of log rows; outbox rows, which are
 * the messages themselves, are never here.  The writer stores each batch in
 * a subtransaction: one the tables refuse is stored record by record, and
 * only the records refused alone are dropped; one they do not take now is
 * carried over to its next flush (store_batch).
 *
 * Only sends (antiban.recipient_reach) come through here: opt-outs and
 * service windows are written by the transaction that states them.  A
 * session on its own pinned clock (clock.c) journals its decisions, stamped
 * with its pinned time, but no sends: those stay in its own copy of shared
 * memory, so that no real-clock session ever loads them.
 */
#include "pg/antiban.h"

#include "access/xact.h"
#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "funcapi.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "pg/privileged.h"
#include "pg/subxact.h"

#define JOURNAL_DECISION	1
#define JOURNAL_RECIPIENT	2
/* Records per INSERT statement when flushing. */
#define FLUSH_BATCH			4096

typedef struct JournalEntry
{
	pg_atomic_uint64 sequence;
	uint32		instance;
	uint32		kind;
	union
	{
		JournalDecision decision;
		JournalRecipient recipient;
	}			u;
} JournalEntry;

typedef struct JournalRing
{
	pg_atomic_uint64 head;		/* next position producers claim */
	pg_atomic_uint64 tail;		/* next position the flusher reads */
	pg_atomic_uint64 direct_writes; /* records that bypassed the ring */
	pg_atomic_uint64 flushed;
	/*
	 * What the journal writer holds in a transaction not yet ended: its xid
	 * (invalid: nothing) and the lowest ring position it took there (0: a
	 * batch carried over from an earlier flush), both set under flush_lock;
	 * and whether its last flush left a batch carried over.
	 */
	pg_atomic_uint32 writer_xid;
	uint64		writer_from;
	pg_atomic_uint32 writer_carrying;
	Latch	   *writer_latch;
	uint64		mask;
	JournalEntry entries[FLEXIBLE_ARRAY_MEMBER];
} JournalRing;

static JournalRing *ring = NULL;
static LWLock *flush_lock = NULL;
static Oid	journal_database = InvalidOid;

static uint64
ring_size(void)
{
	return pg_nextpower2_32((uint32) antiban_journal_size);
}

Size
journal_shmem_size(void)
{
	return add_size(offsetof(JournalRing, entries), mul_size(sizeof(JournalEntry), ring_size()));
}

void
journal_request_locks(void)
{
	RequestNamedLWLockTranche("antiban_journal", 1);
}

void
journal_shmem_init(void)
{
	bool		found;

	ring = antiban_shmem_region("antiban journal", journal_shmem_size(), &found);
	if (!found)
	{
		ring->mask = ring_size() - 1;
		pg_atomic_init_u64(&ring->head, 0);
		pg_atomic_init_u64(&ring->tail, 0);
		pg_atomic_init_u64(&ring->direct_writes, 0);
		pg_atomic_init_u64(&ring->flushed, 0);
		pg_atomic_init_u32(&ring->writer_xid, InvalidTransactionId);
		ring->writer_from = 0;
		pg_atomic_init_u32(&ring->writer_carrying, 0);
		ring->writer_latch = NULL;
		for (uint64 i = 0; i <= ring->mask; i++)
			pg_atomic_init_u64(&ring->entries[i].sequence, i);
	}
	flush_lock = &GetNamedLWLockTranche("antiban_journal")->lock;
}

/* The writer's transaction has ended: what it took is stored or carried. */
void
journal_writer_committed(void)
{
	pg_atomic_write_u32(&ring->writer_xid, InvalidTransactionId);
}

/* The writer exits, even on an error: it holds nothing any more. */
static void
writer_gone(int code, Datum arg)
{
	journal_writer_committed();
}

void
journal_set_writer_latch(Latch *latch)
{
	ring->writer_latch = latch;
	if (latch != NULL)
		before_shmem_exit(writer_gone, (Datum) 0);
}

/* Claim a slot, or NULL when the ring is full. */
static JournalEntry *
ring_claim(uint64 *position)
{
	for (;;)
	{
		uint64		pos = pg_atomic_read_u64(&ring->head);
		JournalEntry *e = &ring->entries[pos & ring->mask];
		int64		lag = (int64) (pg_atomic_read_u64(&e->sequence) - pos);

		if (lag < 0)
			return NULL;
		if (lag == 0 && pg_atomic_compare_exchange_u64(&ring->head, &pos, pos + 1))
		{
			*position = pos;
			return e;
		}
	}
}

static void
ring_publish(JournalEntry *e, uint64 pos)
{
	pg_write_barrier();
	pg_atomic_write_u64(&e->sequence, pos + 1);
	/* wake the writer early when half full, so the ring rarely overflows */
	if (pos - pg_atomic_read_u64(&ring->tail) > (ring->mask + 1) / 2 && ring->writer_latch)
		SetLatch(ring->writer_latch);
}

/* Only backends in the writer's database may use the ring. */
static bool
ring_usable(void)
{
	if (!OidIsValid(journal_database) && IsTransactionState())
		journal_database = get_database_oid(antiban_database_name, true);
	return MyDatabaseId == journal_database && OidIsValid(MyDatabaseId);
}

static void write_direct(Oid instance, uint32 kind, const void *record);

static void
journal_append(Oid instance, uint32 kind, const void *record, Size size)
{
	uint64		pos;
	JournalEntry *e = ring_usable() ? ring_claim(&pos) : NULL;

	if (e == NULL)
	{
		pg_atomic_fetch_add_u64(&ring->direct_writes, 1);
		write_direct(instance, kind, record);
		return;
	}
	e->instance = instance;
	e->kind = kind;
	memcpy(&e->u, record, size);
	ring_publish(e, pos);
}

void
journal_log_decision(Oid instance, const JournalDecision *d)
{
	journal_append(instance, JOURNAL_DECISION, d, sizeof(*d));
}

void
journal_log_recipient(Oid instance, const JournalRecipient *r)
{
	journal_append(instance, JOURNAL_RECIPIENT, r, sizeof(*r));
}

/* ---- draining ---- */

typedef struct Batch
{
	int			ndecisions;
	int			nrecipients;
	JournalDecision *decisions;
	JournalRecipient *recipients;
} Batch;

static const char *const insert_decisions_sql =
"INSERT INTO antiban.decisions (decided_at, recipient, category, priority, outcome,"
" reason, phone_number_id, not_before, consumed, detail)"
" SELECT u.d, u.r, u.c::antiban.category, u.p::antiban.priority, u.o::antiban.outcome,"
"  u.re, n.phone_number_id, u.nb, u.co, u.de"
" FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[],"
"  $6::text[], $7::int8[], $8::timestamptz[], $9::bool[], $10::text[])"
"  WITH ORDINALITY AS u(d, r, c, p, o, re, nid, nb, co, de, ord)"
" LEFT JOIN antiban.numbers n ON n.id = u.nid"
" ORDER BY u.ord";

/*
 * Sends only, into their own table: opt-outs and service windows are
 * written by the transactions that state them (recipient_facts.c), so this
 * write-behind can neither overwrite them with an older copy nor wait on, or
 * deadlock with, a transaction that holds their row.
 */
static const char *const upsert_recipients_sql =
"INSERT INTO antiban.recipient_reach AS s (portfolio_id, recipient, last_number_id,"
" last_sent_at, last_reached_at)"
" SELECT * FROM unnest($1::int8[], $2::text[], $3::int8[], $4::timestamptz[],"
"  $5::timestamptz[])"
" ON CONFLICT (portfolio_id, recipient) DO UPDATE SET"
"  last_number_id = CASE WHEN s.last_sent_at IS NULL OR excluded.last_sent_at >= s.last_sent_at"
"   THEN coalesce(excluded.last_number_id, s.last_number_id) ELSE s.last_number_id END,"
"  last_sent_at = greatest(s.last_sent_at, excluded.last_sent_at),"
"  last_reached_at = greatest(s.last_reached_at, excluded.last_reached_at),"
"  updated_at = now()";

/* Column builders: NULL where the record says "none". */
typedef struct Column
{
	Datum	   *values;
	bool	   *nulls;
	int			n;
	Oid			type;
} Column;

static Column
column_new(int n, Oid type)
{
	Column		c = {palloc(sizeof(Datum) * Max(n, 1)), palloc0(sizeof(bool) * Max(n, 1)), n, type};

	return c;
}

static Datum
column_array(Column *c)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;
	int			dims[1] = {c->n};
	int			lbs[1] = {1};

	get_typlenbyvalalign(c->type, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_md_array(c->values, c->nulls, 1, dims, lbs,
											  c->type, typlen, typbyval, typalign));
}

static void
set_text(Column *c, int i, const char *s)
{
	c->values[i] = CStringGetTextDatum(s);
}

static void
set_ts(Column *c, int i, TimestampTz t, TimestampTz none)
{
	c->values[i] = TimestampTzGetDatum(t);
	c->nulls[i] = t == none;
}

static void
set_id(Column *c, int i, int64 id)
{
	c->values[i] = Int64GetDatum(id);
	c->nulls[i] = id == 0;
}

static void
run_insert(SPIPlanPtr plan, Column *cols, int ncols)
{
	Datum		args[10];

	for (int i = 0; i < ncols; i++)
		args[i] = column_array(&cols[i]);
	if (SPI_execute_plan(plan, args, NULL, false, 0) < 0)
		elog(ERROR, "antiban: journal insert failed");
}

static void
insert_decisions(const JournalDecision *d, int n)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[10] = {TIMESTAMPTZARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
	TEXTARRAYOID, TEXTARRAYOID, INT8ARRAYOID, TIMESTAMPTZARRAYOID, BOOLARRAYOID, TEXTARRAYOID};
	Oid			elems[10] = {TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	INT8OID, TIMESTAMPTZOID, BOOLOID, TEXTOID};
	Column		c[10];

	if (n == 0 || decision_rows_insert(d, n))
		return;
	if (plan == NULL)
		plan = privileged_prepare(insert_decisions_sql, 10, types);
	for (int k = 0; k < 10; k++)
		c[k] = column_new(n, elems[k]);
	for (int i = 0; i < n; i++)
	{
		set_ts(&c[0], i, d[i].decided_at, DT_NOBEGIN);
		set_text(&c[1], i, d[i].recipient);
		set_text(&c[2], i, category_name(d[i].category));
		set_text(&c[3], i, priority_name(d[i].priority));
		set_text(&c[4], i, outcome_name(d[i].outcome));
		set_text(&c[5], i, reason_name(d[i].reason));
		set_id(&c[6], i, d[i].number_id);
		set_ts(&c[7], i, d[i].not_before, 0);
		c[8].values[i] = BoolGetDatum(d[i].consumed);
		set_text(&c[9], i, d[i].detail);
	}
	run_insert(plan, c, 10);
}

static void
insert_recipients(const JournalRecipient *r, int n)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[5] = {INT8ARRAYOID, TEXTARRAYOID, INT8ARRAYOID, TIMESTAMPTZARRAYOID,
	TIMESTAMPTZARRAYOID};
	Oid			elems[5] = {INT8OID, TEXTOID, INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Column		c[5];

	if (n == 0 || reach_rows_upsert(r, n))
		return;
	if (plan == NULL)
		plan = privileged_prepare(upsert_recipients_sql, 5, types);
	for (int k = 0; k < 5; k++)
		c[k] = column_new(n, elems[k]);
	for (int i = 0; i < n; i++)
	{
		c[0].values[i] = Int64GetDatum(r[i].portfolio_id);
		set_text(&c[1], i, r[i].recipient);
		set_id(&c[2], i, r[i].last_number_id);
		set_ts(&c[3], i, r[i].last_sent, 0);
		set_ts(&c[4], i, r[i].last_reach, PG_INT64_MIN);
	}
	run_insert(plan, c, 5);
}

/*
 * Store a set's decisions now, in the caller's transaction (SPI connected,
 * privileged): one multi-row write instead of a ring that a set of 100,000
 * would fill, and then one INSERT per decision.
 */
void
journal_store_decisions(const JournalDecision *d, int n)
{
	insert_decisions(d, n);
}

static int
compare_recipients(const void *a, const void *b)
{
	const JournalRecipient *x = *(const JournalRecipient *const *) a;
	const JournalRecipient *y = *(const JournalRecipient *const *) b;

	if (x->portfolio_id != y->portfolio_id)
		return x->portfolio_id < y->portfolio_id ? -1 : 1;
	return strcmp(x->recipient, y->recipient);
}

/*
 * One upsert may not touch a row twice: keep each recipient's newest record
 * (records are snapshots of a recipient's sends, so the newest one wins).
 * Sorts pointers: a record is some 300 bytes, and a batch thousands of them.
 */
static int
coalesce_recipients(JournalRecipient *r, int n)
{
	const JournalRecipient **order;
	JournalRecipient *kept;
	int			nkept = 0;

	if (n < 2)
		return n;
	order = palloc(sizeof(*order) * n);
	kept = palloc(sizeof(*kept) * n);
	for (int i = 0; i < n; i++)
		order[i] = &r[i];
	/* a stable order of arrival is lost by qsort: keep it in last_sent */
	qsort(order, n, sizeof(*order), compare_recipients);
	for (int i = 0; i < n; i++)
	{
		if (nkept > 0 && compare_recipients(&order[nkept - 1], &order[i]) == 0)
		{
			if (order[i]->last_sent >= order[nkept - 1]->last_sent)
				order[nkept - 1] = order[i];
			continue;
		}
		order[nkept++] = order[i];
	}
	for (int i = 0; i < nkept; i++)
		kept[i] = *order[i];
	memcpy(r, kept, sizeof(*kept) * nkept);
	pfree(order);
	pfree(kept);
	return nkept;
}

static void
write_batch(Batch *b)
{
	Privileged	priv;

	privileged_begin(&priv);
	SPI_connect();
	insert_decisions(b->decisions, b->ndecisions);
	b->nrecipients = coalesce_recipients(b->recipients, b->nrecipients);
	insert_recipients(b->recipients, b->nrecipients);
	SPI_finish();
	privileged_end(&priv);
}

static void
batch_add(Batch *b, uint32 kind, const void *record)
{
	if (kind == JOURNAL_DECISION)
		b->decisions[b->ndecisions++] = *(const JournalDecision *) record;
	else
		b->recipients[b->nrecipients++] = *(const JournalRecipient *) record;
}

/*
 * Errors that say a record is refused (bad data, a constraint): classes 22
 * and 23.  Anything else (a lock not granted in time, a deadlock, a full
 * disk, a missing right) is the table's or the server's state, and says
 * nothing against the records.
 */
static bool
refused_record(int sqlerrcode)
{
	char		class0 = PGUNSIXBIT(sqlerrcode),
				class1 = PGUNSIXBIT(sqlerrcode >> 6);

	return class0 == '2' && (class1 == '2' || class1 == '3');
}

static void
write_step(void *arg)
{
	write_batch((Batch *) arg);
}

/*
 * Write a batch in a subtransaction: 0 when it is stored, else the error's
 * code, the error itself consumed (its message in *message when asked).
 */
static int
try_write(Batch *b, char **message)
{
	ErrorData  *e = subxact_run(write_step, b);
	int			code;

	if (e == NULL)
		return 0;
	code = e->sqlerrcode;
	if (message)
		*message = pstrdup(e->message);
	FreeErrorData(e);
	return code;
}

/*
 * The journal writer's records that could not be stored yet (a lock not
 * granted within its lock_timeout, a full disk...): kept in its own memory
 * and stored first by its next flush, which takes nothing new from the ring
 * until they are.  Never put back in the ring: a full ring would write them
 * directly, outside the subtransaction, and an error there would lose them.
 */
static Batch carry = {0, 0, NULL, NULL};
static Oid	carry_instance = InvalidOid;

static void
carry_over(const Batch *b, int from_decision, int from_recipient, Oid instance)
{
	if (carry.decisions == NULL)
	{
		carry.decisions = MemoryContextAlloc(TopMemoryContext, sizeof(JournalDecision) * FLUSH_BATCH);
		carry.recipients = MemoryContextAlloc(TopMemoryContext, sizeof(JournalRecipient) * FLUSH_BATCH);
	}
	/* (b may be carry itself: memmove) */
	carry.ndecisions = b->ndecisions - from_decision;
	carry.nrecipients = b->nrecipients - from_recipient;
	memmove(carry.decisions, b->decisions + from_decision, sizeof(JournalDecision) * carry.ndecisions);
	memmove(carry.recipients, b->recipients + from_recipient, sizeof(JournalRecipient) * carry.nrecipients);
	carry_instance = instance;
}

/*
 * Records a write refused: each alone, so that one record the tables
 * refuse (a send of a portfolio deleted meanwhile: the foreign key) does
 * not take the others with it.  A record refused alone is dropped, with a
 * warning that says why.  False when the tables stopped taking records for
 * another reason: the rest is carried over.
 */
static bool
store_one_by_one(Batch *b, Oid instance)
{
	for (int i = 0; i < b->ndecisions + b->nrecipients; i++)
	{
		bool		decision = i < b->ndecisions;
		Batch		one = {decision ? 1 : 0, decision ? 0 : 1,
			decision ? &b->decisions[i] : NULL,
		decision ? NULL : &b->recipients[i - b->ndecisions]};
		char	   *why = NULL;
		int			code = try_write(&one, &why);

		if (code == 0)
			continue;
		if (!refused_record(code))
		{
			carry_over(b, decision ? i : b->ndecisions, decision ? 0 : i - b->ndecisions, instance);
			return false;
		}
		ereport(WARNING,
				(errmsg("antiban journal: a %s record could not be stored and is dropped: %s",
						decision ? "decision" : "send", why),
				 errdetail("The other records of its batch were stored.")));
	}
	return true;
}

/*
 * The journal writer stores a batch: true when it is stored (records the
 * tables refuse dropped one by one, never the batch; a batch of an instance
 * that is gone, with DROP EXTENSION, discarded); false when the tables do
 * not take records for now: the batch is carried over to the next flush.
 */
static bool
store_batch(Batch *b, Oid instance)
{
	int			code = try_write(b, NULL);

	if (code == 0)
		return true;
	if (get_extension_oid("antiban", true) != instance)
		return true;
	if (!refused_record(code))
	{
		carry_over(b, 0, 0, instance);
		return false;
	}
	return store_one_by_one(b, instance);
}

/* The ring is full or unusable here: write this one record now. */
static void
write_direct(Oid instance, uint32 kind, const void *record)
{
	JournalDecision d;
	JournalRecipient r;
	Batch		b = {0, 0, &d, &r};

	batch_add(&b, kind, record);
	write_batch(&b);
}

/*
 * The writer is about to hold records from ring position 'from' on (0: a
 * carried batch) in this transaction: say so, with flush_lock held, unless
 * it already did.  The xid was assigned before the lock (writer_will_hold),
 * except when records arrived in between.
 */
static void
writer_holds(uint64 from)
{
	if (!TransactionIdIsValid(pg_atomic_read_u32(&ring->writer_xid)))
	{
		ring->writer_from = from;
		pg_atomic_write_u32(&ring->writer_xid, GetTopTransactionId());
	}
}

/*
 * Assign the writer's xid outside flush_lock when it will hold records: an
 * error there (xid wraparound protection) leaves the ring untouched.  No xid
 * is spent on a tick that finds nothing.
 */
static void
writer_will_hold(void)
{
	uint64		tail = pg_atomic_read_u64(&ring->tail);

	if (carry.ndecisions + carry.nrecipients > 0 ||
		pg_atomic_read_u64(&ring->entries[tail & ring->mask].sequence) == tail + 1)
		(void) GetTopTransactionId();
}

/*
 * A backend's flush, flush_lock held: while the writer holds, in a
 * transaction not yet ended, records claimed before the call (below
 * 'before'), wait for that transaction, lock released meanwhile.  Waiting
 * before taking anything: a cancel loses no record, and the caller holds no
 * row the writer's batch may need.  A wait that ends with the batch carried
 * over (a table the writer could not lock in time: perhaps the caller's)
 * is the last: it comes with the writer's next flush.
 */
static void
wait_for_writer(uint64 *before)
{
	for (;;)
	{
		TransactionId xid = pg_atomic_read_u32(&ring->writer_xid);

		if (!TransactionIdIsValid(xid) || ring->writer_from >= *before)
			return;
		LWLockRelease(flush_lock);
		XactLockTableWait(xid, NULL, NULL, XLTW_None);
		if (pg_atomic_read_u32(&ring->writer_carrying))
			*before = 0;
		LWLockAcquire(flush_lock, LW_EXCLUSIVE);
	}
}

/*
 * Move up to FLUSH_BATCH published records of this instance into 'b'.  A
 * slot below 'claimed_before' that its producer claimed but has not
 * published yet (it is copying the record: no error can stop it) is waited
 * for, a second at most: records published after it may be older than the
 * caller's call.
 */
static int
ring_take(Batch *b, Oid instance, uint64 claimed_before)
{
	int			taken = 0;
	int			spins = 0;
	uint64		pos = pg_atomic_read_u64(&ring->tail);

	while (taken < FLUSH_BATCH)
	{
		JournalEntry *e = &ring->entries[pos & ring->mask];

		if (pg_atomic_read_u64(&e->sequence) != pos + 1)
		{
			if (pos >= claimed_before || ++spins > 10000)
				break;
			pg_usleep(100);
			continue;
		}
		pg_read_barrier();
		if (e->instance == instance)
			batch_add(b, e->kind, &e->u);
		pg_memory_barrier();
		pg_atomic_write_u64(&e->sequence, pos + ring->mask + 1);
		pos++;
		taken++;
	}
	pg_atomic_write_u64(&ring->tail, pos);
	return taken;
}

/*
 * Store everything published so far.  Runs inside a transaction, in the
 * journal database; concurrent callers take turns reading the ring.  Returns the
 * number of records taken from the ring.  The journal writer ('writer')
 * stores each batch in a subtransaction (store_batch) and carries over
 * what the tables do not take now, and *done says whether nothing is left;
 * a backend (antiban.flush_journal) writes in its own transaction, whose
 * error, a cancel included, is its caller's.
 */
int64
journal_flush(bool writer, bool *done)
{
	Oid			instance = get_extension_oid("antiban", true);
	Batch		b;
	int64		total = 0;
	int			taken;
	int			batches = 0;
	uint64		before;

	antiban_require_loaded();
	if (done)
		*done = true;
	if (!ring_usable())
		return 0;
	/* a backend's call: what was claimed before it */
	before = writer ? 0 : pg_atomic_read_u64(&ring->head);
	if (writer)
		writer_will_hold();
	if (writer && carry.ndecisions + carry.nrecipients > 0)
	{
		if (carry_instance == instance)
		{
			Batch		again = carry;

			LWLockAcquire(flush_lock, LW_EXCLUSIVE);
			writer_holds(0);
			LWLockRelease(flush_lock);
			carry.ndecisions = carry.nrecipients = 0;
			if (!store_batch(&again, instance))
			{
				pg_atomic_write_u32(&ring->writer_carrying, 1);
				if (done)
					*done = false;
				return 0;
			}
		}
		carry.ndecisions = carry.nrecipients = 0;
	}
	b.decisions = palloc(sizeof(JournalDecision) * FLUSH_BATCH);
	b.recipients = palloc(sizeof(JournalRecipient) * FLUSH_BATCH);
	do
	{
		/* one reader of the ring at a time; the inserts run unlocked */
		b.ndecisions = b.nrecipients = 0;
		LWLockAcquire(flush_lock, LW_EXCLUSIVE);
		if (writer)
		{
			uint64		from = pg_atomic_read_u64(&ring->tail);

			taken = ring_take(&b, instance, 0);
			if (taken > 0)
				writer_holds(from);
		}
		else
		{
			wait_for_writer(&before);
			taken = ring_take(&b, instance, before);
		}
		LWLockRelease(flush_lock);
		total += taken;
		if (!writer)
			write_batch(&b);
		else if (!store_batch(&b, instance))
		{
			if (done)
				*done = false;
			break;
		}
		/* a few subtransactions per transaction: the writer comes back at once when more wait */
	} while (taken == FLUSH_BATCH && (!writer || ++batches < 16));
	if (writer)
		pg_atomic_write_u32(&ring->writer_carrying, carry.ndecisions + carry.nrecipients > 0);
	pg_atomic_fetch_add_u64(&ring->flushed, total);
	pfree(b.decisions);
	pfree(b.recipients);
	return total;
}

PG_FUNCTION_INFO_V1(antiban_flush_journal);

/*
 * antiban.flush_journal(): store buffered decisions now (every portfolio's);
 * returns how many.
 */
Datum
antiban_flush_journal(PG_FUNCTION_ARGS)
{
	tenancy_refuse_install_wide("flush every portfolio's buffered decisions");
	PG_RETURN_INT64(journal_flush(false, NULL));
}

PG_FUNCTION_INFO_V1(antiban_journal_stats);

/*
 * antiban.journal_stats(): buffered, flushed and directly written records.
 * Install-wide figures of no portfolio (every tenant's decisions counted
 * together): a role mapped to portfolios gets NULL, as the dashboard and
 * /metrics show them to unmapped roles only.
 */
Datum
antiban_journal_stats(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[5];
	bool		nulls[5] = {0};
	static const char *const shutdown_names[] = {"unknown", "clean", "crashed"};
	uint64		head, tail;
	bool	   *allowed;

	antiban_require_loaded();
	if (tenancy_scope_of(numbers_cache_get(), GetUserId(), &allowed))
		PG_RETURN_NULL();
	head = pg_atomic_read_u64(&ring->head);
	tail = pg_atomic_read_u64(&ring->tail);
	desc = result_desc(fcinfo);
	values[0] = Int64GetDatum((int64) (head - tail));
	values[1] = Int64GetDatum((int64) (ring->mask + 1));
	values[2] = Int64GetDatum((int64) pg_atomic_read_u64(&ring->flushed));
	values[3] = Int64GetDatum((int64) pg_atomic_read_u64(&ring->direct_writes));
	values[4] = CStringGetTextDatum(shutdown_names[pg_atomic_read_u32(&antiban_shared->previous_shutdown)]);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/* ---- clean or crashed: what the next start may trust ---- */

static void
run_privileged(const char *sql)
{
	Privileged	priv;

	privileged_begin(&priv);
	SPI_connect();
	if (SPI_execute(sql, false, 0) < 0)
		elog(ERROR, "antiban: could not update antiban.journal_state");
	SPI_finish();
	privileged_end(&priv);
}

/*
 * The journal writer is up: learn how the previous run ended (once per
 * server start), then record that this run has not ended cleanly yet.
 */
void
journal_mark_startup(void)
{
	Privileged	priv;
	uint32		unknown = SHUTDOWN_UNKNOWN;
	uint32		verdict = SHUTDOWN_CLEAN;

	privileged_begin(&priv);
	SPI_connect();
	if (SPI_execute("SELECT clean_shutdown FROM antiban.journal_state", true, 1) == SPI_OK_SELECT &&
		SPI_processed == 1)
	{
		bool		isnull;
		Datum		clean = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		verdict = DatumGetBool(clean) ? SHUTDOWN_CLEAN : SHUTDOWN_CRASHED;
	}
	SPI_finish();
	privileged_end(&priv);
	pg_atomic_compare_exchange_u32(&antiban_shared->previous_shutdown, &unknown, verdict);
	run_privileged("INSERT INTO antiban.journal_state (id, clean_shutdown, started_at)"
				   " VALUES (1, false, now()) ON CONFLICT (id)"
				   " DO UPDATE SET clean_shutdown = false, started_at = now()");
}

/* Everything is stored: the next start may trust the journal. */
void
journal_mark_clean_shutdown(void)
{
	run_privileged("UPDATE antiban.journal_state SET clean_shutdown = true, stopped_at = now()");
}
