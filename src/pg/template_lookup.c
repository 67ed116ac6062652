/*
 * template_lookup.c
 *		Look a template send's template up in antiban.templates and check
 *		the send against it (core/template_check.c) before it is queued.
 *
 * Which template: the one with the send's name and language on the WABAs
 * that could send it (the from_number's, the portfolio's, or every WABA
 * with a number),
 * preferring an APPROVED, synced, recently updated row.  Its category is
 * the one Meta bills at now (pending_category once its date has come).
 *
 * A template antiban does not know:
 *   - the WABAs' catalogue was synced (some template there has components
 *     from the monitor's poll): the name is refused, with the languages it
 *     exists in or the closest name.  Meta would answer 132001, and a typo
 *     is better caught before a campaign queues 10,000 messages.  A
 *     template approved since the last poll arrives by its status webhook
 *     (a row without components) and is then let through.
 *   - nothing synced yet (no monitor, a new WABA): let through unchecked.
 *     Meta is the authority; refusing every template of an install whose
 *     monitor is off would stop all sending for no reason.
 * A row without components (known from webhooks only) checks the category.
 * Whether the template is APPROVED is not judged here: paused and
 * refused templates are held or rejected at claim time
 * (antiban.hold_unapproved_templates), where their status is current.
 */
#include "pg/antiban.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/jsonb.h"

#include "core/template_check.h"
#include "pg/jsonb_view.h"
#include "pg/privileged.h"
#include "pg/template_lookup.h"

/*
 * The WABAs that could send: the sender's, those of the portfolios the
 * message may belong to (the one decided, or those of a mapped caller), or
 * every one with a number (a probe per WABA, not a scan of the numbers:
 * LIMIT keeps the planner from turning it into a join over them).  One text
 * per case rather than "$3 IS NULL OR ...", so that one generic plan serves
 * each: a custom plan per call cost more than the rest of an enqueue.  A
 * message of one portfolio is never checked against (nor its errors drawn
 * from) another portfolio's templates.
 */
#define WABAS_OF_SENDER \
	"WITH wabas AS (SELECT DISTINCT n.waba_id FROM antiban.numbers n" \
	"               WHERE n.phone_number_id = $3::text) "
#define WABAS_OF_PORTFOLIOS \
	"WITH wabas AS (SELECT w.id AS waba_id FROM antiban.wabas w" \
	"               WHERE w.portfolio_id = ANY ($3::text::bigint[])" \
	"                 AND EXISTS (SELECT FROM antiban.numbers n WHERE n.waba_id = w.id LIMIT 1)) "
#define WABAS_OF_ANY \
	"WITH wabas AS (SELECT w.id AS waba_id FROM antiban.wabas w" \
	"               WHERE EXISTS (SELECT FROM antiban.numbers n WHERE n.waba_id = w.id LIMIT 1)) "

#define FIND_SQL \
"SELECT CASE WHEN t.pending_category IS NOT NULL AND t.pending_category_at <= $4" \
"            THEN t.pending_category ELSE t.category END, t.components" \
" FROM antiban.templates t JOIN wabas w ON w.waba_id = t.waba_id" \
" WHERE t.name = $1 AND t.language = $2" \
" ORDER BY t.status = 'APPROVED' DESC NULLS LAST, t.components IS NOT NULL DESC, t.updated_at DESC" \
" LIMIT 1"

/* the same four arguments as FIND_SQL ($2 and $4 unused): one calling convention */
#define CATALOGUE_SQL \
"SELECT coalesce(string_agg(DISTINCT t.language, ', ') FILTER (WHERE t.name = $1), '')," \
"       array_agg(DISTINCT t.name)" \
" FROM antiban.templates t JOIN wabas w ON w.waba_id = t.waba_id" \
" WHERE EXISTS (SELECT FROM antiban.templates s JOIN wabas x ON x.waba_id = s.waba_id" \
"               WHERE s.components IS NOT NULL)"

/* by what $3 names: nothing, a sender, portfolios */
enum
{
	BY_ANY, BY_SENDER, BY_PORTFOLIOS
};
static const char *const find_sql[3] = {WABAS_OF_ANY FIND_SQL, WABAS_OF_SENDER FIND_SQL,
WABAS_OF_PORTFOLIOS FIND_SQL};
static const char *const catalogue_sql[3] = {WABAS_OF_ANY CATALOGUE_SQL, WABAS_OF_SENDER CATALOGUE_SQL,
WABAS_OF_PORTFOLIOS CATALOGUE_SQL};

/*
 * antiban.template_language(code), remembered for the session.  It is an
 * SQL function that cannot be inlined, so calling it inside the lookup
 * planned it again at every enqueue; it is immutable, and a change to any
 * function forgets what was remembered.
 */
#define LANGUAGE_MEMO 8

typedef struct LanguageMemo
{
	char	   *code;
	char	   *canonical;		/* NULL: the function said NULL */
} LanguageMemo;

static LanguageMemo language_memo[LANGUAGE_MEMO];
static int	language_memo_used = 0;

static void
forget_languages(Datum arg, int cacheid, uint32 hashvalue)
{
	for (int i = 0; i < language_memo_used; i++)
	{
		pfree(language_memo[i].code);
		if (language_memo[i].canonical)
			pfree(language_memo[i].canonical);
	}
	language_memo_used = 0;
}

/* Inside the caller's SPI connection and privileged section. */
static const char *
canonical_language(const char *code)
{
	static bool callback_set = false;
	static int	next = 0;
	Oid			type = TEXTOID;
	Datum		arg = CStringGetTextDatum(code);
	LanguageMemo *m;
	char	   *canonical;
	MemoryContext old;

	for (int i = 0; i < language_memo_used; i++)
		if (strcmp(language_memo[i].code, code) == 0)
			return language_memo[i].canonical;
	if (!callback_set)
	{
		CacheRegisterSyscacheCallback(PROCOID, forget_languages, (Datum) 0);
		callback_set = true;
	}
	if (SPI_execute_with_args("SELECT antiban.template_language($1)", 1, &type, &arg, NULL, true, 1)
		!= SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "antiban: could not read the template language of \"%s\"", code);
	canonical = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	if (language_memo_used < LANGUAGE_MEMO)
		m = &language_memo[language_memo_used++];
	else
	{
		m = &language_memo[next];
		next = (next + 1) % LANGUAGE_MEMO;
		pfree(m->code);
		if (m->canonical)
			pfree(m->canonical);
	}
	old = MemoryContextSwitchTo(TopMemoryContext);
	m->code = pstrdup(code);
	m->canonical = canonical ? pstrdup(canonical) : NULL;
	MemoryContextSwitchTo(old);
	return m->canonical;
}

typedef struct Lookup
{
	Datum		args[4];
	char		nulls[4];
} Lookup;

static SPIPlanPtr
plan_for(SPIPlanPtr *plan, const char *sql)
{
	Oid			types[4] = {TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID};

	if (*plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare_cursor(sql, 4, types, CURSOR_OPT_GENERIC_PLAN);

		if (p == NULL || SPI_keepplan(p) != 0)
			elog(ERROR, "antiban: could not prepare the template lookup: %s",
				 SPI_result_code_string(SPI_result));
		*plan = p;
	}
	return *plan;
}

static char *
payload_text(const JsonView *v, const char *path)
{
	const char *s;
	long		len;

	return v->text(v->ctx, path, &s, &len) ? pnstrdup(s, len) : NULL;
}

/* Unknown in a synced catalogue: the error, with what is there instead. */
static void
refuse_unknown(const char *name, const char *language, HeapTuple t, TupleDesc d)
{
	char	   *languages = SPI_getvalue(t, d, 1);
	bool		isnull;
	Datum		names = SPI_getbinval(t, d, 2, &isnull);
	Datum	   *elems;
	int			n;
	const char **list;
	const char *closest;

	deconstruct_array(DatumGetArrayTypeP(names), TEXTOID, -1, false, TYPALIGN_INT, &elems, NULL, &n);
	list = palloc(sizeof(char *) * Max(n, 1));
	for (int i = 0; i < n; i++)
		list[i] = TextDatumGetCString(elems[i]);
	closest = template_closest_name(name, list, n);
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("invalid template message: template \"%s\" (%s) is not among the templates synced from Meta",
					name, language),
			 errdetail("Meta would answer 132001 (template does not exist in that language). The templates of the WABAs that could send it were synced by the monitor's poll; a template approved since arrives by its status webhook."),
			 languages[0] ? errhint("It exists in: %s.", languages) :
			 closest ? errhint("Did you mean \"%s\"?", closest) :
			 errhint("Check the name in antiban.templates, or wait for the monitor's next template poll.")));
}

static void
refuse(const char *type, const PayloadError *err)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid %s message: %s %s", type, err->field, err->message),
			 errdetail("Field \"%s\" does not fit the template Meta approved (antiban.templates).", err->field),
			 err->hint[0] ? errhint("%s", err->hint) :
			 errhint("Compare with the template's components in antiban.templates; the payload was not queued.")));
}

/*
 * 'portfolios' ("{1,2}", as bigint[] text) scopes a send without
 * from_number; NULL with no from_number: every WABA with a number (the
 * workers, an unrestricted caller's check).
 */
void
template_check_or_error(Jsonb *payload, Category category, const char *from_number,
						const char *portfolios)
{
	static SPIPlanPtr find_plan[3] = {NULL, NULL, NULL};
	static SPIPlanPtr catalogue_plan[3] = {NULL, NULL, NULL};
	int			by_sender = from_number ? BY_SENDER : portfolios ? BY_PORTFOLIOS : BY_ANY;
	const char *scope = from_number ? from_number : portfolios;
	const char *canonical;
	JsonView	send = jsonb_view(payload);
	TemplateSpec spec = {0};
	PayloadError err;
	Lookup		l;
	JsonView	approved;
	Datum		components;
	bool		isnull;

	spec.name = payload_text(&send, "template.name");
	spec.language = payload_text(&send, "template.language.code");
	if (spec.name == NULL || spec.language == NULL)
		return;					/* payload_validate said so already */
	l.args[0] = CStringGetTextDatum(spec.name);
	canonical = canonical_language(spec.language);
	l.args[1] = canonical ? CStringGetTextDatum(canonical) : (Datum) 0;
	l.args[2] = scope ? CStringGetTextDatum(scope) : (Datum) 0;
	l.args[3] = TimestampTzGetDatum(antiban_now());
	memcpy(l.nulls, "  n ", 4);
	l.nulls[1] = canonical ? ' ' : 'n';
	l.nulls[2] = scope ? ' ' : 'n';
	if (SPI_execute_plan(plan_for(&find_plan[by_sender], find_sql[by_sender]), l.args, l.nulls, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not look up template %s", spec.name);
	if (SPI_processed == 0)
	{
		/* names is NULL unless some template of those WABAs was synced */
		if (SPI_execute_plan(plan_for(&catalogue_plan[by_sender], catalogue_sql[by_sender]), l.args, l.nulls, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "antiban: could not read the template catalogue");
		if (SPI_processed == 1)
		{
			(void) SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
			if (!isnull)
				refuse_unknown(spec.name, spec.language, SPI_tuptable->vals[0], SPI_tuptable->tupdesc);
		}
		return;
	}
	spec.category = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	components = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	if (!isnull)
	{
		approved = jsonb_view(DatumGetJsonbP(components));
		spec.components = &approved;
	}
	if (!template_check(&spec, &send, category_name(category), &err))
		refuse("template", &err);
}
