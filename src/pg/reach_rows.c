/*
 * reach_rows.c
 *		Store a batch of recipients' sends (antiban.recipient_reach) without
 *		the executor: per recipient one probe of the primary key, then an
 *		update (HOT when the page has room) or an insert.
 *
 * The journal writer's SQL upsert (INSERT ... ON CONFLICT DO UPDATE from
 * unnest()) paid, per row, the speculative-insertion pre-check, the
 * executor's conflict handling and, for a new recipient, the foreign key's
 * own query on antiban.portfolios: two thirds of what the writer spent per
 * consumed decision.  Here the batch's portfolios are locked once, FOR KEY
 * SHARE as the foreign key would, and then the table in SHARE ROW EXCLUSIVE
 * mode: no other writer (a backend writing directly because the ring is
 * full, an erasure, a portfolio's cascade) can change a row between the
 * probe and the write.  Readers are not blocked.  The lock is only tried:
 * when another transaction holds a conflicting one, the batch goes through
 * the SQL upsert instead, so the writer never waits behind a long
 * transaction, nor makes others queue behind it.
 *
 * The merge is the SQL upsert's, column for column; journal.c keeps that
 * statement for small batches, a portfolio gone meanwhile, and a table
 * changed by hand.
 */
#include "pg/antiban.h"
#include "pg/table_columns.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"

#include "pg/privileged.h"

/* Below this, the prepared upsert is cheaper than setting up. */
#define MIN_ROWS 32

enum
{
	COL_PORTFOLIO, COL_RECIPIENT, COL_NUMBER, COL_SENT, COL_REACHED, COL_UPDATED, NCOLS
};

static const char *const column_names[NCOLS] = {
	"portfolio_id", "recipient", "last_number_id", "last_sent_at", "last_reached_at", "updated_at"
};

/*
 * The columns by our index: false unless the table is exactly the one
 * antiban creates (its columns, row security only as antiban sets it up:
 * its owner, who writes, sees every row (91_tenancy.sql); no CHECK,
 * no trigger but its foreign key's, that key only, and its primary key as
 * the only index).
 */
static bool
table_is_ours(Relation rel, AttrNumber *attno, Oid *pkey)
{
	TupleDesc	desc = RelationGetDescr(rel);
	Oid			portfolios = RangeVarGetRelid(makeRangeVar("antiban", "portfolios", -1), NoLock, true);
	List	   *fkeys;
	List	   *indexes;

	if (rel->rd_rel->relkind != RELKIND_RELATION || rel->rd_rel->relam != HEAP_TABLE_AM_OID ||
		!OidIsValid(portfolios) ||
		(desc->constr && desc->constr->num_check > 0) ||
		(check_enable_rls(RelationGetRelid(rel), InvalidOid, false) == RLS_ENABLED &&
		 GetUserId() != get_role_oid(ANTIBAN_OWNER_ROLE, true)) ||
		pg_class_aclcheck(RelationGetRelid(rel), GetUserId(), ACL_INSERT) != ACLCHECK_OK ||
		pg_class_aclcheck(RelationGetRelid(rel), GetUserId(), ACL_UPDATE) != ACLCHECK_OK)
		return false;
	if (!table_columns_are(desc, column_names, NCOLS, attno) ||
		TupleDescAttr(desc, attno[COL_PORTFOLIO] - 1)->atttypid != INT8OID ||
		TupleDescAttr(desc, attno[COL_RECIPIENT] - 1)->atttypid != TEXTOID ||
		TupleDescAttr(desc, attno[COL_NUMBER] - 1)->atttypid != INT8OID ||
		TupleDescAttr(desc, attno[COL_SENT] - 1)->atttypid != TIMESTAMPTZOID ||
		TupleDescAttr(desc, attno[COL_REACHED] - 1)->atttypid != TIMESTAMPTZOID ||
		TupleDescAttr(desc, attno[COL_UPDATED] - 1)->atttypid != TIMESTAMPTZOID)
		return false;

	/* the foreign key to antiban.portfolios, checked here once per batch */
	fkeys = RelationGetFKeyList(rel);
	if (list_length(fkeys) != 1)
		return false;
	{
		ForeignKeyCacheInfo *fk = linitial(fkeys);

		if (fk->nkeys != 1 || fk->conkey[0] != attno[COL_PORTFOLIO] || fk->confrelid != portfolios ||
			fk->confkey[0] != get_attnum(portfolios, "id"))
			return false;
	}
	if (rel->trigdesc)
		for (int t = 0; t < rel->trigdesc->numtriggers; t++)
			if (RI_FKey_trigger_type(rel->trigdesc->triggers[t].tgfoid) != RI_TRIGGER_FK)
				return false;

	/* the primary key (portfolio_id, recipient), a plain btree, alone */
	indexes = RelationGetIndexList(rel);
	*pkey = RelationGetPrimaryKeyIndex(rel);
	if (list_length(indexes) != 1 || linitial_oid(indexes) != *pkey)
		return false;
	{
		Relation	idx = index_open(*pkey, AccessShareLock);
		bool		plain = idx->rd_rel->relam == BTREE_AM_OID &&
			idx->rd_index->indnatts == 2 && idx->rd_index->indnkeyatts == 2 &&
			idx->rd_index->indkey.values[0] == attno[COL_PORTFOLIO] &&
			idx->rd_index->indkey.values[1] == attno[COL_RECIPIENT] &&
			RelationGetIndexExpressions(idx) == NIL && RelationGetIndexPredicate(idx) == NIL;

		index_close(idx, AccessShareLock);
		if (!plain)
			return false;
	}
	return true;
}

/*
 * Lock the batch's portfolios as the foreign key would (FOR KEY SHARE):
 * false if one is gone (the SQL upsert then says so, as it always has).
 * 'r' is sorted by portfolio.
 */
static bool
lock_portfolios(const JournalRecipient *r, int n)
{
	static SPIPlanPtr plan = NULL;
	Oid			type = INT8ARRAYOID;
	Datum	   *ids = palloc(sizeof(Datum) * n);
	int			m = 0;
	Datum		arg;
	bool		isnull;

	for (int i = 0; i < n; i++)
		if (m == 0 || DatumGetInt64(ids[m - 1]) != r[i].portfolio_id)
			ids[m++] = Int64GetDatum(r[i].portfolio_id);
	arg = PointerGetDatum(construct_array(ids, m, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	if (plan == NULL)
		plan = privileged_prepare("SELECT count(*) FROM (SELECT FROM antiban.portfolios"
								  " WHERE id = ANY ($1) FOR KEY SHARE) p", 1, &type);
	if (SPI_execute_plan(plan, &arg, NULL, false, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "antiban: journal portfolio lock failed");
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) == m;
}

static Datum
ts_or_null(TimestampTz t, TimestampTz none, bool *isnull)
{
	*isnull = t == none;
	return TimestampTzGetDatum(t);
}

/* greatest(a, b) as SQL has it: NULLs ignored */
static Datum
greatest_ts(Datum a, bool anull, Datum b, bool bnull, bool *isnull)
{
	*isnull = anull && bnull;
	if (anull)
		return b;
	if (bnull)
		return a;
	return DatumGetTimestampTz(a) >= DatumGetTimestampTz(b) ? a : b;
}

/*
 * The row after this send, into v/nulls: the SQL upsert's SET list.  'old'
 * holds the stored row's values (all attributes), 'ex' the new record's.
 */
static void
merge(const AttrNumber *attno, const Datum *old, const bool *oldnull,
	  const Datum *ex, const bool *exnull, Datum *v, bool *nulls)
{
	int			n = attno[COL_NUMBER] - 1;
	int			s = attno[COL_SENT] - 1;
	int			r = attno[COL_REACHED] - 1;

	/* last_number_id = CASE WHEN s.last_sent_at IS NULL OR excluded.last_sent_at >= s.last_sent_at
	 * THEN coalesce(excluded.last_number_id, s.last_number_id) ELSE s.last_number_id END */
	if (oldnull[s] || (!exnull[s] && DatumGetTimestampTz(ex[s]) >= DatumGetTimestampTz(old[s])))
	{
		v[n] = exnull[n] ? old[n] : ex[n];
		nulls[n] = exnull[n] && oldnull[n];
	}
	else
	{
		v[n] = old[n];
		nulls[n] = oldnull[n];
	}
	v[s] = greatest_ts(old[s], oldnull[s], ex[s], exnull[s], &nulls[s]);
	v[r] = greatest_ts(old[r], oldnull[r], ex[r], exnull[r], &nulls[r]);
}

/*
 * Store n recipients' sends (sorted by portfolio and recipient, one record
 * each).  Runs inside the caller's SPI connection and privileged section.
 * False (and nothing stored) when the SQL upsert must do it: a small batch,
 * a portfolio gone, the table locked by another writer or not the one this
 * knows.
 */
bool
reach_rows_upsert(const JournalRecipient *r, int n)
{
	Oid			relid;
	Relation	rel;
	Relation	idx;
	AttrNumber	attno[NCOLS];
	Oid			pkey;
	EState	   *estate;
	ResultRelInfo *rri;
	TupleTableSlot *oldslot;
	TupleTableSlot *newslot;
	IndexScanDesc scan;
	ScanKeyData keys[2];
	Snapshot	snapshot;
	CommandId	cid;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	MemoryContext rowcxt;
	MemoryContext old;
	int			natts;

	if (n < MIN_ROWS || !lock_portfolios(r, n))
		return false;
	/* tried, never waited for: a writer holding the table keeps it */
	relid = RangeVarGetRelidExtended(makeRangeVar("antiban", "recipient_reach", -1),
									 ShareRowExclusiveLock, RVR_MISSING_OK | RVR_NOWAIT | RVR_SKIP_LOCKED,
									 NULL, NULL);
	if (!OidIsValid(relid))
		return false;
	rel = table_open(relid, NoLock);
	if (!table_is_ours(rel, attno, &pkey))
	{
		table_close(rel, NoLock);
		return false;
	}

	estate = CreateExecutorState();
	rri = makeNode(ResultRelInfo);
	InitResultRelInfo(rri, rel, 1, NULL, 0);
	ExecOpenIndices(rri, false);
	idx = index_open(pkey, RowExclusiveLock);
	oldslot = table_slot_create(rel, NULL);
	newslot = table_slot_create(rel, NULL);
	natts = newslot->tts_tupleDescriptor->natts;

	/* every writer before the lock has ended: the latest snapshot sees its rows */
	CommandCounterIncrement();
	cid = GetCurrentCommandId(true);
	estate->es_output_cid = cid;
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = index_beginscan(rel, idx, snapshot, 2, 0);
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "antiban reach rows", ALLOCSET_DEFAULT_SIZES);

	for (int i = 0; i < n; i++)
	{
		Datum		ex[MaxHeapAttributeNumber];
		bool		exnull[MaxHeapAttributeNumber];
		Datum	   *v = newslot->tts_values;
		bool	   *nulls = newslot->tts_isnull;
		Datum		recipient;
		bool		found;
		ItemPointerData tid;

		/* only the row's own values here: the scan keeps what it allocates */
		old = MemoryContextSwitchTo(rowcxt);
		recipient = CStringGetTextDatum(r[i].recipient);
		MemoryContextSwitchTo(old);
		ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(r[i].portfolio_id));
		ScanKeyEntryInitialize(&keys[1], 0, 2, BTEqualStrategyNumber, InvalidOid,
							   idx->rd_indcollation[1], F_TEXTEQ, recipient);
		index_rescan(scan, keys, 2, NULL, 0);
		found = index_getnext_slot(scan, ForwardScanDirection, oldslot);

		memset(exnull, true, sizeof(bool) * natts);
		ex[attno[COL_NUMBER] - 1] = Int64GetDatum(r[i].last_number_id);
		exnull[attno[COL_NUMBER] - 1] = r[i].last_number_id == 0;
		ex[attno[COL_SENT] - 1] = ts_or_null(r[i].last_sent, 0, &exnull[attno[COL_SENT] - 1]);
		ex[attno[COL_REACHED] - 1] = ts_or_null(r[i].last_reach, PG_INT64_MIN,
												&exnull[attno[COL_REACHED] - 1]);

		ExecClearTuple(newslot);
		/* dropped columns stay NULL; ours are set below */
		memset(nulls, true, sizeof(bool) * natts);
		if (found)
		{
			tid = oldslot->tts_tid;
			slot_getallattrs(oldslot);
			merge(attno, oldslot->tts_values, oldslot->tts_isnull, ex, exnull, v, nulls);
			ExecClearTuple(oldslot);
		}
		else
		{
			for (int c = COL_NUMBER; c <= COL_REACHED; c++)
			{
				v[attno[c] - 1] = ex[attno[c] - 1];
				nulls[attno[c] - 1] = exnull[attno[c] - 1];
			}
		}
		v[attno[COL_PORTFOLIO] - 1] = Int64GetDatum(r[i].portfolio_id);
		nulls[attno[COL_PORTFOLIO] - 1] = false;
		v[attno[COL_RECIPIENT] - 1] = recipient;
		nulls[attno[COL_RECIPIENT] - 1] = false;
		v[attno[COL_UPDATED] - 1] = TimestampTzGetDatum(now);
		nulls[attno[COL_UPDATED] - 1] = false;
		ExecStoreVirtualTuple(newslot);
		ResetPerTupleExprContext(estate);
		if (found)
		{
			bool		update_indexes;

			simple_table_tuple_update(rel, &tid, newslot, snapshot, &update_indexes);
			/* update = false: its hint would read a range table there is not */
			if (update_indexes)
				list_free(ExecInsertIndexTuples(rri, newslot, estate, false, false, NULL, NIL));
		}
		else
		{
			table_tuple_insert(rel, newslot, cid, 0, NULL);
			list_free(ExecInsertIndexTuples(rri, newslot, estate, false, false, NULL, NIL));
		}
		ExecClearTuple(newslot);
		MemoryContextReset(rowcxt);
	}

	index_endscan(scan);
	UnregisterSnapshot(snapshot);
	ExecDropSingleTupleTableSlot(oldslot);
	ExecDropSingleTupleTableSlot(newslot);
	index_close(idx, RowExclusiveLock);
	ExecCloseIndices(rri);
	FreeExecutorState(estate);
	MemoryContextDelete(rowcxt);
	table_close(rel, NoLock);
	CommandCounterIncrement();
	return true;
}
