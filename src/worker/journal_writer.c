/*
 * journal_writer.c
 *		Background worker that stores the journal: decision-log rows and
 *		recipients' sends buffered in shared memory by decide().
 *
 * It wakes every antiban.journal_flush_interval, or early when a producer
 * finds the ring half full, and writes everything published in one short
 * transaction.  SIGTERM (server shutdown, pg_terminate_backend) flushes
 * once more and exits with status 1, so the postmaster restarts it unless
 * the server is going down.
 */
#include "pg/antiban.h"
#include "worker/worker_txn.h"

#include "access/xact.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"

PGDLLEXPORT void antiban_journal_writer_main(Datum arg);

void
antiban_register_journal_writer(void)
{
	worker_register("antiban journal writer", "antiban journal writer", "antiban_journal_writer_main",
					(Datum) 0, 5);
}

/* ms; well under deadlock_timeout's default 1 s, so the writer gives way first */
#define JOURNAL_WRITER_LOCK_TIMEOUT "200"

static bool started_marked = false;

/*
 * One flush in its own transaction; quiet when the extension is absent.  The
 * first flush also records this start, the last one a clean shutdown.
 */
static void
flush_once(bool last)
{
	int64		written = 0;
	bool		done = true;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	/*
	 * Never wait long behind a lock (DROP EXTENSION, a LOCK TABLE, a long
	 * transaction on a recipient's row): a batch that cannot be stored in
	 * time is carried over to the next flush, and DDL that waits for the
	 * writer is not held up, nor made to deadlock with it.  The last flush
	 * waits as long as it takes: nothing comes after it.
	 */
	if (!last)
		(void) set_config_option("lock_timeout", JOURNAL_WRITER_LOCK_TIMEOUT, PGC_SUSET, PGC_S_SESSION,
								 GUC_ACTION_LOCAL, true, 0, false);
	PushActiveSnapshot(GetTransactionSnapshot());
	if (OidIsValid(get_extension_oid("antiban", true)))
	{
		pgstat_report_activity(STATE_RUNNING, "flushing the antiban journal");
		if (!started_marked)
		{
			journal_mark_startup();
			started_marked = true;
		}
		written = journal_flush(true, &done);
		/* a shutdown is clean only when every record of this instance is stored */
		if (last && done)
			journal_mark_clean_shutdown();
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
	journal_writer_committed();
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
	if (written > 0)
		elog(DEBUG1, "antiban journal writer stored " INT64_FORMAT " records", written);
}

void
antiban_journal_writer_main(Datum arg)
{
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();
	/* (before connecting: said even when antiban.database_name is wrong) */
	antiban_shmem_page_advice();
	worker_connect(NULL);
	journal_set_writer_latch(MyLatch);

	while (!ShutdownRequestPending)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 antiban_journal_flush_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		flush_once(false);
	}
	flush_once(true);
	journal_set_writer_latch(NULL);
	proc_exit(1);
}
