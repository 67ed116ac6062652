/*
 * error_consequences.c
 *		What a Meta error code does, done once and the same way whichever way
 *		Meta told us: in the answer to a send (the sender's record step) or in
 *		a failed status webhook (antiban.apply_statuses calls
 *		antiban.act_on_error).
 *
 * The code's row in core/error_class.c decides; here it is carried out:
 *  - a send_errors row (code, source, when the request went out), which the
 *    health score counts under the row's health counter;
 *  - a soft or hard pause of the number with the row's alert
 *    (antiban.pause_number: once, one alert);
 *  - congestion: the rate controller's one decrease by antiban.aimd_decrease
 *    (health.c number_congestion, which ignores a request sent before the
 *    last decrease) and the number's bucket drained;
 *  - 131056: the recipient's pair bucket drained;
 *  - 131049 / 131050: the person's marketing deferred or stopped in the
 *    number's portfolio, from the transaction's commit on (reach.c).
 * Without protection (antiban.protection = off: a naive sender, for
 * comparison) the number is neither paused nor slowed; what concerns the
 * recipient still happens, for that is Meta's rule, not antiban's care.
 */
#include "pg/error_consequences.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "core/error_class.h"
#include "core/rate_control.h"
#include "pg/privileged.h"

const char *const meta_error_done_names[DONE_KINDS] = {
	"recorded", "paused", "slowed", "pair_drained", "marketing_deferred", "opted_out",
};

static const char *const record_sql =
"INSERT INTO antiban.send_errors (number_id, message_id, code, source, request_at)"
" VALUES ($1, $2, $3, $4, $5)";

static const char *const pause_sql =
"SELECT antiban.pause_number($1, $2, $3, $4, $5::antiban.alert_severity)";

static const char *const alert_sql =
"SELECT antiban.raise_alert($1::antiban.alert_severity, $2, $3, $4)";

static void
record(const MetaErrorEvent *e, TimestampTz request_at)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[5] = {INT8OID, INT8OID, INT4OID, TEXTOID, TIMESTAMPTZOID};
	Datum		args[5] = {Int64GetDatum(e->number_id), Int64GetDatum(e->message_id),
		Int32GetDatum(e->code), CStringGetTextDatum(e->source),
	TimestampTzGetDatum(request_at)};
	char		nulls[6] = "     ";

	nulls[1] = e->message_id ? ' ' : 'n';
	if (plan == NULL)
		plan = privileged_prepare(record_sql, 5, types);
	if (SPI_execute_plan(plan, args, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "antiban: could not record error %d of number " INT64_FORMAT, e->code, e->number_id);
}

/* A boolean answer of a one-row SELECT. */
static bool
true_answer(void)
{
	bool		isnull;
	Datum		v;

	if (SPI_processed == 0)
		return false;
	v = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return !isnull && DatumGetBool(v);
}

static bool
pause_number(const MetaErrorEvent *e, const ErrorClass *c)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[5] = {INT8OID, TEXTOID, TEXTOID, BOOLOID, TEXTOID};
	Datum		args[5];
	bool		hard = c->pause == PAUSE_HARD;
	char		message[48] = "";
	char		detail[512];

	if (e->message_id)
		snprintf(message, sizeof(message), " for message " INT64_FORMAT, e->message_id);
	snprintf(detail, sizeof(detail), "Meta %s %d (%s)%s: number paused, %s",
			 strcmp(e->source, "send") == 0 ? "answered" : "reported", e->code, c->meaning, message,
			 hard ? "no further sends until an operator resumes it (antiban.release_mode)"
			 : "it recovers by itself after antiban.pause_cooldown if its health allows");
	args[0] = Int64GetDatum(e->number_id);
	args[1] = CStringGetTextDatum(c->alert_kind);
	args[2] = CStringGetTextDatum(detail);
	args[3] = BoolGetDatum(hard);
	args[4] = CStringGetTextDatum(alert_severity_name(c->severity));
	if (plan == NULL)
		plan = privileged_prepare(pause_sql, 5, types);
	if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not pause number " INT64_FORMAT, e->number_id);
	return true_answer();
}

static void
raise_alert(const ErrorClass *c, const char *phone_number_id, const char *detail)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[4] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		args[4] = {CStringGetTextDatum(alert_severity_name(c->severity)),
		CStringGetTextDatum(phone_number_id), CStringGetTextDatum(c->alert_kind),
	CStringGetTextDatum(detail)};

	if (plan == NULL)
		plan = privileged_prepare(alert_sql, 4, types);
	if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not raise an alert");
}

/* Congestion: the number's bucket is empty now, its rate one decrease lower. */
static bool
slow_number(const MetaErrorEvent *e, const ErrorClass *c, Oid instance, const CachedNumber *n,
	 TimestampTz request_at)
{
	char		cause[160];
	char		why[RATE_CONTROL_WHY_MAX];

	if (n)
		buckets_drain(instance, n, NULL, 0);
	snprintf(cause, sizeof(cause), "%s (%d)", c->meaning, e->code);
	if (!number_congestion(e->number_id, cause, request_at, why, sizeof(why)))
		return false;
	if (c->alert_kind && n)
		raise_alert(c, n->view.phone_number_id, why);
	return true;
}

/*
 * The person a recipient names in the number's portfolio (loaded): its
 * canonical key and hash, and its anchor; false when it names nobody.
 */
static bool
person_of(NumbersCache *cache, const CachedNumber *n, const char *recipient, TimestampTz now,
		  char *key, uint64 *key_hash, uint64 *anchor)
{
	RecipientState rs;

	if (recipient == NULL || !identity_key(recipient, key, key_hash))
		return false;
	reach_ensure_loaded(cache, &cache->portfolios[n->portfolio_index], now);
	reach_get(cache->instance, n->portfolio_id, *key_hash, &rs, anchor);
	return true;
}

/* 131049 and 131050 concern the person, in the portfolio of the number. */
static int
act_on_person(const ErrorClass *c, NumbersCache *cache, const CachedNumber *n,
			  const char *recipient, TimestampTz now)
{
	char		key[RECIPIENT_KEY_SIZE];
	uint64		kh;
	uint64		anchor;
	int			done = 0;

	if (!person_of(cache, n, recipient, now, key, &kh, &anchor))
		return 0;
	if (c->defer_marketing_us > 0)
	{
		reach_defer_marketing(cache->instance, n->portfolio_id, key, kh, now + c->defer_marketing_us);
		done |= DONE_MARKETING_DEFERRED;
	}
	if (c->opt_out)
	{
		/* Meta says the person stopped marketing: as of now, when we learn it */
		consent_register(n->portfolio_id, key, "opt_out", now, true, "meta_error", "131050");
		reach_set_opt_out(cache->instance, n->portfolio_id, key, kh, true, now, true);
		done |= DONE_OPTED_OUT;
	}
	return done;
}

/*
 * Do what the code's row says for this error; returns DONE_* flags.  An
 * error of a number antiban does not know is ignored.
 */
int
meta_error_act(const MetaErrorEvent *e)
{
	ErrorClass	c = error_classify(e->code, e->http_status);
	NumbersCache *cache = numbers_cache_get();
	const CachedNumber *n = numbers_cache_by_id(cache, e->number_id);
	TimestampTz now = antiban_now();
	TimestampTz request_at = e->request_at ? e->request_at : now;
	Privileged	priv;
	int			done = 0;

	if (e->number_id == 0)
		return 0;
	privileged_begin(&priv);
	SPI_connect();
	record(e, request_at);
	done |= DONE_RECORDED;
	if (c.pause != PAUSE_NONE && pause_number(e, &c))
		done |= DONE_PAUSED;
	if (c.slow_number && antiban_protection && slow_number(e, &c, cache->instance, n, request_at))
		done |= DONE_SLOWED;
	if (c.recipient_backoff && n)
	{
		char		key[RECIPIENT_KEY_SIZE];
		uint64		kh;
		uint64		anchor;

		/* the pair of the number and the person, whatever identifier named them */
		if (person_of(cache, n, e->recipient, now, key, &kh, &anchor))
		{
			buckets_drain(cache->instance, n, key, anchor);
			done |= DONE_PAIR_DRAINED;
		}
	}
	if ((c.defer_marketing_us > 0 || c.opt_out) && n)
		done |= act_on_person(&c, cache, n, e->recipient, now);
	SPI_finish();
	privileged_end(&priv);
	return done;
}

static const char *
text_arg_or_null(FunctionCallInfo fcinfo, int arg)
{
	return PG_ARGISNULL(arg) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(arg));
}

PG_FUNCTION_INFO_V1(antiban_act_on_error);

/*
 * antiban.act_on_error(number_id, message_id, code, http_status, source,
 * request_at, recipient) -> text[]: what was done.
 */
Datum
antiban_act_on_error(PG_FUNCTION_ARGS)
{
	MetaErrorEvent e = {
		.number_id = PG_ARGISNULL(0) ? 0 : PG_GETARG_INT64(0),
		.message_id = PG_ARGISNULL(1) ? 0 : PG_GETARG_INT64(1),
		.http_status = PG_ARGISNULL(3) ? 400 : PG_GETARG_INT32(3),
		.source = text_arg_or_null(fcinfo, 4),
		.request_at = PG_ARGISNULL(5) ? 0 : PG_GETARG_TIMESTAMPTZ(5),
		.recipient = text_arg_or_null(fcinfo, 6),
	};
	Datum		names[DONE_KINDS];
	int			n = 0;
	int			done;

	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("an error code is required"),
				 errhint("Pass Meta's error code, e.g. antiban.act_on_error(1, NULL, 131048, 400, 'webhook', NULL, NULL).")));
	e.code = PG_GETARG_INT32(2);
	if (e.source == NULL || (strcmp(e.source, "send") != 0 && strcmp(e.source, "webhook") != 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("source must be \"send\" or \"webhook\""),
				 errdetail("The source says how Meta told us: in a send answer or in a failed status.")));
	done = meta_error_act(&e);
	for (int k = 0; k < DONE_KINDS; k++)
		if (done & (1 << k))
			names[n++] = CStringGetTextDatum(meta_error_done_names[k]);
	PG_RETURN_ARRAYTYPE_P(construct_array(names, n, TEXTOID, -1, false, TYPALIGN_INT));
}
