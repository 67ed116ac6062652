/*
 * lead_assign_hours.c
 *		An agent's weekly shifts in its time zone: core/business_hours.c over
 *		PostgreSQL's tz database (pg_tzset, pg_localtime), never libc's TZ.
 *
 * SQL: antiban.agent_on_shift(agent, at), antiban.business_deadline(agent,
 * start, interval), antiban.business_time(agent, since, until).
 */
#include "pg/antiban.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "pg/lead_assign.h"
#include "pg/privileged.h"

/* TimestampTz counts from 2000-01-01; the core from 1970-01-01. */
#define UNIX_TO_PG_USECS ((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)

static int32_t
zone_offset(int64_t unix_seconds, void *arg)
{
	pg_time_t	t = (pg_time_t) unix_seconds;
	struct pg_tm *tm = pg_localtime(&t, (const pg_tz *) arg);

	return tm != NULL ? (int32_t) tm->tm_gmtoff : 0;
}

pg_tz *
lead_hours_zone(const char *name)
{
	pg_tz	   *zone = pg_tzset(name);

	if (zone == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown time zone \"%s\"", name),
				 errhint("Use a name from pg_timezone_names, such as America/Sao_Paulo.")));
	return zone;
}

bool
lead_hours_on_shift(const AgentHours *h, TimestampTz at)
{
	LocalClock	clock = {zone_offset, h->zone};

	return business_on_shift(&h->schedule, &clock, at + UNIX_TO_PG_USECS);
}

/* DT_NOEND (infinity) when the deadline is past the core's horizon. */
TimestampTz
lead_hours_deadline(const AgentHours *h, TimestampTz start, int64 business)
{
	LocalClock	clock = {zone_offset, h->zone};
	int64_t		due;

	if (TIMESTAMP_NOT_FINITE(start))
		return start;
	due = business_deadline(&h->schedule, &clock, start + UNIX_TO_PG_USECS, business);
	return due == BUSINESS_NEVER ? DT_NOEND : due - UNIX_TO_PG_USECS;
}

/*
 * The shifts of agents (ids ascending) into hours[] (time zones already
 * set), in the current memory context.  Inside SPI, as antiban_owner.
 */
void
lead_hours_load(AgentHours *hours, int64 *agent_ids, int n)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[1] = {INT8ARRAYOID};
	Datum		args[1];
	Datum	   *ids = palloc(sizeof(Datum) * Max(n, 1));
	WeeklyShift *all;
	int			at = 0;

	for (int i = 0; i < n; i++)
	{
		ids[i] = Int64GetDatum(agent_ids[i]);
		hours[i].schedule.shifts = NULL;
		hours[i].schedule.nshifts = 0;
	}
	if (plan == NULL)
		plan = privileged_prepare("SELECT agent_id, weekday::int4, extract(epoch FROM starts)::int4,"
								  " extract(epoch FROM ends)::int4"
								  " FROM antiban.agent_shifts WHERE agent_id = ANY($1)"
								  " ORDER BY agent_id, weekday, starts",
								  1, types);
	args[0] = PointerGetDatum(construct_array(ids, n, INT8OID, 8, true, TYPALIGN_DOUBLE));
	if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not read agent shifts");
	/* one array for every shift; each agent's are consecutive (ordered by agent) */
	all = palloc(sizeof(WeeklyShift) * Max(SPI_processed, 1));
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tup = SPI_tuptable->vals[r];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		int64		agent = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		AgentHours *h;

		while (at < n && agent_ids[at] < agent)
			at++;
		if (at == n || agent_ids[at] != agent)
			continue;
		h = &hours[at];
		if (!weekly_shift_make(DatumGetInt32(SPI_getbinval(tup, desc, 2, &isnull)),
							   DatumGetInt32(SPI_getbinval(tup, desc, 3, &isnull)),
							   DatumGetInt32(SPI_getbinval(tup, desc, 4, &isnull)),
							   &all[r]))
			elog(ERROR, "antiban: agent " INT64_FORMAT " has a shift out of range", agent);
		if (h->schedule.nshifts == 0)
			h->schedule.shifts = &all[r];
		h->schedule.nshifts++;
	}
}

/*
 * One agent's zone and shifts, for the SQL functions below.  An agent of a
 * portfolio the caller may not use is answered as a missing one: its shifts
 * and time zone are its portfolio's (ids are no oracle).
 */
static void
agent_hours(int64 agent, AgentHours *h)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(agent)};
	bool		isnull;
	char	   *zone;

	if (plan == NULL)
		plan = privileged_prepare("SELECT time_zone, portfolio_id FROM antiban.agents WHERE id = $1", 1, types);
	if (SPI_execute_plan(plan, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not read agent");
	if (SPI_processed == 0 ||
		!tenancy_may_use_portfolio(DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull))))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("unknown agent " INT64_FORMAT, agent),
				 errhint("Agents are rows of antiban.agents.")));
	zone = TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	h->zone = lead_hours_zone(zone);
	lead_hours_load(h, &agent, 1);
}

typedef enum HoursQuestion
{
	ON_SHIFT,
	DEADLINE,
	ELAPSED
} HoursQuestion;

static Datum
ask(int64 agent, HoursQuestion q, TimestampTz a, TimestampTz b, int64 business)
{
	Privileged	priv;
	AgentHours	h;
	Datum		result;
	LocalClock	clock;

	lead_privileged_begin(&priv);
	SPI_connect();
	agent_hours(agent, &h);
	clock.offset = zone_offset;
	clock.arg = h.zone;
	switch (q)
	{
		case ON_SHIFT:
			result = BoolGetDatum(lead_hours_on_shift(&h, a));
			break;
		case DEADLINE:
			result = TimestampTzGetDatum(lead_hours_deadline(&h, a, business));
			break;
		default:
			{
				/* in the caller's memory: SPI_finish frees the rest */
				Interval   *iv = SPI_palloc(sizeof(Interval));

				memset(iv, 0, sizeof(Interval));
				if (!TIMESTAMP_NOT_FINITE(a) && !TIMESTAMP_NOT_FINITE(b))
					iv->time = business_elapsed(&h.schedule, &clock, a + UNIX_TO_PG_USECS,
												b + UNIX_TO_PG_USECS);
				result = PointerGetDatum(iv);
				break;
			}
	}
	SPI_finish();
	privileged_end(&priv);
	return result;
}

/* An interval's length in microseconds, months as 30 days (as extract(epoch) does). */
static int64
interval_usecs(const Interval *iv)
{
	return iv->time + ((int64) iv->month * DAYS_PER_MONTH + iv->day) * USECS_PER_DAY;
}

PG_FUNCTION_INFO_V1(antiban_agent_on_shift);

/* antiban.agent_on_shift(agent bigint, at timestamptz DEFAULT NULL): now when NULL */
Datum
antiban_agent_on_shift(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	return ask(PG_GETARG_INT64(0), ON_SHIFT, PG_ARGISNULL(1) ? antiban_now() : PG_GETARG_TIMESTAMPTZ(1), 0, 0);
}

PG_FUNCTION_INFO_V1(antiban_business_deadline);

/* antiban.business_deadline(agent bigint, start timestamptz, business interval) */
Datum
antiban_business_deadline(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_NULL();
	return ask(PG_GETARG_INT64(0), DEADLINE, PG_GETARG_TIMESTAMPTZ(1), 0,
			   interval_usecs(PG_GETARG_INTERVAL_P(2)));
}

PG_FUNCTION_INFO_V1(antiban_business_time);

/* antiban.business_time(agent bigint, since timestamptz, until timestamptz) */
Datum
antiban_business_time(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_NULL();
	return ask(PG_GETARG_INT64(0), ELAPSED, PG_GETARG_TIMESTAMPTZ(1), PG_GETARG_TIMESTAMPTZ(2), 0);
}
