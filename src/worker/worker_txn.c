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
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"

/*
 * What SIGTERM (a fast shutdown, pg_terminate_backend) does to the statement
 * a worker is running.  Setting a flag alone left a worker inside a long
 * statement (a claim over a deep queue, a wait for a lock) until it ended,
 * and the shutdown with it.
 *	STOP_AFTER	the statement finishes; the worker stops at its next check
 *				(recording what the Cloud API answered: dropping it would
 *				leave a message that reached Meta to be reconciled)
 *	STOP_DIE	the statement ends now, and the worker with it (FATAL): a
 *				worker whose every step is one transaction loses nothing
 *	STOP_CANCEL	the statement ends now with an error that
 *				worker_run_stoppable catches: the sender rolls the step back
 *				and still records the requests it has in flight
 */
typedef enum WorkerStop
{
	STOP_AFTER,
	STOP_DIE,
	STOP_CANCEL
} WorkerStop;

static volatile sig_atomic_t stop_in_statement = STOP_AFTER;
static WorkerStop worker_begin_stop = STOP_DIE;

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

/* Ask CHECK_FOR_INTERRUPTS to end the statement in progress, as 'how' says. */
static void
raise_stop(WorkerStop how)
{
	if (how == STOP_DIE)
		ProcDiePending = true;
	else if (how == STOP_CANCEL)
		QueryCancelPending = true;
	else
		return;
	InterruptPending = true;
}

/* SIGTERM for every antiban worker that runs SQL (pqsignal before unblocking). */
void
worker_sigterm(SIGNAL_ARGS)
{
	int			save_errno = errno;

	ShutdownRequestPending = true;
	raise_stop((WorkerStop) stop_in_statement);
	SetLatch(MyLatch);
	errno = save_errno;
}

/*
 * The sender: its plain worker_begin() transactions record what the Cloud
 * API did and finish whatever SIGTERM says; only the steps it runs through
 * worker_run_stoppable end early.
 */
void
worker_finish_statements_on_sigterm(void)
{
	worker_begin_stop = STOP_AFTER;
}

/* A stop asked before the statement began ends it at its first check. */
static void
begin(const char *activity, WorkerStop stop)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, activity);
	stop_in_statement = stop;
	if (ShutdownRequestPending)
		raise_stop(stop);
}

/* A transaction whose statements SIGTERM ends (see worker_finish_statements_on_sigterm). */
void
worker_begin(const char *activity)
{
	begin(activity, worker_begin_stop);
}

/* A transaction that records what an HTTP call did: SIGTERM lets it finish. */
void
worker_begin_to_finish(const char *activity)
{
	begin(activity, STOP_AFTER);
}

/* Between transactions no statement runs: a cancel left pending has nothing to end. */
static void
statement_over(void)
{
	if (stop_in_statement == STOP_CANCEL)
		QueryCancelPending = false;
	stop_in_statement = STOP_AFTER;
}

void
worker_commit(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	statement_over();
	/* otherwise autovacuum never hears of the rows we churn (pg_net #254) */
	pgstat_report_stat(false);
}

/*
 * Run step in a transaction of its own that SIGTERM ends mid-statement, and,
 * with deadline_ms > 0, that ends after that long whatever it waits for.
 * Returns false when a stop or the deadline ended it: everything it did is
 * rolled back, and the caller goes on (to record what is in flight, to
 * exit).  Any other error is raised as usual.
 */
bool
worker_run_stoppable(const char *activity, void (*step) (void *arg), void *arg, int deadline_ms)
{
	MemoryContext caller = CurrentMemoryContext;
	volatile bool done = false;

	PG_TRY();
	{
		begin(activity, deadline_ms > 0 ? STOP_AFTER : STOP_CANCEL);
		if (deadline_ms > 0)
			enable_timeout_after(STATEMENT_TIMEOUT, deadline_ms);
		step(arg);
		if (deadline_ms > 0)
			disable_timeout(STATEMENT_TIMEOUT, false);
		worker_commit();
		done = true;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(caller);
		edata = CopyErrorData();
		if (edata->sqlerrcode != ERRCODE_QUERY_CANCELED ||
			!(ShutdownRequestPending || deadline_ms > 0))
			PG_RE_THROW();
		FlushErrorState();
		if (deadline_ms > 0)
			disable_timeout(STATEMENT_TIMEOUT, false);
		AbortCurrentTransaction();
		statement_over();
		ereport(LOG,
				(errmsg("%s: stopped and rolled back", activity),
				 errdetail("%s", edata->message)));
		FreeErrorData(edata);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(caller);
	return done;
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
