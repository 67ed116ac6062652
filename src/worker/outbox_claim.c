/*
 * outbox_claim.c
 *		The sender's first short transaction: lock due messages (SKIP
 *		LOCKED, so several senders share the outbox), decide each again
 *		with consumption (the tokens are taken here, once), and mark those
 *		that go as 'sending' under a lease.  The HTTP calls happen only
 *		after this commits.
 */
#include "worker/sender.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "pg/privileged.h"
#include "utils/fmgrprotos.h"

/* Retry a message whose numbers are all out of rotation this much later. */
#define NO_NUMBER_RETRY_US	(60 * USECS_PER_SEC)

/*
 * Per-recipient order: a message leaves only at the head of its
 * conversation, i.e. when no earlier message (lower id) to the same
 * recipient is in flight ('sending'), waiting for a retry ('retry_wait') or
 * due and not yet claimed.  So a conversation reads in the order it was
 * written, a retry holds the messages behind it, and two messages to one
 * person are never in flight together (Meta could take them in either
 * order).  A message queued for later (send_at, a bucket's wait) holds
 * nothing: the one behind it meets the same wait, and equal times go in id
 * order.  A message parked for its turn (reason conversation_order, below)
 * is not queued for later: it still holds the ones behind it, or they
 * overtook it while it waited for an answer.  metadata {"independent":
 * true} opts a message out both ways.
 * One probe of the small partial index outbox_conversation per due row.
 */
#define CONVERSATION_HELD_SQL(m, now) \
"(NOT " m ".independent AND EXISTS (SELECT FROM antiban.outbox e" \
"  WHERE e.recipient = " m ".recipient AND e.id < " m ".id AND e.state IN ('queued', 'retry_wait', 'sending')" \
"   AND NOT e.metadata @> '{\"independent\": true}'" \
"   AND (e.state <> 'queued' OR e.not_before <= " now " OR e.reason = 'conversation_order')))"

/*
 * Due messages, most urgent first.  Each priority is one bounded range of
 * outbox_due (priority = p, not_before <= now), read in index order and cut
 * by the LIMIT, the highest priority first: the cost follows the rows
 * claimed, whatever the statistics say.  One ORDER BY over the whole queue
 * let the planner sort every due row on each claim (a queue filled in one go,
 * before any ANALYZE), or walk every waiting row of a campaign scheduled for
 * later, in index order, to find the few due now.
 *
 * A message held by the order above comes back flagged, counted in the
 * LIMIT, and is parked (park_sql): filtering held rows out instead let a
 * claim walk every message behind the conversations in flight (600,000
 * queued to few people: a claim of minutes, deaf to a fast shutdown).  The
 * order is probed only for the rows this claim locked, not for those
 * another sender holds (SKIP LOCKED passes them).
 */
const char *const sender_due_sql =
"SELECT d.id, d.recipient, d.message_type, d.category::text, d.priority::text, d.valid_until,"
" d.attempts, d.pair_hits, d.from_number, d.number_id, d.portfolio_id, d.caps, "
CONVERSATION_HELD_SQL("d", "$1") " AS held"
" FROM (SELECT level FROM unnest(enum_range(NULL::antiban.priority)) AS level ORDER BY level DESC) p"
" CROSS JOIN LATERAL (SELECT o.id, o.recipient, o.message_type, o.category, o.priority,"
"   o.valid_until, o.attempts, o.pair_hits, o.from_number, o.number_id, o.not_before, o.portfolio_id,"
"   o.metadata ->> 'frequency_caps' AS caps, o.metadata @> '{\"independent\": true}' AS independent"
"  FROM antiban.outbox o"
"  WHERE o.state IN ('queued', 'retry_wait') AND o.priority = p.level AND o.not_before <= $1"
"  ORDER BY o.not_before, o.id LIMIT $2 FOR UPDATE SKIP LOCKED) d"
" ORDER BY p.level DESC, d.not_before, d.id LIMIT $2";

/*
 * Held messages step out of the due range until what holds them can have
 * gone: the lease of a message in flight (whose answer brings the next one
 * back at once: outbox_record.c), the retry time of one waiting, the time
 * of one parked itself (its turn comes first), now for one due (behind
 * every message due earlier).  Read again with this statement's snapshot:
 * a message whose turn came meanwhile stays due.  The rows by key, their
 * state compared as text: never through outbox_due, whose predicate that
 * state implies and which holds the whole queue (outbox_record.c).
 */
static const char *const park_sql =
"UPDATE antiban.outbox o SET not_before = greatest(o.not_before, b.until), reason = 'conversation_order',"
" detail = format('after message %s to the same person (%s)', b.id, b.state)"
" FROM unnest($1::int8[]) AS h(id)"
" CROSS JOIN LATERAL (SELECT e.id, e.state, CASE e.state WHEN 'sending' THEN coalesce(e.lease_until, $2)"
"   ELSE greatest(e.not_before, $2) END AS until"
"  FROM antiban.outbox f, antiban.outbox e"
"  WHERE f.id = h.id AND e.recipient = f.recipient AND e.id < f.id"
"   AND e.state IN ('queued', 'retry_wait', 'sending') AND NOT e.metadata @> '{\"independent\": true}'"
"   AND (e.state <> 'queued' OR e.not_before <= $2 OR e.reason = 'conversation_order')"
"  ORDER BY e.id LIMIT 1) b"
" WHERE o.id = ANY($1) AND o.id = h.id AND o.state::text IN ('queued', 'retry_wait')";

/* Paused or refused templates never reach Meta (see 85_monitor.sql). */
static const char *const hold_sql =
"SELECT antiban.hold_unapproved_templates(make_interval(secs => $1), $2)";

/*
 * The earliest waiting message: the first entry of each priority in
 * outbox_due.  One that turns out to be held is parked by the claim this
 * wakes; looking for the first one not held walked every held message.
 */
static const char *const next_due_sql =
"SELECT min(d.not_before) FROM unnest(enum_range(NULL::antiban.priority)) AS p(level)"
" CROSS JOIN LATERAL (SELECT o.not_before FROM antiban.outbox o"
"  WHERE o.state IN ('queued', 'retry_wait') AND o.priority = p.level"
"  ORDER BY o.not_before LIMIT 1) d";

/*
 * Mark the ones that go; hand back what to send.  "o.id = ANY($1)" lets the
 * planner see how few rows are touched: without it, an outbox with no
 * statistics yet was hashed whole to join a few hundred ids.
 */
static const char *const sending_sql =
"UPDATE antiban.outbox o SET state = 'sending', number_id = u.nid, phone_number_id = n.phone_number_id,"
" portfolio_id = w.portfolio_id, attempts = o.attempts + 1, lease_until = $4, leased_by = $5,"
" reason = u.reason, detail = u.detail"
" FROM unnest($1::int8[], $2::int8[], $3::text[], $6::text[]) AS u(id, nid, reason, detail),"
"  antiban.numbers n, antiban.wabas w"
" WHERE o.id = ANY($1) AND o.id = u.id AND n.id = u.nid AND w.id = n.waba_id"
" RETURNING o.id, n.phone_number_id,"
"  (CASE WHEN o.message_type = 'read_receipt'"
"   THEN o.payload || jsonb_build_object('messaging_product', 'whatsapp')"
"   ELSE o.payload || jsonb_build_object('messaging_product', 'whatsapp', 'recipient_type', 'individual',"
"     'to', o.recipient, 'type', o.message_type, 'biz_opaque_callback_data', o.id::text)"
"   END)::text";

/* Put back (queued later) or close (expired, rejected, failed) the others. */
static const char *const settle_sql =
"UPDATE antiban.outbox o SET state = u.state::antiban.message_state,"
" not_before = coalesce(u.nb, o.not_before), reason = u.reason, detail = u.detail"
" FROM unnest($1::int8[], $2::text[], $3::timestamptz[], $4::text[], $5::text[])"
"  AS u(id, state, nb, reason, detail)"
" WHERE o.id = ANY($1) AND o.id = u.id";

typedef struct Columns
{
	int			n;
	Datum	   *id;
	Datum	   *number_id;
	Datum	   *state;
	Datum	   *not_before;
	bool	   *not_before_null;
	Datum	   *reason;
	Datum	   *detail;
} Columns;

static Columns
columns_new(int cap)
{
	Columns		c = {0};

	c.id = palloc(sizeof(Datum) * cap);
	c.number_id = palloc(sizeof(Datum) * cap);
	c.state = palloc(sizeof(Datum) * cap);
	c.not_before = palloc(sizeof(Datum) * cap);
	c.not_before_null = palloc0(sizeof(bool) * cap);
	c.reason = palloc(sizeof(Datum) * cap);
	c.detail = palloc(sizeof(Datum) * cap);
	return c;
}

static Datum
array_of(Datum *values, bool *nulls, int n, Oid type)
{
	int16		len;
	bool		byval;
	char		align;
	int			dims[1] = {n};
	int			lbs[1] = {1};

	get_typlenbyvalalign(type, &len, &byval, &align);
	return PointerGetDatum(construct_md_array(values, nulls, 1, dims, lbs, type, len, byval, align));
}

static void
add_settled(Columns *c, int64 id, const char *state, TimestampTz nb, const char *reason, const char *detail)
{
	int			i = c->n++;

	c->id[i] = Int64GetDatum(id);
	c->state[i] = CStringGetTextDatum(state);
	c->not_before[i] = TimestampTzGetDatum(nb);
	c->not_before_null[i] = nb == 0;
	c->reason[i] = CStringGetTextDatum(reason);
	c->detail[i] = CStringGetTextDatum(detail);
}

static void
add_sending(Columns *c, int64 id, int64 number_id, const char *reason, const char *detail)
{
	int			i = c->n++;

	c->id[i] = Int64GetDatum(id);
	c->number_id[i] = Int64GetDatum(number_id);
	c->reason[i] = CStringGetTextDatum(reason);
	c->detail[i] = CStringGetTextDatum(detail);
}

static char *
text_col(HeapTuple t, TupleDesc d, int col)
{
	return SPI_getvalue(t, d, col);
}

static int64
int_col(HeapTuple t, TupleDesc d, int col, bool *isnull)
{
	Datum		v = SPI_getbinval(t, d, col, isnull);

	if (*isnull)
		return 0;
	return SPI_gettypeid(d, col) == INT4OID ? DatumGetInt32(v) : DatumGetInt64(v);
}

/* A read receipt needs only its number's throughput token. */
static void
plan_read_receipt(NumbersCache *c, HeapTuple t, TupleDesc d, int64 id, TimestampTz now,
				  Columns *go, Columns *settle)
{
	bool		isnull;
	CachedNumber *n = numbers_cache_by_id(c, int_col(t, d, 10, &isnull));
	BucketTake	take;

	if (n == NULL)
	{
		add_settled(settle, id, "failed", 0, "no_number", "the number of this read receipt is no longer registered");
		return;
	}
	take = buckets_take(c->instance, n, NULL, 0, 0, TB_SCALE, now, true);
	if (take.allowed)
		add_sending(go, id, n->view.id, "read_receipt", "");
	else
		add_settled(settle, id, "queued", take.number.ready_at, "number_throughput",
					"waiting for the number's throughput");
}

/* Any other message: the decision, consuming. */
static void
plan_message(SenderState *st, NumbersCache *c, HeapTuple t, TupleDesc d, int64 id,
			 TimestampTz now, Columns *go, Columns *settle)
{
	bool		isnull;
	char		normalized[RECIPIENT_MAXLEN + 1];
	DecideArgs	args = {.cache = c, .now = now, .consume = true};
	Decision	dec;
	TimestampTz valid_until;
	const char *caps_text;
	const char *why;
	FrequencyCaps own_caps;

	args.recipient = text_col(t, d, 2);
	category_parse(text_col(t, d, 4), &args.category);
	priority_parse(text_col(t, d, 5), &args.priority);
	valid_until = DatumGetTimestampTz(SPI_getbinval(t, d, 6, &isnull));
	args.valid_until = isnull ? TB_NEVER : valid_until;
	args.from_number = text_col(t, d, 9);
	/* rotation stays in the portfolio the message was queued for */
	args.portfolio_id = DatumGetInt64(SPI_getbinval(t, d, 11, &isnull));
	if (isnull)
		args.portfolio_id = 0;
	/* a campaign's own caps (metadata.frequency_caps, checked when queued) */
	caps_text = text_col(t, d, 12);
	if (caps_text && frequency_caps_parse(caps_text, &own_caps, &why))
		args.caps = &own_caps;
	if (args.from_number && numbers_cache_find(c, args.from_number) == NULL)
	{
		add_settled(settle, id, "failed", 0, "no_number", "the number this message was pinned to is no longer registered");
		return;
	}
	antiban_decide_message(&args, &dec, normalized);
	if (dec.outcome == OUTCOME_SEND)
		add_sending(go, id, dec.number->id, reason_name(dec.reason), dec.detail);
	else if (dec.outcome == OUTCOME_QUEUE)
		add_settled(settle, id, "queued", dec.not_before, reason_name(dec.reason), dec.detail);
	else if (dec.reason == REASON_NO_ELIGIBLE_NUMBER && now + NO_NUMBER_RETRY_US <= args.valid_until)
		/* numbers may come back (an operator, the monitor): wait for them */
		add_settled(settle, id, "queued", now + NO_NUMBER_RETRY_US, reason_name(dec.reason), dec.detail);
	else
		add_settled(settle, id, dec.reason == REASON_INVALID_RECIPIENT ? "failed" : "expired", 0,
					reason_name(dec.reason), dec.detail);
}

static void
settle(Columns *c)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[5] = {INT8ARRAYOID, TEXTARRAYOID, TIMESTAMPTZARRAYOID, TEXTARRAYOID, TEXTARRAYOID};
	Datum		args[5];

	if (c->n == 0)
		return;
	if (plan == NULL)
		plan = privileged_prepare(settle_sql, 5, types);
	args[0] = array_of(c->id, NULL, c->n, INT8OID);
	args[1] = array_of(c->state, NULL, c->n, TEXTOID);
	args[2] = array_of(c->not_before, c->not_before_null, c->n, TIMESTAMPTZOID);
	args[3] = array_of(c->reason, NULL, c->n, TEXTOID);
	args[4] = array_of(c->detail, NULL, c->n, TEXTOID);
	if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "antiban: could not settle claimed messages");
}

/* Held messages out of the due range (park_sql). */
static void
park(Datum *ids, int n, TimestampTz now)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[2] = {INT8ARRAYOID, TIMESTAMPTZOID};
	Datum		args[2];

	if (n == 0)
		return;
	if (plan == NULL)
		plan = privileged_prepare(park_sql, 2, types);
	args[0] = array_of(ids, NULL, n, INT8OID);
	args[1] = TimestampTzGetDatum(now);
	if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "antiban: could not park messages held by their conversation");
}

/* Mark as sending and build the requests (in the batch context). */
static int
mark_sending(SenderState *st, Columns *c, TimestampTz now, Outgoing **out)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[6] = {INT8ARRAYOID, INT8ARRAYOID, TEXTARRAYOID, TIMESTAMPTZOID, INT4OID, TEXTARRAYOID};
	Datum		args[6];
	TimestampTz lease = now + (TimestampTz) antiban_http_timeout_ms * 1000 +
		(TimestampTz) antiban_unconfirmed_grace_s * USECS_PER_SEC;
	MemoryContext old;
	SPITupleTable *rows;
	uint64		nrows;
	int			n = 0;

	if (c->n == 0)
		return 0;
	if (plan == NULL)
		plan = privileged_prepare(sending_sql, 6, types);
	args[0] = array_of(c->id, NULL, c->n, INT8OID);
	args[1] = array_of(c->number_id, NULL, c->n, INT8OID);
	args[2] = array_of(c->reason, NULL, c->n, TEXTOID);
	args[3] = TimestampTzGetDatum(lease);
	args[4] = Int32GetDatum(MyProcPid);
	args[5] = array_of(c->detail, NULL, c->n, TEXTOID);
	if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_UPDATE_RETURNING)
		elog(ERROR, "antiban: could not mark messages as sending");
	rows = SPI_tuptable;
	nrows = SPI_processed;
	/*
	 * Everything here must outlive SPI_finish and the commit: allocate it
	 * in the batch context explicitly, whatever context SPI leaves current.
	 */
	*out = MemoryContextAlloc(st->batch_context, sizeof(Outgoing) * Max(nrows, 1));
	for (uint64 i = 0; i < nrows; i++)
	{
		HeapTuple	t = rows->vals[i];
		TupleDesc	d = rows->tupdesc;
		bool		isnull;
		Outgoing   *o = &(*out)[n];
		InFlight   *f;
		const char *token;

		o->id = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
		old = MemoryContextSwitchTo(st->batch_context);
		o->url = psprintf("%s/%s/%s/messages", antiban_graph_base_url, antiban_graph_version,
						  SPI_getvalue(t, d, 2));
		o->body = SPI_getvalue(t, d, 3);
		MemoryContextSwitchTo(old);
		f = hash_search(st->inflight, &o->id, HASH_FIND, NULL);
		token = f ? access_token_for(f->number_id) : NULL;
		/* a later call may reload the tokens: keep our own copy */
		o->token = token ? MemoryContextStrdup(st->batch_context, token) : NULL;
		n++;
	}
	return n;
}

/* Remember what recording the result will need. */
static void
remember(SenderState *st, HeapTuple t, TupleDesc d, int64 id, int64 number_id)
{
	bool		isnull;
	bool		found;
	InFlight   *f = hash_search(st->inflight, &id, HASH_ENTER, &found);
	char	   *recipient = text_col(t, d, 2);
	TimestampTz valid_until = DatumGetTimestampTz(SPI_getbinval(t, d, 6, &isnull));

	f->number_id = number_id;
	f->valid_until = isnull ? TB_NEVER : valid_until;
	f->attempts = (int) int_col(t, d, 7, &isnull) + 1;
	f->pair_hits = (int) int_col(t, d, 8, &isnull);
	f->read_receipt = recipient == NULL;
	strlcpy(f->recipient, recipient ? recipient : "", sizeof(f->recipient));
}

static TimestampTz
next_due_time(TimestampTz now)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[1] = {TIMESTAMPTZOID};
	Datum		args[1] = {TimestampTzGetDatum(now)};
	bool		isnull;
	Datum		v;

	if (plan == NULL)
		plan = privileged_prepare(next_due_sql, 0, types);
	if (SPI_execute_plan(plan, args, NULL, true, 1) != SPI_OK_SELECT || SPI_processed == 0)
		return 0;
	v = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? 0 : DatumGetTimestampTz(v);
}

/*
 * Claim up to 'limit' due messages.  Returns how many go out now (their
 * requests in *out); *next_due is when the next queued message is due (0:
 * none queued), valid when nothing was due.
 */
static void
hold_unapproved_templates(int limit)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[2] = {FLOAT8OID, INT4OID};
	Datum		args[2] = {Float8GetDatum((double) antiban_template_hold_s), Int32GetDatum(limit)};

	if (plan == NULL)
		plan = privileged_prepare(hold_sql, 2, types);
	if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not hold messages with unapproved templates");
}

int
sender_claim(SenderState *st, int limit, Outgoing **out, TimestampTz *next_due)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[2] = {TIMESTAMPTZOID, INT4OID};
	TimestampTz now = antiban_now();
	Datum		args[2] = {TimestampTzGetDatum(now), Int32GetDatum(limit)};
	NumbersCache *c;
	Columns		go, settled;
	int			n;
	Datum	   *held;
	int			nheld = 0;

	SPITupleTable *due;
	uint64		ndue;

	*next_due = 0;
	c = numbers_cache_get();
	hold_unapproved_templates(limit);
	if (plan == NULL)
		plan = privileged_prepare(sender_due_sql, 2, types);
	if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not read due messages");
	/* later SPI calls (decisions, tokens) replace SPI_tuptable: keep ours */
	due = SPI_tuptable;
	ndue = SPI_processed;
	go = columns_new(Max(ndue, 1));
	settled = columns_new(Max(ndue, 1));
	held = palloc(sizeof(Datum) * Max(ndue, 1));
	for (uint64 i = 0; i < ndue; i++)
	{
		HeapTuple	t = due->vals[i];
		TupleDesc	d = due->tupdesc;
		bool		isnull;
		int64		id = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
		int			before = go.n;

		if (DatumGetBool(SPI_getbinval(t, d, 13, &isnull)))
		{
			held[nheld++] = Int64GetDatum(id);
			continue;
		}

		if (strcmp(text_col(t, d, 3), "read_receipt") == 0)
			plan_read_receipt(c, t, d, id, now, &go, &settled);
		else
			plan_message(st, c, t, d, id, now, &go, &settled);
		if (go.n > before)
			remember(st, t, d, id, DatumGetInt64(go.number_id[go.n - 1]));
	}
	/* the decisions took their tokens: the other senders may count the rest */
	claim_share_forget(st->slot);
	if (ndue == 0)
		*next_due = next_due_time(now);
	else if (nheld > 0)
		*next_due = now;		/* more may be due behind the parked ones */
	park(held, nheld, now);
	settle(&settled);
	n = mark_sending(st, &go, now, out);
	return n;
}

/*
 * The sender's due query under EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON), with
 * the sender's parameters, in the caller's transaction (its row locks last
 * until the caller ends it): what tests and operators read to see that a
 * claim reads a batch, not the queue.
 */
PG_FUNCTION_INFO_V1(antiban_explain_claim);
Datum
antiban_explain_claim(PG_FUNCTION_ARGS)
{
	Oid			types[2] = {TIMESTAMPTZOID, INT4OID};
	Datum		args[2] = {PG_GETARG_DATUM(0), PG_GETARG_DATUM(1)};
	char	   *sql = psprintf("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) %s", sender_due_sql);
	MemoryContext caller = CurrentMemoryContext;
	char	   *plan;

	SPI_connect();
	if (SPI_execute_with_args(sql, 2, types, args, NULL, false, 0) < 0 || SPI_processed != 1)
		elog(ERROR, "antiban: could not explain the claim");
	plan = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	plan = MemoryContextStrdup(caller, plan);	/* outlives SPI_finish */
	SPI_finish();
	PG_RETURN_DATUM(DirectFunctionCall1(json_in, CStringGetDatum(plan)));
}
