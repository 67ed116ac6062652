/*
 * lead_scorer.c
 *		Deferred lead scoring's step in the "antiban leads" worker.
 *
 * With antiban.lead_scoring = deferred a webhook only queues its lead
 * events (antiban.lead_event_queue); this step takes them in batches with
 * antiban.process_lead_events(), which makes the leads of new persons and
 * scores, stages and assigns them, one short transaction per batch.
 *
 * A failed batch is tried again at half the size, down to one event (as the
 * webhook apply worker does), so one event that keeps failing holds up only
 * itself: alone, its failure is counted (antiban.note_lead_event_failure),
 * it is retried later (what made it fail may pass) while the events behind
 * it go on, and at the third it is set aside, left in the queue for an
 * operator.  A
 * success restores the full size.
 */
#include "pg/lead.h"

#include "catalog/pg_type_d.h"
#include "executor/spi.h"
#include "postmaster/interrupt.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/memutils.h"

#include "worker/lead_scorer.h"
#include "worker/worker_txn.h"

/* Events per transaction: large enough to share a commit, small enough to keep locks short. */
#define LEAD_SCORER_BATCH 5000

static int	batch_limit = LEAD_SCORER_BATCH;

/* The event a batch of one took (0: none), kept for when that batch fails. */
static int64 single_event = 0;

/*
 * One batch of up to 'limit' events; with limit 1 the oldest event not set
 * aside, whose id is kept in single_event.
 */
static int
score_batch(int limit)
{
	Oid			types[2] = {INT4OID, INT8OID};
	Datum		args[2];
	bool		isnull;
	int			taken = 0;

	worker_begin("leads: scoring queued events");
	single_event = 0;
	if (limit == 1)
	{
		if (SPI_execute("SELECT q.id FROM antiban.lead_event_queue q"
						" WHERE antiban.lead_event_due(q.attempts, q.failed_at) ORDER BY q.id LIMIT 1",
						true, 1) != SPI_OK_SELECT)
			elog(ERROR, "antiban: could not read the lead event queue");
		if (SPI_processed == 1)
			single_event = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}
	args[0] = Int32GetDatum(limit);
	args[1] = Int64GetDatum(single_event > 0 ? single_event - 1 : 0);
	/* (an empty queue, the usual case with inline scoring, costs one probe) */
	if (SPI_execute_with_args("SELECT antiban.process_lead_events($1, $2)"
							  " WHERE EXISTS (SELECT 1 FROM antiban.lead_event_queue)",
							  2, types, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not process queued lead events");
	if (SPI_processed == 1)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			taken = DatumGetInt32(d);
	}
	worker_commit();
	return taken;
}

/* Count a failure of the event that failed alone (a transaction of its own). */
static void
note_failure(int64 event, const char *error)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		args[2];

	args[0] = Int64GetDatum(event);
	args[1] = CStringGetTextDatum(error);
	worker_begin("leads: setting a failing event aside");
	if (SPI_execute_with_args("SELECT antiban.note_lead_event_failure($1, $2)", 2, types, args, NULL,
							  false, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not note a lead event's failure");
	worker_commit();
}

/* A failure that passes by itself (a lock, a conflict, a cancel) says nothing of the event. */
static bool
passing_failure(int sqlerrcode)
{
	return sqlerrcode == ERRCODE_T_R_DEADLOCK_DETECTED ||
		sqlerrcode == ERRCODE_T_R_SERIALIZATION_FAILURE ||
		sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE ||
		sqlerrcode == ERRCODE_QUERY_CANCELED ||
		sqlerrcode == ERRCODE_ADMIN_SHUTDOWN;
}

/* After a failed batch: the next, smaller try; true when it should come at once. */
static bool
after_failure(ErrorData *failure)
{
	bool		again = false;

	/* the error as the log would have had it */
	ereport(LOG,
			(errmsg("antiban leads: a batch of up to %d queued lead events failed: %s",
					batch_limit, failure->message)));
	if (batch_limit > 1)
	{
		batch_limit = Max(1, batch_limit / 2);
		again = true;
	}
	else if (single_event > 0 && !passing_failure(failure->sqlerrcode) && !ShutdownRequestPending)
	{
		note_failure(single_event, failure->message);
		again = true;
	}
	FreeErrorData(failure);
	/* (a failure that passes by itself waits for the next interval) */
	return again && !ShutdownRequestPending;
}

bool
lead_scorer_step(void)
{
	MemoryContext caller = CurrentMemoryContext;
	volatile int taken = 0;
	ErrorData  *volatile failure = NULL;

	PG_TRY();
	{
		taken = score_batch(batch_limit);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(caller);
		failure = CopyErrorData();
		FlushErrorState();
		AbortOutOfAnyTransaction();
	}
	PG_END_TRY();

	if (failure == NULL)
	{
		bool		more = taken >= batch_limit;

		batch_limit = LEAD_SCORER_BATCH;
		return more;
	}
	return after_failure(failure);
}
