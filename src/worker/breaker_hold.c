/*
 * breaker_hold.c
 *		Messages whose request never got a connection to the endpoint (DNS,
 *		connect, TLS): nothing reached Meta, so the attempt is not theirs to
 *		pay for.  They go back to 'queued' as they were, the attempt the claim
 *		counted given back, and wait for the circuit breaker: while it is
 *		open nothing is claimed, so they are neither resent in a loop nor
 *		marked dead.
 */
#include "worker/breaker_sender.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "pg/privileged.h"

/*
 * Locked in id order, as the recording statement and the webhook triggers
 * do.  Only rows still 'sending': a status webhook may have settled one.
 */
static const char *const hold_sql =
"WITH locked AS (SELECT id FROM antiban.outbox WHERE id = ANY($1) ORDER BY id FOR UPDATE)"
" UPDATE antiban.outbox o SET state = 'queued', not_before = $2,"
" attempts = greatest(o.attempts - 1, 0), lease_until = NULL, leased_by = NULL,"
" reason = 'endpoint_unreachable', detail = u.detail"
" FROM unnest($1::int8[], $3::text[]) AS u(id, detail)"
" WHERE o.id = u.id AND o.id IN (SELECT id FROM locked) AND o.state = 'sending'";

static Datum
array_of(Datum *values, int n, Oid type)
{
	int16		len;
	bool		byval;
	char		align;

	get_typlenbyvalalign(type, &len, &byval, &align);
	return PointerGetDatum(construct_array(values, n, type, len, byval, align));
}

void
sender_breaker_hold(SenderState *st, const CloudApiResult *held, int n)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[3] = {INT8ARRAYOID, TIMESTAMPTZOID, TEXTARRAYOID};
	Datum		args[3];
	Datum	   *ids;
	Datum	   *details;

	if (n == 0)
		return;
	ids = palloc(sizeof(Datum) * n);
	details = palloc(sizeof(Datum) * n);
	for (int i = 0; i < n; i++)
	{
		ids[i] = Int64GetDatum(held[i].id);
		details[i] = CStringGetTextDatum(psprintf("the Graph API endpoint could not be reached (%s): held for the circuit breaker; this attempt does not count",
												  held[i].transport_error));
		hash_search(st->inflight, &held[i].id, HASH_REMOVE, NULL);
	}
	if (plan == NULL)
		plan = privileged_prepare(hold_sql, 3, types);
	args[0] = array_of(ids, n, INT8OID);
	args[1] = TimestampTzGetDatum(antiban_now());
	args[2] = array_of(details, n, TEXTOID);
	if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "antiban: could not hold messages for the circuit breaker");
}
