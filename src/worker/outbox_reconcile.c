/*
 * outbox_reconcile.c
 *		Housekeeping the sender does on its tick: messages whose lease ran
 *		out in 'sending' (a crash, an ambiguous timeout) with no evidence
 *		since, and messages whose validity passed while they waited.
 *
 * A message left in 'sending' is never resent blindly: a status webhook
 * naming it (it carries the outbox id) moves it on; only after
 * antiban.unconfirmed_grace without evidence does antiban.on_unconfirmed
 * decide: mark it unknown (never a duplicate) or queue it again (never lost).
 */
#include "worker/sender.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "pg/privileged.h"

static const char *const unconfirmed_sql =
"UPDATE antiban.outbox SET state = $2::antiban.message_state, not_before = $1,"
" reason = 'unconfirmed', detail = $3"
" WHERE id IN (SELECT id FROM antiban.outbox WHERE state = 'sending' AND lease_until < $1"
"  ORDER BY lease_until LIMIT 1000 FOR UPDATE SKIP LOCKED)";

static const char *const expired_sql =
"UPDATE antiban.outbox SET state = 'expired', reason = 'validity_passed',"
" detail = 'not sent before its validity ended'"
" WHERE id IN (SELECT id FROM antiban.outbox WHERE state IN ('queued', 'retry_wait')"
"  AND valid_until < $1 LIMIT 1000 FOR UPDATE SKIP LOCKED)";

void
sender_reconcile(SenderState *st)
{
	bool		resend = antiban_on_unconfirmed == ON_UNCONFIRMED_RESEND;
	Oid			types[3] = {TIMESTAMPTZOID, TEXTOID, TEXTOID};
	Datum		args[3] = {
		TimestampTzGetDatum(antiban_now()),
		CStringGetTextDatum(resend ? "queued" : "unknown"),
		CStringGetTextDatum(resend ?
							"no answer and no status webhook within antiban.unconfirmed_grace: sending again (antiban.on_unconfirmed = resend)" :
							"no answer and no status webhook within antiban.unconfirmed_grace: it may or may not have been sent; a status webhook will still settle it"),
	};
	Privileged	priv;

	privileged_begin(&priv);
	if (SPI_execute_with_args(unconfirmed_sql, 3, types, args, NULL, false, 0) < 0 ||
		SPI_execute_with_args(expired_sql, 1, types, args, NULL, false, 0) < 0)
		elog(ERROR, "antiban: could not reconcile the outbox");
	privileged_end(&priv);
}
