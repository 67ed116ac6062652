/*
 * outbox_record.c
 *		The sender's second short transaction: what each request's answer
 *		means for its message (core/error_class.c, core/retry_plan.c), and,
 *		for an error, what its code does to the number, the pair and the
 *		person (error_consequences.c, the same routine a failed status
 *		webhook runs).  A message sent after retries keeps the last error it
 *		met, for the record.
 *
 * The answer also says whom Meta took the recipient for (contacts[0].wa_id):
 * kept on the row, and when it is not the recipient even by the rules of
 * core/recipient_match.c (Brazil's ninth digit, Mexico's "1"), the two are
 * linked as one person (antiban.link_send_answers), so the inbound messages
 * and statuses that will use Meta's form reach the same record.
 */
#include "worker/sender.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "core/recipient_match.h"
#include "core/retry_plan.h"
#include "pg/error_consequences.h"
#include "pg/privileged.h"
#include "pg/subxact.h"

#define RECORD_COLUMNS 13

/*
 * Rows are locked in id order, as the webhook triggers do: no deadlock
 * between them.  The errors Meta answered come back, in number order, with
 * what acting on them needs: the number, the recipient and when the request
 * went out (the claim of this attempt).
 */
static const char *const record_sql =
"WITH locked AS (SELECT id FROM antiban.outbox WHERE id = ANY($1) ORDER BY id FOR UPDATE),"
" recorded AS (UPDATE antiban.outbox o SET"
" state = CASE WHEN o.state = 'sending' THEN u.state::antiban.message_state ELSE o.state END,"
" not_before = coalesce(u.nb, o.not_before), wamid = coalesce(u.wamid, o.wamid),"
" error_code = coalesce(u.code, CASE WHEN u.state = 'sent' THEN o.error_code END),"
" error_title = coalesce(u.title, CASE WHEN u.state = 'sent' THEN o.error_title END),"
" error_details = coalesce(u.details, CASE WHEN u.state = 'sent' THEN o.error_details END),"
" fbtrace_id = coalesce(u.trace, CASE WHEN u.state = 'sent' THEN o.fbtrace_id END),"
" lease_until = u.lease, pair_hits = o.pair_hits + u.pair_hit,"
" reason = coalesce(u.reason, o.reason), wa_id = coalesce(u.wa_id, o.wa_id)"
" FROM unnest($1::int8[], $2::text[], $3::timestamptz[], $4::text[], $5::int4[], $6::text[],"
"  $7::text[], $8::text[], $9::timestamptz[], $10::int4[], $11::text[], $12::int4[],"
"  $13::text[]) AS u(id, state, nb, wamid, code, title, details, trace, lease, pair_hit, reason, http, wa_id)"
" WHERE o.id = u.id AND o.id IN (SELECT id FROM locked)"
" RETURNING o.id, o.number_id, u.code, u.http, o.sending_at, o.recipient, o.state),"
/*
 * the next message to each person, parked by a claim behind this one: due
 * again.  A due one is written too (unchanged): the claim that has it
 * locked may be parking it now, behind this answer it could not see yet;
 * the write waits for that claim and reads its park (or the park reads
 * this answer), so no message sits out a lease whose answer came.
 * Their ids first, then those rows by key, and their state compared as
 * text: statistics taken while nothing waited made the planner read them
 * through outbox_due (its predicate implied by the state), every waiting
 * row at each recording however long the queue had grown (TAP 037).
 */
" released AS (UPDATE antiban.outbox f"
" SET not_before = CASE WHEN f.reason = 'conversation_order' THEN least(f.not_before, $14) ELSE f.not_before END"
" WHERE f.id = ANY (ARRAY(SELECT (SELECT min(n.id) FROM antiban.outbox n"
"   WHERE n.recipient = r.recipient AND n.id > r.id AND n.state IN ('queued', 'retry_wait', 'sending')"
"    AND NOT n.metadata @> '{\"independent\": true}')"
"  FROM recorded r WHERE r.state NOT IN ('queued', 'retry_wait', 'sending')))"
"  AND f.state::text = 'queued' AND (f.reason = 'conversation_order' OR f.not_before <= $14))"
" SELECT id, number_id, code, http, sending_at, recipient FROM recorded"
" WHERE code IS NOT NULL AND number_id IS NOT NULL ORDER BY number_id, id";

/* Answers whose wa_id is another identifier than the recipient: one person. */
static const char *const link_sql = "SELECT antiban.link_send_answers($1)";

typedef struct Columns
{
	int			n;
	Datum	   *v[RECORD_COLUMNS];
	bool	   *nulls[RECORD_COLUMNS];
} Columns;

static const Oid element_types[RECORD_COLUMNS] = {
	INT8OID, TEXTOID, TIMESTAMPTZOID, TEXTOID, INT4OID, TEXTOID, TEXTOID, TEXTOID,
	TIMESTAMPTZOID, INT4OID, TEXTOID, INT4OID, TEXTOID,
};

enum
{
	COL_ID, COL_STATE, COL_NB, COL_WAMID, COL_CODE, COL_TITLE, COL_DETAILS, COL_TRACE,
	COL_LEASE, COL_PAIR_HIT, COL_REASON, COL_HTTP, COL_WA_ID
};

static Columns
columns_new(int cap)
{
	Columns		c = {0};

	for (int k = 0; k < RECORD_COLUMNS; k++)
	{
		c.v[k] = palloc0(sizeof(Datum) * cap);
		c.nulls[k] = palloc(sizeof(bool) * cap);
		memset(c.nulls[k], true, sizeof(bool) * cap);
	}
	return c;
}

static void
put(Columns *c, int i, int col, Datum v)
{
	c->v[col][i] = v;
	c->nulls[col][i] = false;
}

static void
put_text(Columns *c, int i, int col, const char *s)
{
	if (s && s[0])
		put(c, i, col, CStringGetTextDatum(s));
}

static void
put_error(Columns *c, int i, const CloudApiResult *r)
{
	if (r->answer.error_code >= 0)
	{
		put(c, i, COL_CODE, Int32GetDatum(r->answer.error_code));
		put(c, i, COL_HTTP, Int32GetDatum((int32) r->http_status));
	}
	put_text(c, i, COL_TITLE, r->transport == TRANSPORT_OK ? r->answer.error_title : r->transport_error);
	put_text(c, i, COL_DETAILS, r->answer.error_details);
	put_text(c, i, COL_TRACE, r->answer.fbtrace_id);
}

static double
jitter(void)
{
	return (double) random() / ((double) RAND_MAX + 1.0);
}

/*
 * Meta's wa_id for what we sent to, when the answer is about our recipient
 * (its input, if given, is ours); *other: it is not the recipient by any
 * rule we know, so the two must be linked.
 */
static const char *
answered_wa_id(const InFlight *f, const ApiAnswer *a, bool *other)
{
	char		ours[RECIPIENT_KEY_SIZE];
	char		theirs[RECIPIENT_KEY_SIZE];

	*other = false;
	if (a->wa_id[0] == '\0' || !recipient_match_key(f->recipient, ours))
		return NULL;
	if (a->input[0] != '\0' && !recipient_same(a->input, f->recipient) &&
		strcmp(a->input, f->recipient) != 0)
		return NULL;
	*other = !recipient_match_key(a->wa_id, theirs) || strcmp(ours, theirs) != 0;
	return a->wa_id;
}

/* Fill row i of 'c' for result r; *to_link: its wa_id names another identifier. */
static void
plan_result(const InFlight *f, const CloudApiResult *r, TimestampTz now, Columns *c, int i,
			bool *to_link)
{
	RetryInput	in;
	RetryPlan	p;

	put(c, i, COL_ID, Int64GetDatum(r->id));
	put(c, i, COL_PAIR_HIT, Int32GetDatum(0));
	if (r->transport == TRANSPORT_OK && r->answer.ok)
	{
		put_text(c, i, COL_STATE, "sent");
		put_text(c, i, COL_WAMID, r->answer.wamid);
		if (!f->read_receipt)
			put_text(c, i, COL_WA_ID, answered_wa_id(f, &r->answer, to_link));
		return;
	}
	put_error(c, i, r);
	if (r->transport == TRANSPORT_AMBIGUOUS)
	{
		/* maybe Meta has it: stay 'sending' until evidence or the grace ends */
		put_text(c, i, COL_STATE, "sending");
		put(c, i, COL_LEASE, TimestampTzGetDatum(now + (TimestampTz) antiban_unconfirmed_grace_s * USECS_PER_SEC));
		put_text(c, i, COL_REASON, "unconfirmed");
		return;
	}
	memset(&in, 0, sizeof(in));
	in.error = r->transport == TRANSPORT_OK ?
		error_classify(r->answer.error_code, (int) r->http_status) :
		error_classify(-1, 0);
	in.attempts = f->attempts;
	in.max_attempts = antiban_max_attempts;
	in.pair_hits = f->pair_hits;
	in.now = now;
	in.valid_until = f->valid_until;
	in.retry_after_us = r->retry_after_us;
	in.random01 = jitter();
	in.backoff.base_us = (int64) antiban_retry_base_ms * 1000;
	in.backoff.cap_us = (int64) antiban_retry_cap_ms * 1000;
	p = plan_retry(&in);
	put_text(c, i, COL_STATE, message_state_name(p.state));
	if (p.state == MSG_RETRY_WAIT)
		put(c, i, COL_NB, TimestampTzGetDatum(p.not_before));
	put_text(c, i, COL_REASON, p.reason);
	if (p.pair_hit)
		put(c, i, COL_PAIR_HIT, Int32GetDatum(1));
}

static Datum
array_of(Columns *c, int col)
{
	int16		len;
	bool		byval;
	char		align;
	int			dims[1] = {c->n};
	int			lbs[1] = {1};

	get_typlenbyvalalign(element_types[col], &len, &byval, &align);
	return PointerGetDatum(construct_md_array(c->v[col], c->nulls[col], 1, dims, lbs,
											  element_types[col], len, byval, align));
}

/* After the rows carry their wa_id: one person for each recipient and its wa_id. */
static void
link_answers(Datum *ids, int n)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[1] = {INT8ARRAYOID};
	Datum		args[1];
	int16		len;
	bool		byval;
	char		align;

	get_typlenbyvalalign(INT8OID, &len, &byval, &align);
	args[0] = PointerGetDatum(construct_array(ids, n, INT8OID, len, byval, align));
	if (plan == NULL)
		plan = privileged_prepare(link_sql, 1, types);
	if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not link recipients to Meta's wa_id");
}

/* The errors the record statement returned, copied out before acting on them. */
static MetaErrorEvent *
answered_errors(uint64 *nerrors)
{
	SPITupleTable *rows = SPI_tuptable;
	MetaErrorEvent *errors = palloc0(sizeof(MetaErrorEvent) * Max(SPI_processed, 1));
	bool		isnull;

	*nerrors = SPI_processed;
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = rows->vals[i];
		TupleDesc	d = rows->tupdesc;
		bool		unsent;
		Datum		sent = SPI_getbinval(t, d, 5, &unsent);

		errors[i].message_id = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
		errors[i].number_id = DatumGetInt64(SPI_getbinval(t, d, 2, &isnull));
		errors[i].code = DatumGetInt32(SPI_getbinval(t, d, 3, &isnull));
		errors[i].http_status = DatumGetInt32(SPI_getbinval(t, d, 4, &isnull));
		errors[i].request_at = unsent ? 0 : DatumGetTimestampTz(sent);
		errors[i].recipient = SPI_getvalue(t, d, 6);
		errors[i].source = "send";
	}
	return errors;
}

/* A deadlock with a webhook or the monitor, a serialization failure, a lock timeout: try again. */
static bool
worth_retrying(int sqlerrcode)
{
	return sqlerrcode == ERRCODE_T_R_DEADLOCK_DETECTED ||
		sqlerrcode == ERRCODE_T_R_SERIALIZATION_FAILURE ||
		sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE;
}

static void
act_step(void *arg)
{
	(void) meta_error_act((const MetaErrorEvent *) arg);
}

/*
 * Do what an answered error says (pause, slow down, opt out, ...) apart
 * from the recording of the answers: if it fails (after three tries for a
 * deadlock or a lock), the results recorded with it (other messages'
 * wamids, this message's failure) still commit and the sender goes on; the
 * failure is logged with what was not done.  A cancel (a stop, the
 * recording's deadline) still ends the whole recording.
 */
static void
act_on_answered_error(const MetaErrorEvent *e)
{
	ErrorData  *failed = NULL;

	for (int attempt = 1; attempt <= 3; attempt++)
	{
		if (failed)
			FreeErrorData(failed);
		failed = subxact_run(act_step, (void *) e);
		if (failed && failed->sqlerrcode == ERRCODE_QUERY_CANCELED)
			ReThrowError(failed);
		if (failed == NULL || !worth_retrying(failed->sqlerrcode))
			break;
	}
	if (failed == NULL)
		return;
	ereport(WARNING,
			(errcode(failed->sqlerrcode),
			 errmsg("antiban sender: could not act on error %d of message %lld from number %lld",
					e->code, (long long) e->message_id, (long long) e->number_id),
			 errdetail("The message's failure is recorded; what the code does (antiban.send_errors, a pause, a slow-down, an opt-out) was not done: %s",
					   failed->message),
			 errhint("Fix the cause, then run antiban.act_on_error(%lld, %lld, %d, %d, 'send', NULL, <recipient>) to do it.",
					 (long long) e->number_id, (long long) e->message_id, e->code, e->http_status)));
	FreeErrorData(failed);
}

void
sender_record(SenderState *st, CloudApiResult *results, int n)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[RECORD_COLUMNS + 1];
	Datum		args[RECORD_COLUMNS + 1];
	TimestampTz now = antiban_now();
	Columns		c = columns_new(Max(n, 1));
	MetaErrorEvent *errors;
	uint64		nerrors;
	Datum	   *link_ids = palloc(sizeof(Datum) * Max(n, 1));
	int			nlinks = 0;

	for (int k = 0; k < RECORD_COLUMNS; k++)
		types[k] = get_array_type(element_types[k]);
	types[RECORD_COLUMNS] = TIMESTAMPTZOID;	/* now: when parked messages are due again */
	for (int i = 0; i < n; i++)
	{
		InFlight   *f = hash_search(st->inflight, &results[i].id, HASH_FIND, NULL);
		bool		to_link = false;

		if (f == NULL)
			continue;			/* can not happen: every request was remembered */
		plan_result(f, &results[i], now, &c, c.n++, &to_link);
		if (to_link)
			link_ids[nlinks++] = Int64GetDatum(results[i].id);
		hash_search(st->inflight, &results[i].id, HASH_REMOVE, NULL);
	}
	if (c.n == 0)
		return;
	if (plan == NULL)
		plan = privileged_prepare(record_sql, RECORD_COLUMNS + 1, types);
	for (int k = 0; k < RECORD_COLUMNS; k++)
		args[k] = array_of(&c, k);
	args[RECORD_COLUMNS] = TimestampTzGetDatum(now);
	if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not record send results");
	/* outbox rows first, then numbers and people: the lock order of the webhooks */
	errors = answered_errors(&nerrors);
	if (nlinks > 0)
		link_answers(link_ids, nlinks);
	for (uint64 i = 0; i < nerrors; i++)
		act_on_answered_error(&errors[i]);
}
