/*
 * lead_engagement_pg.c
 *		A lead's engagement (core/lead_engagement.h) as the composite type
 *		antiban.lead_engagement, and the functions that grow it:
 *		antiban.lead_engagement_note (also the step of the aggregate
 *		antiban.lead_engagement_agg) and antiban.lead_engagement_features.
 */
#include "pg/lead.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/jsonb.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "core/lead_features.h"

/* antiban.lead_engagement's attributes, in order */
enum
{
	A_AS_OF, A_HALF_LIFE, A_REPLIES, A_QUICK_REPLIES, A_READS, A_TAPS, A_FAILURES,
	A_FIRST_AT, A_LAST_INBOUND_AT, A_LAST_OUTBOUND_AT, A_OPTED_OUT, A_BLOCKED, NATTS
};

static double
interval_seconds(const Interval *iv)
{
	return (double) iv->time / USECS_PER_SEC + (double) iv->day * SECS_PER_DAY +
		(double) iv->month * DAYS_PER_MONTH * SECS_PER_DAY;
}

static Interval *
seconds_interval(double s)
{
	Interval   *iv = palloc0(sizeof(Interval));
	int64		us = (int64) llround(s * USECS_PER_SEC);

	iv->day = (int32) (us / USECS_PER_DAY);
	iv->time = us % USECS_PER_DAY;
	return iv;
}

static LeadTime
time_or_never(Datum d, bool isnull)
{
	return isnull ? LEAD_TIME_NEVER : (LeadTime) DatumGetTimestampTz(d);
}

void
lead_engagement_from_datum(Datum d, bool isnull, LeadEngagement *out)
{
	HeapTupleHeader th;
	HeapTupleData tuple;
	TupleDesc	desc;
	Datum		v[NATTS];
	bool		n[NATTS];

	lead_engagement_init(out, antiban_lead_half_life_s);
	if (isnull)
		return;
	th = DatumGetHeapTupleHeader(d);
	desc = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(th), HeapTupleHeaderGetTypMod(th));
	if (desc->natts != NATTS)
		elog(ERROR, "antiban: lead_engagement has %d attributes, expected %d", desc->natts, NATTS);
	tuple.t_len = HeapTupleHeaderGetDatumLength(th);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = th;
	heap_deform_tuple(&tuple, desc, v, n);
	ReleaseTupleDesc(desc);
	out->as_of = time_or_never(v[A_AS_OF], n[A_AS_OF]);
	if (!n[A_HALF_LIFE])
		out->half_life_s = interval_seconds(DatumGetIntervalP(v[A_HALF_LIFE]));
	out->replies = n[A_REPLIES] ? 0 : DatumGetFloat8(v[A_REPLIES]);
	out->quick_replies = n[A_QUICK_REPLIES] ? 0 : DatumGetFloat8(v[A_QUICK_REPLIES]);
	out->reads = n[A_READS] ? 0 : DatumGetFloat8(v[A_READS]);
	out->taps = n[A_TAPS] ? 0 : DatumGetFloat8(v[A_TAPS]);
	out->failures = n[A_FAILURES] ? 0 : DatumGetFloat8(v[A_FAILURES]);
	out->first_at = time_or_never(v[A_FIRST_AT], n[A_FIRST_AT]);
	out->last_inbound_at = time_or_never(v[A_LAST_INBOUND_AT], n[A_LAST_INBOUND_AT]);
	out->last_outbound_at = time_or_never(v[A_LAST_OUTBOUND_AT], n[A_LAST_OUTBOUND_AT]);
	out->opted_out = !n[A_OPTED_OUT] && DatumGetBool(v[A_OPTED_OUT]);
	out->blocked = !n[A_BLOCKED] && DatumGetBool(v[A_BLOCKED]);
}

static void
put_time(Datum *v, bool *n, int att, LeadTime t)
{
	n[att] = t == LEAD_TIME_NEVER;
	v[att] = n[att] ? (Datum) 0 : TimestampTzGetDatum((TimestampTz) t);
}

void
lead_engagement_fields(const LeadEngagement *e, Datum *v, bool *n)
{
	memset(n, 0, sizeof(bool) * NATTS);
	put_time(v, n, A_AS_OF, e->as_of);
	v[A_HALF_LIFE] = IntervalPGetDatum(seconds_interval(e->half_life_s));
	v[A_REPLIES] = Float8GetDatum(e->replies);
	v[A_QUICK_REPLIES] = Float8GetDatum(e->quick_replies);
	v[A_READS] = Float8GetDatum(e->reads);
	v[A_TAPS] = Float8GetDatum(e->taps);
	v[A_FAILURES] = Float8GetDatum(e->failures);
	put_time(v, n, A_FIRST_AT, e->first_at);
	put_time(v, n, A_LAST_INBOUND_AT, e->last_inbound_at);
	put_time(v, n, A_LAST_OUTBOUND_AT, e->last_outbound_at);
	v[A_OPTED_OUT] = BoolGetDatum(e->opted_out);
	v[A_BLOCKED] = BoolGetDatum(e->blocked);
}

Datum
lead_engagement_to_datum(const LeadEngagement *e, TupleDesc desc)
{
	Datum		v[NATTS];
	bool		n[NATTS];

	lead_engagement_fields(e, v, n);
	return HeapTupleGetDatum(heap_form_tuple(desc, v, n));
}

/* antiban.lead_engagement, for callers that do not return it. */
TupleDesc
lead_engagement_desc(void)
{
	Oid			type = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
									   CStringGetDatum("lead_engagement"),
									   ObjectIdGetDatum(get_namespace_oid("antiban", false)));

	if (!OidIsValid(type))
		elog(ERROR, "antiban: type antiban.lead_engagement does not exist");
	return BlessTupleDesc(lookup_rowtype_tupdesc_copy(type, -1));
}

static LeadEventKind
kind_or_error(text *t)
{
	LeadEventKind k;
	char	   *s = t ? text_to_cstring(t) : NULL;

	if (s == NULL || !lead_event_kind_parse(s, &k))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown lead event kind \"%s\"", s ? s : "(null)"),
				 errhint("Use inbound, tap, outbound, read, failure (with its code), opt_out, opt_in or block.")));
	return k;
}

PG_FUNCTION_INFO_V1(antiban_lead_engagement_note);

/*
 * antiban.lead_engagement_note(engagement antiban.lead_engagement, kind text,
 *		at timestamptz, code integer DEFAULT NULL): the engagement after one
 * more event.  A NULL engagement starts one with antiban.lead_half_life.
 */
Datum
antiban_lead_engagement_note(PG_FUNCTION_ARGS)
{
	LeadEngagement e;
	LeadEventKind kind = kind_or_error(PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1));
	int			code = PG_NARGS() > 3 && !PG_ARGISNULL(3) ? PG_GETARG_INT32(3) : 0;

	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("a lead event needs the time it happened")));
	if (kind == LEAD_EVENT_FAILURE && (PG_NARGS() <= 3 || PG_ARGISNULL(3)))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("a lead failure event needs the Cloud API error code"),
				 errhint("131049 and 131026 count against the lead; other codes are ours and are ignored.")));
	lead_engagement_from_datum(PG_GETARG_DATUM(0), PG_ARGISNULL(0), &e);
	lead_engagement_note(&e, kind, (LeadTime) PG_GETARG_TIMESTAMPTZ(2), code);
	PG_RETURN_DATUM(lead_engagement_to_datum(&e, result_desc(fcinfo)));
}

PG_FUNCTION_INFO_V1(antiban_lead_engagement_features);

/*
 * antiban.lead_engagement_features(engagement, at timestamptz): the
 * engagement features the model reads at that time, by name.
 */
Datum
antiban_lead_engagement_features(PG_FUNCTION_ARGS)
{
	LeadEngagement e;
	LeadEntry	f[LEAD_ENGAGEMENT_MAX];
	int			n;
	JsonbParseState *st = NULL;
	JsonbValue *res;

	lead_engagement_from_datum(PG_GETARG_DATUM(0), PG_ARGISNULL(0), &e);
	n = lead_engagement_features(&e, (LeadTime) PG_GETARG_TIMESTAMPTZ(1), f);
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < n; i++)
	{
		const char *key = lead_feature_info(f[i].idx)->key;
		JsonbValue	k = {.type = jbvString, .val.string = {strlen(key), (char *) key}};
		JsonbValue	v = {.type = jbvNumeric};

		v.val.numeric = DatumGetNumeric(DirectFunctionCall2(numeric_round,
															DirectFunctionCall1(float8_numeric, Float8GetDatum(f[i].val)),
															Int32GetDatum(4)));
		pushJsonbValue(&st, WJB_KEY, &k);
		pushJsonbValue(&st, WJB_VALUE, &v);
	}
	res = pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	PG_RETURN_JSONB_P(JsonbValueToJsonb(res));
}
