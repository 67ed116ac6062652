/*
 * maintenance.c
 *		antiban.reconcile_unconfirmed(): the senders' lease housekeeping as
 *		SQL, for a pg_cron job (see src/sql/89_maintenance.sql).
 *
 * A message whose lease ran out in 'sending' may have reached Meta, so it
 * is never simply queued again: this runs exactly the senders' own
 * reconciliation (worker/outbox_reconcile.c), which waits
 * antiban.unconfirmed_grace for a status webhook and then applies
 * antiban.on_unconfirmed (mark it unknown, or resend).  It matters when no
 * sender runs to do it; when one does, both take rows with SKIP LOCKED.
 * It settles every portfolio's messages: a tenant's administrator (a role
 * mapped to portfolios) is refused; the pg_cron job runs as the unmapped
 * role that scheduled it.
 */
#include "pg/antiban.h"

#include "executor/spi.h"

#include "worker/sender.h"

PG_FUNCTION_INFO_V1(antiban_reconcile_unconfirmed);

Datum
antiban_reconcile_unconfirmed(PG_FUNCTION_ARGS)
{
	tenancy_refuse_install_wide("settle every portfolio's unconfirmed messages");
	SPI_connect();
	sender_reconcile(NULL);
	SPI_finish();
	PG_RETURN_VOID();
}
