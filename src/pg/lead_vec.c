/*
 * lead_vec.c
 *		Sparse lead vectors between C and SQL (int4[] indices, float4[]
 *		values), and antiban.lead_vector_add.
 */
#include "pg/lead.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/lsyscache.h"

#include "core/lead_features.h"

void
lead_vec_init(LeadVec *v, int cap)
{
	v->cap = Max(cap, 16);
	v->n = 0;
	v->e = palloc(sizeof(LeadEntry) * v->cap);
}

void
lead_vec_push(LeadVec *v, int32 idx, float val)
{
	if (v->n == v->cap)
	{
		v->cap *= 2;
		v->e = repalloc(v->e, sizeof(LeadEntry) * v->cap);
	}
	v->e[v->n].idx = idx;
	v->e[v->n++].val = val;
}

void
lead_vec_normalize(LeadVec *v)
{
	v->n = lead_vector_normalize(v->e, v->n);
}

static void
check_array(ArrayType *a, Oid elemtype, const char *what)
{
	if (ARR_NDIM(a) > 1 || ARR_HASNULL(a) || ARR_ELEMTYPE(a) != elemtype)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("lead %s must be a one-dimensional array without nulls", what),
				 errhint("Use the features and feature_values that antiban.lead_text_features returns.")));
}

/*
 * The bulk scorer reads weights at these indices: an index outside the
 * feature space is refused, never read.
 */
void
lead_vec_from_arrays(ArrayType *idx, ArrayType *val, LeadVec *out)
{
	int			n;
	int32	   *ip;
	float4	   *vp;

	out->n = 0;
	out->cap = 0;
	out->e = NULL;
	if (idx == NULL && val == NULL)
		return;
	if (idx == NULL || val == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("lead features and feature_values must both be given or both be null")));
	check_array(idx, INT4OID, "features");
	check_array(val, FLOAT4OID, "feature_values");
	n = ArrayGetNItems(ARR_NDIM(idx), ARR_DIMS(idx));
	if (n != ArrayGetNItems(ARR_NDIM(val), ARR_DIMS(val)))
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("lead features and feature_values differ in length"),
				 errdetail("%d features, %d values.", n, ArrayGetNItems(ARR_NDIM(val), ARR_DIMS(val)))));
	ip = (int32 *) ARR_DATA_PTR(idx);
	vp = (float4 *) ARR_DATA_PTR(val);
	lead_vec_init(out, n);
	for (int i = 0; i < n; i++)
	{
		if (ip[i] < 1 || ip[i] >= LEAD_FEATURE_SPACE)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("lead feature %d is outside the feature space", ip[i]),
					 errdetail("Features are numbered from 1 to %d.", LEAD_FEATURE_SPACE - 1)));
		out->e[i].idx = ip[i];
		out->e[i].val = vp[i];
	}
	out->n = n;
}

void
lead_vec_to_arrays(const LeadEntry *e, int n, Datum *idx, Datum *val)
{
	Datum	   *i = palloc(sizeof(Datum) * Max(n, 1));
	Datum	   *v = palloc(sizeof(Datum) * Max(n, 1));

	for (int k = 0; k < n; k++)
	{
		i[k] = Int32GetDatum(e[k].idx);
		v[k] = Float4GetDatum(e[k].val);
	}
	*idx = PointerGetDatum(construct_array(i, n, INT4OID, 4, true, TYPALIGN_INT));
	*val = PointerGetDatum(construct_array(v, n, FLOAT4OID, 4, true, TYPALIGN_INT));
}

PG_FUNCTION_INFO_V1(antiban_lead_vector_add);

/*
 * antiban.lead_vector_add(features int4[], feature_values float4[],
 *		more int4[], more_values float4[], OUT features, OUT feature_values):
 * a conversation's stored vector plus a new message's.
 */
Datum
antiban_lead_vector_add(PG_FUNCTION_ARGS)
{
	LeadVec		a,
				b;
	LeadEntry  *sum;
	int			n;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	lead_vec_from_arrays(PG_ARGISNULL(0) ? NULL : PG_GETARG_ARRAYTYPE_P(0),
						 PG_ARGISNULL(1) ? NULL : PG_GETARG_ARRAYTYPE_P(1), &a);
	lead_vec_from_arrays(PG_ARGISNULL(2) ? NULL : PG_GETARG_ARRAYTYPE_P(2),
						 PG_ARGISNULL(3) ? NULL : PG_GETARG_ARRAYTYPE_P(3), &b);
	lead_vec_normalize(&a);
	lead_vec_normalize(&b);
	sum = palloc(sizeof(LeadEntry) * Max(a.n + b.n, 1));
	n = lead_vector_add(a.e, a.n, b.e, b.n, sum);
	lead_vec_to_arrays(sum, n, &values[0], &values[1]);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(result_desc(fcinfo), values, nulls)));
}
