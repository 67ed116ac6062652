/*
 * campaign_plan.c
 *		The C half of campaigns: a whole audience decided in one call, and
 *		the check that an audience query is one plain SELECT.
 *
 * antiban.decide_many() runs the very decision antiban.decide() runs (so a
 * rule added to decide, such as consent or quiet hours, shows up in a
 * campaign's plan with its own reason), as a dry run that takes nothing and
 * journals nothing: a plan over 50,000 people must neither fill the
 * decision journal nor cost a function call and a journal record each.
 * Each answer also names the person (the anchor every person rule is keyed
 * by, so two identifiers of one person are one audience member) and whether
 * a send would count against the portfolio's 24 h limit.
 *
 * antiban.audience_query_check() parses the text a caller gives as an
 * audience: exactly one SELECT, no SELECT INTO, no row locks, no
 * data-modifying WITH.  It runs nothing; the campaign code runs the query,
 * wrapped as a subquery, with the caller's own rights.
 */
#include "pg/antiban.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "core/reach_window.h"

#define DECIDE_MANY_COLS 9

/* 24 h: the window of the portfolio's messaging limit. */
#define REACH_SPAN (INT64CONST(24) * 60 * 60 * USECS_PER_SEC)

typedef struct PlanTarget
{
	NumbersCache *cache;
	CachedPortfolio *portfolio;
	Category	category;
	TimestampTz now;
	const FrequencyCaps *caps;	/* a campaign's own; NULL: antiban.frequency_caps */
} PlanTarget;

/* Would a template sent now count as a new person against the 24 h limit? */
static bool
counts_against_limit(const RecipientState *rs, Category category, TimestampTz now)
{
	if (category == CATEGORY_SERVICE)
		return false;
	if (rs->window_until > now)
		return false;
	return rs->last_reach == REACH_NEVER || rs->last_reach <= now - REACH_SPAN;
}

static void
decide_one(const PlanTarget *t, int ord, const char *recipient,
		   Datum *values, bool *nulls)
{
	char		normalized[RECIPIENT_MAXLEN + 1];
	DecideArgs	args = {.cache = t->cache, .now = t->now, .recipient = recipient,
		.category = t->category, .priority = PRIORITY_LOW, .valid_until = TB_NEVER,
	.portfolio = t->portfolio->business_id, .role = GetUserId(), .consume = false, .quiet = true,
	.caps = t->caps};
	Decision	d;

	antiban_decide_message(&args, &d, normalized);
	memset(nulls, true, sizeof(bool) * DECIDE_MANY_COLS);
	values[0] = Int32GetDatum(ord);
	nulls[0] = false;
	if (recipient)
	{
		values[1] = CStringGetTextDatum(recipient);
		nulls[1] = false;
	}
	if (normalized[0] != '\0')
	{
		char		key[RECIPIENT_KEY_SIZE];
		uint64		key_hash;
		uint64		anchor;
		RecipientState rs;

		if (identity_key(normalized, key, &key_hash))
		{
			reach_get(t->cache->instance, t->portfolio->id, key_hash, &rs, &anchor);
			values[2] = CStringGetTextDatum(key);
			values[3] = Int64GetDatum((int64) anchor);
			values[4] = BoolGetDatum(counts_against_limit(&rs, t->category, t->now));
			nulls[2] = nulls[3] = nulls[4] = false;
		}
	}
	values[5] = CStringGetTextDatum(outcome_name(d.outcome));
	values[6] = CStringGetTextDatum(reason_name(d.reason));
	nulls[5] = nulls[6] = false;
	if (d.number)
	{
		values[7] = CStringGetTextDatum(d.number->phone_number_id);
		nulls[7] = false;
	}
	if (d.outcome == OUTCOME_QUEUE && d.not_before != TB_NEVER)
	{
		values[8] = TimestampTzGetDatum(d.not_before);
		nulls[8] = false;
	}
}

PG_FUNCTION_INFO_V1(antiban_decide_many);

/*
 * antiban.decide_many(recipients text[], category text, portfolio text)
 *		-> setof (ord, recipient, person_key, person, counts, outcome, reason,
 *				  phone_number_id, not_before)
 */
Datum
antiban_decide_many(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PlanTarget	t;
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *elem_nulls;
	int			n;
	MemoryContext per_row;
	MemoryContext old;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	t.cache = numbers_cache_get();
	t.now = antiban_now();
	t.category = category_or_error(required_text_arg(fcinfo, 1, "category"));
	t.portfolio = portfolio_or_error(t.cache, required_text_arg(fcinfo, 2, "portfolio"));
	t.caps = NULL;
	if (PG_NARGS() > 3 && !PG_ARGISNULL(3))
	{
		FrequencyCaps *caps = palloc(sizeof(FrequencyCaps));

		frequency_caps_or_error(text_to_cstring(PG_GETARG_TEXT_PP(3)), caps);
		t.caps = caps;
	}
	arr = PG_GETARG_ARRAYTYPE_P(0);
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &elem_nulls, &n);
	InitMaterializedSRF(fcinfo, 0);
	reach_ensure_loaded(t.cache, t.portfolio, t.now);
	per_row = AllocSetContextCreate(CurrentMemoryContext, "decide_many row",
									ALLOCSET_SMALL_SIZES);
	for (int i = 0; i < n; i++)
	{
		Datum		values[DECIDE_MANY_COLS];
		bool		nulls[DECIDE_MANY_COLS];

		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(per_row);
		decide_one(&t, i + 1, elem_nulls[i] ? NULL : TextDatumGetCString(elems[i]),
				   values, nulls);
		MemoryContextSwitchTo(old);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		MemoryContextReset(per_row);
	}
	MemoryContextDelete(per_row);
	return (Datum) 0;
}

static void
refuse_audience(const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("the audience must be one SELECT statement or a table name"),
			 errdetail("%s", why),
			 errhint("For example: SELECT phone AS recipient, jsonb_build_array(first_name) AS params FROM customers WHERE city = 'Recife'")));
}

static void check_select(SelectStmt *select);

/* A WITH that writes (INSERT/UPDATE/DELETE ... RETURNING) is no audience. */
static void
check_with(WithClause *with)
{
	ListCell   *lc;

	if (with == NULL)
		return;
	foreach(lc, with->ctes)
	{
		CommonTableExpr *cte = lfirst_node(CommonTableExpr, lc);

		if (!IsA(cte->ctequery, SelectStmt))
			refuse_audience("A WITH query of the audience changes data.");
		check_select((SelectStmt *) cte->ctequery);
	}
}

/* The SELECT and each arm of a UNION: no INTO, no locks, no writing WITH. */
static void
check_select(SelectStmt *select)
{
	if (select == NULL)
		return;
	if (select->intoClause != NULL)
		refuse_audience("SELECT INTO creates a table.");
	if (select->lockingClause != NIL)
		refuse_audience("An audience locks no rows (FOR UPDATE, FOR SHARE).");
	check_with(select->withClause);
	check_select(select->larg);
	check_select(select->rarg);
}

PG_FUNCTION_INFO_V1(antiban_audience_query_check);

/*
 * antiban.audience_query_check(query text) -> text: the statement alone
 * (without a trailing semicolon), or an error saying what is wrong.
 */
Datum
antiban_audience_query_check(PG_FUNCTION_ARGS)
{
	char	   *query = required_text_arg(fcinfo, 0, "audience");
	List	   *stmts = pg_parse_query(query);
	RawStmt    *raw;
	int			len;

	if (list_length(stmts) != 1)
		refuse_audience(list_length(stmts) == 0 ? "The audience query is empty." :
						"The audience query holds more than one statement.");
	raw = linitial_node(RawStmt, stmts);
	if (!IsA(raw->stmt, SelectStmt))
		refuse_audience("The audience query is not a SELECT.");
	check_select((SelectStmt *) raw->stmt);
	len = raw->stmt_len > 0 ? raw->stmt_len : (int) strlen(query) - raw->stmt_location;
	PG_RETURN_TEXT_P(cstring_to_text_with_len(query + raw->stmt_location, len));
}
