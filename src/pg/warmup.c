/*
 * warmup.c
 *		The warm-up schedule of new numbers: antiban.warmup_schedule() shows
 *		the curve, antiban.start_warmup() puts a number on it, and each
 *		evaluation moves a warming number along it.
 *
 * The rules are in core/warmup.c.  Two limits hold a warming number back:
 * its rate (the day's cap spread over antiban.warmup_spread, applied by the
 * numbers cache to its throughput bucket) and its cap (messages sent in the
 * moving 24 h, counted here each evaluation; once reached, the number's
 * warmup_full_until makes decide queue for it until the oldest send leaves
 * the window).  Between evaluations the rate bounds what can slip past the
 * cap: at the defaults, under one message per monitor interval.
 */
#include "pg/antiban.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "pg/privileged.h"
#include "pg/warmup.h"

static const char *const update_sql =
"UPDATE antiban.numbers SET warmup_day = $2,"
" warmup_day_started_at = CASE WHEN $6 THEN NULL ELSE $3 END, warmup_cap = $4,"
" warmup_full_until = $5,"
" mode = CASE WHEN $6 THEN 'active'::antiban.number_mode ELSE mode END,"
" rate_factor = CASE WHEN $6 THEN 1.0 ELSE rate_factor END,"
" change_reason = coalesce($7, change_reason)"
" WHERE id = $1";

WarmupParams
antiban_warmup_params(void)
{
	WarmupParams p = warmup_defaults();

	p.start_daily = antiban_warmup_start_daily;
	p.growth = antiban_warmup_growth;
	p.max_daily = antiban_warmup_max_daily;
	p.gate_health = antiban_warmup_gate_health;
	p.spread_hours = antiban_warmup_spread_s / 3600.0;
	return p;
}

static void
write_warmup(const WarmupRow *w, const WarmupStep *step, bool graduate, const char *reason)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[7] = {INT8OID, INT4OID, TIMESTAMPTZOID, INT4OID, TIMESTAMPTZOID, BOOLOID, TEXTOID};
	Datum		args[7];
	char		nulls[7] = "       ";

	if (plan == NULL)
		plan = privileged_prepare(update_sql, 7, types);
	args[0] = Int64GetDatum(w->id);
	args[1] = Int32GetDatum(step->next.day);
	args[2] = TimestampTzGetDatum(step->next.day_started);
	args[3] = Int32GetDatum((int32) Min(step->daily_cap, PG_INT32_MAX));
	args[4] = TimestampTzGetDatum(step->full_until);
	nulls[4] = step->full_until == 0 ? 'n' : ' ';
	args[5] = BoolGetDatum(graduate);
	args[6] = reason ? CStringGetTextDatum(reason) : (Datum) 0;
	nulls[6] = reason ? ' ' : 'n';
	if (SPI_execute_plan(plan, args, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "antiban: could not update the warm-up of number " INT64_FORMAT, w->id);
}

/*
 * Move a warming number along its schedule; a number that is no longer
 * warming only has a stale full mark cleared.  Returns the sentence for
 * people when the day changed or the number graduated (then '*graduated'
 * is set: it is active now), else NULL.
 */
const char *
warmup_evaluate(const WarmupRow *w, const WarmupInput *in, bool warming, bool may_graduate,
				bool *graduated)
{
	WarmupParams p = antiban_warmup_params();
	WarmupStep	step;
	bool		graduate;

	*graduated = false;
	if (!warming)
	{
		if (w->full_until != 0)
		{
			step.next = w->state;
			step.daily_cap = w->cap;
			step.full_until = 0;
			write_warmup(w, &step, false, NULL);
		}
		return NULL;
	}
	warmup_step(&p, &w->state, in, &step);
	graduate = step.graduated && may_graduate;
	if (!step.day_changed && !graduate && step.daily_cap == w->cap && step.full_until == w->full_until)
		return NULL;
	write_warmup(w, &step, graduate, step.day_changed || graduate ? step.why : NULL);
	*graduated = graduate;
	return step.day_changed || graduate ? pstrdup(step.why) : NULL;
}

PG_FUNCTION_INFO_V1(antiban_warmup_schedule);

/* antiban.warmup_schedule(): the curve under the current settings, to graduation. */
Datum
antiban_warmup_schedule(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	WarmupParams p = antiban_warmup_params();
	int			max_days = PG_GETARG_INT32(0);
	int64		total = 0;

	if (max_days < 1 || max_days > 3650)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("days must be between 1 and 3650, not %d", max_days)));
	InitMaterializedSRF(fcinfo, 0);
	for (int day = 0; day < max_days; day++)
	{
		bool		graduated;
		int64		cap = warmup_daily_cap(&p, day, &graduated);
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};

		total += cap;
		values[0] = Int32GetDatum(day + 1);
		values[1] = Int64GetDatum(cap);
		values[2] = Float8GetDatum(warmup_rate(&p, day));
		values[3] = Int64GetDatum(total);
		values[4] = BoolGetDatum(graduated);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		if (graduated)
			break;
	}
	return (Datum) 0;
}
