/*
 * antiban.c
 *		Module entry point: configuration, shared memory, background workers.
 */
#include "pg/antiban.h"
#include "pg/lead_llm.h"
#include "worker/webhook_apply.h"

#include "fmgr.h"
#include "lib/ilist.h"
#include "miscadmin.h"
#include "postmaster/bgworker_internals.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/*
 * PostgreSQL only logs "too many background workers" for each one past
 * max_worker_processes and starts the rest: a sender or an apply worker
 * would be missing without a word about antiban.  Say it, with the number
 * to set.  Other libraries' workers (pg_cron's launcher, pg_partman's) take
 * slots too, so this is checked once every library has registered its own
 * (shmem_request_hook runs after all of shared_preload_libraries' _PG_init),
 * by counting antiban's workers that made it into the postmaster's list.
 */
static shmem_request_hook_type prev_shmem_request_hook = NULL;

/* The workers _PG_init registers: journal writer, senders, apply workers, monitor, leads. */
static int
workers_asked(void)
{
	return 1 + antiban_sender_workers + antiban_webhook_apply_workers +
		(antiban_monitor_enabled ? 1 : 0) + 1;
}

static void
warn_if_too_few_workers(void)
{
	int			needed = workers_asked();
	int			registered = 0;
	int			all = 0;
	slist_iter	iter;

	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	if (IsBinaryUpgrade)
		return;
	slist_foreach(iter, &BackgroundWorkerList)
	{
		RegisteredBgWorker *rw = slist_container(RegisteredBgWorker, rw_lnode, iter.cur);

		all++;
		if (strcmp(rw->rw_worker.bgw_library_name, "antiban") == 0)
			registered++;
	}
	if (registered >= needed)
		return;
	ereport(WARNING,
			(errmsg("antiban needs %d background workers, but max_worker_processes is %d", needed,
					max_worker_processes),
			 errdetail("Only %d of antiban's workers (the journal writer, %d sender(s), %d webhook apply worker(s), "
					   "%sthe leads worker) got a slot: %d are taken by PostgreSQL's logical replication "
					   "launcher and other libraries' workers; the rest do not start.",
					   registered, antiban_sender_workers, antiban_webhook_apply_workers,
					   antiban_monitor_enabled ? "the monitor, " : "", all - registered),
			 errhint("Set max_worker_processes to at least %d (more with pg_cron's background workers), "
					 "or lower antiban.sender_workers or antiban.webhook_apply_workers.",
					 Max(needed + 4, all - registered + needed))));
}

/*
 * Loaded without shared_preload_libraries (for instance by CREATE EXTENSION)
 * we only define the parameters and mask secrets in this backend's log; the
 * SQL functions then explain, through antiban_require_loaded(), what is
 * missing.
 */
void
_PG_init(void)
{
	/* before antiban_define_gucs(), which reserves the antiban. prefix */
	antiban_define_webhook_apply_gucs();
	antiban_define_gucs();
	antiban_install_secret_log_hook();
	if (!process_shared_preload_libraries_in_progress)
		return;
	antiban_install_shmem_hooks();
	if (IsBinaryUpgrade)
		return;
	antiban_register_journal_writer();
	antiban_register_senders();
	antiban_register_webhook_apply();
	if (antiban_monitor_enabled)
		antiban_register_monitor();
	antiban_register_lead_llm();	/* idles while antiban.lead_llm_url is empty */
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = warn_if_too_few_workers;
}
