/*
 * webhook_evidence.c
 *		What a webhook's fields are worth, for SQL: is this recipient the
 *		message's recipient, and when did this event happen?
 *
 * The rules are src/core's (recipient_match.c, event_time.c); the apply
 * functions of 75_webhook_apply.sql call these so every place that reads a
 * recipient or a timestamp from a webhook reads it the same way.
 */
#include "pg/antiban.h"

#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/datetime.h"

#include "core/event_time.h"
#include "core/recipient_match.h"

/* Microseconds between the Unix epoch and PostgreSQL's (2000-01-01). */
#define UNIX_TO_PG_USECS \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)

/* A receipt time is between the Unix epoch and the year 10000. */
#define RECEIPT_MIN (-UNIX_TO_PG_USECS)
#define RECEIPT_MAX (INT64CONST(253402300800) * USECS_PER_SEC - UNIX_TO_PG_USECS)

/* Longest piece of a bad timestamp quoted back in a problem. */
#define QUOTED_MAX 32

PG_FUNCTION_INFO_V1(antiban_same_recipient);

/* antiban.same_recipient(a, b): core/recipient_match.c for SQL; NULL is nobody. */
Datum
antiban_same_recipient(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(recipient_same(text_to_cstring(PG_GETARG_TEXT_PP(0)),
								  text_to_cstring(PG_GETARG_TEXT_PP(1))));
}

/* "2030-01-01 00:05:00+00" whatever the session's TimeZone and DateStyle. */
static char *
utc_text(TimestampTz t)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (timestamp2tm(t, NULL, &tm, &fsec, NULL, NULL) != 0)
		elog(ERROR, "antiban: timestamp out of range");
	return psprintf("%04d-%02d-%02d %02d:%02d:%02d+00", tm.tm_year, tm.tm_mon, tm.tm_mday,
					tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static char *
time_problem(EventTimeVerdict verdict, const char *seconds, TimestampTz at)
{
	char	   *quoted = pnstrdup(seconds ? seconds : "", QUOTED_MAX);

	switch (verdict)
	{
		case EVENT_TIME_TOO_NEW:
			return psprintf("timestamp %s is later than its receipt (plus %d min of clock skew): clamped to %s",
							quoted, EVENT_CLOCK_SKEW_SECONDS / 60, utc_text(at));
		case EVENT_TIME_TOO_OLD:
			return psprintf("timestamp %s is older than Meta's %d-day retry horizon: clamped to %s",
							quoted, META_RETRY_HORIZON_SECONDS / 86400, utc_text(at));
		case EVENT_TIME_UNREADABLE:
			return psprintf("timestamp \"%s\" is not unix seconds: the receipt time is used", quoted);
		case EVENT_TIME_OK:
		case EVENT_TIME_MISSING:
			break;
	}
	return NULL;
}

PG_FUNCTION_INFO_V1(antiban_webhook_time);

/*
 * antiban.webhook_time(seconds, received) -> (at, problem): Meta's unix
 * seconds as a time within [received - retry horizon, received + skew];
 * problem says why it is not Meta's time as given (NULL when it is).
 */
Datum
antiban_webhook_time(PG_FUNCTION_ARGS)
{
	const char *seconds = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	TimestampTz received;
	EventTimeVerdict verdict;
	int64		at_unix;
	TimestampTz at;
	char	   *problem;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (PG_ARGISNULL(1))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						errmsg("received must not be null"),
						errhint("Pass the time the webhook was received, e.g. antiban.now().")));
	received = PG_GETARG_TIMESTAMPTZ(1);
	if (received < RECEIPT_MIN || received > RECEIPT_MAX)
		ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
						errmsg("received must be between 1970 and the year 10000")));
	verdict = event_time_from_text(seconds, received + UNIX_TO_PG_USECS, &at_unix);
	at = at_unix - UNIX_TO_PG_USECS;
	problem = time_problem(verdict, seconds, at);
	values[0] = TimestampTzGetDatum(at);
	values[1] = problem ? CStringGetTextDatum(problem) : (Datum) 0;
	nulls[1] = problem == NULL;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(result_desc(fcinfo), values, nulls)));
}

PG_FUNCTION_INFO_V1(antiban_webhook_retry_horizon);

/* antiban.webhook_retry_horizon(): how long Meta may post the same event again. */
Datum
antiban_webhook_retry_horizon(PG_FUNCTION_ARGS)
{
	Interval   *horizon = palloc0(sizeof(Interval));

	horizon->time = (int64) META_RETRY_HORIZON_SECONDS * USECS_PER_SEC;
	PG_RETURN_INTERVAL_P(horizon);
}
