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
#include "utils/snapmgr.h"
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
#define WABAS_OF_ANY \
	"WITH wabas AS (SELECT w.id AS waba_id FROM antiban.wabas w" \
	"               WHERE EXISTS (SELECT FROM antiban.numbers n WHERE n.waba_id = w.id LIMIT 1)) "
#define WABAS_OF_PORTFOLIOS \
	"WITH wabas AS (SELECT w.id AS waba_id FROM antiban.wabas w" \
	"               WHERE w.portfolio_id = ANY ($3::text::bigint[])" \
	"                 AND EXISTS (SELECT FROM antiban.numbers n WHERE n.waba_id = w.id LIMIT 1)) "

#define FIND_SQL \
"SELECT t.category, t.components, t.pending_category, t.pending_category_at" \
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
 * What a lookup found, kept for the session: a send of one template pays
 * two planned queries (the template, and on a miss the WABAs' catalogue),
 * more than the rest of an enqueue.  An entry stands while neither the
 * templates (templates_generation, bumped at the commit of any change to
 * antiban.templates) nor the numbers and WABAs (config_generation) have
 * changed; the lookup that fills it runs on a snapshot taken after both
 * were read, so a change committed meanwhile is either seen or bumps them.
 * A transaction that changed templates itself neither reads nor fills it.
 * Unknown names in a synced catalogue (an error) are not kept.
 */
#define TEMPLATE_CACHE 16

typedef struct CachedLookup
{
	MemoryContext cxt;			/* NULL: empty slot */
	uint64		templates_generation;
	uint64		config_generation;
	char	   *name;
	char	   *language;		/* as the send gave it */
	char	   *from_number;	/* NULL: the portfolios' WABAs */
	char	   *portfolios;		/* bigint[] text; both NULL: any WABA with a number */
	bool		known;
	char	   *category;
	char	   *pending_category;	/* NULL: none */
	TimestampTz pending_at;
	Jsonb	   *components;
} CachedLookup;

static CachedLookup lookups[TEMPLATE_CACHE];
static int	lookups_next = 0;

static bool
same_text(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

static CachedLookup *
cached_lookup(const char *name, const char *language, const char *from_number,
			  const char *portfolios, uint64 tgen, uint64 cgen)
{
	for (int i = 0; i < TEMPLATE_CACHE; i++)
	{
		CachedLookup *c = &lookups[i];

		if (c->cxt && c->templates_generation == tgen && c->config_generation == cgen &&
			strcmp(c->name, name) == 0 && strcmp(c->language, language) == 0 &&
			same_text(c->from_number, from_number) && same_text(c->portfolios, portfolios))
			return c;
	}
	return NULL;
}

static char *
copy_or_null(MemoryContext cxt, const char *s)
{
	return s ? MemoryContextStrdup(cxt, s) : NULL;
}

static void
keep_lookup(const CachedLookup *found, uint64 tgen, uint64 cgen)
{
	CachedLookup *c = &lookups[lookups_next];
	MemoryContext cxt;

	lookups_next = (lookups_next + 1) % TEMPLATE_CACHE;
	if (c->cxt)
		MemoryContextDelete(c->cxt);
	cxt = AllocSetContextCreate(TopMemoryContext, "antiban template lookup", ALLOCSET_SMALL_SIZES);
	*c = *found;
	c->cxt = cxt;
	c->templates_generation = tgen;
	c->config_generation = cgen;
	c->name = MemoryContextStrdup(cxt, found->name);
	c->language = MemoryContextStrdup(cxt, found->language);
	c->from_number = copy_or_null(cxt, found->from_number);
	c->portfolios = copy_or_null(cxt, found->portfolios);
	c->category = copy_or_null(cxt, found->category);
	c->pending_category = copy_or_null(cxt, found->pending_category);
	if (found->components)
	{
		c->components = MemoryContextAlloc(cxt, VARSIZE(found->components));
		memcpy(c->components, found->components, VARSIZE(found->components));
	}
}

/* The lookup itself, on the active snapshot; refuses an unknown name. */
static void
lookup_template(const char *name, const char *language, const char *from_number,
				const char *portfolios, CachedLookup *f)
{
	static SPIPlanPtr find_plan[3] = {NULL, NULL, NULL};
	static SPIPlanPtr catalogue_plan[3] = {NULL, NULL, NULL};
	int			by_sender = from_number ? BY_SENDER : portfolios ? BY_PORTFOLIOS : BY_ANY;
	const char *scope = from_number ? from_number : portfolios;
	const char *canonical;
	Lookup		l;
	Datum		v;
	bool		isnull;
	HeapTuple	tup;
	TupleDesc	desc;

	l.args[0] = CStringGetTextDatum(name);
	canonical = canonical_language(language);
	l.args[1] = canonical ? CStringGetTextDatum(canonical) : (Datum) 0;
	l.args[2] = scope ? CStringGetTextDatum(scope) : (Datum) 0;
	l.args[3] = TimestampTzGetDatum(antiban_now());
	memcpy(l.nulls, "  n ", 4);
	l.nulls[1] = canonical ? ' ' : 'n';
	l.nulls[2] = scope ? ' ' : 'n';
	if (SPI_execute_plan(plan_for(&find_plan[by_sender], find_sql[by_sender]), l.args, l.nulls, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not look up template %s", name);
	if (SPI_processed == 0)
	{
		/* names is NULL unless some template of those WABAs was synced */
		if (SPI_execute_plan(plan_for(&catalogue_plan[by_sender], catalogue_sql[by_sender]), l.args, l.nulls, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "antiban: could not read the template catalogue");
		if (SPI_processed == 1)
		{
			(void) SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
			if (!isnull)
				refuse_unknown(name, language, SPI_tuptable->vals[0], SPI_tuptable->tupdesc);
		}
		return;
	}
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	f->known = true;
	f->category = SPI_getvalue(tup, desc, 1);
	v = SPI_getbinval(tup, desc, 2, &isnull);
	f->components = isnull ? NULL : DatumGetJsonbPCopy(v);
	f->pending_category = SPI_getvalue(tup, desc, 3);
	v = SPI_getbinval(tup, desc, 4, &isnull);
	f->pending_at = isnull ? DT_NOEND : DatumGetTimestampTz(v);
}

/*
 * The template a send of this name and language would use, as
 * antiban.templates holds it, into *t (t->known false: nothing synced to
 * check against).  Refuses a name unknown in a synced catalogue.
 */
static void
template_find(const char *name, const char *language, const char *from_number,
			  const char *portfolios, TemplateMemo *t)
{
	bool		changing = antiban_templates_changing();
	uint64		tgen = pg_atomic_read_u64(&antiban_shared->templates_generation);
	uint64		cgen = pg_atomic_read_u64(&antiban_shared->config_generation);
	CachedLookup found = {0};
	const CachedLookup *c = NULL;

	pg_memory_barrier();
	if (!changing)
		c = cached_lookup(name, language, from_number, portfolios, tgen, cgen);
	if (c == NULL)
	{
		found.name = (char *) name;
		found.language = (char *) language;
		found.from_number = (char *) from_number;
		found.portfolios = (char *) portfolios;
		PushActiveSnapshot(GetLatestSnapshot());
		lookup_template(name, language, from_number, portfolios, &found);
		PopActiveSnapshot();
		if (!changing)
			keep_lookup(&found, tgen, cgen);
		c = &found;
	}
	t->name = pstrdup(name);
	t->language = pstrdup(language);
	t->known = c->known;
	/* the category Meta bills at now: the pending one once its date has come */
	t->category = c->pending_category && c->pending_at <= antiban_now() ?
		pstrdup(c->pending_category) : c->category ? pstrdup(c->category) : NULL;
	t->components = NULL;
	if (c->components)
	{
		/* the caller's own copy: a later lookup may drop the cached one */
		t->components = palloc(VARSIZE(c->components));
		memcpy(t->components, c->components, VARSIZE(c->components));
	}
}

/*
 * Check one send against its template, looking the template up only when
 * its name, language or sender differ from the memo's (a set of sends of
 * one template looks it up once).  memo->name NULL: nothing remembered.
 */
void
template_check_memo(TemplateMemo *memo, Jsonb *payload, Category category, const char *from_number,
					const char *portfolios)
{
	JsonView	send = jsonb_view(payload);
	TemplateSpec spec = {0};
	PayloadError err;
	JsonView	approved;

	spec.name = payload_text(&send, "template.name");
	spec.language = payload_text(&send, "template.language.code");
	if (spec.name == NULL || spec.language == NULL)
		return;					/* payload_validate said so already */
	if (memo->name == NULL || strcmp(memo->name, spec.name) != 0 ||
		strcmp(memo->language, spec.language) != 0)
		template_find(spec.name, spec.language, from_number, portfolios, memo);
	if (!memo->known)
		return;
	spec.category = memo->category;
	if (memo->components)
	{
		approved = jsonb_view(memo->components);
		spec.components = &approved;
	}
	if (!template_check(&spec, &send, category_name(category), &err))
		refuse("template", &err);
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
	TemplateMemo memo = {0};

	template_check_memo(&memo, payload, category, from_number, portfolios);
}
