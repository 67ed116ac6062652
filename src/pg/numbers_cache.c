/*
 * numbers_cache.c
 *		This backend's copy of the sending numbers and their portfolios.
 *
 * decide() and try_consume() run tens of thousands of times a second; they
 * must not query tables.  Each backend keeps the numbers (sorted by health,
 * best first, as the decision core wants them) in local memory and reloads
 * them when the shared configuration generation moves.  A statement trigger
 * on the configuration tables bumps the generation at commit, so other
 * backends see a change as soon as it is visible, and never before.
 */
#include "pg/antiban.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "core/throughput.h"
#include "pg/privileged.h"
#include "pg/warmup.h"
#include "pg/xact_memory.h"

#define PHONE_ID_MAXLEN 64

typedef struct PhoneEntry
{
	char		phone_number_id[PHONE_ID_MAXLEN];
	int			index;
} PhoneEntry;

static NumbersCache *cache = NULL;
static uint64 cache_generation = 0;
/* Settings that shape the cached buckets: a change (SIGHUP) rebuilds the cache. */
typedef struct CacheSettings
{
	double		headroom;
	WarmupParams warmup;
} CacheSettings;

static CacheSettings cache_settings;
static MemoryContext cache_context = NULL;
static bool bump_pending = false;
static bool callback_registered = false;
/* Loaded in a transaction that changed the configuration and then aborted. */
static bool cache_stale = false;

/*
 * Columns 14 and 15: what Meta's account signals hold against the number's
 * WABA (antiban.waba_blocks): the blocks that take it out of rotation, and
 * until when business-initiated messages are restricted.  decide() compares
 * the latter with the clock, so a restriction lifts without a reload.
 */
static const char *const numbers_sql =
"SELECT n.id, n.phone_number_id, n.health, n.mode::text, n.status::text,"
" n.throughput_level::text, coalesce(n.rate_override, 0), coalesce(n.burst_override, 0),"
" n.rate_factor, w.portfolio_id, n.can_send_message <> 'BLOCKED', n.warmup_day, n.warmup_full_until,"
" nullif(concat_ws(', ', b.blocked, CASE WHEN t.missing THEN 'no access token' END), ''), b.restricted_until"
" FROM antiban.numbers n JOIN antiban.wabas w ON w.id = n.waba_id"
" LEFT JOIN LATERAL (SELECT string_agg(k.kind, ', ' ORDER BY k.kind) FILTER (WHERE k.scope = 'all') AS blocked,"
"   max(coalesce(k.until, 'infinity')) FILTER (WHERE k.scope = 'business_initiated') AS restricted_until"
"   FROM antiban.waba_blocks k WHERE k.waba_id = n.waba_id) b ON true"
/* without a token the sender could only retry: once any WABA has one, a WABA without is out */
" LEFT JOIN LATERAL (SELECT NOT EXISTS (SELECT 1 FROM antiban.secrets s"
"   WHERE s.kind = 'access_token' AND s.waba_id = n.waba_id)"
"   AND EXISTS (SELECT 1 FROM antiban.secrets s WHERE s.kind = 'access_token') AS missing) t ON true"
" ORDER BY n.health DESC, n.id";

static const char *const grants_sql =
"SELECT rp.role::oid, rp.portfolio_id FROM antiban.role_portfolio_grants rp"
" WHERE EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.oid = rp.role::oid)"
" ORDER BY rp.role, rp.portfolio_id";

static const char *const portfolios_sql =
"SELECT p.id, p.business_id, antiban.tier_limit(p.messaging_limit)"
" FROM antiban.portfolios p ORDER BY p.id";

/*
 * SPI_execute switches back to SPI's own context, freed by SPI_finish: all
 * that the cache keeps is allocated explicitly in cache_context.
 */
static void *
cache_alloc(Size size)
{
	return MemoryContextAllocZero(cache_context, size);
}

static char *
cache_text(HeapTuple t, TupleDesc d, int col)
{
	return MemoryContextStrdup(cache_context, SPI_getvalue(t, d, col));
}

static int64
int64_col(HeapTuple t, TupleDesc d, int col)
{
	bool		isnull;
	Datum		v = SPI_getbinval(t, d, col, &isnull);

	return isnull ? -1 : DatumGetInt64(v);
}

static double
float_col(HeapTuple t, TupleDesc d, int col)
{
	bool		isnull;
	Datum		v = SPI_getbinval(t, d, col, &isnull);

	return isnull ? 0.0 : DatumGetFloat8(v);
}

static void
load_portfolios(NumbersCache *c)
{
	SPI_execute(portfolios_sql, true, 0);
	c->nportfolios = (int) SPI_processed;
	c->portfolios = cache_alloc(sizeof(CachedPortfolio) * Max(c->nportfolios, 1));
	for (int i = 0; i < c->nportfolios; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;

		c->portfolios[i].id = int64_col(t, d, 1);
		c->portfolios[i].business_id = cache_text(t, d, 2);
		c->portfolios[i].messaging_limit = int64_col(t, d, 3);
	}
}

static int portfolio_index(NumbersCache *c, int64 id);

/* antiban.role_portfolios: a handful of rows, checked on every decision */
static void
load_grants(NumbersCache *c)
{
	SPI_execute(grants_sql, true, 0);
	c->ngrants = (int) SPI_processed;
	c->grants = cache_alloc(sizeof(RolePortfolio) * Max(c->ngrants, 1));
	for (int i = 0; i < c->ngrants; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		bool		isnull;

		c->grants[i].role = DatumGetObjectId(SPI_getbinval(t, d, 1, &isnull));
		c->grants[i].portfolio_index = portfolio_index(c, int64_col(t, d, 2));
	}
}

static int
portfolio_index(NumbersCache *c, int64 id)
{
	for (int i = 0; i < c->nportfolios; i++)
		if (c->portfolios[i].id == id)
			return i;
	elog(ERROR, "antiban: number refers to unknown portfolio " INT64_FORMAT, id);
	return -1;
}

/* A warming number sends at its warm-up day's rate, or slower if set so. */
static double
warming_rate(double rate_override, int day)
{
	WarmupParams p = antiban_warmup_params();
	double		rate = warmup_rate(&p, day);

	return rate_override > 0 && rate_override < rate ? rate_override : rate;
}

static void
load_number(NumbersCache *c, int i, HeapTuple t, TupleDesc d)
{
	CachedNumber *n = &c->numbers[i];
	NumberMode	mode = MODE_ACTIVE;
	char	   *level = SPI_getvalue(t, d, 6);
	double		rate_override = float_col(t, d, 7);
	bool		isnull;
	Datum		full_until = SPI_getbinval(t, d, 13, &isnull);
	Datum		restricted_until;

	n->view.id = int64_col(t, d, 1);
	n->view.slot = i;
	n->view.phone_number_id = cache_text(t, d, 2);
	n->view.health = (int) DatumGetInt16(SPI_getbinval(t, d, 3, &(bool) {false}));
	number_mode_parse(SPI_getvalue(t, d, 4), &mode);
	n->view.mode = mode;
	/* Meta's status and its health_status must both allow sending */
	n->view.can_send = number_status_can_send(SPI_getvalue(t, d, 5)) &&
		DatumGetBool(SPI_getbinval(t, d, 11, &(bool) {false}));
	n->view.full_until = isnull ? 0 : DatumGetTimestampTz(full_until);
	n->view.account_block = SPI_getvalue(t, d, 14) ? cache_text(t, d, 14) : NULL;
	restricted_until = SPI_getbinval(t, d, 15, &isnull);
	/* 'infinity' is DT_NOEND, INT64_MAX: no end date */
	n->view.restricted_until = isnull ? 0 : DatumGetTimestampTz(restricted_until);
	if (mode == MODE_WARMING)
		rate_override = warming_rate(rate_override, DatumGetInt32(SPI_getbinval(t, d, 12, &isnull)));
	if (!throughput_params(level, rate_override, float_col(t, d, 8),
						   float_col(t, d, 9), antiban_throughput_headroom / 100.0,
						   antiban_arrival_jitter_ms / 1000.0, &n->throughput))
		elog(ERROR, "antiban: unknown throughput level \"%s\"", level);
	n->portfolio_id = int64_col(t, d, 10);
	n->portfolio_index = portfolio_index(c, n->portfolio_id);
	c->views[i] = n->view;
}

/* Each portfolio's numbers, kept in the global best-health-first order. */
static void
group_by_portfolio(NumbersCache *c)
{
	for (int i = 0; i < c->nnumbers; i++)
		c->portfolios[c->numbers[i].portfolio_index].nnumbers++;
	for (int p = 0; p < c->nportfolios; p++)
	{
		c->portfolios[p].numbers = cache_alloc(sizeof(NumberView) * Max(c->portfolios[p].nnumbers, 1));
		c->portfolios[p].nnumbers = 0;
	}
	for (int i = 0; i < c->nnumbers; i++)
	{
		CachedPortfolio *p = &c->portfolios[c->numbers[i].portfolio_index];

		p->numbers[p->nnumbers++] = c->numbers[i].view;
	}
}

static void
index_by_phone(NumbersCache *c)
{
	HASHCTL		ctl = {.keysize = PHONE_ID_MAXLEN, .entrysize = sizeof(PhoneEntry), .hcxt = cache_context};

	c->by_phone = hash_create("antiban numbers", Max(c->nnumbers, 16), &ctl,
							  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	for (int i = 0; i < c->nnumbers; i++)
	{
		PhoneEntry *e = hash_search(c->by_phone, c->numbers[i].view.phone_number_id, HASH_ENTER, NULL);

		e->index = i;
	}
}

static NumbersCache *
load_cache(void)
{
	NumbersCache *c = cache_alloc(sizeof(NumbersCache));
	Privileged	priv;

	c->instance = get_extension_oid("antiban", false);
	privileged_begin(&priv);
	SPI_connect();
	load_portfolios(c);
	load_grants(c);
	SPI_execute(numbers_sql, true, 0);
	c->nnumbers = (int) SPI_processed;
	c->numbers = cache_alloc(sizeof(CachedNumber) * Max(c->nnumbers, 1));
	c->views = cache_alloc(sizeof(NumberView) * Max(c->nnumbers, 1));
	for (int i = 0; i < c->nnumbers; i++)
		load_number(c, i, SPI_tuptable->vals[i], SPI_tuptable->tupdesc);
	group_by_portfolio(c);
	index_by_phone(c);
	SPI_finish();
	privileged_end(&priv);
	return c;
}

static CacheSettings
current_settings(void)
{
	CacheSettings s;

	s.headroom = antiban_throughput_headroom;
	s.warmup = antiban_warmup_params();
	return s;
}

static bool
same_settings(const CacheSettings *a, const CacheSettings *b)
{
	return a->headroom == b->headroom &&
		a->warmup.start_daily == b->warmup.start_daily && a->warmup.growth == b->warmup.growth &&
		a->warmup.max_daily == b->warmup.max_daily && a->warmup.spread_hours == b->warmup.spread_hours;
}

/*
 * The current cache.  Built in a fresh context that replaces the old one
 * only once loading succeeded, so an error leaves the previous copy intact;
 * the one replaced stays readable until the transaction ends (xact_memory.c).
 */
NumbersCache *
numbers_cache_get(void)
{
	CacheSettings settings;
	uint64		generation;
	MemoryContext previous = cache_context;
	MemoryContext fresh;
	MemoryContext old;
	NumbersCache *loaded;

	antiban_require_loaded();
	generation = pg_atomic_read_u64(&antiban_shared->config_generation);
	settings = current_settings();
	if (cache != NULL && !cache_stale && generation == cache_generation &&
		same_settings(&settings, &cache_settings))
		return cache;

	fresh = AllocSetContextCreate(TopMemoryContext, "antiban numbers cache",
								  ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(fresh);
	/* load_cache allocates in cache_context */
	cache_context = fresh;
	PG_TRY();
	{
		loaded = load_cache();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(old);
		cache_context = previous;
		MemoryContextDelete(fresh);
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	/* callers may still hold the old copy (a CachedNumber, the cache) */
	if (previous)
		free_at_transaction_end(previous);
	cache = loaded;
	cache_stale = false;
	cache_generation = generation;
	cache_settings = settings;
	return cache;
}

CachedNumber *
numbers_cache_find(NumbersCache *c, const char *phone_number_id)
{
	PhoneEntry *e;

	if (strlen(phone_number_id) >= PHONE_ID_MAXLEN)
		return NULL;
	e = hash_search(c->by_phone, phone_number_id, HASH_FIND, NULL);
	return e ? &c->numbers[e->index] : NULL;
}

CachedNumber *
numbers_cache_by_id(NumbersCache *c, int64 id)
{
	for (int i = 0; i < c->nnumbers; i++)
		if (c->numbers[i].view.id == id)
			return &c->numbers[i];
	return NULL;
}

const char *
numbers_cache_phone(NumbersCache *c, int64 id)
{
	CachedNumber *n = numbers_cache_by_id(c, id);

	return n ? n->view.phone_number_id : NULL;
}

CachedPortfolio *
numbers_cache_portfolio(NumbersCache *c, const char *business_id)
{
	for (int i = 0; i < c->nportfolios; i++)
		if (strcmp(c->portfolios[i].business_id, business_id) == 0)
			return &c->portfolios[i];
	return NULL;
}

/* The templates' own generation (template_lookup.c's cache reads it). */
static bool templates_bump_pending = false;

static void
bump_at_commit(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_PRE_PREPARE && (bump_pending || templates_bump_pending))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot prepare a transaction that changed the numbers, WABAs, portfolios, secrets or templates of antiban"),
				 errdetail("Every backend reloads its copy of them when such a transaction commits, which COMMIT PREPARED would skip."),
				 errhint("Commit this transaction directly, or make the change in a transaction that is not prepared.")));
	if (event == XACT_EVENT_COMMIT && bump_pending && antiban_shared)
		pg_atomic_fetch_add_u64(&antiban_shared->config_generation, 1);
	if (event == XACT_EVENT_COMMIT && templates_bump_pending && antiban_shared)
		pg_atomic_fetch_add_u64(&antiban_shared->templates_generation, 1);
	/* a copy loaded since may hold this transaction's rows, now gone */
	if ((event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT) && bump_pending)
		cache_stale = true;
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)
		bump_pending = templates_bump_pending = false;
}

static void
register_bump(void)
{
	if (!callback_registered)
	{
		RegisterXactCallback(bump_at_commit, NULL);
		callback_registered = true;
	}
}

/* Every backend reloads its cache after this transaction commits. */
void
antiban_config_changed(void)
{
	register_bump();
	bump_pending = true;
}

/*
 * Whether this transaction changed antiban.templates or the numbers,
 * WABAs and portfolios a template lookup depends on (not yet committed):
 * what it looks up now may not survive, so it is not kept.
 */
bool
antiban_templates_changing(void)
{
	return templates_bump_pending || bump_pending;
}

PG_FUNCTION_INFO_V1(antiban_templates_changed_trigger);

/*
 * Statement trigger on antiban.templates: every backend forgets the
 * templates it looked up once this transaction commits.
 */
Datum
antiban_templates_changed_trigger(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("antiban.templates_changed() must be called as a trigger")));
	register_bump();
	templates_bump_pending = true;
	return PointerGetDatum(NULL);
}

PG_FUNCTION_INFO_V1(antiban_config_changed_trigger);

/* Statement trigger on numbers, wabas and portfolios. */
Datum
antiban_config_changed_trigger(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("antiban.config_changed() must be called as a trigger")));
	antiban_config_changed();
	return PointerGetDatum(NULL);
}

PG_FUNCTION_INFO_V1(antiban_reload_config);

/*
 * antiban.reload_config(): make every backend re-read numbers, portfolios
 * and templates (every portfolio's: not a tenant administrator's to do).
 * The install script calls it too, as the superuser who installs, where
 * the check could not read the mapping yet (0.1.0's has no antiban_owner).
 */
Datum
antiban_reload_config(PG_FUNCTION_ARGS)
{
	if (!creating_extension)
		tenancy_refuse_install_wide("reload every backend's configuration");
	antiban_config_changed();
	templates_bump_pending = true;
	PG_RETURN_VOID();
}
