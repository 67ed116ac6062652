/*
 * antiban.c
 *		Module entry point: configuration, shared memory, background workers.
 */
#include "pg/antiban.h"
#include "pg/lead_llm.h"
#include "worker/webhook_apply.h"

#include "fmgr.h"
#include "miscadmin.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/*
 * PostgreSQL only logs "too many background workers" for each one past
 * max_worker_processes and starts the rest: a sender or an apply worker
 * would be missing without a word about antiban.  Say it, with the number
 * to set (its own workers, the logical replication launcher, and room for
 * pg_cron's).
 */
static void
warn_if_too_few_workers(void)
{
	int			needed = 1 + antiban_sender_workers + antiban_webhook_apply_workers +
		(antiban_monitor_enabled ? 1 : 0) + 1;

	if (needed + 1 > max_worker_processes)
		ereport(WARNING,
				(errmsg("antiban needs %d background workers, but max_worker_processes is %d", needed,
						max_worker_processes),
				 errdetail("The journal writer, %d sender(s), %d webhook apply worker(s), %sthe leads worker; "
						   "PostgreSQL's logical replication launcher and other extensions need their own.",
						   antiban_sender_workers, antiban_webhook_apply_workers,
						   antiban_monitor_enabled ? "the monitor, " : ""),
				 errhint("Set max_worker_processes to at least %d (more with pg_cron's background workers), "
						 "or lower antiban.sender_workers or antiban.webhook_apply_workers.", needed + 4)));
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
	warn_if_too_few_workers();
}
