/*
 * outbox_record.c
 *		The sender's second short transaction: what each request's answer
 *		means for its message (core/error_class.c, core/retry_plan.c), for
 *		its number (slowed on 130429, paused on ban signals, with an alert)
 *		and for its recipient's pair (131056 drains it).  A message sent after
 *		retries keeps the last error it met, for the record.
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
#include "pg/privileged.h"

#define RECORD_COLUMNS 12

/*
 * Rows are locked in id order, as the webhook triggers do: no deadlock
 * between them.  Meta's error codes also go to send_errors, where the
 * health score counts them.
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
"  $7::text[], $8::text[], $9::timestamptz[], $10::int4[], $11::text[], $12::text[])"
"  AS u(id, state, nb, wamid, code, title, details, trace, lease, pair_hit, reason, wa_id)"
" WHERE o.id = u.id AND o.id IN (SELECT id FROM locked)"
" RETURNING o.id, o.number_id, u.code)"
" INSERT INTO antiban.send_errors (number_id, message_id, code, source)"
" SELECT number_id, id, code, 'send' FROM recorded WHERE code IS NOT NULL AND number_id IS NOT NULL";

/* Answers whose wa_id is another identifier than the recipient: one person. */
static const char *const link_sql = "SELECT antiban.link_send_answers($1)";

/* The number's penalties live in SQL, shared with the webhook triggers. */
static const char *const slow_sql = "SELECT antiban.slow_number($1)";
static const char *const pause_sql = "SELECT antiban.pause_number($1, 'number_paused', $2, $3)";

typedef struct Columns
{
	int			n;
	Datum	   *v[RECORD_COLUMNS];
	bool	   *nulls[RECORD_COLUMNS];
} Columns;

static const Oid element_types[RECORD_COLUMNS] = {
	INT8OID, TEXTOID, TIMESTAMPTZOID, TEXTOID, INT4OID, TEXTOID, TEXTOID, TEXTOID,
	TIMESTAMPTZOID, INT4OID, TEXTOID, TEXTOID,
};

enum
{
	COL_ID, COL_STATE, COL_NB, COL_WAMID, COL_CODE, COL_TITLE, COL_DETAILS, COL_TRACE,
	COL_LEASE, COL_PAIR_HIT, COL_REASON, COL_WA_ID
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
		put(c, i, COL_CODE, Int32GetDatum(r->answer.error_code));
	put_text(c, i, COL_TITLE, r->transport == TRANSPORT_OK ? r->answer.error_title : r->transport_error);
	put_text(c, i, COL_DETAILS, r->answer.error_details);
	put_text(c, i, COL_TRACE, r->answer.fbtrace_id);
}

/* Run slow_sql (number only) or pause_sql (number, detail, hard). */
static void
run_for_number(const char *sql, int64 number_id, const char *detail, bool hard)
{
	Oid			types[3] = {INT8OID, TEXTOID, BOOLOID};
	Datum		args[3] = {Int64GetDatum(number_id), CStringGetTextDatum(detail ? detail : ""),
	BoolGetDatum(hard)};

	if (SPI_execute_with_args(sql, detail ? 3 : 1, types, args, NULL, false, 0) < 0)
		elog(ERROR, "antiban: could not update number " INT64_FORMAT, number_id);
}

/* 131056: the pair of the number and the person the recipient names is empty. */
static void
drain_pair(NumbersCache *c, const CachedNumber *n, const char *recipient)
{
	char		key[RECIPIENT_KEY_SIZE];
	uint64		kh;
	uint64		anchor;
	RecipientState rs;

	if (!identity_key(recipient, key, &kh))
		return;
	reach_ensure_loaded(c, &c->portfolios[n->portfolio_index], antiban_now());
	reach_get(c->instance, n->portfolio_id, kh, &rs, &anchor);
	buckets_drain(c->instance, n, recipient, anchor);
}

/* 130429, 368, 131048 ...: the number suffers, once per answer. */
static void
apply_account_signal(const InFlight *f, const RetryPlan *p, const CloudApiResult *r)
{
	NumbersCache *c = numbers_cache_get();
	CachedNumber *n = numbers_cache_by_id(c, f->number_id);
	char		detail[512];

	/* without protection (a naive sender, for comparison) the number is not spared */
	if (p->slow_number && antiban_protection)
	{
		if (n)
			buckets_drain(c->instance, n, NULL, 0);
		run_for_number(slow_sql, f->number_id, NULL, false);
	}
	if (p->pause_number && antiban_protection)
	{
		/* 131048 is Meta slowing a spammy number: it may come back by itself */
		bool		hard = r->answer.error_code != 131048;

		snprintf(detail, sizeof(detail), "Meta answered %d (%s): number paused, %s",
				 r->answer.error_code, error_classify(r->answer.error_code, (int) r->http_status).meaning,
				 hard ? "no further sends until an operator resumes it (antiban.release_mode)"
				 : "it recovers by itself after antiban.pause_cooldown if its health allows");
		run_for_number(pause_sql, f->number_id, detail, hard);
	}
	if (p->drain_pair && n)
		drain_pair(c, n, f->recipient);
}

static double
jitter(void)
{
	return (double) random() / ((double) RAND_MAX + 1.0);
}

/* Account signals wait until the messages are recorded: outbox rows, then numbers. */
typedef struct Signal
{
	InFlight	flight;
	RetryPlan	plan;
	CloudApiResult result;
} Signal;

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

/* Fill row i of 'c' for result r; an account signal goes to *signal. */
static void
plan_result(const InFlight *f, const CloudApiResult *r, TimestampTz now, Columns *c, int i,
			Signal *signal, bool *has_signal, bool *to_link)
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
	if (p.drain_pair)
		put(c, i, COL_PAIR_HIT, Int32GetDatum(1));
	if (p.slow_number || p.pause_number || p.drain_pair)
	{
		signal->flight = *f;
		signal->plan = p;
		signal->result = *r;
		*has_signal = true;
	}
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

void
sender_record(SenderState *st, CloudApiResult *results, int n)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[RECORD_COLUMNS];
	Datum		args[RECORD_COLUMNS];
	TimestampTz now = antiban_now();
	Columns		c = columns_new(Max(n, 1));
	Signal	   *signals = palloc(sizeof(Signal) * Max(n, 1));
	int			nsignals = 0;
	Datum	   *link_ids = palloc(sizeof(Datum) * Max(n, 1));
	int			nlinks = 0;

	for (int k = 0; k < RECORD_COLUMNS; k++)
		types[k] = get_array_type(element_types[k]);
	for (int i = 0; i < n; i++)
	{
		InFlight   *f = hash_search(st->inflight, &results[i].id, HASH_FIND, NULL);
		bool		has_signal = false;
		bool		to_link = false;

		if (f == NULL)
			continue;			/* can not happen: every request was remembered */
		plan_result(f, &results[i], now, &c, c.n++, &signals[nsignals], &has_signal, &to_link);
		nsignals += has_signal;
		if (to_link)
			link_ids[nlinks++] = Int64GetDatum(results[i].id);
		hash_search(st->inflight, &results[i].id, HASH_REMOVE, NULL);
	}
	if (c.n == 0)
		return;
	if (plan == NULL)
		plan = privileged_prepare(record_sql, RECORD_COLUMNS, types);
	for (int k = 0; k < RECORD_COLUMNS; k++)
		args[k] = array_of(&c, k);
	if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "antiban: could not record send results");
	if (nlinks > 0)
		link_answers(link_ids, nlinks);
	for (int i = 0; i < nsignals; i++)
		apply_account_signal(&signals[i].flight, &signals[i].plan, &signals[i].result);
}
