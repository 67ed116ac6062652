/*
 * wake_sql.c
 *		antiban.wake_senders(): SQL that makes messages due (a requeue) wakes
 *		the senders when it commits, as the send functions do, instead of
 *		leaving them to their next tick.
 */
#include "pg/antiban.h"

PG_FUNCTION_INFO_V1(antiban_wake_senders_sql);

Datum
antiban_wake_senders_sql(PG_FUNCTION_ARGS)
{
	/* not preloaded: no sender runs, nobody to wake */
	if (antiban_shared != NULL)
		antiban_wake_senders_at_commit();
	PG_RETURN_VOID();
}
