/*
 * consent.c
 *		The consent registry: every opt-in and opt-out a person gave, as an
 *		append-only history (antiban.consent_events), the state in force
 *		per person and purpose (antiban.consent_state) and the contact's
 *		consent columns, all written by one SQL function
 *		(antiban.note_consent) in the transaction that states the change.
 *
 * The same transaction notes the change for shared memory (reach.c,
 * recipient_facts.c), which takes it at commit: decide(), the registry and
 * antiban.contacts agree once it commits, and none of them changes if it
 * aborts.  Every path that changes marketing consent comes through here:
 * antiban.record_opt_in, antiban.set_marketing_opt_out (operators, stop
 * requests, user_preferences webhooks, stop reviews) and Meta's 131050.
 */
#include "pg/antiban.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "pg/privileged.h"
#include "core/event_time.h"

static const char *const note_sql =
"SELECT antiban.note_consent($1, $2, $3, $4, $5, $6, $7)";

/*
 * Write the change to the registry (and the person's contact) in the
 * caller's transaction; returns the history row's id.  'action' is
 * opt_in, opt_out or resume; 'channel' how it reached us (a source for
 * opt-ins); 'proof' what shows it (NULL: none).  Errors for a bad source
 * or missing proof come from antiban.note_consent.
 */
int64
consent_register(int64 portfolio_id, const char *key, const char *action, TimestampTz at,
				 bool as_of_now, const char *channel, const char *proof)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[7] = {INT8OID, TEXTOID, TEXTOID, TIMESTAMPTZOID, BOOLOID, TEXTOID, TEXTOID};
	Datum		args[7] = {Int64GetDatum(portfolio_id), CStringGetTextDatum(key),
		CStringGetTextDatum(action), TimestampTzGetDatum(at), BoolGetDatum(as_of_now),
	CStringGetTextDatum(channel), proof ? CStringGetTextDatum(proof) : (Datum) 0};
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', proof ? ' ' : 'n'};
	Privileged	priv;
	bool		isnull;
	int64		id;

	privileged_begin(&priv);
	SPI_connect();
	if (plan == NULL)
		plan = privileged_prepare(note_sql, 7, types);
	if (SPI_execute_plan(plan, args, nulls, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "antiban: could not write the consent registry");
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	privileged_end(&priv);
	return id;
}

/*
 * Refuse an opt-in or a resume stated after now (plus the clock skew): the
 * later statement wins, so one dated in the future would outlive every stop
 * said before that date.  "Now" is the later of antiban.now() and the
 * transaction's real start, so a session on a pinned clock in the past can
 * still record what happened today.  Stops are not refused: a stop is the
 * safe direction, and webhooks state them with Meta's (clamped) times.
 */
void
consent_check_stated_at(TimestampTz at, const char *what)
{
	TimestampTz now = Max(antiban_now(), GetCurrentTransactionStartTimestamp());

	if (stated_time_in_future(at, now))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s stated in the future is refused", what),
				 errdetail("It is dated %s, after now (%s) plus %d seconds of clock skew: the later statement wins, so it would outlive every stop said before that date.",
						   pstrdup(timestamptz_to_str(at)), pstrdup(timestamptz_to_str(now)), EVENT_CLOCK_SKEW_SECONDS),
				 errhint("Pass the time the person said it, with its time zone (a local time read as UTC is hours ahead), or leave \"at\" out for now.")));
}

PG_FUNCTION_INFO_V1(antiban_record_opt_in);

/*
 * antiban.record_opt_in(recipient, phone_number_id, source, proof [, at
 * [, purpose]]) -> bigint: the person, in the portfolio of this number,
 * agreed to marketing at 'at' (default: as of antiban.now()), through
 * 'source' (form, ad, inbound_message, import), shown by 'proof'.  From
 * the caller's commit on; returns the history row's id.
 */
Datum
antiban_record_opt_in(PG_FUNCTION_ARGS)
{
	NumbersCache *c = numbers_cache_get();
	char		key[RECIPIENT_KEY_SIZE];
	uint64		kh;
	CachedNumber *n = reach_fact_args(fcinfo, c, key, &kh);
	const char *source = required_text_arg(fcinfo, 2, "source");
	const char *proof = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	bool		as_of_now = PG_ARGISNULL(4);
	TimestampTz at = as_of_now ? antiban_now() : PG_GETARG_TIMESTAMPTZ(4);
	const char *purpose = PG_ARGISNULL(5) ? "marketing" : text_to_cstring(PG_GETARG_TEXT_PP(5));
	int64		id;

	if (strcmp(purpose, "marketing") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("antiban records opt-ins for marketing only, not \"%s\"", purpose),
				 errdetail("Utility and authentication messages follow Meta's rules: the opt-in the person gave the business covers them, and antiban never holds them for consent."),
				 errhint("Leave purpose out, or pass 'marketing'.")));
	if (!as_of_now)
		consent_check_stated_at(at, "an opt-in");
	id = consent_register(n->portfolio_id, key, "opt_in", at, as_of_now, source, proof);
	reach_note_opt_in(c->instance, n->portfolio_id, key, kh, at, as_of_now);
	PG_RETURN_INT64(id);
}
