/*
 * send_many.c
 *		antiban.enqueue_many(): a whole audience enqueued in one call, with
 *		every rule antiban.enqueue() applies to one message.
 *
 * A campaign of 100,000 sent as 100,000 send_template calls paid, per
 * message, a function call, an idempotency probe, a template lookup, an
 * SPI INSERT and its plan's executor start.  Here each step runs once for
 * the set: the payloads are checked (Meta's limits, then the synced
 * template, looked up once per name and language), the keys already in the
 * outbox are read in one query, every recipient is decided by the very
 * decision a single send makes (antiban_decide_message, journalled the
 * same), and the rows are written by one INSERT ... SELECT FROM unnest().
 *
 * Idempotency keys: a key already in the outbox returns that message; a
 * key repeated inside the set makes one message (its first row decides),
 * and the others return it; a key a concurrent transaction is inserting
 * waits for it (ON CONFLICT) and then returns its message, as a single
 * send does.  Outbox ids are drawn before the INSERT so that each row of
 * the answer names its own message.
 *
 * What makes a single send an error makes the whole set an error (a
 * payload Meta or the template refuses, a portfolio the role may not use, a
 * free-form message without a window): nothing of the set is queued.
 * What a single send records as a rejected row (an invalid recipient, an
 * opt-out, a missing opt-in...) is a rejected row here too, with its reason.
 */
#include "pg/antiban.h"

#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "core/payload.h"
#include "pg/enqueue.h"
#include "pg/privileged.h"
#include "pg/template_lookup.h"

#define RESULT_COLS 4

/* What one row of the set became. */
typedef struct ManyRow
{
	EnqueueRow	r;
	int			first;			/* >= 0: an earlier row with the same key */
	int64		id;				/* the message; 0: not yet known */
	bool		existing;		/* the key was already in the outbox */
	bool		inserted;
} ManyRow;

typedef struct ManyCall
{
	NumbersCache *cache;
	int			n;
	ManyRow    *rows;
	Datum	   *payloads;		/* 1 (for every row) or n */
	int			npayloads;
	const char *message_type;
	Category	category;
	Priority	priority;
	TimestampTz valid_until;
	TimestampTz now;
	Jsonb	   *metadata;
	const char *from_number;
	const char *portfolio;
	const FrequencyCaps *caps;
	Oid			role;
	int64		portfolio_id;	/* the set's portfolio (0: none), decided once */
	int		   *by_key;			/* the keyed rows, by key then position */
	int			nkeyed;
} ManyCall;

/* An array argument as C strings (NULL elements stay NULL); n: its length. */
static char **
text_array(FunctionCallInfo fcinfo, int arg, int *n)
{
	Datum	   *elems;
	bool	   *nulls;
	char	  **out;

	deconstruct_array(PG_GETARG_ARRAYTYPE_P(arg), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, n);
	out = palloc(sizeof(char *) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
		out[i] = nulls[i] ? NULL : TextDatumGetCString(elems[i]);
	return out;
}

static void
refuse_length(const char *what, int got, int n)
{
	ereport(ERROR,
			(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
			 errmsg("%s has %d elements for %d recipients", what, got, n),
			 errhint("Give one per recipient, in the same order%s.",
					 strcmp(what, "payloads") == 0 ? ", or one for all" : "")));
}

static void
read_payloads(FunctionCallInfo fcinfo, ManyCall *m)
{
	bool	   *nulls;

	if (PG_ARGISNULL(3))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("payloads must not be null")));
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(3), JSONBOID, -1, false, TYPALIGN_INT,
					  &m->payloads, &nulls, &m->npayloads);
	if (m->npayloads != 1 && m->npayloads != m->n)
		refuse_length("payloads", m->npayloads, m->n);
	for (int i = 0; i < m->npayloads; i++)
	{
		if (nulls[i])
			ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
							errmsg("payload %d must not be null", i + 1)));
		m->payloads[i] = PointerGetDatum(DatumGetJsonbP(m->payloads[i]));
	}
}

static Jsonb *
payload_of(const ManyCall *m, int i)
{
	return DatumGetJsonbP(m->payloads[m->npayloads == 1 ? 0 : i]);
}

/* Rows sharing a key: by key, then position. */
static const ManyRow *sort_rows;

static int
compare_keys(const void *a, const void *b)
{
	int			x = *(const int *) a;
	int			y = *(const int *) b;
	int			c = strcmp(sort_rows[x].r.idempotency_key, sort_rows[y].r.idempotency_key);

	return c != 0 ? c : (x > y) - (x < y);
}

/* Each keyed row's first row with the same key (its own index if none). */
static void
mark_repeated_keys(ManyCall *m)
{
	int		   *order = palloc(sizeof(int) * Max(m->n, 1));
	int			k = 0;

	for (int i = 0; i < m->n; i++)
	{
		m->rows[i].first = -1;
		if (m->rows[i].r.idempotency_key)
			order[k++] = i;
	}
	sort_rows = m->rows;
	qsort(order, k, sizeof(int), compare_keys);
	for (int j = 1; j < k; j++)
		if (strcmp(m->rows[order[j]].r.idempotency_key, m->rows[order[j - 1]].r.idempotency_key) == 0)
			m->rows[order[j]].first = m->rows[order[j - 1]].first >= 0 ?
				m->rows[order[j - 1]].first : order[j - 1];
	m->by_key = order;
	m->nkeyed = k;
}

/* The first row with this key (by_key's first entry for it), or NULL. */
static ManyRow *
first_with_key(const ManyCall *m, const char *key)
{
	int			lo = 0;
	int			hi = m->nkeyed;

	/* the leftmost entry whose key is not below 'key': its lowest position */
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (strcmp(m->rows[m->by_key[mid]].r.idempotency_key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < m->nkeyed && strcmp(m->rows[m->by_key[lo]].r.idempotency_key, key) == 0)
		return &m->rows[m->by_key[lo]];
	return NULL;
}

/*
 * The messages these rows' keys already name (one query; a row inserted by
 * a transaction that committed since this statement began is seen, as a
 * single send's probe sees it).  only_missing: just rows with no id yet.
 */
static void
read_existing(ManyCall *m, bool only_missing)
{
	static SPIPlanPtr in_portfolio = NULL;
	static SPIPlanPtr in_none = NULL;
	Oid			types[2] = {TEXTARRAYOID, INT8OID};
	Datum	   *keys = palloc(sizeof(Datum) * Max(m->n, 1));
	int			k = 0;
	Datum		args[2];

	for (int i = 0; i < m->n; i++)
		if (m->rows[i].r.idempotency_key && m->rows[i].first < 0 &&
			!(only_missing && m->rows[i].id != 0))
			keys[k++] = CStringGetTextDatum(m->rows[i].r.idempotency_key);
	if (k == 0)
		return;
	args[0] = PointerGetDatum(construct_array(keys, k, TEXTOID, -1, false, TYPALIGN_INT));
	args[1] = Int64GetDatum(m->portfolio_id);
	/* keys are per portfolio: another business's key is not ours to find */
	if (in_portfolio == NULL)
		in_portfolio = privileged_prepare("SELECT idempotency_key, id, state::text, reason FROM antiban.outbox"
										  " WHERE portfolio_id = $2 AND idempotency_key = ANY ($1)", 2, types);
	if (in_none == NULL)
		in_none = privileged_prepare("SELECT idempotency_key, id, state::text, reason FROM antiban.outbox"
									 " WHERE portfolio_id IS NULL AND idempotency_key = ANY ($1)", 1, types);
	/* not read-only: a row this transaction just inserted must be seen */
	if (SPI_execute_plan(m->portfolio_id ? in_portfolio : in_none, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not read idempotency keys");
	for (uint64 t = 0; t < SPI_processed; t++)
	{
		HeapTuple	tup = SPI_tuptable->vals[t];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *key = SPI_getvalue(tup, desc, 1);
		bool		isnull;
		int64		id = DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
		/* by key, not by a walk of the set: a set resent whole finds all its keys */
		ManyRow    *row = first_with_key(m, key);

		if (row && row->id == 0)
		{
			row->id = id;
			row->existing = true;
			row->r.state = SPI_getvalue(tup, desc, 3);
			row->r.reason = SPI_getvalue(tup, desc, 4);
		}
	}
}

/* Does this row need a message of its own (not a key seen before)? */
static bool
decides(const ManyRow *row)
{
	return row->first < 0 && row->id == 0;
}

/* Every payload against Meta's limits and its synced template. */
static void
check_payloads(ManyCall *m)
{
	TemplateMemo memo = {0};
	/* the set's portfolio's WABAs (the caller's when none is decided), never another's */
	const char *portfolios = m->from_number ? NULL :
		m->portfolio_id ? psprintf("{" INT64_FORMAT "}", m->portfolio_id) :
		tenancy_scope_text(m->cache, m->role);

	for (int i = 0; i < m->npayloads; i++)
	{
		Jsonb	   *p = DatumGetJsonbP(m->payloads[i]);

		check_payload(m->message_type, m->category, p);
		if (payload_type_is_template(m->message_type) &&
			(m->npayloads == 1 || decides(&m->rows[i])))
			template_check_memo(&memo, p, m->category, m->from_number, portfolios);
	}
}

/* One recipient decided as antiban.enqueue decides it; its strings in 'keep'. */
static void
decide_row(ManyCall *m, int i, const char *recipient, int64 portfolio_id, MemoryContext keep,
		   JournalDecision *journal)
{
	ManyRow    *row = &m->rows[i];
	char		normalized[RECIPIENT_MAXLEN + 1];
	char		key[RECIPIENT_KEY_SIZE];
	uint64		kh;
	DecideArgs	args = {.cache = m->cache, .now = m->now, .category = m->category,
		.priority = m->priority, .valid_until = m->valid_until, .from_number = m->from_number,
		.portfolio = m->portfolio, .role = m->role, .consume = false, .caps = m->caps,
	.recipient = recipient, .journal_into = journal};
	Decision	d;
	MemoryContext old;

	row->r.portfolio_id = portfolio_id;
	row->r.not_before = m->now;
	antiban_decide_message(&args, &d, normalized);
	old = MemoryContextSwitchTo(keep);
	/* a bad recipient is rejected, kept as given */
	row->r.recipient = pstrdup(normalized[0] ? normalized : recipient ? recipient : "");
	if (normalized[0] && identity_key(normalized, key, &kh))
		row->r.person_key = pstrdup(key);
	MemoryContextSwitchTo(old);
	apply_decision(&row->r, m->cache, &d);
	row->r.detail = MemoryContextStrdup(keep, row->r.detail);
}

/*
 * Every recipient decided.  The decisions are journalled like a single
 * send's, but stored JOURNAL_CHUNK at a time by this call: through the
 * ring, a large set would fill it and then write one row per decision.
 * Each store sets up the table, its indexes and a lookup of the numbers'
 * phone ids: 16,384 decisions (about 9 MB) a time keep that below 1 %.
 */
#define JOURNAL_CHUNK 16384

static void
decide_all(ManyCall *m, char **recipients)
{
	MemoryContext keep = CurrentMemoryContext;
	MemoryContext per_row = AllocSetContextCreate(keep, "enqueue_many row", ALLOCSET_SMALL_SIZES);
	JournalDecision *journal = palloc(sizeof(JournalDecision) * JOURNAL_CHUNK);
	int			journalled = 0;

	for (int i = 0; i < m->n; i++)
	{
		MemoryContext old;

		if (!decides(&m->rows[i]))
			continue;
		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(per_row);
		decide_row(m, i, recipients[i], m->portfolio_id, keep, &journal[journalled++]);
		MemoryContextSwitchTo(old);
		MemoryContextReset(per_row);
		if (journalled == JOURNAL_CHUNK)
		{
			journal_store_decisions(journal, journalled);
			journalled = 0;
		}
	}
	journal_store_decisions(journal, journalled);
	pfree(journal);
	MemoryContextDelete(per_row);
}

static int
compare_ids(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/*
 * Which keyed rows the INSERT stored (its RETURNING ids).  A row it did not
 * store lost its key to a message committed meanwhile: it gets that one's id.
 */
static void
mark_inserted(ManyCall *m)
{
	int			k = (int) SPI_processed;
	int64	   *ids = palloc(sizeof(int64) * Max(k, 1));
	bool		lost = false;
	bool		isnull;

	for (int t = 0; t < k; t++)
		ids[t] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[t], SPI_tuptable->tupdesc, 1, &isnull));
	qsort(ids, k, sizeof(int64), compare_ids);
	for (int i = 0; i < m->n; i++)
	{
		ManyRow    *row = &m->rows[i];

		if (row->first >= 0 || row->existing || row->r.idempotency_key == NULL)
			continue;
		row->inserted = bsearch(&row->id, ids, k, sizeof(int64), compare_ids) != NULL;
		if (!row->inserted)
		{
			row->id = 0;
			lost = true;
		}
	}
	if (lost)
		read_existing(m, true);
}

/*
 * The set's rows from arrays: unnest() in the select list streams them (in
 * FROM, each array would first be copied into a tuplestore).  Rows with a
 * key go through ON CONFLICT, which costs a speculative insertion each;
 * rows without one cannot conflict and are inserted plainly.
 */
#define INSERT_SQL(conflict) \
"INSERT INTO antiban.outbox (id, recipient, message_type, category, priority, payload, state," \
" not_before, valid_until, idempotency_key, metadata, number_id, phone_number_id," \
" portfolio_id, reason, detail, from_number, person_id)" \
" OVERRIDING SYSTEM VALUE" \
" SELECT u.id, u.recipient, $1, $2::antiban.category, $3::antiban.priority, u.payload," \
"        u.state::antiban.message_state, u.not_before, $4, u.key, coalesce($5, '{}')," \
"        u.number_id, u.phone, u.portfolio_id, u.reason, u.detail, $6," \
"        (SELECT i.person_id FROM antiban.person_ids i" \
"         WHERE i.portfolio_id = u.portfolio_id AND i.key = u.person_key)" \
" FROM (SELECT unnest($7::bigint[]) AS id, unnest($8::text[]) AS recipient," \
"              unnest($9::jsonb[]) AS payload, unnest($10::text[]) AS state," \
"              unnest($11::timestamptz[]) AS not_before, unnest($12::text[]) AS key," \
"              unnest($13::bigint[]) AS number_id, unnest($14::text[]) AS phone," \
"              unnest($15::bigint[]) AS portfolio_id, unnest($16::text[]) AS reason," \
"              unnest($17::text[]) AS detail, unnest($18::text[]) AS person_key) u" \
conflict

static const char *const insert_sql[2] = {
	INSERT_SQL(""),
	INSERT_SQL(" ON CONFLICT (portfolio_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING id")
};

#define NCOLUMNS 12

/* One column of the rows to insert. */
typedef struct Column
{
	Oid			type;
	Datum	   *v;
	bool	   *nulls;
} Column;

static void
put(Column *c, int k, Datum v, bool isnull)
{
	c->v[k] = v;
	c->nulls[k] = isnull;
}

static void
put_text(Column *c, int k, const char *s)
{
	put(c, k, s ? CStringGetTextDatum(s) : (Datum) 0, s == NULL);
}

static Datum
text_or_null(const char *s, bool *isnull)
{
	*isnull = s == NULL;
	return s ? CStringGetTextDatum(s) : (Datum) 0;
}

static Datum
as_array(const Column *c, int k)
{
	int16		len;
	bool		byval;
	char		align;
	int			dims[1] = {k};
	int			lbs[1] = {1};

	get_typlenbyvalalign(c->type, &len, &byval, &align);
	return PointerGetDatum(construct_md_array(c->v, c->nulls, 1, dims, lbs, c->type, len, byval, align));
}

/* One plan for every set: a custom plan would copy the arrays to plan. */
static SPIPlanPtr
generic_plan(const char *sql, int nargs, Oid *types)
{
	SPIPlanPtr	plan = SPI_prepare_cursor(sql, nargs, types, CURSOR_OPT_GENERIC_PLAN);

	if (plan == NULL || SPI_keepplan(plan) != 0)
		elog(ERROR, "antiban: could not prepare the set insert: %s",
			 SPI_result_code_string(SPI_result));
	return plan;
}

/*
 * The decided rows with (keyed) or without a key, each with an outbox id
 * drawn now, in one INSERT.
 */
static void
insert_rows(ManyCall *m, bool keyed)
{
	static SPIPlanPtr plans[2] = {NULL, NULL};
	static const Oid col_types[NCOLUMNS] = {INT8OID, TEXTOID, JSONBOID, TEXTOID, TIMESTAMPTZOID,
	TEXTOID, INT8OID, TEXTOID, INT8OID, TEXTOID, TEXTOID, TEXTOID};
	Oid			types[6 + NCOLUMNS] = {TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, JSONBOID, TEXTOID};
	Datum		args[6 + NCOLUMNS];
	char		nulls[6 + NCOLUMNS];
	Column		cols[NCOLUMNS];
	Oid			outbox = RangeVarGetRelid(makeRangeVar("antiban", "outbox", -1), NoLock, false);
	Oid			seq = getIdentitySequence(outbox, get_attnum(outbox, "id"), false);
	int			k = 0;
	bool		isnull;

	for (int c = 0; c < NCOLUMNS; c++)
	{
		cols[c].type = col_types[c];
		cols[c].v = palloc(sizeof(Datum) * Max(m->n, 1));
		cols[c].nulls = palloc(sizeof(bool) * Max(m->n, 1));
		types[6 + c] = get_array_type(col_types[c]);
	}
	/*
	 * Keyed rows go in key order: two sets racing for the same keys wait
	 * for each other in one order, never in a cycle.
	 */
	for (int j = 0; j < (keyed ? m->nkeyed : m->n); j++)
	{
		int			i = keyed ? m->by_key[j] : j;
		ManyRow    *row = &m->rows[i];
		EnqueueRow *r = &row->r;

		if (!decides(row) || (row->r.idempotency_key != NULL) != keyed)
			continue;
		row->id = nextval_internal(seq, true);
		put(&cols[0], k, Int64GetDatum(row->id), false);
		put(&cols[1], k, CStringGetTextDatum(r->recipient), false);
		put(&cols[2], k, JsonbPGetDatum(payload_of(m, i)), false);
		put(&cols[3], k, CStringGetTextDatum(r->state), false);
		put(&cols[4], k, TimestampTzGetDatum(r->not_before), false);
		put_text(&cols[5], k, r->idempotency_key);
		put(&cols[6], k, Int64GetDatum(r->number_id), r->number_id == 0);
		put_text(&cols[7], k, r->phone_number_id);
		put(&cols[8], k, Int64GetDatum(r->portfolio_id), r->portfolio_id == 0);
		put_text(&cols[9], k, r->reason);
		put_text(&cols[10], k, r->detail);
		put_text(&cols[11], k, r->person_key);
		k++;
	}
	if (k == 0)
		return;
	args[0] = CStringGetTextDatum(m->message_type);
	args[1] = CStringGetTextDatum(category_name(m->category));
	args[2] = CStringGetTextDatum(priority_name(m->priority));
	args[3] = TimestampTzGetDatum(m->valid_until);
	args[4] = m->metadata ? JsonbPGetDatum(m->metadata) : (Datum) 0;
	args[5] = text_or_null(m->from_number, &isnull);
	memset(nulls, ' ', sizeof(nulls));
	nulls[3] = m->valid_until == TB_NEVER ? 'n' : ' ';
	nulls[4] = m->metadata ? ' ' : 'n';
	nulls[5] = m->from_number ? ' ' : 'n';
	for (int c = 0; c < NCOLUMNS; c++)
		args[6 + c] = as_array(&cols[c], k);
	if (plans[keyed] == NULL)
		plans[keyed] = generic_plan(insert_sql[keyed], 6 + NCOLUMNS, types);
	if (SPI_execute_plan(plans[keyed], args, nulls, false, 0) !=
		(keyed ? SPI_OK_INSERT_RETURNING : SPI_OK_INSERT))
		elog(ERROR, "antiban: could not insert into antiban.outbox");
	if (keyed)
		mark_inserted(m);
	else
		for (int i = 0; i < m->n; i++)
			if (m->rows[i].first < 0 && m->rows[i].r.idempotency_key == NULL)
				m->rows[i].inserted = true;
}

/* One answer row per recipient: (ord, id, state, reason). */
static void
emit_rows(FunctionCallInfo fcinfo, const ManyCall *m)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	for (int i = 0; i < m->n; i++)
	{
		const ManyRow *row = &m->rows[m->rows[i].first >= 0 ? m->rows[i].first : i];
		Datum		values[RESULT_COLS];
		bool		nulls[RESULT_COLS] = {false, row->id == 0, row->r.state == NULL, row->r.reason == NULL};

		values[0] = Int32GetDatum(i + 1);
		values[1] = Int64GetDatum(row->id);
		values[2] = row->r.state ? CStringGetTextDatum(row->r.state) : (Datum) 0;
		values[3] = row->r.reason ? CStringGetTextDatum(row->r.reason) : (Datum) 0;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

static bool
any_queued(const ManyCall *m)
{
	for (int i = 0; i < m->n; i++)
		if (m->rows[i].inserted && strcmp(m->rows[i].r.state, "queued") == 0)
			return true;
	return false;
}

/* The scalar arguments, as antiban.enqueue reads them. */
static void
read_arguments(FunctionCallInfo fcinfo, ManyCall *m)
{
	const char *caps_text;

	m->cache = numbers_cache_get();
	m->message_type = required_text_arg(fcinfo, 1, "message_type");
	if (strcmp(m->message_type, PAYLOAD_READ_RECEIPT) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("read receipts are not enqueued in sets"),
				 errhint("Use antiban.mark_read for each message.")));
	m->category = category_or_error(required_text_arg(fcinfo, 2, "category"));
	m->priority = priority_or_error(PG_ARGISNULL(4) ? "normal" : text_to_cstring(PG_GETARG_TEXT_PP(4)));
	m->valid_until = PG_ARGISNULL(5) ? TB_NEVER : PG_GETARG_TIMESTAMPTZ(5);
	m->metadata = PG_ARGISNULL(7) ? NULL : PG_GETARG_JSONB_P(7);
	m->from_number = PG_ARGISNULL(8) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(8));
	m->portfolio = PG_ARGISNULL(9) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(9));
	m->now = antiban_now();
	m->role = GetUserId();
	m->caps = NULL;
	/* a campaign's own caps travel in metadata.frequency_caps */
	caps_text = metadata_caps(m->metadata);
	if (caps_text)
	{
		FrequencyCaps *caps = palloc(sizeof(FrequencyCaps));

		frequency_caps_or_error(caps_text, caps);
		m->caps = caps;
	}
}

PG_FUNCTION_INFO_V1(antiban_enqueue_many);

/*
 * antiban.enqueue_many(recipients text[], message_type, category,
 *						payloads jsonb[], priority, valid_until,
 *						idempotency_keys text[], metadata, from_number,
 *						portfolio)
 *		-> setof (ord, id, state, reason)
 */
Datum
antiban_enqueue_many(PG_FUNCTION_ARGS)
{
	ManyCall	m = {0};
	char	  **recipients;
	char	  **keys = NULL;
	int			nkeys = 0;
	Privileged	priv;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	read_arguments(fcinfo, &m);
	recipients = text_array(fcinfo, 0, &m.n);
	read_payloads(fcinfo, &m);
	if (!PG_ARGISNULL(6))
	{
		keys = text_array(fcinfo, 6, &nkeys);
		if (nkeys != m.n)
			refuse_length("idempotency_keys", nkeys, m.n);
	}
	m.rows = palloc0(sizeof(ManyRow) * Max(m.n, 1));
	for (int i = 0; i < m.n; i++)
	{
		EnqueueRow *r = &m.rows[i].r;

		r->message_type = m.message_type;
		r->category = m.category;
		r->priority = m.priority;
		r->valid_until = m.valid_until;
		r->idempotency_key = keys ? idempotency_key_or_error(keys[i], "idempotency_keys", i + 1) : NULL;
	}
	mark_repeated_keys(&m);

	/*
	 * the caller may send; the outbox itself is antiban's to write.  No JIT
	 * until privileged_end() (the nest level it opened restores the
	 * caller's): a statement over a whole set, such as the keys' lookup in a
	 * large outbox, is easily estimated past jit_above_cost, and compiling
	 * it costs more than running it (setup-notes: JIT).
	 */
	privileged_begin(&priv);
	(void) set_config_option("jit", "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	SPI_connect();
	{
		/* the set's portfolio, before its keys: they are per portfolio */
		DecideArgs	scope = {.cache = m.cache, .now = m.now, .category = m.category,
			.from_number = m.from_number, .portfolio = m.portfolio, .role = m.role};

		m.portfolio_id = antiban_decide_portfolio(&scope);
	}
	read_existing(&m, false);
	check_payloads(&m);
	decide_all(&m, recipients);
	insert_rows(&m, false);
	insert_rows(&m, true);
	emit_rows(fcinfo, &m);
	SPI_finish();
	privileged_end(&priv);
	if (any_queued(&m))
		antiban_wake_senders_at_commit();
	return (Datum) 0;
}
