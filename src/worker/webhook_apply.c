/*
 * webhook_apply.c
 *		The webhook apply worker: applies stored webhook events right after
 *		the receiver's transaction commits them.
 *
 * With antiban.webhook_apply = worker, antiban.ingest_webhooks only checks
 * signatures and stores the bodies (pending), so one durable commit answers
 * many POSTs quickly; this worker then applies every pending event in
 * batches of antiban.webhook_apply_batch (antiban.apply_pending_batch:
 * the statuses of a whole batch in one statement).  A committing ingest sets
 * its latch (as pg_net's workers are woken), and a one-second tick covers
 * anything a wake-up missed; pending rows survive a crash and are applied
 * when it comes back.  antiban.webhook_apply_workers of them (2) each take
 * their own batch (SKIP LOCKED), so one applies while another commits.  An
 * error (a deadlock the retries did not absorb) rolls its batch back: it is
 * tried again, smaller, a second later.  SIGHUP reloads the settings;
 * SIGTERM stops it between batches; the postmaster restarts it after a
 * crash.  Woken by a commit, it waits antiban.webhook_apply_gather (50 ms)
 * for more before it applies: one batch then takes what many commits
 * stored, which costs far less per event than a batch per commit.  antiban.dashboard_webhooks shows what waits and for how long.
 */
#include "worker/webhook_apply.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "pg/antiban.h"
#include "worker/worker_txn.h"

PGDLLEXPORT void antiban_webhook_apply_main(Datum arg);

/* The fallback tick: pending events left by a crash, a missed wake-up. */
#define APPLY_TICK_MS 1000
/* After a failed batch, the next try waits this long. */
#define APPLY_RETRY_MS 1000

/*
 * Inline by default: a 200 then still means applied (a stop request is in
 * force once Meta has its answer), and on two cores the inline path applies
 * about as many POSTs a second as the worker does; the worker answers
 * sooner (the apply is off the 200's path) at the price of a visible lag.
 */
int			antiban_webhook_apply = WEBHOOK_APPLY_INLINE;
int			antiban_webhook_apply_batch = 1000;
int			antiban_webhook_apply_gather_ms = 50;
int			antiban_webhook_apply_workers = 2;

static const struct config_enum_entry apply_modes[] = {
	{"worker", WEBHOOK_APPLY_WORKER, false},
	{"inline", WEBHOOK_APPLY_INLINE, false},
	{NULL, 0, false}
};

void
antiban_define_webhook_apply_gucs(void)
{
	DefineCustomEnumVariable("antiban.webhook_apply",
							 "Where the receiver's webhooks are applied: worker (right after their commit) or inline (in it).",
							 "worker: antiban.ingest_webhooks stores and commits, the webhook apply worker applies moments later "
							 "(the lag is in antiban.dashboard_webhooks); inline (the default): applied before the commit, so a 200 also means applied. "
							 "antiban.ingest_webhook (one body) always applies inline.",
							 &antiban_webhook_apply, WEBHOOK_APPLY_INLINE, apply_modes,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.webhook_apply_batch",
							"Pending webhook events the webhook apply worker applies per transaction.",
							NULL, &antiban_webhook_apply_batch, 1000, 1, 100000,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.webhook_apply_gather",
							"How long the webhook apply worker, woken by a commit, lets more webhooks arrive before applying.",
							"A batch costs about as much to start as a hundred events to apply: waking at every "
							"commit of the receiver (a few dozen POSTs) would spend most of the worker on small "
							"batches.  Each event waits at most this much longer; 0 applies at once.",
							&antiban_webhook_apply_gather_ms, 50, 0, 10000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	/* (a restart setting can only be made while preloading) */
	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomIntVariable("antiban.webhook_apply_workers",
							"Webhook apply workers (antiban.webhook_apply = worker).",
							"Each takes its own batch of the oldest pending events (two never take the same); "
							"a second one applies while the first commits or waits, and uses the core the "
							"receiver leaves idle.  Statuses only move messages forward, so batches may "
							"finish in any order.",
							&antiban_webhook_apply_workers, 2, 1, ANTIBAN_MAX_APPLY_WORKERS,
							PGC_POSTMASTER, 0, NULL, NULL, NULL);
}

void
antiban_register_webhook_apply(void)
{
	for (int i = 0; i < antiban_webhook_apply_workers; i++)
	{
		BackgroundWorker worker = {
			.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION,
			.bgw_start_time = BgWorkerStart_RecoveryFinished,
			.bgw_restart_time = 1,
			.bgw_library_name = "antiban",
			.bgw_function_name = "antiban_webhook_apply_main",
			.bgw_main_arg = Int32GetDatum(i),
		};

		snprintf(worker.bgw_name, BGW_MAXLEN, "antiban webhook apply %d", i + 1);
		snprintf(worker.bgw_type, BGW_MAXLEN, "antiban webhook apply");
		RegisterBackgroundWorker(&worker);
	}
}

/* ---- waking the worker at commit ---- */

static bool wake_pending = false;
static bool callback_registered = false;

static void
set_worker_latch(int worker, Latch *latch)
{
	SpinLockAcquire(&antiban_shared->mutex);
	antiban_shared->webhook_apply_latch[worker] = latch;
	SpinLockRelease(&antiban_shared->mutex);
}

/* Every worker is woken: the first to look takes the events, the others find none or the rest. */
static void
wake_at_commit(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT && wake_pending && antiban_shared)
	{
		Latch	   *latches[ANTIBAN_MAX_APPLY_WORKERS];

		SpinLockAcquire(&antiban_shared->mutex);
		memcpy(latches, antiban_shared->webhook_apply_latch, sizeof(latches));
		SpinLockRelease(&antiban_shared->mutex);
		for (int i = 0; i < ANTIBAN_MAX_APPLY_WORKERS; i++)
			if (latches[i])
				SetLatch(latches[i]);
	}
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PREPARE ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)
		wake_pending = false;
}

void
webhook_apply_wake_at_commit(void)
{
	if (!callback_registered)
	{
		RegisterXactCallback(wake_at_commit, NULL);
		callback_registered = true;
	}
	wake_pending = true;
}

/* ---- the worker ---- */

/*
 * One batch in its own transaction; how many events it applied.  *full:
 * the batch took all it could (limit events, or as many as its bytes
 * allowed, antiban.apply_pending_batch's cut_by_bytes): a backlog, the next
 * batch goes at once.  *more: free pending events received before it began
 * are still there (or *full): the loop goes on without waiting for a commit
 * to wake it or for the next tick.
 */
static int
apply_batch(int limit, bool *more, bool *full)
{
	Oid			types[1] = {INT4OID};
	Datum		args[1] = {Int32GetDatum(limit)};
	bool		isnull;
	int			applied;
	bool		cut;

	worker_begin("applying pending webhook events");
	if (SPI_execute_with_args("SELECT b.applied, b.cut_by_bytes FROM antiban.apply_pending_batch($1) b",
							  1, types, args, NULL, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "antiban: could not apply pending webhook events");
	applied = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (isnull)
		applied = 0;
	cut = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	*full = applied >= limit || (!isnull && cut);
	*more = *full;
	if (applied > 0 && !*more)
	{
		/* (SKIP LOCKED: another worker's batch is not ours to wait for) */
		if (SPI_execute("SELECT 1 FROM antiban.webhook_outcomes w"
						" WHERE w.status = 'pending' AND w.received_at <= transaction_timestamp()"
						" LIMIT 1 FOR UPDATE SKIP LOCKED",
						false, 1) != SPI_OK_SELECT)
			elog(ERROR, "antiban: could not look for pending webhook events");
		*more = SPI_processed > 0;
	}
	worker_commit();
	return applied;
}

/* As apply_batch, but an error is logged and answered with -1. */
static int
try_batch(int limit, bool *more, bool *full, MemoryContext batch_context)
{
	MemoryContext caller = CurrentMemoryContext;
	volatile int applied = -1;

	MemoryContextReset(batch_context);
	MemoryContextSwitchTo(batch_context);
	PG_TRY();
	{
		applied = apply_batch(limit, more, full);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(batch_context);
		EmitErrorReport();
		FlushErrorState();
		AbortOutOfAnyTransaction();
		elog(LOG, "antiban webhook apply: a batch of up to %d events failed; trying again in %d ms",
			 limit, APPLY_RETRY_MS);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(caller);
	worker_report_idle("waiting for webhook events");
	return applied;
}

static int
wait_ms(int events, long ms)
{
	return WaitLatch(MyLatch, events | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, ms, PG_WAIT_EXTENSION);
}

/*
 * Woken by a commit with nothing left from the last batch: give the
 * webhooks still arriving antiban.webhook_apply_gather to join the next
 * batch (a shutdown request ends the wait).
 */
static void
gather(void)
{
	TimestampTz until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), antiban_webhook_apply_gather_ms);

	while (!ShutdownRequestPending)
	{
		long		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), until);

		if (left <= 0)
			break;
		ResetLatch(MyLatch);
		(void) wait_ms(WL_LATCH_SET, left);
		worker_handle_signals();
	}
}

/*
 * A failed batch is tried again at half the size, down to one event, so
 * one event that keeps failing holds up only itself; a success restores
 * the full size.
 */
static void
apply_loop(MemoryContext batch_context)
{
	int			limit = antiban_webhook_apply_batch;

	while (!ShutdownRequestPending)
	{
		int			applied;
		bool		more = false;
		bool		full = false;

		ResetLatch(MyLatch);
		worker_handle_signals();
		applied = try_batch(limit, &more, &full, batch_context);
		if (applied < 0)
		{
			limit = Max(1, limit / 2);
			wait_ms(0, APPLY_RETRY_MS);
			continue;
		}
		limit = antiban_webhook_apply_batch;
		if (full)
			continue;			/* a backlog: the next full batch at once */

		/*
		 * Events left behind by a batch that was not full (committed while
		 * it ran) gather company first, as a commit's wake-up does: going on
		 * at once under a steady stream made every batch as small as what
		 * arrived during the last one, and a batch of 50 costs 1.6 to 3.8
		 * times the CPU per event of one of 1,000 (bench/webhook_apply.sh).
		 */
		if ((more || (wait_ms(WL_LATCH_SET, APPLY_TICK_MS) & WL_LATCH_SET))
			&& antiban_webhook_apply_gather_ms > 0)
			gather();
	}
}

void
antiban_webhook_apply_main(Datum arg)
{
	int			worker = DatumGetInt32(arg);
	MemoryContext batch_context;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, worker_sigterm);
	BackgroundWorkerUnblockSignals();
	worker_connect("antiban webhook apply");
	batch_context = AllocSetContextCreate(TopMemoryContext, "antiban webhook apply batch",
										  ALLOCSET_DEFAULT_SIZES);
	while (!ShutdownRequestPending && !worker_extension_present())
	{
		worker_report_idle("waiting for CREATE EXTENSION antiban");
		wait_ms(WL_LATCH_SET, 5000);
		ResetLatch(MyLatch);
		worker_handle_signals();
	}
	set_worker_latch(worker, MyLatch);
	apply_loop(batch_context);
	set_worker_latch(worker, NULL);
	proc_exit(1);
}
