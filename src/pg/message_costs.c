/*
 * message_costs.c
 *		Charge each message once, when a status webhook has said both that it
 *		was delivered and how it is priced.
 *
 * Two triggers on antiban.outbox share a list of message ids:
 *
 *	cost_note  AFTER UPDATE OF state, pricing_type, pricing_category FOR EACH ROW,
 *			   WHEN the row became both delivered (or read) and priced in
 *			   this update: remembers its id.  The WHEN clause is checked by
 *			   the executor, so rows that do not qualify cost no call.
 *	cost_flush AFTER UPDATE OF the same columns FOR EACH STATEMENT:
 *			   charges the remembered ids with one set-based call of
 *			   antiban.charge_messages (as antiban_owner); with none it
 *			   returns at once (the senders' own updates of state).
 *
 * PostgreSQL refuses transition tables on column-specific triggers, and a
 * statement trigger with a transition table on every outbox UPDATE would
 * make the senders' claims and results copy their rows for nothing; with
 * this pair a sender's statement costs a WHEN check per row and one empty
 * trigger call, and a status batch one SQL call.  Row triggers of a
 * statement fire before its statement triggers, so the list is consumed
 * by the statement that filled it; ids remembered in a subtransaction that
 * aborts are forgotten with it.
 */
#include "pg/antiban.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/memutils.h"

#include "pg/privileged.h"

typedef struct PendingCharge
{
	int64		message_id;
	SubTransactionId subxact;
} PendingCharge;

static PendingCharge *pending = NULL;	/* in TopTransactionContext */
static int	npending = 0;
static int	pending_cap = 0;
static bool callbacks_registered = false;
static SPIPlanPtr charge_plan = NULL;	/* kept for the backend's life */

static void
forget_all(void)
{
	pending = NULL;				/* its memory goes with the transaction */
	npending = 0;
	pending_cap = 0;
}

static void
pending_xact_callback(XactEvent event, void *arg)
{
	forget_all();
}

static void
pending_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						 SubTransactionId parentSubid, void *arg)
{
	if (event != SUBXACT_EVENT_ABORT_SUB)
		return;
	/* ids remembered inside the aborted subtransaction (or its children) */
	while (npending > 0 && pending[npending - 1].subxact >= mySubid)
		npending--;
}

static void
remember(int64 id)
{
	if (!callbacks_registered)
	{
		RegisterXactCallback(pending_xact_callback, NULL);
		RegisterSubXactCallback(pending_subxact_callback, NULL);
		callbacks_registered = true;
	}
	if (npending == pending_cap)
	{
		pending_cap = pending_cap ? pending_cap * 2 : 64;
		pending = pending ? repalloc(pending, sizeof(PendingCharge) * pending_cap)
			: MemoryContextAlloc(TopTransactionContext, sizeof(PendingCharge) * pending_cap);
	}
	pending[npending].message_id = id;
	pending[npending].subxact = GetCurrentSubTransactionId();
	npending++;
}

static TriggerData *
trigger_data(FunctionCallInfo fcinfo, const char *name)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "antiban: %s must be called as a trigger", name);
	return (TriggerData *) fcinfo->context;
}

PG_FUNCTION_INFO_V1(antiban_cost_note);

Datum
antiban_cost_note(PG_FUNCTION_ARGS)
{
	TriggerData *td = trigger_data(fcinfo, "antiban.cost_note()");
	TupleDesc	desc = td->tg_relation->rd_att;
	int			attno = SPI_fnumber(desc, "id");
	bool		isnull;
	Datum		id;

	if (!TRIGGER_FIRED_AFTER(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) || attno <= 0)
		elog(ERROR, "antiban: antiban.cost_note() must be an AFTER ROW trigger on antiban.outbox");
	id = heap_getattr(td->tg_newtuple, attno, desc, &isnull);
	if (!isnull)
		remember(DatumGetInt64(id));
	return PointerGetDatum(NULL);
}

PG_FUNCTION_INFO_V1(antiban_cost_flush);

Datum
antiban_cost_flush(PG_FUNCTION_ARGS)
{
	TriggerData *td = trigger_data(fcinfo, "antiban.cost_flush()");
	Datum	   *ids;
	int			n = npending;
	Oid			types[1] = {INT8ARRAYOID};
	Datum		args[1];
	Privileged	priv;

	if (!TRIGGER_FIRED_AFTER(td->tg_event) || !TRIGGER_FIRED_FOR_STATEMENT(td->tg_event))
		elog(ERROR, "antiban: antiban.cost_flush() must be an AFTER STATEMENT trigger on antiban.outbox");
	if (n == 0)
		return PointerGetDatum(NULL);
	ids = palloc(sizeof(Datum) * n);
	for (int i = 0; i < n; i++)
		ids[i] = Int64GetDatum(pending[i].message_id);
	npending = 0;				/* consumed, even if charging fails */
	args[0] = PointerGetDatum(construct_array(ids, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	privileged_begin(&priv);
	SPI_connect();
	if (charge_plan == NULL)
		charge_plan = privileged_prepare("SELECT antiban.charge_messages($1)", 1, types);
	if (SPI_execute_plan(charge_plan, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not charge delivered messages");
	SPI_finish();
	privileged_end(&priv);
	return PointerGetDatum(NULL);
}
