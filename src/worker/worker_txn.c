/*
 * worker_txn.c
 *		Transaction and activity helpers shared by the workers.
 */
#include "worker/worker_txn.h"

#include "access/xact.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "pg/antiban.h"
#include "pg/privileged.h"
#include "pgstat.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"

/*
 * Connect to antiban.database_name and set what every antiban worker runs
 * with.  search_path is pinned: a worker runs only antiban's own SQL and
 * triggers, and none of it may resolve a name through a schema someone else
 * can create objects in.  jit is off: its queries are all short, and
 * compiling them with LLVM (jit_above_cost is easily crossed by a
 * misestimated plan) costs more than running them, and did so on every tick
 * of an idle sender.  Session settings, so a reload of postgresql.conf does
 * not bring them back.
 */
void
worker_connect(const char *appname)
{
	BackgroundWorkerInitializeConnection(antiban_database_name, NULL, 0);
	pin_session_search_path();
	SetConfigOption("jit", "off", PGC_USERSET, PGC_S_SESSION);
	if (appname)
		pgstat_report_appname(appname);
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

/*
 * Register one of antiban's background workers (from _PG_init): connected to
 * the database, started once recovery is over, restarted after a crash.
 */
void
worker_register(const char *name, const char *type, const char *function_name,
				Datum arg, int restart_seconds)
{
	BackgroundWorker worker = {
		.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION,
		.bgw_start_time = BgWorkerStart_RecoveryFinished,
		.bgw_restart_time = restart_seconds,
		.bgw_library_name = "antiban",
		.bgw_main_arg = arg,
	};

	strlcpy(worker.bgw_function_name, function_name, BGW_MAXLEN);
	strlcpy(worker.bgw_name, name, BGW_MAXLEN);
	strlcpy(worker.bgw_type, type, BGW_MAXLEN);
	RegisterBackgroundWorker(&worker);
}

/* Between steps of a worker's loop: die if asked, reload the configuration if asked. */
void
worker_handle_signals(void)
{
	CHECK_FOR_INTERRUPTS();
	if (ConfigReloadPending)
	{
		ConfigReloadPending = false;
		ProcessConfigFile(PGC_SIGHUP);
	}
}

/* Sleep up to ms, or until the latch is set (a reload, a wake-up); exit with the postmaster. */
void
worker_wait_ms(int ms)
{
	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, ms, PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
}
