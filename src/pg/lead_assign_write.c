/*
 * lead_assign_write.c
 *		Decisions of a run, written a batch at a time: three statements per
 *		batch instead of three per lead.
 *
 *	assignments	one INSERT into antiban.lead_assignments, the leads updated
 *				from what it returns, the previous assignment closed
 *				(met/missed/moved) and one event each, in one statement
 *	queue		leads that wait: queued_at kept from their first wait, the
 *				reason replaced, an event when the reason is new
 *	missed		first responses overdue: the assignment marked missed, the
 *				clock stopped, an event and an alert each
 *
 * Missed SLAs are written before assignments, so a lead moved for a missed
 * SLA ends with the new owner's clock running.  Each UPDATE also names its
 * rows with "id = ANY(array)": the planner cannot see how few rows unnest()
 * brings and would otherwise scan the whole table to hash-join them.
 */
#include "pg/antiban.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "utils/builtins.h"

#include "pg/lead_assign.h"
#include "pg/privileged.h"

typedef struct Column
{
	Datum	   *values;
	bool	   *nulls;
} Column;

#define ASSIGN_COLUMNS 13

struct LeadBatch
{
	int64		portfolio_id;
	TimestampTz now;
	int			capacity;
	/* assignments */
	int			nassign;
	Column		assign[ASSIGN_COLUMNS];
	/* queue */
	int			nqueue;
	Column		queue[3];
	/* missed */
	int			nmissed;
	Column		missed[4];
};

static const char *const cause_names[] = {
	"assign", "queue", "sla_missed", "agent_offline", "agent_inactive", "off_shift"
};

const char *
move_cause_name(MoveCause cause)
{
	return cause_names[cause];
}

static void
columns_alloc(Column *cols, int n, int capacity)
{
	for (int c = 0; c < n; c++)
	{
		cols[c].values = palloc(sizeof(Datum) * capacity);
		cols[c].nulls = palloc(sizeof(bool) * capacity);
	}
}

LeadBatch *
lead_batch_new(int64 portfolio_id, TimestampTz now)
{
	LeadBatch  *b = palloc0(sizeof(LeadBatch));

	b->portfolio_id = portfolio_id;
	b->now = now;
	b->capacity = 512;
	columns_alloc(b->assign, ASSIGN_COLUMNS, b->capacity);
	columns_alloc(b->queue, 3, b->capacity);
	columns_alloc(b->missed, 4, b->capacity);
	return b;
}

int
lead_batch_size(const LeadBatch *b)
{
	return Max(b->nassign, Max(b->nqueue, b->nmissed));
}

static void
columns_grow(Column *cols, int n, int capacity)
{
	for (int c = 0; c < n; c++)
	{
		cols[c].values = repalloc(cols[c].values, sizeof(Datum) * capacity);
		cols[c].nulls = repalloc(cols[c].nulls, sizeof(bool) * capacity);
	}
}

static void
ensure_room(LeadBatch *b, int used)
{
	if (used < b->capacity)
		return;
	b->capacity *= 2;
	columns_grow(b->assign, ASSIGN_COLUMNS, b->capacity);
	columns_grow(b->queue, 3, b->capacity);
	columns_grow(b->missed, 4, b->capacity);
}

static void
put(Column *col, int row, Datum value, bool isnull)
{
	col->values[row] = value;
	col->nulls[row] = isnull;
}

/* Text from the core (UTF-8) in the database's encoding. */
static Datum
utf8_text(const char *s)
{
	return CStringGetTextDatum(pg_any_to_server(s, strlen(s), PG_UTF8));
}

void
lead_batch_assign(LeadBatch *b, const Assignment *a)
{
	int			row = b->nassign;
	Column	   *c = b->assign;
	const char *previous_outcome = a->cause == CAUSE_SLA_MISSED ? "missed" : "moved";

	ensure_room(b, row);
	put(&c[0], row, Int64GetDatum(a->lead_id), false);
	put(&c[1], row, Int64GetDatum(a->agent_id), false);
	put(&c[2], row, Int64GetDatum(a->previous_agent_id), a->previous_agent_id == 0);
	put(&c[3], row, CStringGetTextDatum(move_cause_name(a->cause)), false);
	put(&c[4], row, CStringGetTextDatum(a->policy), false);
	put(&c[5], row, utf8_text(a->explanation), false);
	put(&c[6], row, Int32GetDatum(a->score), a->score < 0);
	put(&c[7], row, Int32GetDatum(a->open_leads), false);
	put(&c[8], row, Int32GetDatum(a->capacity), false);
	put(&c[9], row, Float8GetDatum(a->fairness), false);
	put(&c[10], row, TimestampTzGetDatum(a->sla_due_at), a->sla_due_at == DT_NOEND);
	put(&c[11], row, Int64GetDatum(a->previous_assignment), a->previous_assignment == 0);
	put(&c[12], row, CStringGetTextDatum(previous_outcome), false);
	b->nassign++;
}

void
lead_batch_queue(LeadBatch *b, int64 lead_id, QueueReason reason, const char *explanation)
{
	int			row = b->nqueue;

	ensure_room(b, row);
	put(&b->queue[0], row, Int64GetDatum(lead_id), false);
	put(&b->queue[1], row, CStringGetTextDatum(queue_reason_name(reason)), false);
	put(&b->queue[2], row, utf8_text(explanation), false);
	b->nqueue++;
}

void
lead_batch_missed(LeadBatch *b, int64 lead_id, int64 assignment_id, int64 owner, const char *detail)
{
	int			row = b->nmissed;

	ensure_room(b, row);
	put(&b->missed[0], row, Int64GetDatum(lead_id), false);
	put(&b->missed[1], row, Int64GetDatum(assignment_id), assignment_id == 0);
	put(&b->missed[2], row, Int64GetDatum(owner), false);
	put(&b->missed[3], row, utf8_text(detail), false);
	b->nmissed++;
}

static Datum
array_of(const Column *col, int n, Oid type)
{
	int16		len;
	bool		byval;
	char		align;
	int			dims[1] = {n};
	int			lbs[1] = {1};

	get_typlenbyvalalign(type, &len, &byval, &align);
	return PointerGetDatum(construct_md_array(col->values, col->nulls, 1, dims, lbs, type, len, byval, align));
}

static const char *const assign_sql =
"WITH v AS ("
"  SELECT * FROM unnest($3::int8[], $4::int8[], $5::int8[], $6::text[], $7::text[], $8::text[],"
"   $9::int4[], $10::int4[], $11::int4[], $12::float8[], $13::timestamptz[], $14::int8[], $15::text[])"
"  AS v(lead_id, agent_id, previous_agent_id, cause, policy, explanation, score, open_leads, capacity,"
"   fairness, sla_due_at, previous_assignment, previous_outcome)"
"), ins AS ("
"  INSERT INTO antiban.lead_assignments (lead_id, portfolio_id, agent_id, previous_agent_id, assigned_at,"
"   cause, policy, explanation, score, open_leads, capacity, fairness, sla_due_at)"
"  SELECT lead_id, $1, agent_id, previous_agent_id, $2, cause, policy, explanation, score, open_leads,"
"   capacity, fairness, sla_due_at FROM v"
"  RETURNING id, lead_id, agent_id, sla_due_at"
"), upd AS ("
"  UPDATE antiban.leads l SET owner_agent_id = ins.agent_id, assignment_id = ins.id, assigned_at = $2,"
"   queued_at = NULL, queue_reason = NULL, sla_due_at = ins.sla_due_at"
"  FROM ins WHERE l.id = ins.lead_id AND l.id = ANY($3)"
"), prev AS ("
"  UPDATE antiban.lead_assignments p SET ended_at = $2,"
"   sla_outcome = CASE WHEN p.sla_outcome IS NULL AND p.sla_due_at IS NOT NULL"
"    AND p.first_response_at IS NULL THEN v.previous_outcome ELSE p.sla_outcome END"
"  FROM v WHERE p.id = v.previous_assignment AND p.id = ANY($14)"
"), ev AS ("
"  INSERT INTO antiban.lead_events (lead_id, portfolio_id, at, kind, agent_id, detail)"
"  SELECT lead_id, $1, $2, CASE WHEN previous_agent_id IS NULL THEN 'assigned' ELSE 'reassigned' END,"
"   agent_id, CASE WHEN cause IN ('assign', 'queue') THEN explanation ELSE cause || ': ' || explanation END"
"  FROM v"
") SELECT min(id) FROM ins";

static const char *const queue_sql =
"WITH v AS ("
"  SELECT * FROM unnest($3::int8[], $4::text[], $5::text[]) AS v(lead_id, reason, explanation)"
"), upd AS ("
"  UPDATE antiban.leads l SET queued_at = coalesce(l.queued_at, $2), queue_reason = v.reason"
"  FROM v WHERE l.id = v.lead_id AND l.id = ANY($3)"
") INSERT INTO antiban.lead_events (lead_id, portfolio_id, at, kind, detail)"
"  SELECT lead_id, $1, $2, 'queued', explanation FROM v";

static const char *const missed_sql =
"WITH v AS ("
"  SELECT * FROM unnest($3::int8[], $4::int8[], $5::int8[], $6::text[]) AS v(lead_id, assignment, owner, detail)"
"), a AS ("
"  UPDATE antiban.lead_assignments s SET sla_outcome = 'missed'"
"  FROM v WHERE s.id = v.assignment AND s.id = ANY($4) AND s.sla_outcome IS NULL"
"), clock AS ("
"  UPDATE antiban.leads l SET sla_due_at = NULL FROM v WHERE l.id = v.lead_id AND l.id = ANY($3)"
"), ev AS ("
"  INSERT INTO antiban.lead_events (lead_id, portfolio_id, at, kind, agent_id, detail)"
"  SELECT lead_id, $1, $2, 'sla_missed', owner, detail FROM v"
") SELECT count(*) FROM v WHERE antiban.raise_alert('warning', NULL, 'lead_sla_missed', v.detail,"
"  'lead ' || v.lead_id) IS NOT NULL";

static void
run(SPIPlanPtr *plan, const char *sql, int nargs, Oid *types, Datum *args, int expected)
{
	if (*plan == NULL)
		*plan = privileged_prepare(sql, nargs, types);
	if (SPI_execute_plan(*plan, args, NULL, false, 0) != expected)
		elog(ERROR, "antiban: could not write lead assignments: %s", SPI_result_code_string(SPI_result));
}

int64
lead_batch_flush(LeadBatch *b)
{
	static SPIPlanPtr assign_plan = NULL;
	static SPIPlanPtr queue_plan = NULL;
	static SPIPlanPtr missed_plan = NULL;
	Datum		args[15] = {Int64GetDatum(b->portfolio_id), TimestampTzGetDatum(b->now)};
	int64		first = 0;

	if (b->nmissed > 0)
	{
		Oid			types[6] = {INT8OID, TIMESTAMPTZOID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, TEXTARRAYOID};
		Oid			elem[4] = {INT8OID, INT8OID, INT8OID, TEXTOID};

		for (int c = 0; c < 4; c++)
			args[2 + c] = array_of(&b->missed[c], b->nmissed, elem[c]);
		run(&missed_plan, missed_sql, 6, types, args, SPI_OK_SELECT);
		b->nmissed = 0;
	}
	if (b->nassign > 0)
	{
		Oid			types[15] = {INT8OID, TIMESTAMPTZOID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID,
			TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT4ARRAYOID, INT4ARRAYOID, INT4ARRAYOID,
		FLOAT8ARRAYOID, TIMESTAMPTZARRAYOID, INT8ARRAYOID, TEXTARRAYOID};
		Oid			elem[ASSIGN_COLUMNS] = {INT8OID, INT8OID, INT8OID, TEXTOID, TEXTOID, TEXTOID,
		INT4OID, INT4OID, INT4OID, FLOAT8OID, TIMESTAMPTZOID, INT8OID, TEXTOID};
		bool		isnull;

		for (int c = 0; c < ASSIGN_COLUMNS; c++)
			args[2 + c] = array_of(&b->assign[c], b->nassign, elem[c]);
		run(&assign_plan, assign_sql, 15, types, args, SPI_OK_SELECT);
		first = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		b->nassign = 0;
	}
	if (b->nqueue > 0)
	{
		Oid			types[5] = {INT8OID, TIMESTAMPTZOID, INT8ARRAYOID, TEXTARRAYOID, TEXTARRAYOID};
		Oid			elem[3] = {INT8OID, TEXTOID, TEXTOID};

		for (int c = 0; c < 3; c++)
			args[2 + c] = array_of(&b->queue[c], b->nqueue, elem[c]);
		run(&queue_plan, queue_sql, 5, types, args, SPI_OK_INSERT);
		b->nqueue = 0;
	}
	return first;
}
