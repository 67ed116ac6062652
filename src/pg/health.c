/*
 * health.c
 *		antiban.evaluate_health(): score every number and step its mode; and
 *		number_congestion(): the same controller's decrease for a congestion
 *		answer (130429), at once, for the sender and the webhooks.
 *
 * The signals come from SQL (antiban.number_signals, which counts errors by
 * the code table's columns), the rules from src/core (health.c for the
 * score, rate_control.c for modes and AIMD); what changed is written back to
 * antiban.numbers, whose trigger explains it in antiban.health_events.  The
 * monitor worker calls evaluate_health every antiban.monitor_interval; tests
 * call it with a pinned clock.
 *
 * A number may change between the monitor's read and its write (the sender
 * slowed or paused it meanwhile): the write is skipped then, and the next
 * evaluation starts from what is there, so neither change is lost.
 */
#include "pg/antiban.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"

#include "core/health.h"
#include "core/rate_control.h"
#include "pg/error_consequences.h"
#include "pg/privileged.h"
#include "pg/warmup.h"

#define REASON_MAX 600

static RateControlParams controller_params(void);

/* Column numbers of antiban.number_signals(). */
enum
{
	SIG_NUMBER_ID = 1, SIG_PHONE, SIG_HEALTH, SIG_MODE, SIG_FACTOR, SIG_MODE_SINCE,
	SIG_RATE_CHANGED, SIG_FORCED, SIG_HARD_BLOCK, SIG_QUALITY, SIG_PREVIOUS_QUALITY,
	SIG_QUALITY_FELL, SIG_STATUS, SIG_CAN_SEND, SIG_SENT_RECENT, SIG_SPAM, SIG_POLICY,
	SIG_THROUGHPUT, SIG_PAIR, SIG_CAP, SIG_UNDELIVERABLE, SIG_SENT_DAY, SIG_DELIVERED_DAY,
	SIG_READ_DAY, SIG_REPLIED_DAY, SIG_BLOCKS_DAY, SIG_LAST_BAD, SIG_CONGESTION_AT,
	SIG_NEW_SOFT_PAUSE, SIG_NEW_HARD_PAUSE, SIG_EVALUATED_AT, SIG_WARMUP_DAY, SIG_WARMUP_STARTED,
	SIG_WARMUP_CAP, SIG_WARMUP_FULL, SIG_SENT_24H, SIG_OLDEST_SENT_24H, SIG_RATE_DECREASED,
	SIG_RATE_CEILING
};

static const char *const signals_sql =
"SELECT * FROM antiban.number_signals(make_interval(secs => $1))";

/* Only if nobody changed the number's controller state since it was read. */
static const char *const update_sql =
"UPDATE antiban.numbers SET health = $2, health_terms = $3::jsonb, mode = $4::antiban.number_mode,"
" rate_factor = $5, mode_since = $6, rate_changed_at = $7, hard_block = $8, change_reason = $9,"
" rate_decreased_at = $10, rate_ceiling = $16"
" WHERE id = $1 AND mode = $11::antiban.number_mode AND rate_factor = $12 AND hard_block = $13"
"  AND rate_decreased_at IS NOT DISTINCT FROM $14 AND mode_forced = $15";

/* The congestion step reads and writes the row under its lock. */
static const char *const congestion_read_sql =
"SELECT mode::text, rate_factor, mode_since, rate_changed_at, rate_decreased_at, mode_forced, hard_block,"
" rate_ceiling FROM antiban.numbers WHERE id = $1 FOR UPDATE";

static const char *const congestion_write_sql =
"UPDATE antiban.numbers SET mode = $2::antiban.number_mode, rate_factor = $3, mode_since = $4,"
" rate_changed_at = $5, rate_decreased_at = $6, change_reason = $7, rate_ceiling = $8 WHERE id = $1";

static const char *const pause_alert_sql =
"SELECT antiban.raise_alert('critical', $1, 'number_paused', $2)";

static const char *const evaluated_sql =
"INSERT INTO antiban.health_state (number_id, evaluated_at) SELECT id, $1 FROM antiban.numbers"
" ON CONFLICT (number_id) DO UPDATE SET evaluated_at = excluded.evaluated_at";

/* One number as SQL reported it. */
typedef struct NumberSignals
{
	int64		id;
	char	   *phone_number_id;
	int			health;
	RateControlState state;
	HealthSignals signals;
	RateControlInput input;
	WarmupRow	warmup;
	WarmupInput warmup_input;
} NumberSignals;

static int64
int8_at(HeapTuple t, TupleDesc d, int col)
{
	bool		isnull;
	Datum		v = SPI_getbinval(t, d, col, &isnull);

	return isnull ? 0 : DatumGetInt64(v);
}

static int32
int4_at(HeapTuple t, TupleDesc d, int col)
{
	bool		isnull;
	Datum		v = SPI_getbinval(t, d, col, &isnull);

	return isnull ? 0 : DatumGetInt32(v);
}

static double
float8_at(HeapTuple t, TupleDesc d, int col)
{
	bool		isnull;
	Datum		v = SPI_getbinval(t, d, col, &isnull);

	return isnull ? 0 : DatumGetFloat8(v);
}

static bool
bool_at(HeapTuple t, TupleDesc d, int col)
{
	bool		isnull;
	Datum		v = SPI_getbinval(t, d, col, &isnull);

	return !isnull && DatumGetBool(v);
}

static TimestampTz
time_at(HeapTuple t, TupleDesc d, int col, TimestampTz otherwise)
{
	bool		isnull;
	Datum		v = SPI_getbinval(t, d, col, &isnull);

	return isnull ? otherwise : DatumGetTimestampTz(v);
}

/* Status texts that mean Meta will not let the number send at all. */
static bool
status_is_hard(const char *status)
{
	return status && (strcmp(status, "BANNED") == 0 || strcmp(status, "RESTRICTED") == 0 ||
					  strcmp(status, "DISCONNECTED") == 0 || strcmp(status, "DELETED") == 0);
}

static void
read_row(HeapTuple t, TupleDesc d, TimestampTz now, NumberSignals *n)
{
	HealthSignals *s = &n->signals;
	RateControlParams p = controller_params();
	RateControlState *st = &n->state;
	TimestampTz last_bad = time_at(t, d, SIG_LAST_BAD, 0);
	bool		isnull;

	n->id = int8_at(t, d, SIG_NUMBER_ID);
	n->phone_number_id = SPI_getvalue(t, d, SIG_PHONE);
	n->health = DatumGetInt32(SPI_getbinval(t, d, SIG_HEALTH, &isnull));

	st->mode = MODE_ACTIVE;
	number_mode_parse(SPI_getvalue(t, d, SIG_MODE), &st->mode);
	st->factor = DatumGetFloat8(SPI_getbinval(t, d, SIG_FACTOR, &isnull));
	st->since = time_at(t, d, SIG_MODE_SINCE, now);
	st->last_change = time_at(t, d, SIG_RATE_CHANGED, now);
	st->last_decrease = time_at(t, d, SIG_RATE_DECREASED, 0);
	st->ceiling = float8_at(t, d, SIG_RATE_CEILING);
	st->operator_hold = bool_at(t, d, SIG_FORCED);
	st->hard_block = bool_at(t, d, SIG_HARD_BLOCK);
	/* started and not graduated (graduation clears the day's start) */
	st->warmup_pending = time_at(t, d, SIG_WARMUP_STARTED, 0) != 0;

	if (!quality_rating_parse(SPI_getvalue(t, d, SIG_QUALITY), &s->quality))
		s->quality = QUALITY_UNKNOWN;
	if (!quality_rating_parse(SPI_getvalue(t, d, SIG_PREVIOUS_QUALITY), &s->previous_quality))
		s->previous_quality = s->quality;
	s->status = SPI_getvalue(t, d, SIG_STATUS);
	if (!send_capability_parse(SPI_getvalue(t, d, SIG_CAN_SEND), &s->can_send))
		s->can_send = CAN_SEND_AVAILABLE;
	s->sent_recent = int8_at(t, d, SIG_SENT_RECENT);
	s->spam_errors = int8_at(t, d, SIG_SPAM);
	s->policy_errors = int8_at(t, d, SIG_POLICY);
	s->throughput_errors = int8_at(t, d, SIG_THROUGHPUT);
	s->pair_errors = int8_at(t, d, SIG_PAIR);
	s->marketing_cap_errors = int8_at(t, d, SIG_CAP);
	s->undeliverable_errors = int8_at(t, d, SIG_UNDELIVERABLE);
	s->sent_day = int8_at(t, d, SIG_SENT_DAY);
	s->delivered_day = int8_at(t, d, SIG_DELIVERED_DAY);
	s->read_day = int8_at(t, d, SIG_READ_DAY);
	s->replied_day = int8_at(t, d, SIG_REPLIED_DAY);
	s->blocks_day = int8_at(t, d, SIG_BLOCKS_DAY);
	s->seconds_since_bad_event = last_bad == 0 ? -1 : Max(0, (now - last_bad) / USECS_PER_SEC);

	n->input.now = now;
	n->input.bad_signal = bool_at(t, d, SIG_QUALITY_FELL);
	n->input.congestion_at = time_at(t, d, SIG_CONGESTION_AT, 0);
	n->input.pause_signal = int8_at(t, d, SIG_NEW_SOFT_PAUSE) > 0;
	n->input.hard_signal = int8_at(t, d, SIG_NEW_HARD_PAUSE) > 0 || status_is_hard(s->status) ||
		s->can_send == CAN_SEND_BLOCKED;

	n->warmup.id = n->id;
	n->warmup.state.day = int4_at(t, d, SIG_WARMUP_DAY);
	n->warmup.state.day_started = time_at(t, d, SIG_WARMUP_STARTED, 0);
	n->warmup.cap = int4_at(t, d, SIG_WARMUP_CAP);
	n->warmup.full_until = time_at(t, d, SIG_WARMUP_FULL, 0);
	n->warmup_input.now = now;
	n->warmup_input.sent_24h = int8_at(t, d, SIG_SENT_24H);
	n->warmup_input.oldest_sent_24h = time_at(t, d, SIG_OLDEST_SENT_24H, 0);
	n->warmup_input.bad_signal = n->input.bad_signal || n->input.pause_signal || n->input.hard_signal ||
		rate_control_congestion_is_new(&p, st, n->input.congestion_at);
}

static RateControlParams
controller_params(void)
{
	RateControlParams p = rate_control_defaults();

	p.throttle_below = antiban_throttle_below;
	p.pause_below = antiban_pause_below;
	p.resume_at = antiban_resume_at;
	p.decrease = antiban_aimd_decrease;
	p.increase = antiban_aimd_increase;
	p.increase_interval = (int64) antiban_aimd_interval_s * USECS_PER_SEC;
	p.probe_interval = (int64) antiban_aimd_probe_interval_s * USECS_PER_SEC;
	/* Meta's one-second count, and the latency spread its arrivals may add */
	p.congestion_window = USECS_PER_SEC + (int64) antiban_arrival_jitter_ms * 1000;
	p.pause_cooldown = (int64) antiban_pause_cooldown_s * USECS_PER_SEC;
	p.ramp = (int64) antiban_recovery_ramp_s * USECS_PER_SEC;
	return p;
}

/* [{"signal": ..., "points": ..., "why": ...}, ...] */
static char *
terms_json(const HealthScore *h)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	for (int i = 0; i < h->nterms; i++)
	{
		appendStringInfo(&buf, "%s{\"signal\": ", i ? ", " : "");
		escape_json(&buf, h->terms[i].signal);
		appendStringInfo(&buf, ", \"points\": %d, \"why\": ", h->terms[i].points);
		escape_json(&buf, h->terms[i].why);
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoChar(&buf, ']');
	return buf.data;
}

/* "health 100 -> 76: -24 12 x 131048 ... ; -5 ..." */
static void
health_reason(int before, const HealthScore *h, char *out, size_t size)
{
	size_t		len = snprintf(out, size, "health %d -> %d:", before, h->score);

	if (h->nterms == 0)
		snprintf(out + len, size - len, " no penalties left");
	for (int i = 0; i < h->nterms && len < size; i++)
		len += snprintf(out + len, size - len, "%s %+d %s", i ? ";" : "", h->terms[i].points, h->terms[i].why);
}

/* A timestamp argument, NULL for 0 (never). */
static Datum
time_arg(TimestampTz t, char *null_flag)
{
	*null_flag = t == 0 ? 'n' : ' ';
	return TimestampTzGetDatum(t);
}

/* False when the number changed since it was read: the next evaluation redoes it. */
static bool
write_change(const NumberSignals *n, const HealthScore *h, const RateControlState *next,
			 const char *reason)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[16] = {INT8OID, INT2OID, TEXTOID, TEXTOID, FLOAT8OID, TIMESTAMPTZOID,
		TIMESTAMPTZOID, BOOLOID, TEXTOID, TIMESTAMPTZOID, TEXTOID, FLOAT8OID, BOOLOID,
	TIMESTAMPTZOID, BOOLOID, FLOAT8OID};
	Datum		args[16];
	char		nulls[17];

	if (plan == NULL)
		plan = privileged_prepare(update_sql, 16, types);
	memset(nulls, ' ', sizeof(nulls));
	nulls[16] = '\0';
	args[0] = Int64GetDatum(n->id);
	args[1] = Int16GetDatum((int16) h->score);
	args[2] = CStringGetTextDatum(terms_json(h));
	args[3] = CStringGetTextDatum(number_mode_name(next->mode));
	args[4] = Float8GetDatum(next->factor);
	args[5] = TimestampTzGetDatum(next->since);
	args[6] = TimestampTzGetDatum(next->last_change);
	args[7] = BoolGetDatum(next->hard_block);
	args[8] = CStringGetTextDatum(reason);
	args[9] = time_arg(next->last_decrease, &nulls[9]);
	/* what was read: the row must still say so */
	args[10] = CStringGetTextDatum(number_mode_name(n->state.mode));
	args[11] = Float8GetDatum(n->state.factor);
	args[12] = BoolGetDatum(n->state.hard_block);
	args[13] = time_arg(n->state.last_decrease, &nulls[13]);
	args[14] = BoolGetDatum(n->state.operator_hold);
	args[15] = Float8GetDatum(next->ceiling);
	nulls[15] = next->ceiling > 0 ? ' ' : 'n';
	if (SPI_execute_plan(plan, args, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "antiban: could not update number " INT64_FORMAT, n->id);
	if (SPI_processed == 0)
		return false;
	if (next->mode == MODE_PAUSED && n->state.mode != MODE_PAUSED)
	{
		Oid			atypes[2] = {TEXTOID, TEXTOID};
		Datum		aargs[2] = {CStringGetTextDatum(n->phone_number_id), CStringGetTextDatum(reason)};

		if (SPI_execute_with_args(pause_alert_sql, 2, atypes, aargs, NULL, false, 0) < 0)
			elog(ERROR, "antiban: could not raise the pause alert");
	}
	return true;
}

static void
emit(ReturnSetInfo *rsinfo, const NumberSignals *n, const HealthScore *h,
	 const RateControlState *next, bool changed, const char *reason)
{
	Datum		values[6];
	bool		nulls[6] = {false, false, false, false, false, !changed};

	values[0] = CStringGetTextDatum(n->phone_number_id);
	values[1] = Int32GetDatum(h->score);
	values[2] = DirectFunctionCall2(enum_in, CStringGetDatum(number_mode_name(next->mode)),
									ObjectIdGetDatum(TupleDescAttr(rsinfo->setDesc, 2)->atttypid));
	values[3] = Float8GetDatum(next->factor);
	values[4] = BoolGetDatum(changed);
	values[5] = changed ? CStringGetTextDatum(reason) : (Datum) 0;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/* Score one number, step its controller, write what changed. */
static void
evaluate_number(ReturnSetInfo *rsinfo, NumberSignals *n, const HealthWeights *w,
				const RateControlParams *p)
{
	HealthScore h;
	RateControlStep step;
	RateControlState next;
	char		reason[REASON_MAX];
	bool		changed;

	health_score(&n->signals, w, &h);
	n->input.health = h.score;
	rate_control_step(p, &n->state, &n->input, &step);
	/* without protection antiban only watches: a naive sender, for comparison */
	next = antiban_protection ? step.next : n->state;
	changed = antiban_protection && (h.score != n->health || step.changed);
	if (step.changed && antiban_protection)
		snprintf(reason, sizeof(reason), "%s (health %d)", step.why, h.score);
	else
		health_reason(n->health, &h, reason, sizeof(reason));
	if (changed && !write_change(n, &h, &next, reason))
	{
		/* changed by someone else since it was read: the next tick decides */
		emit(rsinfo, n, &h, &n->state, false, reason);
		return;
	}
	if (antiban_protection)
	{
		bool		graduated;
		const char *warmup_why;

		n->warmup_input.health = h.score;
		/* back from a pause or a slow-down: the day it left starts over */
		if (next.mode == MODE_WARMING && n->state.mode != MODE_WARMING)
			n->warmup.state.day_started = 0;
		warmup_why = warmup_evaluate(&n->warmup, &n->warmup_input, next.mode == MODE_WARMING,
									 !next.operator_hold, &graduated);
		if (warmup_why)
		{
			strlcpy(reason, warmup_why, sizeof(reason));
			changed = true;
		}
		if (graduated)
			next.mode = MODE_ACTIVE;
	}
	emit(rsinfo, n, &h, &next, changed, reason);
}

PG_FUNCTION_INFO_V1(antiban_evaluate_health);

Datum
antiban_evaluate_health(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TimestampTz now = antiban_now();
	HealthWeights w = antiban_health_weights_in_force();
	RateControlParams p = controller_params();
	Privileged	priv;
	Oid			types[1] = {FLOAT8OID};
	Datum		args[1] = {Float8GetDatum((double) antiban_health_window_s)};
	SPITupleTable *rows;
	uint64		nrows;

	/* every number of every portfolio: not a tenant's administrator's */
	tenancy_refuse_install_wide("evaluate the health of every number");
	InitMaterializedSRF(fcinfo, 0);
	privileged_begin(&priv);
	SPI_connect();
	if (SPI_execute_with_args(signals_sql, 1, types, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not read number signals");
	rows = SPI_tuptable;
	nrows = SPI_processed;
	for (uint64 i = 0; i < nrows; i++)
	{
		NumberSignals n;

		read_row(rows->vals[i], rows->tupdesc, now, &n);
		evaluate_number(rsinfo, &n, &w, &p);
	}
	{
		Oid			etypes[1] = {TIMESTAMPTZOID};
		Datum		eargs[1] = {TimestampTzGetDatum(now)};

		if (SPI_execute_with_args(evaluated_sql, 1, etypes, eargs, NULL, false, 0) < 0)
			elog(ERROR, "antiban: could not record the evaluation time");
	}
	SPI_finish();
	privileged_end(&priv);
	return (Datum) 0;
}

/*
 * Meta answered congestion ('cause') for a request sent at 'request_at':
 * the controller's one decrease for that event (rate_control_congestion),
 * written to the number under its row lock.  Inside SPI, as antiban_owner.
 * Returns whether the number changed; *why says what happened either way.
 */
bool
number_congestion(int64 number_id, const char *cause, TimestampTz request_at,
				  char *why, size_t whylen)
{
	static SPIPlanPtr read_plan = NULL;
	static SPIPlanPtr write_plan = NULL;
	Oid			read_types[1] = {INT8OID};
	Oid			write_types[8] = {INT8OID, TEXTOID, FLOAT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID,
	TIMESTAMPTZOID, TEXTOID, FLOAT8OID};
	Datum		args[8] = {Int64GetDatum(number_id)};
	RateControlParams p = controller_params();
	RateControlState s = {0};
	RateControlStep step;
	TimestampTz now = antiban_now();
	HeapTuple	t;
	TupleDesc	d;
	bool		isnull;

	if (read_plan == NULL)
		read_plan = privileged_prepare(congestion_read_sql, 1, read_types);
	if (SPI_execute_plan(read_plan, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not read number " INT64_FORMAT, number_id);
	if (SPI_processed == 0)
	{
		snprintf(why, whylen, "%s: number " INT64_FORMAT " does not exist", cause, number_id);
		return false;
	}
	t = SPI_tuptable->vals[0];
	d = SPI_tuptable->tupdesc;
	number_mode_parse(SPI_getvalue(t, d, 1), &s.mode);
	s.factor = DatumGetFloat8(SPI_getbinval(t, d, 2, &isnull));
	s.since = time_at(t, d, 3, now);
	s.last_change = time_at(t, d, 4, now);
	s.last_decrease = time_at(t, d, 5, 0);
	s.operator_hold = bool_at(t, d, 6);
	s.hard_block = bool_at(t, d, 7);
	s.ceiling = float8_at(t, d, 8);
	rate_control_congestion(&p, &s, cause, request_at, now, &step);
	strlcpy(why, step.why, whylen);
	if (!step.changed)
		return false;
	if (write_plan == NULL)
		write_plan = privileged_prepare(congestion_write_sql, 8, write_types);
	args[1] = CStringGetTextDatum(number_mode_name(step.next.mode));
	args[2] = Float8GetDatum(step.next.factor);
	args[3] = TimestampTzGetDatum(step.next.since);
	args[4] = TimestampTzGetDatum(step.next.last_change);
	args[5] = TimestampTzGetDatum(step.next.last_decrease);
	args[6] = CStringGetTextDatum(step.why);
	args[7] = Float8GetDatum(step.next.ceiling);
	if (SPI_execute_plan(write_plan, args, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "antiban: could not slow number " INT64_FORMAT, number_id);
	return true;
}
