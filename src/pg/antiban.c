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
}
