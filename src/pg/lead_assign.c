/*
 * lead_assign.c
 *		Runs of core/lead_assignment.c over a portfolio's leads, and their SQL
 *		entry points.
 *
 *	antiban.assign_lead(lead, policy)		one lead, explained
 *	antiban.assign_new_leads(leads[])		qualified leads, from the triggers
 *	antiban.assign_queued(portfolio, max)	the queue, best first, while
 *											agents have room
 *	antiban.sweep_leads(portfolio)			unanswered leads whose first
 *											response is overdue, or whose
 *											owner is offline, inactive or
 *											off shift
 *
 * A run locks the portfolio's agents (see lead_assign.h for the lock
 * order), loads them once, and then decides lead after lead in memory: each
 * assignment is counted in the roster at once (assign_record), so the next
 * lead sees the load and the fair shares it left.  Decisions are written in
 * batches (lead_assign_write.c).  Every run uses one instant, antiban.now().
 */
#include "pg/antiban.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "pg/lead_assign.h"
#include "pg/privileged.h"

/* Leads decided between two writes. */
#define LEADS_PER_BATCH 256

typedef enum RunMode
{
	RUN_LEADS,					/* leads named by the caller */
	RUN_QUEUE,					/* the portfolio's queue */
	RUN_SWEEP					/* unanswered leads that must move */
} RunMode;

typedef struct LeadRow
{
	int64		id;
	int			score;			/* -1: not scored */
	char	   *language;		/* NULL: any */
	char	  **products;
	int			nproducts;
	int64		owner;			/* 0: none */
	int64		assignment_id;	/* 0: none */
	int64		returning_owner;	/* 0: none */
	bool		answered;
	bool		queued;
	bool		closed;
	char	   *queue_reason;	/* "" when not queued */
	bool		overdue;		/* first response due and not given */
} LeadRow;

/* What assign_lead() returns. */
typedef struct LeadResult
{
	int64		agent_id;		/* 0: none */
	int64		assignment_id;	/* 0: none */
	const char *queue_reason;	/* NULL: assigned */
	char		explanation[ASSIGN_EXPLANATION_MAX];	/* UTF-8; "" if none */
} LeadResult;

typedef struct Run
{
	RunMode		mode;
	Routing		routing;
	AssignRules rules;			/* the routing's, with the caller's policy */
	Roster		roster;
	LeadBatch  *batch;
	int			assigned;
	int			max_assigned;	/* 0: no limit */
	LeadResult *result;			/* assign_lead's one lead, or NULL */
	ReturnSetInfo *moves;		/* sweep_leads's rows, or NULL */
} Run;

/* The columns every run reads of a lead; $2 is the run's instant. */
#define LEAD_COLUMNS \
	"l.id, coalesce(l.score, -1)::int4, l.language, l.products, coalesce(l.owner_agent_id, 0)," \
	" coalesce(l.assignment_id, 0)," \
	" coalesce((SELECT s.agent_id FROM antiban.lead_assignments s WHERE s.id = l.assignment_id)," \
	"  (SELECT o.owner_agent_id FROM antiban.leads o" \
	"   WHERE l.person_id IS NOT NULL AND o.portfolio_id = l.portfolio_id AND o.person_id = l.person_id" \
	"    AND o.id <> l.id AND o.owner_agent_id IS NOT NULL" \
	"   ORDER BY o.assigned_at DESC NULLS LAST, o.id DESC LIMIT 1), 0)," \
	" l.first_response_at IS NOT NULL, l.queued_at IS NOT NULL, l.closed_at IS NOT NULL," \
	" coalesce(l.queue_reason, ''), coalesce(l.sla_due_at <= $2, false)"

static const char *const named_leads_sql =
"SELECT " LEAD_COLUMNS " FROM antiban.leads l WHERE l.id = ANY($1) AND l.portfolio_id = $3"
" ORDER BY coalesce(l.score, 0) DESC, l.id";

/* Best first: one score point per queue_aging waited ($3 seconds). */
static const char *const queue_sql =
"SELECT " LEAD_COLUMNS " FROM antiban.leads l WHERE l.portfolio_id = $1 AND l.queued_at IS NOT NULL"
" ORDER BY coalesce(l.score, 0) + extract(epoch FROM $2 - l.queued_at)::float8 / $3 DESC, l.queued_at, l.id"
" FOR NO KEY UPDATE OF l SKIP LOCKED";

static const char *const sweep_sql =
"SELECT " LEAD_COLUMNS " FROM antiban.leads l WHERE l.portfolio_id = $1 AND l.closed_at IS NULL"
" AND l.first_response_at IS NULL AND l.owner_agent_id IS NOT NULL"
" AND (l.sla_due_at <= $2 OR l.owner_agent_id = ANY($3))"
" ORDER BY coalesce(l.score, 0) DESC, l.assigned_at, l.id"
" FOR NO KEY UPDATE OF l SKIP LOCKED";

static void
read_lead(HeapTuple tup, TupleDesc desc, LeadRow *l)
{
	bool		isnull;
	Datum		d;

	l->id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
	l->score = DatumGetInt32(SPI_getbinval(tup, desc, 2, &isnull));
	d = SPI_getbinval(tup, desc, 3, &isnull);
	l->language = isnull ? NULL : TextDatumGetCString(d);
	l->products = text_array_items(SPI_getbinval(tup, desc, 4, &isnull), &l->nproducts);
	l->owner = DatumGetInt64(SPI_getbinval(tup, desc, 5, &isnull));
	l->assignment_id = DatumGetInt64(SPI_getbinval(tup, desc, 6, &isnull));
	l->returning_owner = DatumGetInt64(SPI_getbinval(tup, desc, 7, &isnull));
	l->answered = DatumGetBool(SPI_getbinval(tup, desc, 8, &isnull));
	l->queued = DatumGetBool(SPI_getbinval(tup, desc, 9, &isnull));
	l->closed = DatumGetBool(SPI_getbinval(tup, desc, 10, &isnull));
	l->queue_reason = TextDatumGetCString(SPI_getbinval(tup, desc, 11, &isnull));
	l->overdue = DatumGetBool(SPI_getbinval(tup, desc, 12, &isnull));
}

static void
run_begin(Run *run, RunMode mode, int64 portfolio_id, const char *policy)
{
	run->mode = mode;
	run->routing = routing_load(portfolio_id);
	if (policy != NULL && !assign_policy_parse(policy, &run->routing.rules.policy))
		elog(ERROR, "antiban: unknown assignment policy \"%s\"", policy);
	run->rules = run->routing.rules;
	roster_lock(portfolio_id);
	roster_load(&run->roster, portfolio_id, antiban_now(), &run->routing);
	run->batch = lead_batch_new(portfolio_id, run->roster.now);
}

/* Why an unanswered lead must leave its owner (sweep runs). */
static MoveCause
sweep_cause(const Run *run, const LeadRow *l)
{
	int			i = roster_find(&run->roster, l->owner);
	const AssignAgent *a = i >= 0 ? &run->roster.agents[i] : NULL;

	if (l->overdue)
		return CAUSE_SLA_MISSED;
	if (a == NULL || !a->active)
		return CAUSE_AGENT_INACTIVE;
	return a->presence == PRESENCE_OFFLINE ? CAUSE_AGENT_OFFLINE : CAUSE_OFF_SHIFT;
}

static const char *
agent_name(const Roster *r, int64 id)
{
	int			i = roster_find(r, id);

	return i >= 0 ? r->agents[i].name : "an agent no longer listed";
}

static void
report_move(Run *run, const LeadRow *l, MoveCause cause, int64 to, const char *explanation)
{
	Datum		values[5];
	bool		nulls[5] = {false, false, to == 0, false, false};

	if (run->moves == NULL)
		return;
	values[0] = Int64GetDatum(l->id);
	values[1] = Int64GetDatum(l->owner);
	values[2] = Int64GetDatum(to);
	values[3] = CStringGetTextDatum(move_cause_name(cause));
	values[4] = CStringGetTextDatum(pg_any_to_server(explanation, strlen(explanation), PG_UTF8));
	tuplestore_putvalues(run->moves->setResult, run->moves->setDesc, values, nulls);
}

static void
note_missed(Run *run, const LeadRow *l, const AssignChoice *c)
{
	char		detail[ASSIGN_EXPLANATION_MAX + 256];

	snprintf(detail, sizeof(detail), "no first reply from %s within %s of business hours; %s%s",
			 agent_name(&run->roster, l->owner), run->routing.first_response_sla_text,
			 c->agent >= 0 ? "moved to " : "nobody else can take it, it stays: ",
			 c->agent >= 0 ? run->roster.agents[c->agent].name : c->explanation);
	lead_batch_missed(run->batch, l->id, l->assignment_id, l->owner, detail);
}

static void
record_assignment(Run *run, const LeadRow *l, const AssignChoice *c, MoveCause cause)
{
	AssignAgent *a = &run->roster.agents[c->agent];
	Assignment	as = {
		.lead_id = l->id,
		.agent_id = a->id,
		.previous_agent_id = l->owner,
		.previous_assignment = run->mode == RUN_SWEEP ? l->assignment_id : 0,
		.cause = cause,
		.policy = c->returning ? "returning" : assign_policy_name(run->rules.policy),
		.explanation = c->explanation,
		.score = l->score,
		.open_leads = a->open_leads,
		.capacity = a->capacity,
		.fairness = c->fairness,
		.sla_due_at = DT_NOEND,
	};

	if (!l->answered)
		as.sla_due_at = lead_hours_deadline(&run->roster.hours[c->agent], run->roster.now,
											run->routing.first_response_sla);
	lead_batch_assign(run->batch, &as);
	assign_record(a, ++run->roster.rotation);
	if (l->owner != 0)
	{
		int			from = roster_find(&run->roster, l->owner);

		if (from >= 0)
			run->roster.agents[from].open_leads--;
	}
	run->assigned++;
	if (run->result != NULL)
	{
		run->result->agent_id = a->id;
		strlcpy(run->result->explanation, c->explanation, sizeof(run->result->explanation));
	}
}

static void
decide_lead(Run *run, const LeadRow *l)
{
	AssignLead	lead = {
		.score = l->score,
		.language = l->language,
		.products = (const char *const *) l->products,
		.nproducts = l->nproducts,
		.returning_owner = run->mode == RUN_SWEEP ? 0 : l->returning_owner,
		.exclude_agent = run->mode == RUN_SWEEP ? l->owner : 0,
	};
	MoveCause	cause = run->mode == RUN_SWEEP ? sweep_cause(run, l) :
		l->queued ? CAUSE_QUEUE : CAUSE_ASSIGN;
	AssignChoice c;

	assign_choose(run->roster.agents, run->roster.n, &lead, &run->rules, &c);
	if (cause == CAUSE_SLA_MISSED)
		note_missed(run, l, &c);
	if (c.agent >= 0)
	{
		record_assignment(run, l, &c, cause);
		report_move(run, l, cause, run->roster.agents[c.agent].id, c.explanation);
		return;
	}
	if (cause == CAUSE_SLA_MISSED)
		report_move(run, l, cause, 0, c.explanation);
	/* a lead without an owner waits; one with an owner stays until someone can take it */
	if (run->mode != RUN_SWEEP &&
		(!l->queued || strcmp(l->queue_reason, queue_reason_name(c.reason)) != 0))
		lead_batch_queue(run->batch, l->id, c.reason, c.explanation);
	if (run->result != NULL)
	{
		run->result->queue_reason = queue_reason_name(c.reason);
		strlcpy(run->result->explanation, c.explanation, sizeof(run->result->explanation));
	}
}

/* Decide each row of SPI_tuptable, then write; rows are read in a short-lived context. */
static void
decide_rows(Run *run, MemoryContext rows_cxt)
{
	SPITupleTable *tt = SPI_tuptable;
	uint64		n = SPI_processed;
	MemoryContext old = MemoryContextSwitchTo(rows_cxt);

	for (uint64 i = 0; i < n; i++)
	{
		LeadRow		l;

		if (run->max_assigned > 0 && run->assigned >= run->max_assigned)
			break;
		read_lead(tt->vals[i], tt->tupdesc, &l);
		if (run->mode == RUN_LEADS && (l.closed || l.owner != 0))
		{
			if (run->result != NULL)
			{
				run->result->agent_id = l.owner;
				run->result->assignment_id = l.assignment_id;
			}
			continue;
		}
		decide_lead(run, &l);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_freetuptable(tt);
	{
		int64		first = lead_batch_flush(run->batch);

		if (run->result != NULL && run->result->assignment_id == 0)
			run->result->assignment_id = first;
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(rows_cxt);
}

/* Claim leads through a cursor (SKIP LOCKED), a batch at a time, while agents have room. */
static void
decide_cursor(Run *run, const char *sql, int nargs, Oid *types, Datum *args)
{
	MemoryContext rows_cxt = AllocSetContextCreate(CurrentMemoryContext, "antiban lead rows",
												   ALLOCSET_DEFAULT_SIZES);
	Portal		portal = SPI_cursor_open_with_args(NULL, sql, nargs, types, args, NULL, false, 0);

	for (;;)
	{
		if (run->mode == RUN_QUEUE && !roster_has_room(&run->roster))
			break;
		if (run->max_assigned > 0 && run->assigned >= run->max_assigned)
			break;
		SPI_cursor_fetch(portal, true, LEADS_PER_BATCH);
		if (SPI_processed == 0)
			break;
		decide_rows(run, rows_cxt);
	}
	SPI_cursor_close(portal);
	MemoryContextDelete(rows_cxt);
}

static int
run_queue(int64 portfolio_id, int max_assigned, const char *policy)
{
	Run			run = {0};
	Oid			types[3] = {INT8OID, TIMESTAMPTZOID, FLOAT8OID};
	Datum		args[3];

	run_begin(&run, RUN_QUEUE, portfolio_id, policy);
	run.max_assigned = max_assigned;
	args[0] = Int64GetDatum(portfolio_id);
	args[1] = TimestampTzGetDatum(run.roster.now);
	args[2] = Float8GetDatum((double) run.routing.queue_aging / USECS_PER_SEC);
	decide_cursor(&run, queue_sql, 3, types, args);
	return run.assigned;
}

static void
run_sweep(int64 portfolio_id, ReturnSetInfo *moves)
{
	Run			run = {0};
	Oid			types[3] = {INT8OID, TIMESTAMPTZOID, INT8ARRAYOID};
	Datum		args[3];
	Datum	   *away;
	int			naway = 0;

	run_begin(&run, RUN_SWEEP, portfolio_id, NULL);
	run.moves = moves;
	away = palloc(sizeof(Datum) * Max(run.roster.n, 1));
	for (int i = 0; i < run.roster.n; i++)
	{
		const AssignAgent *a = &run.roster.agents[i];

		if (!a->active || a->presence == PRESENCE_OFFLINE || !a->on_shift)
			away[naway++] = Int64GetDatum(a->id);
	}
	args[0] = Int64GetDatum(portfolio_id);
	args[1] = TimestampTzGetDatum(run.roster.now);
	args[2] = PointerGetDatum(construct_array(away, naway, INT8OID, 8, true, TYPALIGN_DOUBLE));
	decide_cursor(&run, sweep_sql, 3, types, args);
}

/*
 * Leads named by the caller: locked first (waiting, in id order), then
 * their portfolios one by one.  With a result (assign_lead's one lead),
 * an unknown or closed lead is an error.
 */
static int
run_leads(ArrayType *ids, const char *policy, LeadResult *result)
{
	bool		strict = result != NULL;
	Oid			lock_types[1] = {INT8ARRAYOID};
	Datum		lock_args[1] = {PointerGetDatum(ids)};
	int64	   *portfolios;
	int			nportfolios = 0;
	int			assigned = 0;

	if (SPI_execute_with_args("SELECT portfolio_id, id, closed_at IS NOT NULL,"
							  " coalesce(owner_agent_id, 0), coalesce(assignment_id, 0) FROM antiban.leads"
							  " WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE",
							  1, lock_types, lock_args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not lock leads");
	if (strict && SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("unknown lead " INT64_FORMAT, *(int64 *) ARR_DATA_PTR(ids))));
	portfolios = palloc(sizeof(int64) * Max(SPI_processed, 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		int64		p = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		int64		id = DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
		bool		closed = DatumGetBool(SPI_getbinval(tup, desc, 3, &isnull));
		int64		owner = DatumGetInt64(SPI_getbinval(tup, desc, 4, &isnull));
		bool		seen = false;

		if (strict && closed)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("lead " INT64_FORMAT " is closed", id),
					 errhint("Reopen it with antiban.set_lead_stage() first.")));
		/* an owned lead keeps its owner: no run (nor lock) for it */
		if (owner != 0 || closed)
		{
			if (result != NULL)
			{
				result->agent_id = owner;
				result->assignment_id = DatumGetInt64(SPI_getbinval(tup, desc, 5, &isnull));
			}
			continue;
		}
		for (int k = 0; k < nportfolios && !seen; k++)
			seen = portfolios[k] == p;
		if (!seen)
			portfolios[nportfolios++] = p;
	}
	/* portfolios in id order too: two callers never wait on each other's locks crosswise */
	for (int i = 1; i < nportfolios; i++)
		for (int k = i; k > 0 && portfolios[k - 1] > portfolios[k]; k--)
		{
			int64		t = portfolios[k];

			portfolios[k] = portfolios[k - 1];
			portfolios[k - 1] = t;
		}
	for (int i = 0; i < nportfolios; i++)
	{
		Run			run = {0};
		Oid			types[3] = {INT8ARRAYOID, TIMESTAMPTZOID, INT8OID};
		Datum		args[3];
		MemoryContext rows_cxt = AllocSetContextCreate(CurrentMemoryContext, "antiban lead rows",
													   ALLOCSET_DEFAULT_SIZES);

		run_begin(&run, RUN_LEADS, portfolios[i], policy);
		run.result = result;
		args[0] = PointerGetDatum(ids);
		args[1] = TimestampTzGetDatum(run.roster.now);
		args[2] = Int64GetDatum(portfolios[i]);
		if (SPI_execute_with_args(named_leads_sql, 3, types, args, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "antiban: could not read leads");
		decide_rows(&run, rows_cxt);
		MemoryContextDelete(rows_cxt);
		assigned += run.assigned;
	}
	return assigned;
}

static const char *
policy_arg(FunctionCallInfo fcinfo, int arg)
{
	if (PG_NARGS() <= arg || PG_ARGISNULL(arg))
		return NULL;
	return DatumGetCString(DirectFunctionCall1(enum_out, PG_GETARG_DATUM(arg)));
}

PG_FUNCTION_INFO_V1(antiban_assign_lead);

/*
 * antiban.assign_lead(lead bigint, policy antiban.assignment_policy DEFAULT NULL,
 *		OUT agent_id bigint, OUT assignment_id bigint, OUT queue_reason text, OUT explanation text)
 */
Datum
antiban_assign_lead(PG_FUNCTION_ARGS)
{
	const char *policy = policy_arg(fcinfo, 1);
	LeadResult	result = {0};
	Privileged	priv;
	Datum		values[4];
	bool		nulls[4];
	Datum		id;
	MemoryContext caller = CurrentMemoryContext;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("lead must not be null")));
	id = PG_GETARG_DATUM(0);
	lead_privileged_begin(&priv);
	SPI_connect();
	/* another portfolio's lead is as unknown as a missing one */
	{
		Oid			types[1] = {INT8OID};
		Datum		args[1] = {id};

		if (SPI_execute_with_args("SELECT 1 FROM antiban.lead_or_error($1)", 1, types, args, NULL,
								  false, 0) != SPI_OK_SELECT)
			elog(ERROR, "antiban: could not look lead up");
	}
	run_leads(construct_array(&id, 1, INT8OID, 8, true, TYPALIGN_DOUBLE), policy, &result);
	if (result.explanation[0] == '\0' && result.assignment_id != 0)
	{
		/* already assigned: say why it was */
		Oid			types[1] = {INT8OID};
		Datum		args[1] = {Int64GetDatum(result.assignment_id)};
		bool		isnull;

		if (SPI_execute_with_args("SELECT explanation FROM antiban.lead_assignments WHERE id = $1",
								  1, types, args, NULL, true, 1) == SPI_OK_SELECT && SPI_processed == 1)
			strlcpy(result.explanation,
					TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)),
					sizeof(result.explanation));
	}
	{
		MemoryContext spi = MemoryContextSwitchTo(caller);

		values[0] = Int64GetDatum(result.agent_id);
		values[1] = Int64GetDatum(result.assignment_id);
		values[2] = result.queue_reason ? CStringGetTextDatum(result.queue_reason) : (Datum) 0;
		values[3] = CStringGetTextDatum(pg_any_to_server(result.explanation, strlen(result.explanation),
														 PG_UTF8));
		MemoryContextSwitchTo(spi);
	}
	nulls[0] = result.agent_id == 0;
	nulls[1] = result.assignment_id == 0;
	nulls[2] = result.queue_reason == NULL;
	nulls[3] = result.explanation[0] == '\0';
	SPI_finish();
	privileged_end(&priv);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(result_desc(fcinfo), values, nulls)));
}

PG_FUNCTION_INFO_V1(antiban_assign_new_leads);

/* antiban.assign_new_leads(leads bigint[]): for the triggers on antiban.leads */
Datum
antiban_assign_new_leads(PG_FUNCTION_ARGS)
{
	Privileged	priv;
	int			assigned;

	if (PG_ARGISNULL(0))
		PG_RETURN_INT32(0);
	lead_privileged_begin(&priv);
	SPI_connect();
	assigned = run_leads(PG_GETARG_ARRAYTYPE_P(0), NULL, NULL);
	SPI_finish();
	privileged_end(&priv);
	PG_RETURN_INT32(assigned);
}

PG_FUNCTION_INFO_V1(antiban_assign_queued);

/* antiban.assign_queued(portfolio bigint DEFAULT NULL, max_leads integer DEFAULT NULL, policy DEFAULT NULL) */
Datum
antiban_assign_queued(PG_FUNCTION_ARGS)
{
	const char *policy = policy_arg(fcinfo, 2);
	int			max_assigned = PG_ARGISNULL(1) ? 0 : PG_GETARG_INT32(1);
	Privileged	priv;
	int			assigned = 0;
	int64	   *portfolios;
	int			n;

	if (!PG_ARGISNULL(1) && max_assigned <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_leads must be positive"),
				 errhint("Leave it NULL to assign as many as agents have room for.")));
	lead_privileged_begin(&priv);
	SPI_connect();
	if (PG_ARGISNULL(0))
	{
		/* (a caller mapped to portfolios drains its own portfolios' queues) */
		if (SPI_execute("SELECT DISTINCT portfolio_id FROM antiban.leads WHERE queued_at IS NOT NULL"
						" AND antiban.may_use_portfolio(portfolio_id) ORDER BY 1",
						false, 0) != SPI_OK_SELECT)
			elog(ERROR, "antiban: could not read the queue");
		n = (int) SPI_processed;
		portfolios = palloc(sizeof(int64) * Max(n, 1));
		for (int i = 0; i < n; i++)
		{
			bool		isnull;

			portfolios[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		}
	}
	else
	{
		/* another portfolio's queue is as empty as a missing portfolio's */
		n = tenancy_may_use_portfolio(PG_GETARG_INT64(0)) ? 1 : 0;
		portfolios = palloc(sizeof(int64));
		portfolios[0] = PG_GETARG_INT64(0);
	}
	for (int i = 0; i < n && (max_assigned == 0 || assigned < max_assigned); i++)
		assigned += run_queue(portfolios[i], max_assigned ? max_assigned - assigned : 0, policy);
	SPI_finish();
	privileged_end(&priv);
	PG_RETURN_INT32(assigned);
}

PG_FUNCTION_INFO_V1(antiban_sweep_leads);

/* antiban.sweep_leads(portfolio bigint) RETURNS TABLE (lead_id, from_agent, to_agent, cause, explanation) */
Datum
antiban_sweep_leads(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Privileged	priv;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	lead_privileged_begin(&priv);
	SPI_connect();
	run_sweep(PG_GETARG_INT64(0), rsinfo);
	SPI_finish();
	privileged_end(&priv);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(antiban_may_act_for_agent);

/*
 * antiban.may_act_for_agent(login_role text): the session's role as it is
 * outside any SECURITY DEFINER function (GetOuterUserId, which follows SET
 * ROLE) is an antiban_admin, or has the rights of the agent's login role.
 */
Datum
antiban_may_act_for_agent(PG_FUNCTION_ARGS)
{
	Oid			outer = tenancy_caller();
	Oid			admin = get_role_oid("antiban_admin", true);

	if (OidIsValid(admin) && has_privs_of_role(outer, admin))
		PG_RETURN_BOOL(true);
	if (!PG_ARGISNULL(0))
	{
		Oid			agent = get_role_oid(text_to_cstring(PG_GETARG_TEXT_PP(0)), true);

		if (OidIsValid(agent) && has_privs_of_role(outer, agent))
			PG_RETURN_BOOL(true);
	}
	PG_RETURN_BOOL(false);
}
