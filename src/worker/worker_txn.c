/*
 * worker_txn.c
 *		Transaction and activity helpers shared by the workers.
 */
#include "worker/worker_txn.h"

#include "access/xact.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "pgstat.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"

/*
 * Settings every antiban worker runs with, set once right after it connects.
 * Its queries are all short: compiling them with LLVM (jit_above_cost is
 * easily crossed by a misestimated plan) costs more than running them, and
 * did so on every tick of an idle sender.  A session setting, so a reload of
 * postgresql.conf does not bring it back.
 */
void
worker_session_settings(void)
{
	SetConfigOption("jit", "off", PGC_USERSET, PGC_S_SESSION);
}

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
