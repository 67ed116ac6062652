/*
 * worker_txn.c
 *		Transaction and activity helpers shared by the workers.
 */
#include "worker/worker_txn.h"

#include "access/xact.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "pgstat.h"
#include "utils/snapmgr.h"

void
worker_begin(const char *activity)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, activity);
}

void
worker_commit(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	/* otherwise autovacuum never hears of the rows we churn (pg_net #254) */
	pgstat_report_stat(false);
}

/* Is antiban installed in this database?  In its own short transaction. */
bool
worker_extension_present(void)
{
	bool		present;

	StartTransactionCommand();
	present = OidIsValid(get_extension_oid("antiban", true));
	CommitTransactionCommand();
	return present;
}

void
worker_report_idle(const char *what)
{
	pgstat_report_activity(STATE_IDLE, what);
}
