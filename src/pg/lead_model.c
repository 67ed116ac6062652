/*
 * lead_model.c
 *		Scoring leads with a trained model: the per-backend model cache,
 *		antiban.lead_score (one lead, or a million in one statement) and
 *		antiban.lead_vector (what the model reads, by name).
 *
 * A model is immutable once trained (a trigger refuses changes to its
 * weights), so a backend keeps a few of them, weights dense, by id: a bulk
 * rescore reads each weight with one array index.  DROP EXTENSION drops
 * the table and its relcache invalidation empties the cache, so a model
 * id reused by a new installation is never served stale.
 */
#include "pg/lead.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "core/lead_features.h"
#include "pg/xact_memory.h"

#define CACHED_MODELS 4

typedef struct Slot
{
	LeadModelEntry m;
	MemoryContext cxt;			/* NULL: empty */
	uint64		used;
} Slot;

static Slot slots[CACHED_MODELS];
static uint64 clock_hand;
static bool callback_registered;
static Oid	models_relid;

static void
forget_models(Datum arg, Oid relid)
{
	if (relid != InvalidOid && relid != models_relid)
		return;
	/* a caller may hold a model across the catalog access that brought this */
	for (int i = 0; i < CACHED_MODELS; i++)
		if (slots[i].cxt)
		{
			free_at_transaction_end(slots[i].cxt);
			slots[i].cxt = NULL;
		}
}

static Slot *
free_slot(void)
{
	Slot	   *victim = &slots[0];

	for (int i = 0; i < CACHED_MODELS; i++)
	{
		if (slots[i].cxt == NULL)
			return &slots[i];
		if (slots[i].used < victim->used)
			victim = &slots[i];
	}
	/* no caller holds a model across the load of another: free it now */
	MemoryContextDelete(victim->cxt);
	victim->cxt = NULL;
	return victim;
}

static void
unknown_model(int64 id)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("lead model %lld does not exist", (long long) id),
			 errhint("The models: SELECT id, portfolio_id, trained_at, active FROM antiban.lead_models.")));
}

/* Copies the model row (from SPI) into a fresh cache slot. */
static void
fill(Slot *s, int64 id, HeapTuple t, TupleDesc d)
{
	bool		isnull;
	ArrayType  *features = DatumGetArrayTypeP(SPI_getbinval(t, d, 6, &isnull));
	ArrayType  *weights = DatumGetArrayTypeP(SPI_getbinval(t, d, 7, &isnull));
	ArrayType  *terms = DatumGetArrayTypeP(SPI_getbinval(t, d, 8, &isnull));
	int			n = ArrayGetNItems(ARR_NDIM(features), ARR_DIMS(features));
	int32	   *fp = (int32 *) ARR_DATA_PTR(features);
	float4	   *wp = (float4 *) ARR_DATA_PTR(weights);
	float	   *w;
	Datum	   *tv;
	bool	   *tn;
	int			nt;
	Datum		pid = SPI_getbinval(t, d, 1, &isnull);

	s->m.id = id;
	s->m.portfolio_id = isnull ? 0 : DatumGetInt64(pid);
	s->m.view.intercept = DatumGetFloat8(SPI_getbinval(t, d, 3, &isnull));
	s->m.view.platt.a = DatumGetFloat8(SPI_getbinval(t, d, 4, &isnull));
	s->m.view.platt.b = DatumGetFloat8(SPI_getbinval(t, d, 5, &isnull));
	w = MemoryContextAllocHuge(s->cxt, sizeof(float) * LEAD_FEATURE_SPACE);
	memset(w, 0, sizeof(float) * LEAD_FEATURE_SPACE);
	for (int i = 0; i < n; i++)
		if (fp[i] > 0 && fp[i] < LEAD_FEATURE_SPACE)
			w[fp[i]] = wp[i];
	s->m.view.w = w;
	/* the words of the hashed features, sorted by feature for bsearch */
	deconstruct_array(terms, TEXTOID, -1, false, TYPALIGN_INT, &tv, &tn, &nt);
	s->m.term_features = MemoryContextAlloc(s->cxt, sizeof(int32) * Max(nt, 1));
	s->m.terms = MemoryContextAlloc(s->cxt, sizeof(char *) * Max(nt, 1));
	s->m.nterms = 0;
	for (int i = 0; i < nt && i < n; i++)
		if (!tn[i])
		{
			char	   *server = TextDatumGetCString(tv[i]);

			s->m.term_features[s->m.nterms] = fp[i];
			s->m.terms[s->m.nterms++] = MemoryContextStrdup(s->cxt,
															pg_server_to_any(server, strlen(server), PG_UTF8));
		}
}

static void
load(Slot *s, int64 id)
{
	static const char *sql =
		"SELECT portfolio_id, feature_version, intercept, platt_a, platt_b, features, weights, terms"
		" FROM antiban.lead_models WHERE id = $1";
	LeadSpiScope scope;
	MemoryContext old;
	int			version;
	bool		isnull;

	lead_spi_begin(&scope);
	SPI_connect();
	if (SPI_execute_with_args(sql, 1, (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(id)}, NULL, true, 1)
		!= SPI_OK_SELECT)
		elog(ERROR, "antiban: could not read lead model %lld", (long long) id);
	if (SPI_processed == 0)
		unknown_model(id);
	version = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	if (version != LEAD_FEATURE_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("lead model %lld was trained on feature version %d, this antiban reads version %d",
						(long long) id, version, LEAD_FEATURE_VERSION),
				 errhint("Train a new model: SELECT antiban.train_lead_model(...).")));
	models_relid = get_relname_relid("lead_models", get_namespace_oid("antiban", false));
	s->cxt = AllocSetContextCreate(TopMemoryContext, "antiban lead model", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(s->cxt);
	PG_TRY();
	{
		fill(s, id, SPI_tuptable->vals[0], SPI_tuptable->tupdesc);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(old);
		MemoryContextDelete(s->cxt);
		s->cxt = NULL;
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	SPI_finish();
	lead_spi_end(&scope);
}

const LeadModelEntry *
lead_model_get(int64 id)
{
	Slot	   *s;

	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(forget_models, (Datum) 0);
		callback_registered = true;
	}
	for (int i = 0; i < CACHED_MODELS; i++)
		if (slots[i].cxt && slots[i].m.id == id)
		{
			slots[i].used = ++clock_hand;
			return &slots[i].m;
		}
	s = free_slot();
	load(s, id);
	s->used = ++clock_hand;
	return &s->m;
}

const char *
lead_model_term(void *model, int feature)
{
	const LeadModelEntry *m = model;
	int			lo = 0,
				hi = m->nterms - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (m->term_features[mid] == feature)
			return m->terms[mid];
		if (m->term_features[mid] < feature)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

int
lead_present(const LeadEntry *stored, int n, const LeadEngagement *e, LeadTime now, LeadEntry **out)
{
	LeadEntry	eng[LEAD_ENGAGEMENT_MAX];
	int			neng = lead_engagement_features(e, now, eng);

	*out = palloc(sizeof(LeadEntry) * (n + neng + 1));
	return lead_vector_present(stored, n, eng, neng, *out);
}

static void
push_reasons(JsonbParseState **st, const char *key, const LeadReason *r, int n)
{
	JsonbValue	k = {.type = jbvString, .val.string = {strlen(key), (char *) key}};

	pushJsonbValue(st, WJB_KEY, &k);
	pushJsonbValue(st, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; i < n; i++)
	{
		char	   *text = pg_any_to_server(r[i].text, strlen(r[i].text), PG_UTF8);
		JsonbValue	v = {.type = jbvString, .val.string = {strlen(text), text}};

		pushJsonbValue(st, WJB_ELEM, &v);
	}
	pushJsonbValue(st, WJB_END_ARRAY, NULL);
}

/* {"positive": ["+18 perguntou sobre CDB", ...], "negative": ["−12 ...", ...]} */
static Jsonb *
reasons_jsonb(const LeadModelEntry *m, const LeadEntry *x, int n, const LeadScore *s)
{
	bool		utf8 = GetDatabaseEncoding() == PG_UTF8;
	LeadExplainArgs a = {
		.model = &m->view, .x = x, .n = n, .score = s, .k = antiban_lead_reasons,
		.lang = (LeadReasonLanguage) antiban_lead_reason_language,
		.term = lead_model_term, .ctx = (void *) m,
		/* typographic signs and quotes where the database can store them */
		.minus = utf8 ? "\u2212" : "-", .open_quote = utf8 ? "\u201c" : "\"",
		.close_quote = utf8 ? "\u201d" : "\"",
	};
	LeadReason	up[LEAD_REASONS_MAX],
				down[LEAD_REASONS_MAX];
	int			nup,
				ndown;
	JsonbParseState *st = NULL;

	lead_explain(&a, up, &nup, down, &ndown);
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	push_reasons(&st, "positive", up, nup);
	push_reasons(&st, "negative", down, ndown);
	return JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
}

void
lead_score_stored(const LeadModelEntry *m, const LeadEntry *stored, int n, const LeadEngagement *e,
				  LeadTime now, LeadScoreResult *out)
{
	LeadEntry  *x;
	int			nx = lead_present(stored, n, e, now, &x);
	LeadScore	s;

	lead_model_score(&m->view, x, nx, &s);
	out->score = (int16) s.score;
	out->probability = (float4) s.p;
	out->reasons = reasons_jsonb(m, x, nx, &s);
	pfree(x);
}

/*
 * A model for the SQL caller: a portfolio's own model only for a role that
 * may use that portfolio (the default models, of no portfolio, for anyone).
 * Another portfolio's model is answered exactly as a missing one, so its id,
 * weights and terms are no oracle (antiban.lead_models has row-level
 * security; these functions read it with antiban's rights).
 */
static const LeadModelEntry *
caller_model(int64 id)
{
	const LeadModelEntry *m = lead_model_get(id);

	if (m->portfolio_id != 0 &&
		!tenancy_may_use_portfolio(m->portfolio_id))
		unknown_model(id);
	return m;
}

static int64
model_arg(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("no lead model to score with"),
				 errhint("Train one with antiban.train_lead_model(), or name one of antiban.lead_models.")));
	return PG_GETARG_INT64(0);
}

PG_FUNCTION_INFO_V1(antiban_lead_score);

/*
 * antiban.lead_score(model bigint, features int4[], feature_values float4[],
 *		engagement antiban.lead_engagement, at timestamptz) -> antiban.lead_score
 */
Datum
antiban_lead_score(PG_FUNCTION_ARGS)
{
	const LeadModelEntry *m = caller_model(model_arg(fcinfo));
	LeadVec		stored;
	LeadEngagement e;
	LeadScoreResult r;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	lead_vec_from_arrays(PG_ARGISNULL(1) ? NULL : PG_GETARG_ARRAYTYPE_P(1),
						 PG_ARGISNULL(2) ? NULL : PG_GETARG_ARRAYTYPE_P(2), &stored);
	lead_engagement_from_datum(PG_GETARG_DATUM(3), PG_ARGISNULL(3), &e);
	if (PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("a lead score needs the time it is taken at")));
	lead_score_stored(m, stored.e, stored.n, &e, (LeadTime) PG_GETARG_TIMESTAMPTZ(4), &r);
	values[0] = Int16GetDatum(r.score);
	values[1] = Float4GetDatum(r.probability);
	values[2] = Int64GetDatum(m->id);
	values[3] = JsonbPGetDatum(r.reasons);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(result_desc(fcinfo), values, nulls)));
}

PG_FUNCTION_INFO_V1(antiban_lead_vector);

/*
 * antiban.lead_vector(features, feature_values, engagement, at, model DEFAULT NULL)
 *		RETURNS TABLE (feature int, name text, value real, weight real):
 * what a model reads of one lead, each feature with its name (the term of
 * a hashed feature when the model knows it) and its weight in the model.
 */
Datum
antiban_lead_vector(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const LeadModelEntry *m = PG_ARGISNULL(4) ? NULL : caller_model(PG_GETARG_INT64(4));
	LeadVec		stored;
	LeadEngagement e;
	LeadEntry  *x;
	int			n;

	InitMaterializedSRF(fcinfo, 0);
	lead_vec_from_arrays(PG_ARGISNULL(0) ? NULL : PG_GETARG_ARRAYTYPE_P(0),
						 PG_ARGISNULL(1) ? NULL : PG_GETARG_ARRAYTYPE_P(1), &stored);
	lead_vec_normalize(&stored);
	lead_engagement_from_datum(PG_GETARG_DATUM(2), PG_ARGISNULL(2), &e);
	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("a lead vector needs the time it is read at")));
	n = lead_present(stored.e, stored.n, &e, (LeadTime) PG_GETARG_TIMESTAMPTZ(3), &x);
	for (int i = 0; i < n; i++)
	{
		const LeadFeatureInfo *info = lead_feature_info(x[i].idx);
		const char *term = m && !info ? lead_model_term((void *) m, x[i].idx) : NULL;
		Datum		v[4];
		bool		nulls[4] = {false, false, false, m == NULL};

		v[0] = Int32GetDatum(x[i].idx);
		v[1] = CStringGetTextDatum(info ? info->key :
								   term ? psprintf("text: %s", pg_any_to_server(term, strlen(term), PG_UTF8)) :
								   "text");
		v[2] = Float4GetDatum(x[i].val);
		v[3] = Float4GetDatum(m ? m->view.w[x[i].idx] : 0);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(antiban_lead_feature_catalog);

/* antiban.lead_feature_catalog() RETURNS TABLE (feature int, name text, pt text, en text) */
Datum
antiban_lead_feature_catalog(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			n;
	const LeadFeatureInfo *c = lead_feature_catalog(&n);

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < n; i++)
	{
		Datum		v[4];
		bool		nulls[4] = {false, false, false, false};

		v[0] = Int32GetDatum(c[i].id);
		v[1] = CStringGetTextDatum(c[i].key);
		v[2] = CStringGetTextDatum(pg_any_to_server(c[i].pt, strlen(c[i].pt), PG_UTF8));
		v[3] = CStringGetTextDatum(c[i].en);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
	return (Datum) 0;
}
