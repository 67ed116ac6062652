/*
 * meta_codes.c
 *		The code table (core/error_class.c) for SQL: antiban.error_action()
 *		for one code, antiban.meta_codes() for all of them.  Both return
 *		antiban.meta_code rows, so what a person reads is what the sender and
 *		the webhooks act on (error_consequences.c) and what the health score
 *		counts (antiban.number_signals).
 */
#include "pg/antiban.h"

#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "core/error_class.h"

/* Columns of antiban.meta_code. */
enum
{
	COL_CODE, COL_LAST_CODE, COL_ACTION, COL_CLASS, COL_PAUSE, COL_SLOW, COL_BACKOFF,
	COL_DEFER, COL_OPT_OUT, COL_COUNTER, COL_RESTARTS_RECOVERY, COL_ALERT_KIND,
	COL_ALERT_SEVERITY, COL_MAX_ATTEMPTS, COL_MIN_DELAY, COL_MEANING, NCOLS
};

static Datum
interval_of(int64 us)
{
	Interval   *iv = palloc0(sizeof(Interval));

	iv->time = us;
	return IntervalPGetDatum(iv);
}

/* One antiban.meta_code row; absent consequences are NULL. */
static void
row_values(const ErrorClass *e, TupleDesc desc, Datum *values, bool *nulls)
{
	memset(nulls, false, sizeof(bool) * NCOLS);
	values[COL_CODE] = Int32GetDatum(e->code);
	values[COL_LAST_CODE] = Int32GetDatum(e->last_code);
	nulls[COL_LAST_CODE] = e->last_code <= e->code;
	values[COL_ACTION] = CStringGetTextDatum(error_summary(e));
	values[COL_CLASS] = CStringGetTextDatum(error_kind_name(e->kind));
	values[COL_PAUSE] = CStringGetTextDatum(pause_kind_name(e->pause));
	nulls[COL_PAUSE] = e->pause == PAUSE_NONE;
	values[COL_SLOW] = BoolGetDatum(e->slow_number);
	values[COL_BACKOFF] = BoolGetDatum(e->recipient_backoff);
	values[COL_DEFER] = interval_of(e->defer_marketing_us);
	nulls[COL_DEFER] = e->defer_marketing_us <= 0;
	values[COL_OPT_OUT] = BoolGetDatum(e->opt_out);
	values[COL_COUNTER] = CStringGetTextDatum(health_counter_name(e->counter));
	nulls[COL_COUNTER] = e->counter == HEALTH_COUNTER_NONE;
	values[COL_RESTARTS_RECOVERY] = BoolGetDatum(health_counter_restarts_recovery(e->counter));
	values[COL_ALERT_KIND] = e->alert_kind ? CStringGetTextDatum(e->alert_kind) : (Datum) 0;
	nulls[COL_ALERT_KIND] = e->alert_kind == NULL;
	nulls[COL_ALERT_SEVERITY] = e->severity == ALERT_NONE;
	if (!nulls[COL_ALERT_SEVERITY])
		values[COL_ALERT_SEVERITY] =
			DirectFunctionCall2(enum_in, CStringGetDatum(alert_severity_name(e->severity)),
								ObjectIdGetDatum(TupleDescAttr(desc, COL_ALERT_SEVERITY)->atttypid));
	values[COL_MAX_ATTEMPTS] = Int32GetDatum(e->max_attempts);
	nulls[COL_MAX_ATTEMPTS] = e->kind == ERROR_PERMANENT || e->max_attempts == 0;
	values[COL_MIN_DELAY] = interval_of(e->min_delay_us);
	nulls[COL_MIN_DELAY] = e->kind == ERROR_PERMANENT;
	values[COL_MEANING] = CStringGetTextDatum(e->meaning);
}

static TupleDesc
checked_desc(TupleDesc desc)
{
	if (desc->natts != NCOLS)
		elog(ERROR, "antiban: antiban.meta_code has %d columns, the library %d: reinstall the extension",
			 desc->natts, NCOLS);
	return desc;
}

PG_FUNCTION_INFO_V1(antiban_error_action);

/* antiban.error_action(code, http_status) -> antiban.meta_code */
Datum
antiban_error_action(PG_FUNCTION_ARGS)
{
	ErrorClass	e = error_classify(PG_ARGISNULL(0) ? -1 : PG_GETARG_INT32(0),
								   PG_ARGISNULL(1) ? 0 : PG_GETARG_INT32(1));
	TupleDesc	desc = checked_desc(result_desc(fcinfo));
	Datum		values[NCOLS];
	bool		nulls[NCOLS];

	row_values(&e, desc, values, nulls);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

PG_FUNCTION_INFO_V1(antiban_meta_codes);

/* antiban.meta_codes() -> SETOF antiban.meta_code: the whole table, in code order. */
Datum
antiban_meta_codes(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		values[NCOLS];
	bool		nulls[NCOLS];

	InitMaterializedSRF(fcinfo, 0);
	checked_desc(rsinfo->setDesc);
	for (int i = 0; i < error_table_size(); i++)
	{
		row_values(error_table_row(i), rsinfo->setDesc, values, nulls);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
