/*
 * lead_scorer.c
 *		Deferred lead scoring's step in the "antiban leads" worker.
 *
 * With antiban.lead_scoring = deferred a webhook only queues its lead
 * events (antiban.lead_event_queue); this step takes them in batches with
 * antiban.process_lead_events(), which makes the leads of new persons and
 * scores, stages and assigns them, one short transaction per batch.
 */
#include "pg/lead.h"

#include "executor/spi.h"
#include "utils/builtins.h"

#include "worker/lead_scorer.h"
#include "worker/worker_txn.h"

/* Events per transaction: large enough to share a commit, small enough to keep locks short. */
#define LEAD_SCORER_BATCH 5000

bool
lead_scorer_step(void)
{
	bool		isnull;
	int64		taken = 0;

	worker_begin("leads: scoring queued events");
	/* (an empty queue, the usual case with inline scoring, costs one probe) */
	if (SPI_execute("SELECT antiban.process_lead_events(" CppAsString2(LEAD_SCORER_BATCH) ")"
					" WHERE EXISTS (SELECT 1 FROM antiban.lead_event_queue)", false, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not process queued lead events");
	if (SPI_processed == 1)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			taken = DatumGetInt32(d);
	}
	worker_commit();
	return taken >= LEAD_SCORER_BATCH;
}
