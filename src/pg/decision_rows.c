/*
 * decision_rows.c
 *		Store a batch of journalled decisions the way COPY does: the table
 *		AM's multi-insert and the index entries, without the executor.
 *
 * Every decision is a row of antiban.decisions, so the journal writer
 * stores as many rows per second as decide() makes decisions, and it
 * shares the cores with the callers.  An INSERT ... SELECT FROM unnest()
 * pays, per row, the function scan's tuplestore, a join to antiban.numbers,
 * four text-to-enum casts and one WAL record; here the enum labels and the
 * numbers' phone ids are looked up once per batch and heap_multi_insert
 * writes one WAL record per page.
 *
 * Only for the table antiban creates: a plain table with exactly its
 * columns, no triggers, and row security only as antiban sets it up (its
 * policies scope readers; antiban's owner, who writes, sees every row).  Anything else (a partitioned
 * table, a column added by hand) returns false and the caller uses the SQL
 * INSERT, which handles every case.
 */
#include "pg/antiban.h"
#include "pg/table_columns.h"

#include "access/heapam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "lib/qunique.h"
#include "nodes/makefuncs.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/acl.h"
#include "utils/rls.h"
#include "miscadmin.h"

#include "core/decision.h"
#include "pg/privileged.h"

#define SLOTS_PER_INSERT 1000

/*
 * Below this, the prepared INSERT is cheaper: setting up (relation,
 * identity sequence, indexes, slots) costs more than a few rows save.  A
 * backend writing one record because the ring is full is the common case.
 */
#define MIN_ROWS 32

enum
{
	COL_ID, COL_DECIDED_AT, COL_RECIPIENT, COL_CATEGORY, COL_PRIORITY, COL_OUTCOME,
	COL_REASON, COL_PHONE, COL_NOT_BEFORE, COL_CONSUMED, COL_DETAIL, NCOLS
};

static const char *const column_names[NCOLS] = {
	"id", "decided_at", "recipient", "category", "priority", "outcome",
	"reason", "phone_number_id", "not_before", "consumed", "detail"
};

/* An enum column: its type and the label OIDs seen in this batch, by C value. */
typedef struct EnumColumn
{
	Oid			type;
	Oid			label[256];
} EnumColumn;

static Datum
enum_value(EnumColumn *e, uint8 value, const char *name)
{
	if (!OidIsValid(e->label[value]))
		e->label[value] = DatumGetObjectId(DirectFunctionCall2(enum_in, CStringGetDatum(name),
															   ObjectIdGetDatum(e->type)));
	return ObjectIdGetDatum(e->label[value]);
}

/* The columns by our index: false unless the table is exactly ours. */
static bool
map_columns(Relation rel, AttrNumber *attno)
{
	TupleDesc	desc = RelationGetDescr(rel);

	/*
	 * Row security: the writer is antiban's owner role, whose policy on
	 * every scoped table is USING (true) (91_tenancy.sql); anyone else
	 * bound by policies goes through the SQL INSERT.
	 */
	if (rel->rd_rel->relkind != RELKIND_RELATION || rel->rd_rel->relam != HEAP_TABLE_AM_OID ||
		rel->trigdesc != NULL ||
		(check_enable_rls(RelationGetRelid(rel), InvalidOid, false) == RLS_ENABLED &&
		 GetUserId() != get_role_oid(ANTIBAN_OWNER_ROLE, true)))
		return false;
	if (!table_columns_are(desc, column_names, NCOLS, attno) ||
		TupleDescAttr(desc, attno[COL_ID] - 1)->attidentity == '\0')
		return false;
	return true;
}

static int
compare_ids(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return x < y ? -1 : x > y;
}

/*
 * The phone ids of the numbers these decisions name, in one query (inside
 * the caller's SPI connection): sorted ids in *ids, their phone ids in
 * *phones (NULL for a number since deleted, as the LEFT JOIN gave).
 */
static int
lookup_phones(const JournalDecision *d, int n, int64 **ids, char ***phones)
{
	static SPIPlanPtr plan = NULL;
	Oid			type = INT8ARRAYOID;
	int64	   *distinct = palloc(sizeof(int64) * Max(n, 1));
	Datum	   *elems;
	int			m = 0;
	Datum		arg;

	for (int i = 0; i < n; i++)
		if (d[i].number_id != 0)
			distinct[m++] = d[i].number_id;
	qsort(distinct, m, sizeof(int64), compare_ids);
	m = qunique(distinct, m, sizeof(int64), compare_ids);
	*ids = distinct;
	*phones = palloc0(sizeof(char *) * Max(m, 1));
	if (m == 0)
		return 0;
	elems = palloc(sizeof(Datum) * m);
	for (int i = 0; i < m; i++)
		elems[i] = Int64GetDatum(distinct[i]);
	arg = PointerGetDatum(construct_array(elems, m, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	if (plan == NULL)
		plan = privileged_prepare("SELECT id, phone_number_id FROM antiban.numbers WHERE id = ANY ($1)",
								  1, &type);
	if (SPI_execute_plan(plan, &arg, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: journal number lookup failed");
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		bool		isnull;
		int64		id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));
		int64	   *at = bsearch(&id, distinct, m, sizeof(int64), compare_ids);

		if (at)
			(*phones)[at - distinct] = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2);
	}
	return m;
}

static Datum
phone_of(int64 id, const int64 *ids, char **phones, int m, bool *isnull)
{
	const int64 *at = id == 0 ? NULL : bsearch(&id, ids, m, sizeof(int64), compare_ids);

	*isnull = at == NULL || phones[at - ids] == NULL;
	return *isnull ? (Datum) 0 : CStringGetTextDatum(phones[at - ids]);
}

/*
 * Store n decisions, in order.  Runs inside the caller's SPI connection and
 * privileged section.  False (and nothing stored) for a small batch or when
 * the table is not the plain one this knows; the caller then runs the SQL
 * INSERT.
 */
bool
decision_rows_insert(const JournalDecision *d, int n)
{
	Oid			relid;
	Relation	rel;
	AttrNumber	attno[NCOLS];
	EnumColumn *enums;
	Oid			seq;
	int64	   *ids;
	char	  **phones;
	int			nphones;
	EState	   *estate;
	ResultRelInfo *rri;
	TupleTableSlot **slots;
	int			nslots;
	BulkInsertState bistate;
	CommandId	cid;

	if (n < MIN_ROWS)
		return false;
	for (int i = 0; i < n; i++)
		if (d[i].decided_at == DT_NOBEGIN)
			return false;		/* NOT NULL: let the INSERT say so */
	relid = RangeVarGetRelid(makeRangeVar("antiban", "decisions", -1), RowExclusiveLock, true);
	if (!OidIsValid(relid))
		return false;
	rel = table_open(relid, NoLock);
	if (!map_columns(rel, attno))
	{
		table_close(rel, NoLock);
		return false;
	}
	seq = getIdentitySequence(relid, attno[COL_ID], false);
	enums = palloc0(sizeof(EnumColumn) * 4);
	for (int e = 0; e < 4; e++)
		enums[e].type = TupleDescAttr(RelationGetDescr(rel), attno[COL_CATEGORY + e] - 1)->atttypid;
	nphones = lookup_phones(d, n, &ids, &phones);

	estate = CreateExecutorState();
	rri = makeNode(ResultRelInfo);
	InitResultRelInfo(rri, rel, 1, NULL, 0);
	ExecOpenIndices(rri, false);
	cid = GetCurrentCommandId(true);
	estate->es_output_cid = cid;
	bistate = GetBulkInsertState();
	nslots = Min(n, SLOTS_PER_INSERT);
	slots = palloc(sizeof(TupleTableSlot *) * nslots);
	for (int s = 0; s < nslots; s++)
		slots[s] = table_slot_create(rel, NULL);

	for (int first = 0; first < n; first += nslots)
	{
		int			count = Min(n - first, nslots);

		for (int s = 0; s < count; s++)
		{
			const JournalDecision *r = &d[first + s];
			TupleTableSlot *slot = slots[s];
			Datum	   *v = slot->tts_values;
			bool	   *nulls = slot->tts_isnull;

			ExecClearTuple(slot);
			/* dropped columns stay NULL; ours are set below */
			memset(nulls, true, sizeof(bool) * slot->tts_tupleDescriptor->natts);
			for (int c = 0; c < NCOLS; c++)
				nulls[attno[c] - 1] = false;
			v[attno[COL_ID] - 1] = Int64GetDatum(nextval_internal(seq, true));
			v[attno[COL_DECIDED_AT] - 1] = TimestampTzGetDatum(r->decided_at);
			v[attno[COL_RECIPIENT] - 1] = CStringGetTextDatum(r->recipient);
			v[attno[COL_CATEGORY] - 1] = enum_value(&enums[0], r->category, category_name(r->category));
			v[attno[COL_PRIORITY] - 1] = enum_value(&enums[1], r->priority, priority_name(r->priority));
			v[attno[COL_OUTCOME] - 1] = enum_value(&enums[2], r->outcome, outcome_name(r->outcome));
			v[attno[COL_REASON] - 1] = CStringGetTextDatum(reason_name(r->reason));
			v[attno[COL_PHONE] - 1] = phone_of(r->number_id, ids, phones, nphones,
											   &nulls[attno[COL_PHONE] - 1]);
			v[attno[COL_NOT_BEFORE] - 1] = TimestampTzGetDatum(r->not_before);
			nulls[attno[COL_NOT_BEFORE] - 1] = r->not_before == 0;
			v[attno[COL_CONSUMED] - 1] = BoolGetDatum(r->consumed);
			v[attno[COL_DETAIL] - 1] = CStringGetTextDatum(r->detail);
			ExecStoreVirtualTuple(slot);
		}
		table_multi_insert(rel, slots, count, cid, 0, bistate);
		for (int s = 0; s < count; s++)
		{
			List	   *none;

			ResetPerTupleExprContext(estate);
			none = ExecInsertIndexTuples(rri, slots[s], estate, false, false, NULL, NIL);
			list_free(none);
		}
	}

	for (int s = 0; s < nslots; s++)
		ExecDropSingleTupleTableSlot(slots[s]);
	FreeBulkInsertState(bistate);
	table_finish_bulk_insert(rel, 0);
	ExecCloseIndices(rri);
	FreeExecutorState(estate);
	table_close(rel, NoLock);
	CommandCounterIncrement();
	return true;
}
