/*
 * lead_corpus.c
 *		antiban.lead_corpus_examples(corpus text, base timestamptz): the
 *		labelled conversations of regress/lead_corpus (core/lead_corpus.h)
 *		as training examples, engagement replayed from their events.
 *
 * The install script feeds it the shipped corpus to train the default
 * model; a team can feed it conversations written the same way.
 */
#include "pg/lead.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"

#include <math.h>

#include "core/lead_calibrate.h"
#include "core/lead_corpus.h"

#define MINUTE (INT64CONST(60) * USECS_PER_SEC)

typedef struct Reading
{
	ReturnSetInfo *rsinfo;
	TupleDesc	engagement;
	TimestampTz base;
} Reading;

static bool
emit(const LeadCorpusConversation *c, void *ctx)
{
	Reading    *r = ctx;
	LeadEngagement e;
	Datum	   *texts = palloc(sizeof(Datum) * Max(c->nev, 1));
	int			ntexts = 0;
	Datum		v[6];
	bool		nulls[6] = {false, false, false, false, false, false};

	lead_engagement_init(&e, antiban_lead_half_life_s);
	for (int i = 0; i < c->nev; i++)
	{
		const LeadCorpusEvent *ev = &c->ev[i];

		lead_engagement_note(&e, ev->kind, r->base + ev->minute * MINUTE, ev->code);
		if (ev->text_len > 0)
		{
			/* the text points into the corpus: copy it out before converting */
			char	   *utf8 = pnstrdup(ev->text, ev->text_len);

			texts[ntexts++] = CStringGetTextDatum(pg_any_to_server(utf8, ev->text_len, PG_UTF8));
		}
	}
	v[0] = CStringGetTextDatum(c->id);
	v[1] = CStringGetTextDatum(lead_language_code(c->lang));
	v[2] = BoolGetDatum(c->won);
	v[3] = PointerGetDatum(construct_array(texts, ntexts, TEXTOID, -1, false, TYPALIGN_INT));
	v[4] = lead_engagement_to_datum(&e, r->engagement);
	v[5] = TimestampTzGetDatum(r->base + c->observed_minute * MINUTE);
	tuplestore_putvalues(r->rsinfo->setResult, r->rsinfo->setDesc, v, nulls);
	return true;
}

PG_FUNCTION_INFO_V1(antiban_lead_corpus_examples);

/*
 * antiban.lead_corpus_examples(corpus text, base timestamptz)
 *		RETURNS TABLE (example_key text, language text, won boolean, texts text[],
 *					   engagement antiban.lead_engagement, observed_at timestamptz)
 */
Datum
antiban_lead_corpus_examples(PG_FUNCTION_ARGS)
{
	char	   *corpus = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *utf8 = pg_server_to_any(corpus, strlen(corpus), PG_UTF8);
	Reading		r;
	char		err[256];

	InitMaterializedSRF(fcinfo, 0);
	r.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	r.engagement = lead_engagement_desc();
	r.base = PG_GETARG_TIMESTAMPTZ(1);
	if (lead_corpus_parse(utf8, emit, &r, err, sizeof(err)) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("bad lead corpus: %s", err),
				 errhint("The format is described in regress/lead_corpus/README.md.")));
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(antiban_lead_metrics);

/*
 * antiban.lead_metrics(probabilities float8[], won boolean[]) RETURNS jsonb:
 * the held-out measures training reports (AUC, log loss, Brier, calibration
 * error and bins), for any scorer: the benchmark compares the model with a
 * keyword baseline through it.
 */
Datum
antiban_lead_metrics(PG_FUNCTION_ARGS)
{
	ArrayType  *pa = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *wa = PG_GETARG_ARRAYTYPE_P(1);
	Datum	   *pd,
			   *wd;
	bool	   *pn,
			   *wn;
	int			n,
				nw;
	double	   *p;
	bool	   *won;
	LeadScored *work;
	LeadMetrics m;
	StringInfoData s;

	deconstruct_array(pa, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &pd, &pn, &n);
	deconstruct_array(wa, BOOLOID, 1, true, TYPALIGN_CHAR, &wd, &wn, &nw);
	if (n != nw)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%d probabilities for %d outcomes", n, nw)));
	p = palloc(sizeof(double) * Max(n, 1));
	won = palloc(sizeof(bool) * Max(n, 1));
	work = palloc(sizeof(LeadScored) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		if (pn[i] || wn[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("probabilities and outcomes must not be null")));
		p[i] = DatumGetFloat8(pd[i]);
		if (!(p[i] >= 0 && p[i] <= 1))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("probability %g is not between 0 and 1", p[i])));
		won[i] = DatumGetBool(wd[i]);
	}
	lead_metrics(p, won, n, work, &m);
	initStringInfo(&s);
	appendStringInfo(&s, "{\"examples\": %d, \"won\": %d, \"auc\": %s, \"log_loss\": %.4f, "
					 "\"brier\": %.4f, \"ece\": %.4f}", m.n, m.won,
					 isnan(m.auc) ? "null" : psprintf("%.4f", m.auc), m.log_loss, m.brier, m.ece);
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data)));
}
