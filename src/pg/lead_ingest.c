/*
 * lead_ingest.c
 *		antiban.note_lead_events(): a batch of conversation events (messages
 *		the leads wrote, our messages, reads, taps, failures, opt-outs)
 *		added to antiban.lead_features and rescored, in a few statements
 *		whatever the batch size.
 *
 * The webhook path applies many messages per POST: handing them here in
 * one call costs one read and three writes per batch plus the text work
 * per message (about 30 µs: to_tsvector and the fit rules), instead of a
 * dozen statements per message.  Rows are locked in conversation order, so
 * two batches never deadlock; each conversation's events are replayed in
 * time order.
 */
#include "pg/lead.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#define MAX_BATCH 100000

/*
 * Plans kept for the backend's life (parameters of built-in types only, so
 * a re-created extension re-plans them by name); prepared while running as
 * antiban_owner with the pinned search_path.
 */
static SPIPlanPtr create_plan,
			lock_plan,
			update_plan,
			model_plan,
			scores_plan;

static void
prepare_plans(void)
{
	Oid			update_types[17] = {INT8OID, INT8OID, INT4ARRAYOID, FLOAT4ARRAYOID,
		TIMESTAMPTZOID, INTERVALOID, FLOAT8OID, FLOAT8OID, FLOAT8OID, FLOAT8OID, FLOAT8OID,
	TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID, BOOLOID, BOOLOID, INT4OID};

	if (scores_plan)
		return;
	create_plan = privileged_prepare(
		"INSERT INTO antiban.lead_features (conversation_id, portfolio_id)"
		" SELECT * FROM unnest($1::bigint[], $2::bigint[])"
		" ON CONFLICT (conversation_id) DO NOTHING", 2, (Oid[]) {INT8ARRAYOID, INT8ARRAYOID});
	lock_plan = privileged_prepare(
		"SELECT conversation_id, portfolio_id, features, feature_values, engagement, messages"
		" FROM antiban.lead_features WHERE conversation_id = ANY ($1)"
		" ORDER BY conversation_id FOR UPDATE", 1, (Oid[]) {INT8ARRAYOID});
	update_plan = privileged_prepare(
		"UPDATE antiban.lead_features SET portfolio_id = $2, features = $3, feature_values = $4,"
		" engagement = ROW($5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)::antiban.lead_engagement,"
		" messages = $17, updated_at = now() WHERE conversation_id = $1", 17, update_types);
	/* antiban.active_lead_model()'s query, run here as its owner would: a
	 * call to the SQL function would be parsed and planned for every batch */
	model_plan = privileged_prepare(
		"SELECT m.id FROM antiban.lead_models m"
		" WHERE m.active AND (m.portfolio_id = $1 OR m.portfolio_id IS NULL)"
		" ORDER BY m.portfolio_id NULLS LAST LIMIT 1", 1, (Oid[]) {INT8OID});
	scores_plan = privileged_prepare(
		"INSERT INTO antiban.lead_scores AS l"
		" (conversation_id, model_id, score, probability, reasons, scored_at)"
		" SELECT u.*, $6 FROM unnest($1::bigint[], $2::bigint[], $3::smallint[],"
		" $4::real[], $5::jsonb[]) u"
		" ON CONFLICT (conversation_id) DO UPDATE"
		" SET model_id = excluded.model_id, score = excluded.score,"
		" probability = excluded.probability, reasons = excluded.reasons,"
		" scored_at = excluded.scored_at"
		" RETURNING conversation_id, model_id, score, probability, reasons, scored_at",
		6, (Oid[]) {INT8ARRAYOID, INT8ARRAYOID, INT2ARRAYOID, FLOAT4ARRAYOID, JSONBARRAYOID, TIMESTAMPTZOID});
}

typedef struct Event
{
	int64		conversation;
	LeadEventKind kind;
	TimestampTz at;
	char	   *body;			/* NULL: none */
	int			code;
	int64		portfolio;		/* 0: not given */
	int			order;			/* in the call: ties keep it */
} Event;

typedef struct Conversation
{
	int64		id;
	int64		portfolio;		/* 0: none */
	bool		found;
	LeadVec		stored;
	LeadEngagement engagement;
	int			messages;
	int			first_event;	/* into the sorted events */
	int			nevents;
} Conversation;

typedef struct Args
{
	int			n;
	Datum	   *conv,
			   *kind,
			   *at,
			   *body,
			   *code,
			   *portfolio;
	bool	   *conv_null,
			   *kind_null,
			   *at_null,
			   *body_null,
			   *code_null,
			   *portfolio_null;
} Args;

static int
by_conversation_then_time(const void *a, const void *b)
{
	const Event *x = a,
			   *y = b;

	if (x->conversation != y->conversation)
		return x->conversation < y->conversation ? -1 : 1;
	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->order - y->order;
}

static void
array_arg(FunctionCallInfo fcinfo, int argno, Oid type, int len, bool byval, char align,
		  Datum **values, bool **nulls, int *n)
{
	if (PG_ARGISNULL(argno))
	{
		*values = NULL;
		*nulls = NULL;
		*n = -1;
		return;
	}
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(argno), type, len, byval, align, values, nulls, n);
}

static void
read_args(FunctionCallInfo fcinfo, Args *a)
{
	int			n[6];

	array_arg(fcinfo, 0, INT8OID, 8, true, TYPALIGN_DOUBLE, &a->conv, &a->conv_null, &n[0]);
	array_arg(fcinfo, 1, TEXTOID, -1, false, TYPALIGN_INT, &a->kind, &a->kind_null, &n[1]);
	array_arg(fcinfo, 2, TIMESTAMPTZOID, 8, true, TYPALIGN_DOUBLE, &a->at, &a->at_null, &n[2]);
	array_arg(fcinfo, 3, TEXTOID, -1, false, TYPALIGN_INT, &a->body, &a->body_null, &n[3]);
	array_arg(fcinfo, 4, INT4OID, 4, true, TYPALIGN_INT, &a->code, &a->code_null, &n[4]);
	array_arg(fcinfo, 5, INT8OID, 8, true, TYPALIGN_DOUBLE, &a->portfolio, &a->portfolio_null, &n[5]);
	if (n[0] < 0 || n[1] < 0 || n[2] < 0)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("lead events need conversations, kinds and times")));
	a->n = n[0];
	for (int i = 1; i < 6; i++)
		if (n[i] >= 0 && n[i] != a->n)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("lead event arrays differ in length: %d conversations, %d in argument %d",
							a->n, n[i], i + 1),
					 errhint("Give one element per event in every array (NULL elements where there is nothing).")));
	if (a->n > MAX_BATCH)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%d lead events in one call, at most %d", a->n, MAX_BATCH)));
}

static Event *
read_events(const Args *a)
{
	Event	   *ev = palloc0(sizeof(Event) * Max(a->n, 1));

	for (int i = 0; i < a->n; i++)
	{
		Event	   *e = &ev[i];
		char	   *kind;

		if (a->conv_null[i] || a->kind_null[i] || a->at_null[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("lead event %d has no conversation, kind or time", i + 1)));
		kind = TextDatumGetCString(a->kind[i]);
		if (!lead_event_kind_parse(kind, &e->kind))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown lead event kind \"%s\"", kind),
					 errhint("Use inbound, tap, outbound, read, failure (with its code), opt_out, opt_in or block.")));
		e->conversation = DatumGetInt64(a->conv[i]);
		e->at = DatumGetTimestampTz(a->at[i]);
		e->body = a->body && !a->body_null[i] ? TextDatumGetCString(a->body[i]) : NULL;
		e->code = a->code && !a->code_null[i] ? DatumGetInt32(a->code[i]) : 0;
		if (e->kind == LEAD_EVENT_FAILURE && !(a->code && !a->code_null[i]))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("a lead failure event needs the Cloud API error code"),
					 errhint("131049 and 131026 count against the lead; other codes are ours and are ignored.")));
		e->portfolio = a->portfolio && !a->portfolio_null[i] ? DatumGetInt64(a->portfolio[i]) : 0;
		e->order = i;
	}
	qsort(ev, a->n, sizeof(Event), by_conversation_then_time);
	return ev;
}

/* The distinct conversations of the (sorted) events, with the portfolio given for each. */
static Conversation *
group(Event *ev, int n, int *nconv)
{
	Conversation *c = palloc0(sizeof(Conversation) * Max(n, 1));
	int			k = -1;

	for (int i = 0; i < n; i++)
	{
		if (k < 0 || c[k].id != ev[i].conversation)
		{
			c[++k].id = ev[i].conversation;
			c[k].first_event = i;
		}
		c[k].nevents++;
		if (ev[i].portfolio != 0)
		{
			if (c[k].portfolio != 0 && c[k].portfolio != ev[i].portfolio)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("conversation %lld is given portfolios %lld and %lld",
								(long long) c[k].id, (long long) c[k].portfolio, (long long) ev[i].portfolio)));
			c[k].portfolio = ev[i].portfolio;
		}
	}
	*nconv = k + 1;
	return c;
}

static Datum
int8_array(const int64 *v, const bool *nulls, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		d[i] = Int64GetDatum(v[i]);
	return PointerGetDatum(construct_md_array(d, (bool *) nulls, 1, &n, (int[]) {1}, INT8OID, 8, true,
											  TYPALIGN_DOUBLE));
}

/* Locks and reads the rows of the given conversations that exist. */
static void
read_rows(Conversation *c, int nconv, Datum ids)
{
	int			k = 0;

	if (SPI_execute_plan(lock_plan, &ids, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not lock lead features rows");
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	t = SPI_tuptable->vals[r];
		TupleDesc	d = SPI_tuptable->tupdesc;
		bool		isnull,
					fnull,
					vnull,
					enull;
		int64		id = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
		Datum		p = SPI_getbinval(t, d, 2, &isnull);
		Datum		f = SPI_getbinval(t, d, 3, &fnull);
		Datum		v = SPI_getbinval(t, d, 4, &vnull);
		Datum		e = SPI_getbinval(t, d, 5, &enull);
		Conversation *cv;

		while (k < nconv && c[k].id < id)
			k++;
		if (k == nconv || c[k].id != id || c[k].found)
			continue;
		cv = &c[k];
		cv->found = true;
		if (!isnull && cv->portfolio != 0 && DatumGetInt64(p) != cv->portfolio)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("conversation %lld belongs to portfolio %lld, not %lld",
							(long long) id, (long long) DatumGetInt64(p), (long long) cv->portfolio),
					 errhint("A conversation is one person's in one portfolio: use another conversation id.")));
		if (!isnull)
			cv->portfolio = DatumGetInt64(p);
		lead_vec_from_arrays(fnull ? NULL : DatumGetArrayTypePCopy(f), vnull ? NULL : DatumGetArrayTypePCopy(v),
							 &cv->stored);
		lead_engagement_from_datum(e, enull, &cv->engagement);
		cv->messages = DatumGetInt32(SPI_getbinval(t, d, 6, &isnull));
	}
}

/*
 * Locks and reads every row of the batch, creating the missing ones first
 * (a conversation's first event): most events find their row, and pay one
 * statement for it.
 */
static void
lock_rows(Conversation *c, int nconv)
{
	int64	   *ids = palloc(sizeof(int64) * Max(nconv, 1));
	int64	   *pf = palloc(sizeof(int64) * Max(nconv, 1));
	bool	   *pf_null = palloc(sizeof(bool) * Max(nconv, 1));
	Datum		args[2];
	int			missing = 0;

	for (int i = 0; i < nconv; i++)
		ids[i] = c[i].id;
	read_rows(c, nconv, int8_array(ids, NULL, nconv));
	for (int i = 0; i < nconv; i++)
		if (!c[i].found)
		{
			ids[missing] = c[i].id;
			pf[missing] = c[i].portfolio;
			pf_null[missing++] = c[i].portfolio == 0;
		}
	if (missing == 0)
		return;
	args[0] = int8_array(ids, NULL, missing);
	args[1] = int8_array(pf, pf_null, missing);
	if (SPI_execute_plan(create_plan, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "antiban: could not create lead features rows");
	/* created here, or by a concurrent batch since: either way, lock them now */
	read_rows(c, nconv, args[0]);
}

/* Replays a conversation's events on its stored features and engagement. */
static void
replay(Conversation *c, const Event *ev)
{
	LeadVec		added;

	lead_vec_init(&added, 32);
	for (int i = c->first_event; i < c->first_event + c->nevents; i++)
	{
		lead_engagement_note(&c->engagement, ev[i].kind, (LeadTime) ev[i].at, ev[i].code);
		if (ev[i].body && (ev[i].kind == LEAD_EVENT_INBOUND || ev[i].kind == LEAD_EVENT_TAP))
		{
			lead_text_extract(ev[i].body, &added, NULL);
			c->messages++;
		}
	}
	if (added.n > 0)
	{
		LeadEntry  *sum = palloc(sizeof(LeadEntry) * (c->stored.n + added.n));

		lead_vec_normalize(&c->stored);
		lead_vec_normalize(&added);
		c->stored.n = lead_vector_add(c->stored.e, c->stored.n, added.e, added.n, sum);
		c->stored.e = sum;
		c->stored.cap = c->stored.n;
	}
}

/* One UPDATE per conversation, with a kept plan. */
static void
write_features(const Conversation *c, int nconv)
{
	for (int i = 0; i < nconv; i++)
	{
		Datum		v[17];
		char		nulls[17];
		bool		isnull[LEAD_ENGAGEMENT_NATTS];

		memset(nulls, ' ', sizeof(nulls));
		v[0] = Int64GetDatum(c[i].id);
		v[1] = Int64GetDatum(c[i].portfolio);
		nulls[1] = c[i].portfolio == 0 ? 'n' : ' ';
		lead_vec_to_arrays(c[i].stored.e, c[i].stored.n, &v[2], &v[3]);
		lead_engagement_fields(&c[i].engagement, &v[4], isnull);
		for (int a = 0; a < LEAD_ENGAGEMENT_NATTS; a++)
			nulls[4 + a] = isnull[a] ? 'n' : ' ';
		v[16] = Int32GetDatum(c[i].messages);
		if (SPI_execute_plan(update_plan, v, nulls, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "antiban: could not store lead features");
	}
}

/* The model in force for a portfolio (0: none), asked once per portfolio per batch. */
static int64
model_for(int64 portfolio, int64 *cache_pf, int64 *cache_model, int *ncache)
{
	Datum		arg = Int64GetDatum(portfolio);
	bool		isnull;
	Datum		d;

	for (int i = 0; i < *ncache; i++)
		if (cache_pf[i] == portfolio)
			return cache_model[i];
	if (SPI_execute_plan(model_plan, &arg, portfolio == 0 ? "n" : " ", true, 1) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not read the active lead model");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	cache_pf[*ncache] = portfolio;
	cache_model[*ncache] = isnull ? 0 : DatumGetInt64(d);
	return cache_model[(*ncache)++];
}

/* Scores the batch and upserts antiban.lead_scores; the rows written go to the caller. */
static void
write_scores(const Conversation *c, int nconv, ReturnSetInfo *rsinfo)
{
	int64	   *cache_pf = palloc(sizeof(int64) * Max(nconv, 1));
	int64	   *cache_model = palloc(sizeof(int64) * Max(nconv, 1));
	int			ncache = 0;
	Datum	   *ids = palloc(sizeof(Datum) * Max(nconv, 1)),
			   *models = palloc(sizeof(Datum) * Max(nconv, 1)),
			   *scores = palloc(sizeof(Datum) * Max(nconv, 1)),
			   *probs = palloc(sizeof(Datum) * Max(nconv, 1)),
			   *reasons = palloc(sizeof(Datum) * Max(nconv, 1));
	int			n = 0;
	TimestampTz now = antiban_now();
	Datum		args[6];

	for (int i = 0; i < nconv; i++)
	{
		int64		model = model_for(c[i].portfolio, cache_pf, cache_model, &ncache);
		LeadScoreResult r;

		if (model == 0)
			continue;			/* features kept; scored once a model exists */
		lead_score_stored(lead_model_get(model), c[i].stored.e, c[i].stored.n, &c[i].engagement,
						  (LeadTime) now, &r);
		ids[n] = Int64GetDatum(c[i].id);
		models[n] = Int64GetDatum(model);
		scores[n] = Int16GetDatum(r.score);
		probs[n] = Float4GetDatum(r.probability);
		reasons[n] = JsonbPGetDatum(r.reasons);
		n++;
	}
	if (n == 0)
		return;
	args[0] = PointerGetDatum(construct_array(ids, n, INT8OID, 8, true, TYPALIGN_DOUBLE));
	args[1] = PointerGetDatum(construct_array(models, n, INT8OID, 8, true, TYPALIGN_DOUBLE));
	args[2] = PointerGetDatum(construct_array(scores, n, INT2OID, 2, true, TYPALIGN_SHORT));
	args[3] = PointerGetDatum(construct_array(probs, n, FLOAT4OID, 4, true, TYPALIGN_INT));
	args[4] = PointerGetDatum(construct_array(reasons, n, JSONBOID, -1, false, TYPALIGN_INT));
	args[5] = TimestampTzGetDatum(now);
	if (SPI_execute_plan(scores_plan, args, NULL, false, 0) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "antiban: could not store lead scores");
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		Datum		v[6];
		bool		nulls[6];

		heap_deform_tuple(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, v, nulls);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
}

/*
 * antiban.caller_conversations_check(conversations, portfolios): "unknown
 * lead" for a conversation or portfolio the caller may not use.
 */
static void
check_caller_conversations(FunctionCallInfo fcinfo, int n)
{
	Oid			types[2] = {INT8ARRAYOID, INT8ARRAYOID};
	Datum		args[2];
	char		nulls[2] = {' ', ' '};

	args[0] = PG_GETARG_DATUM(0);
	if (PG_NARGS() > 5 && !PG_ARGISNULL(5))
		args[1] = PG_GETARG_DATUM(5);
	else
	{
		Datum	   *none = palloc(sizeof(Datum) * Max(n, 1));
		bool	   *isnull = palloc(sizeof(bool) * Max(n, 1));
		int			dims[1] = {n};
		int			lbs[1] = {1};

		for (int i = 0; i < n; i++)
		{
			none[i] = (Datum) 0;
			isnull[i] = true;
		}
		args[1] = PointerGetDatum(construct_md_array(none, isnull, 1, dims, lbs, INT8OID, 8, true,
													 TYPALIGN_DOUBLE));
	}
	if (SPI_execute_with_args("SELECT antiban.caller_conversations_check($1, $2)", 2, types, args, nulls,
							  true, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not check the caller's conversations");
}

PG_FUNCTION_INFO_V1(antiban_note_lead_events);

/*
 * antiban.note_lead_events(conversations bigint[], kinds text[], ats timestamptz[],
 *		bodies text[] DEFAULT NULL, codes integer[] DEFAULT NULL, portfolios bigint[] DEFAULT NULL)
 *		RETURNS SETOF antiban.lead_scores
 */
Datum
antiban_note_lead_events(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Args		a;
	Event	   *ev;
	Conversation *c;
	int			nconv;
	LeadSpiScope scope;

	/*
	 * Called with the caller's own rights (not from antiban's functions,
	 * which run as antiban_owner and pass their own leads): a mapped role
	 * may note events on its portfolios' leads only.
	 */
	bool		by_caller = GetUserId() != get_role_oid(ANTIBAN_OWNER_ROLE, true);

	InitMaterializedSRF(fcinfo, 0);
	read_args(fcinfo, &a);
	if (a.n == 0)
		return (Datum) 0;
	ev = read_events(&a);
	c = group(ev, a.n, &nconv);
	lead_spi_begin(&scope);
	SPI_connect();
	if (by_caller)
		check_caller_conversations(fcinfo, a.n);
	prepare_plans();
	lock_rows(c, nconv);
	for (int i = 0; i < nconv; i++)
	{
		if (!c[i].found)
			elog(ERROR, "antiban: lead features row %lld vanished", (long long) c[i].id);
		replay(&c[i], ev);
	}
	write_features(c, nconv);
	write_scores(c, nconv, rsinfo);
	SPI_finish();
	lead_spi_end(&scope);
	return (Datum) 0;
}
