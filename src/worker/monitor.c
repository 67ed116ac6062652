/*
 * monitor.c
 *		The monitor background worker.
 *
 * Every antiban.monitor_interval it scores each number and steps its mode
 * (antiban.evaluate_health), looks for early warnings, polls the Graph API
 * for the WABAs that are due, and posts new alerts to the alert webhook.
 * Each step runs on its own: an error is logged and the next step and the
 * next tick go on, so a failing poll never takes the worker down.  SIGHUP
 * reloads the settings; SIGTERM stops it between steps; the postmaster
 * restarts it after a crash.
 */
#include "worker/monitor.h"

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

#include "worker/worker_txn.h"

PGDLLEXPORT void antiban_monitor_main(Datum arg);

void
antiban_register_monitor(void)
{
	worker_register("antiban monitor", "antiban monitor", "antiban_monitor_main", (Datum) 0, 5);
}

static MemoryContext step_context = NULL;

/* Run one step; its error is reported and forgotten, never fatal. */
static void
run_step(const char *what, void (*step) (void))
{
	MemoryContext caller = CurrentMemoryContext;

	MemoryContextReset(step_context);
	MemoryContextSwitchTo(step_context);
	PG_TRY();
	{
		step();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(step_context);
		EmitErrorReport();
		FlushErrorState();
		AbortOutOfAnyTransaction();
		elog(LOG, "antiban monitor: %s failed; trying again next tick", what);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(caller);
	worker_report_idle("waiting for the next tick");
}

static void
evaluate_step(void)
{
	worker_begin("scoring numbers");
	/* the score reads the sends rollup: fold its log first (stays short) */
	if (SPI_execute("SELECT antiban.fold_send_minutes()", false, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not fold the sends rollup");
	if (SPI_execute("SELECT count(*) FROM antiban.evaluate_health() WHERE changed", false, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not evaluate health");
	worker_commit();
}

static void
warnings_step(void)
{
	worker_begin("checking early warnings");
	if (SPI_execute("SELECT antiban.check_early_warnings()", false, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not check early warnings");
	worker_commit();
}

static void
poll_step(void)
{
	(void) monitor_poll_due();
}

static void
alerts_step(void)
{
	if (antiban_alert_webhook_url && antiban_alert_webhook_url[0])
		(void) monitor_deliver_alerts();
}

void
antiban_monitor_main(Datum arg)
{
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, worker_sigterm);
	BackgroundWorkerUnblockSignals();
	worker_connect("antiban monitor");
	step_context = AllocSetContextCreate(TopMemoryContext, "antiban monitor step",
										 ALLOCSET_DEFAULT_SIZES);

	while (!ShutdownRequestPending && !worker_extension_present())
	{
		worker_report_idle("waiting for CREATE EXTENSION antiban");
		worker_wait_ms(5000);
		worker_handle_signals();
	}
	while (!ShutdownRequestPending)
	{
		worker_handle_signals();
		run_step("scoring numbers", evaluate_step);
		run_step("checking early warnings", warnings_step);
		if (ShutdownRequestPending)
			break;
		run_step("polling the Graph API", poll_step);
		run_step("delivering alerts", alerts_step);
		worker_wait_ms(antiban_monitor_interval_ms);
	}
	proc_exit(1);				/* 1: restarted if someone terminates it */
}
