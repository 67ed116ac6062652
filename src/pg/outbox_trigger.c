/*
 * outbox_trigger.c
 *		Keeps every outbox row on the state machine of core/message_state.c
 *		and stamps the time each state was reached.
 *
 * Whoever writes the outbox (the send functions, the sender worker, the
 * webhook triggers, an operator in psql) goes through this BEFORE trigger,
 * so a message can never move backwards (a late "sent" after "read") and
 * "when was it delivered?" is always a column.
 */
#include "pg/antiban.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "core/message_state.h"

/* Per outbox relation: attribute numbers, and the enum's label OIDs. */
typedef struct OutboxShape
{
	Oid			relid;
	Oid			state_type;
	int			state_att;
	int			updated_att;
	int			requeue_att;	/* requeue_count: 0 when the column is missing */
	int			stamp_att[MSG_NSTATES];
	Oid			label_oid[MSG_NSTATES];
} OutboxShape;

static OutboxShape shape = {InvalidOid};

static void
learn_shape(Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	char		column[NAMEDATALEN];

	shape.relid = RelationGetRelid(rel);
	shape.state_att = SPI_fnumber(desc, "state");
	shape.updated_att = SPI_fnumber(desc, "updated_at");
	shape.requeue_att = Max(SPI_fnumber(desc, "requeue_count"), 0);
	shape.state_type = SPI_gettypeid(desc, shape.state_att);
	for (int s = 0; s < MSG_NSTATES; s++)
	{
		/* retry_wait is stamped in retry_at */
		snprintf(column, sizeof(column), "%s_at",
				 s == MSG_RETRY_WAIT ? "retry" : message_state_name((MessageState) s));
		shape.stamp_att[s] = SPI_fnumber(desc, column);
		shape.label_oid[s] = DatumGetObjectId(DirectFunctionCall2(enum_in,
																  CStringGetDatum(message_state_name((MessageState) s)),
																  ObjectIdGetDatum(shape.state_type)));
	}
}

static MessageState
state_of(HeapTuple tuple, TupleDesc desc)
{
	bool		isnull;
	Oid			label = DatumGetObjectId(heap_getattr(tuple, shape.state_att, desc, &isnull));

	for (int s = 0; s < MSG_NSTATES; s++)
		if (shape.label_oid[s] == label)
			return (MessageState) s;
	elog(ERROR, "antiban: outbox row has a state this library does not know");
	return MSG_QUEUED;
}

static int64
id_of(HeapTuple tuple, TupleDesc desc)
{
	bool		isnull;

	return DatumGetInt64(heap_getattr(tuple, 1, desc, &isnull));
}

/*
 * Does this update count a requeue (requeue_count goes up)?  Only then may
 * a dead, failed or unknown message go back to queued by that route.
 */
static bool
counts_requeue(HeapTuple old_row, HeapTuple new_row, TupleDesc desc)
{
	bool		old_null,
				new_null;
	int32		before,
				after;

	if (shape.requeue_att <= 0)
		return false;
	before = DatumGetInt32(heap_getattr(old_row, shape.requeue_att, desc, &old_null));
	after = DatumGetInt32(heap_getattr(new_row, shape.requeue_att, desc, &new_null));
	return !old_null && !new_null && after > before;
}

PG_FUNCTION_INFO_V1(antiban_outbox_transition);

Datum
antiban_outbox_transition(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	row;
	MessageState to;
	bool		changed;
	int			cols[3];
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	int			ncols = 0;
	TimestampTz now = antiban_now();

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("antiban.outbox_transition() must be a BEFORE ROW trigger")));
	desc = RelationGetDescr(td->tg_relation);
	if (shape.relid != RelationGetRelid(td->tg_relation))
		learn_shape(td->tg_relation);
	row = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	to = state_of(row, desc);
	changed = TRIGGER_FIRED_BY_INSERT(td->tg_event);
	if (!changed)
	{
		MessageState from = state_of(td->tg_trigtuple, desc);

		changed = from != to;
		if (changed && !message_transition_allowed(from, to) &&
			!(to == MSG_QUEUED && message_requeue_allowed(from) &&
			  counts_requeue(td->tg_trigtuple, row, desc)))
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("outbox message " INT64_FORMAT " cannot go from %s to %s",
							id_of(row, desc), message_state_name(from), message_state_name(to)),
					 errdetail("Messages only move forward: queued, sending, sent, delivered, read; %s is %s.",
							   message_state_name(from),
							   message_state_is_final(from) ? "final" : "not followed by that state"),
					 errhint("To stop a queued message use antiban.cancel(id).")));
	}
	if (changed && shape.stamp_att[to] > 0)
	{
		cols[ncols] = shape.stamp_att[to];
		values[ncols++] = TimestampTzGetDatum(now);
	}
	if (changed && message_state_implies_sent(to) && shape.stamp_att[MSG_SENT] > 0 &&
		heap_attisnull(row, shape.stamp_att[MSG_SENT], desc))
	{
		cols[ncols] = shape.stamp_att[MSG_SENT];
		values[ncols++] = TimestampTzGetDatum(now);
	}
	cols[ncols] = shape.updated_att;
	values[ncols++] = TimestampTzGetDatum(now);
	return PointerGetDatum(heap_modify_tuple_by_cols(row, desc, ncols, cols, values, nulls));
}

PG_FUNCTION_INFO_V1(antiban_transition_allowed);

/* antiban.transition_allowed(from, to): the state machine, for SQL. */
Datum
antiban_transition_allowed(PG_FUNCTION_ARGS)
{
	MessageState from, to;

	if (!message_state_parse(text_to_cstring(PG_GETARG_TEXT_PP(0)), &from) ||
		!message_state_parse(text_to_cstring(PG_GETARG_TEXT_PP(1)), &to))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown message state")));
	PG_RETURN_BOOL(message_transition_allowed(from, to));
}
