/*
 * lead_train.c
 *		antiban.train_lead_model(): a logistic regression trained in the
 *		database with LIBLINEAR on a portfolio's won and lost leads (or on
 *		the shipped corpus), calibrated, measured on held-out leads, kept as
 *		a new row of antiban.lead_models and made active if it is no worse.
 *
 * The steps, all deterministic for a given seed:
 *	1. read the examples (antiban.lead_training_examples) and extract their
 *	   features as a score would, engagement read at the time the outcome
 *	   was known;
 *	2. hold out a share of each outcome, chosen by a hash of seed and id;
 *	3. on the rest, pick the cost C by 5-fold cross-validated log loss
 *	   (after Platt scaling of the out-of-fold decision values) unless C
 *	   is given, and keep that Platt fit;
 *	4. train on the whole training share with that C (LIBLINEAR solver 0,
 *	   L2-regularised logistic regression, a bias feature); LIBLINEAR sees
 *	   the features the examples use renumbered 1..m, not the 2^18 buckets
 *	   (its solver works over every index up to the largest, every
 *	   iteration);
 *	5. measure the held-out share with LIBLINEAR's decision values:
 *	   AUC, log loss, Brier score, calibration error and bins; measure the
 *	   active model on the same leads;
 *	6. store weights (non-zero only), the words of hashed features, the
 *	   metrics and the held-out ids; activate as asked.
 *
 * LIBLINEAR allocates with malloc and C++ new: its models are freed right
 * after their weights are copied, with no error possible in between.
 */
#include "pg/lead.h"

#include <linear.h>
#include <math.h>

#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/memutils.h"

#include "core/lead_calibrate.h"
#include "core/lead_features.h"

#define MIN_PER_OUTCOME 3
#define FOLDS 5
#define SOLVER_EPS 0.001
#define ACTIVATE_TOLERANCE 0.01	/* AUC a new model may lose and still replace the old */

static const double c_grid[] = {0.1, 0.3, 1.0, 3.0, 10.0};

#define NGRID ((int) (sizeof(c_grid) / sizeof(c_grid[0])))

typedef struct Example
{
	int64		id;
	bool		won;
	uint32		order;			/* hash of seed and id: the split and folds */
	int			rank;			/* in its outcome, by order */
	LeadEntry  *x;				/* presented vector */
	int			n;
	struct feature_node *nodes; /* the same for LIBLINEAR, bias included */
} Example;

typedef struct Training
{
	Example    *ex;
	int			n;
	int			won;
	Example   **train;			/* the training share */
	int			ntrain;
	Example   **held;			/* the held-out share */
	int			nheld;
	LeadTerms  *terms;
	int			m;				/* features in use, numbered 1..m for LIBLINEAR */
	int32	   *feature_of;		/* [1..m]: the feature of each number */
} Training;

typedef struct Fit
{
	double		c;
	float	   *w;				/* LEAD_FEATURE_SPACE, won positive */
	double		intercept;
	LeadPlatt	platt;
	double		cv_log_loss;
	double		cv_auc;
} Fit;

typedef enum Activation
{
	ACTIVATE_AUTO,
	ACTIVATE_ALWAYS,
	ACTIVATE_NEVER
} Activation;

/*
 * CREATE EXTENSION antiban trains the default model before the roles exist
 * (90_roles.sql runs last): the installer is a superuser then (the
 * extension is not trusted) and runs the install script with a pinned
 * search_path.  Any other time, antiban's own SQL runs as antiban_owner.
 */
void
lead_spi_begin(LeadSpiScope *s)
{
	s->switched = !(creating_extension &&
					CurrentExtensionObject == get_extension_oid("antiban", true));
	if (s->switched)
		privileged_begin(&s->priv);
}

void
lead_spi_end(LeadSpiScope *s)
{
	if (s->switched)
		privileged_end(&s->priv);
}

static void
quiet(const char *s)
{
}

/* ---- reading the examples ---- */

static void
extract(Example *e, ArrayType *texts, Datum engagement, bool eng_null, TimestampTz observed,
		LeadTerms *terms)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	LeadVec		v;
	LeadEngagement eng;

	deconstruct_array(texts, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	lead_vec_init(&v, 64);
	for (int i = 0; i < n; i++)
		if (!nulls[i])
			lead_text_extract(TextDatumGetCString(elems[i]), &v, terms);
	lead_vec_normalize(&v);
	lead_engagement_from_datum(engagement, eng_null, &eng);
	e->n = lead_present(v.e, v.n, &eng, (LeadTime) observed, &e->x);
}

/*
 * Numbers the features the examples use 1..m in feature order (so each
 * example's nodes stay sorted) and builds LIBLINEAR's rows, the bias last.
 */
static void
number_features(Training *t)
{
	int32	   *number = palloc0(sizeof(int32) * LEAD_FEATURE_SPACE);

	for (int i = 0; i < t->n; i++)
		for (int j = 0; j < t->ex[i].n; j++)
			number[t->ex[i].x[j].idx] = 1;
	t->feature_of = palloc(sizeof(int32) * (LEAD_FEATURE_SPACE + 1));
	t->m = 0;
	for (int f = 1; f < LEAD_FEATURE_SPACE; f++)
		if (number[f])
		{
			number[f] = ++t->m;
			t->feature_of[t->m] = f;
		}
	for (int i = 0; i < t->n; i++)
	{
		Example    *e = &t->ex[i];

		e->nodes = palloc(sizeof(struct feature_node) * (e->n + 2));
		for (int j = 0; j < e->n; j++)
			e->nodes[j] = (struct feature_node) {.index = number[e->x[j].idx], .value = e->x[j].val};
		e->nodes[e->n] = (struct feature_node) {.index = t->m + 1, .value = 1.0};
		e->nodes[e->n + 1] = (struct feature_node) {.index = -1};
	}
	pfree(number);
}

static void
load_examples(Training *t, int64 portfolio, bool has_portfolio, const char *source, int seed,
			  MemoryContext cxt)
{
	static const char *sql =
		"SELECT id, won, texts, engagement, observed_at FROM antiban.lead_training_examples"
		" WHERE portfolio_id IS NOT DISTINCT FROM $1 AND ($2::text IS NULL OR source = $2)"
		" ORDER BY id";
	Datum		args[2] = {Int64GetDatum(portfolio), source ? CStringGetTextDatum(source) : (Datum) 0};
	char		nulls[2] = {has_portfolio ? ' ' : 'n', source ? ' ' : 'n'};

	if (SPI_execute_with_args(sql, 2, (Oid[]) {INT8OID, TEXTOID}, args, nulls, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not read the lead training examples");
	t->n = (int) SPI_processed;
	t->ex = MemoryContextAllocZero(cxt, sizeof(Example) * Max(t->n, 1));
	for (int i = 0; i < t->n; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		bool		isnull,
					eng_null;
		Example    *e = &t->ex[i];
		Datum		texts = SPI_getbinval(row, d, 3, &isnull);
		Datum		eng = SPI_getbinval(row, d, 4, &eng_null);
		TimestampTz observed = DatumGetTimestampTz(SPI_getbinval(row, d, 5, &isnull));
		MemoryContext old = MemoryContextSwitchTo(cxt);
		char		key[48];

		e->id = DatumGetInt64(SPI_getbinval(row, d, 1, &isnull));
		e->won = DatumGetBool(SPI_getbinval(row, d, 2, &isnull));
		snprintf(key, sizeof(key), "%d:%lld", seed, (long long) e->id);
		e->order = lead_hash(key, strlen(key));
		extract(e, DatumGetArrayTypeP(texts), eng, eng_null, observed, t->terms);
		MemoryContextSwitchTo(old);
		t->won += e->won;
		CHECK_FOR_INTERRUPTS();
	}
}

/* ---- the split ---- */

static int
by_outcome_then_order(const void *a, const void *b)
{
	const Example *x = *(Example *const *) a;
	const Example *y = *(Example *const *) b;

	if (x->won != y->won)
		return x->won ? -1 : 1;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return x->id < y->id ? -1 : 1;
}

/* Holds out round(share * count) of each outcome, keeping two of each to train on. */
static void
split(Training *t, double share)
{
	Example   **all = palloc(sizeof(Example *) * t->n);
	int			counts[2] = {t->n - t->won, t->won};
	int			seen[2] = {0, 0};

	for (int i = 0; i < t->n; i++)
		all[i] = &t->ex[i];
	qsort(all, t->n, sizeof(Example *), by_outcome_then_order);
	t->train = palloc(sizeof(Example *) * t->n);
	t->held = palloc(sizeof(Example *) * t->n);
	t->ntrain = t->nheld = 0;
	for (int i = 0; i < t->n; i++)
	{
		int			o = all[i]->won;
		int			hold = Max(1, Min((int) lround(share * counts[o]), counts[o] - 2));

		all[i]->rank = seen[o]++;
		if (all[i]->rank < hold)
			t->held[t->nheld++] = all[i];
		else
			t->train[t->ntrain++] = all[i];
	}
}

/* ---- LIBLINEAR ---- */

/*
 * Trains on rows (all but fold `skip` when folds > 0); fills w and
 * intercept.  Then checks that our reading of the weights gives LIBLINEAR's
 * own decision values (predict_values) on every row: the label order and
 * the bias are easy to get wrong and nothing else would notice.
 */
static void
liblinear_fit(const Training *t, Example **rows, int n, int folds, int skip, double c, float *w,
			  double *intercept)
{
	double		worst = 0;
	struct problem prob = {.n = t->m + 1, .bias = 1.0};
	struct parameter param = {.solver_type = L2R_LR, .eps = SOLVER_EPS, .C = c, .p = 0.1};
	struct model *m;
	const char *bad;
	int			won_label = 0;

	prob.y = palloc(sizeof(double) * n);
	prob.x = palloc(sizeof(struct feature_node *) * n);
	prob.l = 0;
	for (int i = 0; i < n; i++)
		if (folds == 0 || rows[i]->rank % folds != skip)
		{
			prob.y[prob.l] = rows[i]->won ? 1 : -1;
			prob.x[prob.l++] = rows[i]->nodes;
		}
	if ((bad = check_parameter(&prob, &param)) != NULL)
		elog(ERROR, "antiban: LIBLINEAR refused its parameters: %s", bad);
	memset(w, 0, sizeof(float) * LEAD_FEATURE_SPACE);
	set_print_string_function(quiet);
	m = train(&prob, &param);
	/* nothing below can fail before the model is freed */
	if (m->nr_class == 2 && m->label[1] == 1)
		won_label = 1;
	for (int k = 1; k <= t->m; k++)
		w[t->feature_of[k]] = (float) get_decfun_coef(m, k, won_label);
	*intercept = get_decfun_bias(m, won_label);
	for (int i = 0; i < n; i++)
	{
		double		dec;
		double		ours = *intercept + lead_vector_dot(rows[i]->x, rows[i]->n, w);

		predict_values(m, rows[i]->nodes, &dec);
		if (won_label == 1)
			dec = -dec;
		worst = Max(worst, fabs(dec - ours));
	}
	free_and_destroy_model(&m);
	pfree(prob.y);
	pfree(prob.x);
	if (worst > 1e-3)
		elog(ERROR, "antiban: lead model weights read back differ from LIBLINEAR's decision values by %g",
			 worst);
}

static double
decision(const float *w, double intercept, const Example *e)
{
	return intercept + lead_vector_dot(e->x, e->n, w);
}

/* Cross-validated decision values at cost c, Platt scaling fit on them. */
static void
cross_validate(Training *t, double c, Fit *fit, double *z, bool *won)
{
	float	   *w = palloc(sizeof(float) * LEAD_FEATURE_SPACE);
	int			train_won = 0;
	int			folds;
	double	   *p = palloc(sizeof(double) * t->ntrain);
	LeadScored *work = palloc(sizeof(LeadScored) * t->ntrain);
	LeadMetrics m;

	for (int i = 0; i < t->ntrain; i++)
		train_won += t->train[i]->won;
	/* every fold holds one of each outcome at least (split keeps two of each) */
	folds = Max(2, Min(FOLDS, Min(train_won, t->ntrain - train_won)));
	for (int k = 0; k < folds; k++)
	{
		double		b;

		CHECK_FOR_INTERRUPTS();
		liblinear_fit(t, t->train, t->ntrain, folds, k, c, w, &b);
		for (int i = 0; i < t->ntrain; i++)
			if (t->train[i]->rank % folds == k)
				z[i] = decision(w, b, t->train[i]);
	}
	for (int i = 0; i < t->ntrain; i++)
		won[i] = t->train[i]->won;
	lead_platt_fit(z, won, t->ntrain, &fit->platt);
	for (int i = 0; i < t->ntrain; i++)
		p[i] = lead_platt_apply(&fit->platt, z[i]);
	lead_metrics(p, won, t->ntrain, work, &m);
	fit->c = c;
	fit->cv_log_loss = m.log_loss;
	fit->cv_auc = m.auc;
	pfree(w);
	pfree(p);
	pfree(work);
}

static void
choose_and_fit(Training *t, double given_c, Fit *best)
{
	double	   *z = palloc(sizeof(double) * t->ntrain);
	bool	   *won = palloc(sizeof(bool) * t->ntrain);

	best->cv_log_loss = INFINITY;
	for (int g = 0; g < (given_c > 0 ? 1 : NGRID); g++)
	{
		Fit			f;

		cross_validate(t, given_c > 0 ? given_c : c_grid[g], &f, z, won);
		if (f.cv_log_loss < best->cv_log_loss)
			*best = f;
	}
	best->w = palloc(sizeof(float) * LEAD_FEATURE_SPACE);
	liblinear_fit(t, t->train, t->ntrain, 0, 0, best->c, best->w, &best->intercept);
}

/* ---- measuring ---- */

static void
measure(Training *t, const LeadModelView *v, LeadMetrics *m)
{
	double	   *p = palloc(sizeof(double) * Max(t->nheld, 1));
	bool	   *won = palloc(sizeof(bool) * Max(t->nheld, 1));
	LeadScored *work = palloc(sizeof(LeadScored) * Max(t->nheld, 1));

	for (int i = 0; i < t->nheld; i++)
	{
		p[i] = lead_platt_apply(&v->platt, decision(v->w, v->intercept, t->held[i]));
		won[i] = t->held[i]->won;
	}
	lead_metrics(p, won, t->nheld, work, m);
}

static void
append_metrics(StringInfo s, const LeadMetrics *m)
{
	appendStringInfo(s, "{\"examples\": %d, \"won\": %d, \"auc\": %.4f, \"log_loss\": %.4f, "
					 "\"brier\": %.4f, \"ece\": %.4f, \"bins\": [",
					 m->n, m->won, isnan(m->auc) ? 0.5 : m->auc, m->log_loss, m->brier, m->ece);
	for (int b = 0, first = 1; b < LEAD_CALIBRATION_BINS; b++)
		if (m->bins[b].n > 0)
		{
			appendStringInfo(s, "%s{\"from\": %.1f, \"n\": %d, \"won\": %d, \"mean_p\": %.4f}",
							 first ? "" : ", ", b / 10.0, m->bins[b].n, m->bins[b].won, m->bins[b].mean_p);
			first = 0;
		}
	appendStringInfoString(s, "]}");
}

/* ---- storing ---- */

typedef struct Stored
{
	Datum		features;
	Datum		weights;
	Datum		terms;
	Datum		held;
	int			nonzero;
} Stored;

static void
arrays_of(const Training *t, const Fit *fit, Stored *st)
{
	int			n = 0;
	Datum	   *f,
			   *w,
			   *terms,
			   *held;
	bool	   *tnull;

	for (int i = 1; i < LEAD_FEATURE_SPACE; i++)
		n += fit->w[i] != 0;
	f = palloc(sizeof(Datum) * Max(n, 1));
	w = palloc(sizeof(Datum) * Max(n, 1));
	terms = palloc(sizeof(Datum) * Max(n, 1));
	tnull = palloc(sizeof(bool) * Max(n, 1));
	n = 0;
	for (int i = 1; i < LEAD_FEATURE_SPACE; i++)
		if (fit->w[i] != 0)
		{
			char	   *term = lead_feature_is_text(i) ? lead_terms_best(t->terms, i) : NULL;

			f[n] = Int32GetDatum(i);
			w[n] = Float4GetDatum(fit->w[i]);
			tnull[n] = term == NULL;
			terms[n] = term ? CStringGetTextDatum(pg_any_to_server(term, strlen(term), PG_UTF8)) : (Datum) 0;
			n++;
		}
	st->nonzero = n;
	st->features = PointerGetDatum(construct_array(f, n, INT4OID, 4, true, TYPALIGN_INT));
	st->weights = PointerGetDatum(construct_array(w, n, FLOAT4OID, 4, true, TYPALIGN_INT));
	st->terms = PointerGetDatum(construct_md_array(terms, tnull, 1, &n, (int[]) {1}, TEXTOID, -1, false,
												   TYPALIGN_INT));
	held = palloc(sizeof(Datum) * Max(t->nheld, 1));
	for (int i = 0; i < t->nheld; i++)
		held[i] = Int64GetDatum(t->held[i]->id);
	st->held = PointerGetDatum(construct_array(held, t->nheld, INT8OID, 8, true, TYPALIGN_DOUBLE));
}

static int64
insert_model(int64 portfolio, bool has_portfolio, const Training *t, const Fit *fit,
			 const char *params, const char *metrics, bool activate, const char *note)
{
	static const char *sql =
		"INSERT INTO antiban.lead_models (portfolio_id, trained_at, feature_version, examples, won,"
		" train_examples, held_out_examples, params, metrics, intercept, platt_a, platt_b, features,"
		" weights, terms, held_out, active, activated_at, note)"
		" VALUES ($1, antiban.now(), $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9, $10, $11, $12, $13,"
		" $14, $15, $16, CASE WHEN $16 THEN antiban.now() END, $17) RETURNING id";
	Stored		st;
	Oid			types[17] = {INT8OID, INT4OID, INT4OID, INT4OID, INT4OID, INT4OID, TEXTOID, TEXTOID,
	FLOAT8OID, FLOAT8OID, FLOAT8OID, INT4ARRAYOID, FLOAT4ARRAYOID, TEXTARRAYOID, INT8ARRAYOID, BOOLOID,
	TEXTOID};
	Datum		v[17];
	char		nulls[17];
	bool		isnull;

	arrays_of(t, fit, &st);
	memset(nulls, ' ', sizeof(nulls));
	nulls[0] = has_portfolio ? ' ' : 'n';
	v[0] = Int64GetDatum(portfolio);
	v[1] = Int32GetDatum(LEAD_FEATURE_VERSION);
	v[2] = Int32GetDatum(t->n);
	v[3] = Int32GetDatum(t->won);
	v[4] = Int32GetDatum(t->ntrain);
	v[5] = Int32GetDatum(t->nheld);
	v[6] = CStringGetTextDatum(params);
	v[7] = CStringGetTextDatum(metrics);
	v[8] = Float8GetDatum(fit->intercept);
	v[9] = Float8GetDatum(fit->platt.a);
	v[10] = Float8GetDatum(fit->platt.b);
	v[11] = st.features;
	v[12] = st.weights;
	v[13] = st.terms;
	v[14] = st.held;
	v[15] = BoolGetDatum(activate);
	v[16] = CStringGetTextDatum(note);
	/* one writer at a time: activation keeps one active model per portfolio */
	if (SPI_execute("LOCK TABLE antiban.lead_models IN SHARE ROW EXCLUSIVE MODE", false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "antiban: could not lock antiban.lead_models");
	if (activate &&
		SPI_execute_with_args("UPDATE antiban.lead_models SET active = false"
							  " WHERE portfolio_id IS NOT DISTINCT FROM $1 AND active",
							  1, types, v, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "antiban: could not deactivate the previous lead model");
	if (SPI_execute_with_args(sql, 17, types, v, nulls, false, 1) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "antiban: could not store the lead model");
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* The model in force for the portfolio (its own, else the default); 0 if none. */
static int64
active_model(int64 portfolio, bool has_portfolio)
{
	bool		isnull;
	Datum		d;

	if (SPI_execute_with_args("SELECT id FROM antiban.lead_models WHERE active"
							  " AND (portfolio_id = $1 OR portfolio_id IS NULL)"
							  " ORDER BY portfolio_id NULLS LAST LIMIT 1",
							  1, (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(portfolio)},
							  has_portfolio ? " " : "n", true, 1) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not read the active lead model");
	if (SPI_processed == 0)
		return 0;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return DatumGetInt64(d);
}

/* ---- arguments ---- */

static Activation
activation_or_error(const char *s)
{
	if (strcmp(s, "auto") == 0)
		return ACTIVATE_AUTO;
	if (strcmp(s, "always") == 0)
		return ACTIVATE_ALWAYS;
	if (strcmp(s, "never") == 0)
		return ACTIVATE_NEVER;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown activation \"%s\"", s),
			 errhint("Use 'auto' (activate if no worse than the model in force), 'always' or 'never'.")));
	return ACTIVATE_AUTO;
}

static void
check_arguments(double held_out, bool has_c, double c)
{
	if (!(held_out >= 0.05 && held_out <= 0.5))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("held_out must be between 0.05 and 0.5, not %g", held_out),
				 errdetail("It is the share of each outcome kept out of training to measure the model.")));
	if (has_c && !(c > 0 && c <= 1e6))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the cost c must be positive, not %g", c),
				 errhint("Leave it NULL to choose it by cross-validation.")));
}

/*
 * The portfolio must exist and be one the caller may use: an administrator
 * mapped to portfolios trains on (and learns the outcome counts of) its own
 * portfolios only, and another's is answered as a missing one.
 */
static void
check_portfolio(int64 portfolio)
{
	/* for a caller mapped to portfolios, another is as missing as one that is */
	if (SPI_execute_with_args("SELECT 1 FROM antiban.portfolios WHERE id = $1 AND antiban.may_use_portfolio(id)",
							  1, (Oid[]) {INT8OID},
							  (Datum[]) {Int64GetDatum(portfolio)}, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not read antiban.portfolios");
	if (SPI_processed == 0 || !tenancy_may_use_portfolio(portfolio))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("portfolio %lld does not exist", (long long) portfolio),
				 errhint("Leave portfolio NULL to train the default model on the shipped corpus.")));
}

static void
check_examples(const Training *t, int64 portfolio, bool has_portfolio, const char *source)
{
	int			lost = t->n - t->won;

	if (t->won >= MIN_PER_OUTCOME && lost >= MIN_PER_OUTCOME)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("cannot train a lead model on %d won and %d lost leads", t->won, lost),
			 errdetail("Training needs at least %d of each outcome (examples of %s%s%s).",
					   MIN_PER_OUTCOME, has_portfolio ? psprintf("portfolio %lld", (long long) portfolio) :
					   "the default model", source ? ", source " : "", source ? source : ""),
			 errhint("Add won and lost leads to antiban.lead_training_examples; until then the default model scores this portfolio.")));
}

/* ---- the function ---- */

typedef struct Verdict
{
	bool		activate;
	char	   *note;
	int64		compared;		/* the model in force, 0 if none */
	LeadMetrics old;
} Verdict;

static void
choose_activation(Training *t, const LeadMetrics *m, Activation how, int64 portfolio, bool has_portfolio,
	   Verdict *d)
{
	d->compared = active_model(portfolio, has_portfolio);
	if (d->compared)
		measure(t, &lead_model_get(d->compared)->view, &d->old);
	if (how != ACTIVATE_AUTO)
	{
		d->activate = how == ACTIVATE_ALWAYS;
		d->note = d->activate ? "activated as asked" : "not activated, as asked";
	}
	else if (has_portfolio && t->n < antiban_lead_min_examples)
	{
		d->activate = false;
		d->note = psprintf("not activated: %d examples, antiban.lead_min_examples is %d",
						   t->n, antiban_lead_min_examples);
	}
	else if (d->compared == 0)
	{
		d->activate = true;
		d->note = "activated: no model was in force";
	}
	else if (m->auc >= d->old.auc - ACTIVATE_TOLERANCE)
	{
		d->activate = true;
		d->note = psprintf("activated: held-out AUC %.3f against %.3f for model %lld",
						   m->auc, d->old.auc, (long long) d->compared);
	}
	else
	{
		d->activate = false;
		d->note = psprintf("not activated: held-out AUC %.3f, model %lld in force has %.3f on the same leads",
						   m->auc, (long long) d->compared, d->old.auc);
	}
}

PG_FUNCTION_INFO_V1(antiban_train_lead_model);

/*
 * antiban.train_lead_model(portfolio bigint DEFAULT NULL, source text DEFAULT NULL,
 *		held_out real DEFAULT 0.2, seed integer DEFAULT 1, c double precision DEFAULT NULL,
 *		activate text DEFAULT 'auto') RETURNS bigint
 */
Datum
antiban_train_lead_model(PG_FUNCTION_ARGS)
{
	bool		has_portfolio = !PG_ARGISNULL(0);
	int64		portfolio = has_portfolio ? PG_GETARG_INT64(0) : 0;
	char	   *source = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	double		held_out = PG_ARGISNULL(2) ? 0.2 : PG_GETARG_FLOAT4(2);
	int			seed = PG_ARGISNULL(3) ? 1 : PG_GETARG_INT32(3);
	double		c = PG_ARGISNULL(4) ? 0 : PG_GETARG_FLOAT8(4);
	Activation	how = activation_or_error(PG_ARGISNULL(5) ? "auto" : text_to_cstring(PG_GETARG_TEXT_PP(5)));
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "antiban lead training",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old;
	Training	t = {0};
	Fit			fit = {0};
	LeadModelView view;
	LeadMetrics held;
	Verdict	d = {0};
	StringInfoData params,
				metrics;
	LeadSpiScope scope;
	int64		id;

	check_arguments(held_out, !PG_ARGISNULL(4), c);
	lead_spi_begin(&scope);
	SPI_connect();
	if (has_portfolio)
		check_portfolio(portfolio);
	else if (scope.switched)	/* (not CREATE EXTENSION's, before the roles) */
		tenancy_refuse_install_wide("train the default lead model");
	old = MemoryContextSwitchTo(cxt);
	t.terms = lead_terms_create();
	MemoryContextSwitchTo(old);
	load_examples(&t, portfolio, has_portfolio, source, seed, cxt);
	check_examples(&t, portfolio, has_portfolio, source);
	old = MemoryContextSwitchTo(cxt);
	number_features(&t);
	split(&t, held_out);
	choose_and_fit(&t, c, &fit);
	view = (LeadModelView) {.w = fit.w, .intercept = fit.intercept, .platt = fit.platt};
	measure(&t, &view, &held);
	choose_activation(&t, &held, how, portfolio, has_portfolio, &d);
	initStringInfo(&params);
	appendStringInfo(&params, "{\"solver\": \"L2R_LR\", \"liblinear\": %d, \"c\": %g, \"eps\": %g,"
					 " \"seed\": %d, \"held_out\": %g, \"folds\": %d, \"hash_bits\": %d,"
					 " \"half_life_s\": %d, \"source\": ",
					 liblinear_version, fit.c, SOLVER_EPS, seed, held_out, FOLDS, LEAD_HASH_BITS,
					 antiban_lead_half_life_s);
	if (source)
		escape_json(&params, source);
	else
		appendStringInfoString(&params, "null");
	appendStringInfoChar(&params, '}');
	initStringInfo(&metrics);
	appendStringInfoString(&metrics, "{\"held_out\": ");
	append_metrics(&metrics, &held);
	appendStringInfo(&metrics, ", \"cross_validation\": {\"log_loss\": %.4f, \"auc\": %.4f}, "
					 "\"base_rate\": %.4f", fit.cv_log_loss, fit.cv_auc, (double) t.won / t.n);
	if (d.compared)
		appendStringInfo(&metrics, ", \"model_in_force\": {\"id\": %lld, \"held_out_auc\": %.4f}",
						 (long long) d.compared, d.old.auc);
	appendStringInfoString(&metrics, "}");
	MemoryContextSwitchTo(old);
	id = insert_model(portfolio, has_portfolio, &t, &fit, params.data, metrics.data, d.activate, d.note);
	SPI_finish();
	lead_spi_end(&scope);
	MemoryContextDelete(cxt);
	PG_RETURN_INT64(id);
}
