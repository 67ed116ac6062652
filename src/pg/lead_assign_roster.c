/*
 * lead_assign_roster.c
 *		A portfolio's routing settings and its agents as the core sees them.
 *
 * roster_lock() takes the portfolio's assignment lock (an advisory lock, see
 * antiban.lock_lead_assignment).  roster_load() must run after it, and
 * every one of its queries is run not read-only, so that under READ
 * COMMITTED each takes a new snapshot that sees what the previous lock
 * holder committed: the open-lead counts are exact and capacity holds
 * between sessions.  (A read-only query would reuse the caller's snapshot,
 * taken before the wait: regress/t/060 fails that way.)
 *
 * Everything is allocated in the current memory context, inside SPI.
 */
#include "pg/antiban.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

#include "pg/lead_assign.h"
#include "pg/privileged.h"

static int64
interval_datum_usecs(Datum d)
{
	Interval   *iv = DatumGetIntervalP(d);

	return iv->time + ((int64) iv->month * DAYS_PER_MONTH + iv->day) * USECS_PER_DAY;
}

/*
 * privileged_begin(), and no JIT until privileged_end(): a drain's cursor
 * over thousands of leads costs past jit_above_cost, and compiling it
 * costs more than running it (setup-notes: JIT).  Set in the nest level
 * privileged_begin() opened, so privileged_end() restores the caller's.
 */
void
lead_privileged_begin(Privileged *p)
{
	privileged_begin(p);
	(void) set_config_option("jit", "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
}

/* "15 min", "1 h 30 min", "48 h": the same whatever the session's IntervalStyle. */
static char *
duration_text(int64 usecs)
{
	int64		minutes = usecs / USECS_PER_MINUTE;

	if (minutes < 60)
		return psprintf(INT64_FORMAT " min", minutes);
	if (minutes % 60 == 0)
		return psprintf(INT64_FORMAT " h", minutes / 60);
	return psprintf(INT64_FORMAT " h " INT64_FORMAT " min", minutes / 60, minutes % 60);
}

Routing
routing_load(int64 portfolio_id)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(portfolio_id)};
	Routing		r;
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;
	Datum		limit;

	if (plan == NULL)
		plan = privileged_prepare("SELECT policy::text, first_response_sla, fairness_window, fairness_limit,"
								  " queue_aging, senior_score::int4, standard_score::int4, conversion_window"
								  " FROM antiban.lead_routing_of($1)", 1, types);
	if (SPI_execute_plan(plan, args, NULL, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "antiban: could not read the routing of portfolio " INT64_FORMAT, portfolio_id);
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	if (!assign_policy_parse(TextDatumGetCString(SPI_getbinval(tup, desc, 1, &isnull)), &r.rules.policy))
		elog(ERROR, "antiban: unknown assignment policy");
	r.first_response_sla = interval_datum_usecs(SPI_getbinval(tup, desc, 2, &isnull));
	r.fairness_window = interval_datum_usecs(SPI_getbinval(tup, desc, 3, &isnull));
	limit = SPI_getbinval(tup, desc, 4, &isnull);
	r.rules.fairness_limit = isnull ? 0 : DatumGetInt32(limit);
	r.queue_aging = interval_datum_usecs(SPI_getbinval(tup, desc, 5, &isnull));
	r.rules.senior_score = DatumGetInt32(SPI_getbinval(tup, desc, 6, &isnull));
	r.rules.standard_score = DatumGetInt32(SPI_getbinval(tup, desc, 7, &isnull));
	r.conversion_window = interval_datum_usecs(SPI_getbinval(tup, desc, 8, &isnull));
	r.first_response_sla_text = duration_text(r.first_response_sla);
	return r;
}

void
roster_lock(int64 portfolio_id)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(portfolio_id)};

	if (plan == NULL)
		plan = privileged_prepare("SELECT antiban.lock_lead_assignment($1)", 1, types);
	if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not lock assignment in portfolio " INT64_FORMAT, portfolio_id);
}

Datum
text_array_datum(const char *const *items, int n)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		elems[i] = CStringGetTextDatum(items[i]);
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/* A text[] as C strings (NULL elements are refused by the tables' CHECKs). */
char	  **
text_array_items(Datum array, int *n)
{
	Datum	   *elems;
	bool	   *nulls;
	char	  **items;

	deconstruct_array(DatumGetArrayTypeP(array), TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, n);
	items = palloc(sizeof(char *) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
		items[i] = nulls[i] ? "" : TextDatumGetCString(elems[i]);
	return items;
}

static const char *const agents_sql =
"SELECT a.id, a.name, a.active, a.presence::text, a.tier::text, a.capacity, a.weight,"
" a.languages, a.products, a.time_zone"
" FROM antiban.agents a WHERE a.portfolio_id = $1 ORDER BY a.id";

/* Open leads per agent: one pass over the portfolio's open leads. */
static const char *const load_sql =
"SELECT owner_agent_id, count(*)::int4 FROM antiban.leads"
" WHERE portfolio_id = $1 AND closed_at IS NULL AND owner_agent_id IS NOT NULL GROUP BY 1";

/*
 * Assignments per agent in the fairness window, one pass over it, and the
 * latest one's id: the agent's turn (none in the window: first in turn).
 */
static const char *const recent_sql =
"SELECT agent_id, count(*)::int4, max(id) FROM antiban.lead_assignments"
" WHERE portfolio_id = $1 AND assigned_at > $2 GROUP BY 1";

/* Wins and closes per agent and score band (the lead's score when it closed). */
static const char *const conversion_sql =
"SELECT owner_agent_id, least(score / 20, 4)::int4,"
" (count(*) FILTER (WHERE stage = 'won'))::int4, count(*)::int4"
" FROM antiban.leads"
" WHERE portfolio_id = $1 AND closed_at > $2 AND stage IN ('won', 'lost')"
" AND score IS NOT NULL AND owner_agent_id IS NOT NULL"
" GROUP BY 1, 2";

static void
load_agent(Roster *r, int i, HeapTuple tup, TupleDesc desc)
{
	AssignAgent *a = &r->agents[i];
	bool		isnull;

	a->id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
	a->name = TextDatumGetCString(SPI_getbinval(tup, desc, 2, &isnull));
	a->active = DatumGetBool(SPI_getbinval(tup, desc, 3, &isnull));
	if (!agent_presence_parse(TextDatumGetCString(SPI_getbinval(tup, desc, 4, &isnull)), &a->presence) ||
		!agent_tier_parse(TextDatumGetCString(SPI_getbinval(tup, desc, 5, &isnull)), &a->tier))
		elog(ERROR, "antiban: agent " INT64_FORMAT " has an unknown presence or tier", a->id);
	a->capacity = DatumGetInt32(SPI_getbinval(tup, desc, 6, &isnull));
	a->weight = DatumGetInt32(SPI_getbinval(tup, desc, 7, &isnull));
	a->languages = (const char *const *) text_array_items(SPI_getbinval(tup, desc, 8, &isnull), &a->nlanguages);
	a->products = (const char *const *) text_array_items(SPI_getbinval(tup, desc, 9, &isnull), &a->nproducts);
	r->hours[i].zone = lead_hours_zone(TextDatumGetCString(SPI_getbinval(tup, desc, 10, &isnull)));
}

/*
 * Per-agent counts (agent id, count) from one query into each agent's
 * field; a third column, when there is one, is the agent's rotation.
 */
static void
load_counts(Roster *r, SPIPlanPtr *plan, const char *sql, TimestampTz since, size_t field)
{
	Oid			types[2] = {INT8OID, TIMESTAMPTZOID};
	Datum		args[2] = {Int64GetDatum(r->portfolio_id), TimestampTzGetDatum(since)};

	if (*plan == NULL)
		*plan = privileged_prepare(sql, since == DT_NOBEGIN ? 1 : 2, types);
	/* not read-only: a fresh snapshot, taken after the assignment lock */
	if (SPI_execute_plan(*plan, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not count the leads of portfolio " INT64_FORMAT, r->portfolio_id);
	for (uint64 k = 0; k < SPI_processed; k++)
	{
		bool		isnull;
		int			i = roster_find(r, DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[k], SPI_tuptable->tupdesc, 1, &isnull)));

		if (i < 0)
			continue;
		*(int *) ((char *) &r->agents[i] + field) =
			DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[k], SPI_tuptable->tupdesc, 2, &isnull));
		if (SPI_tuptable->tupdesc->natts >= 3)
		{
			AssignAgent *a = &r->agents[i];

			a->rotation = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[k], SPI_tuptable->tupdesc, 3, &isnull));
			if (a->rotation > r->rotation)
				r->rotation = a->rotation;
		}
	}
}

static void
load_conversion(Roster *r, TimestampTz since)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[2] = {INT8OID, TIMESTAMPTZOID};
	Datum		args[2] = {Int64GetDatum(r->portfolio_id), TimestampTzGetDatum(since)};

	if (plan == NULL)
		plan = privileged_prepare(conversion_sql, 2, types);
	if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not read win rates");
	for (uint64 k = 0; k < SPI_processed; k++)
	{
		HeapTuple	tup = SPI_tuptable->vals[k];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		int			i = roster_find(r, DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull)));
		int			band = DatumGetInt32(SPI_getbinval(tup, desc, 2, &isnull));

		if (i < 0 || band < 0 || band >= ASSIGN_SCORE_BANDS)
			continue;
		r->agents[i].conversion[band].won = DatumGetInt32(SPI_getbinval(tup, desc, 3, &isnull));
		r->agents[i].conversion[band].closed = DatumGetInt32(SPI_getbinval(tup, desc, 4, &isnull));
	}
}

void
roster_load(Roster *r, int64 portfolio_id, TimestampTz now, const Routing *routing)
{
	static SPIPlanPtr plan = NULL;
	static SPIPlanPtr load_plan = NULL;
	static SPIPlanPtr recent_plan = NULL;
	Oid			types[2] = {INT8OID, TIMESTAMPTZOID};
	Datum		args[2] = {Int64GetDatum(portfolio_id), TimestampTzGetDatum(now - routing->fairness_window)};
	int64	   *ids;

	if (plan == NULL)
		plan = privileged_prepare(agents_sql, 2, types);
	if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not read the agents of portfolio " INT64_FORMAT, portfolio_id);
	r->portfolio_id = portfolio_id;
	r->now = now;
	r->n = (int) SPI_processed;
	r->rotation = 0;
	r->agents = palloc0(sizeof(AssignAgent) * Max(r->n, 1));
	r->hours = palloc0(sizeof(AgentHours) * Max(r->n, 1));
	ids = palloc(sizeof(int64) * Max(r->n, 1));
	{
		SPITupleTable *tt = SPI_tuptable;

		for (int i = 0; i < r->n; i++)
		{
			load_agent(r, i, tt->vals[i], tt->tupdesc);
			ids[i] = r->agents[i].id;
		}
	}
	lead_hours_load(r->hours, ids, r->n);
	for (int i = 0; i < r->n; i++)
		r->agents[i].on_shift = lead_hours_on_shift(&r->hours[i], now);
	load_counts(r, &load_plan, load_sql, DT_NOBEGIN, offsetof(AssignAgent, open_leads));
	load_counts(r, &recent_plan, recent_sql, now - routing->fairness_window, offsetof(AssignAgent, recent));
	/* only score_aware reads win rates: the others need not pay for them */
	if (routing->rules.policy == ASSIGN_SCORE_AWARE)
		load_conversion(r, now - routing->conversion_window);
}

/* Binary search: agents are in id order. */
int
roster_find(const Roster *r, int64 agent_id)
{
	int			lo = 0,
				hi = r->n - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (r->agents[mid].id == agent_id)
			return mid;
		if (r->agents[mid].id < agent_id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

bool
roster_has_room(const Roster *r)
{
	for (int i = 0; i < r->n; i++)
		if (assign_agent_has_room(&r->agents[i]))
			return true;
	return false;
}
