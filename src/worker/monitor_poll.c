/*
 * monitor_poll.c
 *		Graph API polls: each due WABA's numbers (quality, status,
 *		health_status, throughput, messaging limit) and its templates.
 *
 * What is due and how many calls the rolling hour still allows come from
 * SQL (antiban.poll_plan counts antiban.mgmt_calls), so the budget holds
 * across restarts and is never exceeded: each call is counted before the
 * next is made.  The HTTP calls run outside any transaction; the answers
 * are stored in one short transaction per WABA.
 */
#include "worker/monitor.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "pgstat.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "cloudapi/http_once.h"
#include "pg/circuit_breakers.h"
#include "worker/monitor_pricing.h"
#include "worker/worker_txn.h"

#define POLL_TIMEOUT_MS 10000
#define MAX_WABAS_PER_TICK 16
#define MAX_CALLS_PER_WABA 64

static const char *const number_fields =
"quality_rating,status,throughput,health_status,whatsapp_business_manager_messaging_limit,display_phone_number";
static const char *const template_fields = "name,language,status,category,quality_score,components,id";

typedef enum CallKind
{
	CALL_NUMBER,
	CALL_TEMPLATES
} CallKind;

typedef struct Call
{
	CallKind	kind;
	char	   *target;			/* phone_number_id, or the WABA's id */
	char	   *path;			/* for antiban.mgmt_calls: no token, no host */
	long		status;
	char	   *body;
	char	   *error;
} Call;

typedef struct WabaPoll
{
	int64		id;
	char	   *waba_id;
	int			budget;
	int			nnumbers;
	char	  **numbers;
	char	   *token;
	int			ncalls;
	Call		calls[MAX_CALLS_PER_WABA];
} WabaPoll;

static int
load_plan(WabaPoll *polls)
{
	Oid			types[1] = {INT4OID};
	Datum		args[1] = {Int32GetDatum(antiban_mgmt_requests_per_hour)};
	MemoryContext keep = CurrentMemoryContext;
	int			n;

	worker_begin("planning Graph API polls");
	if (SPI_execute_with_args("SELECT p.waba, p.waba_id, p.budget, p.numbers, s.value"
							  " FROM antiban.poll_plan($1) p"
							  " JOIN antiban.secrets s ON s.kind = 'access_token' AND s.waba_id = p.waba",
							  1, types, args, NULL, true, MAX_WABAS_PER_TICK) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not plan polls");
	n = (int) SPI_processed;
	for (int i = 0; i < n; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum	   *elems;
		int			nelems;
		MemoryContext spi = MemoryContextSwitchTo(keep);
		WabaPoll   *p = &polls[i];

		p->id = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
		p->waba_id = pstrdup(SPI_getvalue(t, d, 2));
		p->budget = DatumGetInt32(SPI_getbinval(t, d, 3, &isnull));
		deconstruct_array(DatumGetArrayTypeP(SPI_getbinval(t, d, 4, &isnull)), TEXTOID, -1, false,
						  TYPALIGN_INT, &elems, NULL, &nelems);
		p->nnumbers = nelems;
		p->numbers = palloc(sizeof(char *) * Max(nelems, 1));
		for (int k = 0; k < nelems; k++)
			p->numbers[k] = TextDatumGetCString(elems[k]);
		p->token = pstrdup(SPI_getvalue(t, d, 5));
		p->ncalls = 0;
		MemoryContextSwitchTo(spi);
	}
	MemoryContextSwitchTo(keep);
	worker_commit();
	MemoryContextSwitchTo(keep);
	return n;
}

static char *
graph_url(const char *path)
{
	return psprintf("%s/%s/%s", antiban_graph_base_url, antiban_graph_version, path);
}

/* One GET, remembered with its answer; false when the WABA should stop. */
static bool
call(WabaPoll *p, CallKind kind, const char *target, char *path)
{
	Call	   *c = &p->calls[p->ncalls++];
	HttpOnce	r;
	char		message[256];
	int			code = -1;

	c->kind = kind;
	c->target = pstrdup(target);
	c->path = path;
	c->error = NULL;
	c->body = NULL;
	p->budget--;
	if (!http_once(graph_url(path), p->token, NULL, POLL_TIMEOUT_MS, &r))
		c->error = psprintf("no answer: %s", r.error);
	c->status = r.status;
	if (r.body)
		c->body = pstrdup(r.body);
	if (c->error == NULL && (r.status != 200 || graph_error(r.body, message, sizeof(message), &code)))
	{
		if (!graph_error(r.body, message, sizeof(message), &code))
			snprintf(message, sizeof(message), "unexpected answer");
		c->error = psprintf("HTTP %ld, code %d: %s", r.status, code, message);
	}
	http_once_free(&r);
	/* rate limited, refused or unreachable: the next calls would fail too */
	return c->error == NULL ||
		!(c->status == 0 || c->status == 401 || c->status == 403 || c->status == 429 ||
		  code == 4 || code == 80007 || code == 80008 || code == 190);
}

/* Templates first (a paused one must stop its sends), then the numbers. */
static void
fetch(WabaPoll *p)
{
	char		cursor[512] = "";
	char		escaped[1024];

	while (p->budget > 0 && p->ncalls < MAX_CALLS_PER_WABA)
	{
		Call	   *c;

		if (!http_escape(cursor, escaped, sizeof(escaped)))
			break;
		if (!call(p, CALL_TEMPLATES, p->waba_id,
				  psprintf("%s/message_templates?fields=%s&limit=100%s%s", p->waba_id, template_fields,
						   cursor[0] ? "&after=" : "", cursor[0] ? escaped : "")))
			return;
		c = &p->calls[p->ncalls - 1];
		if (c->error || !graph_next_cursor(c->body, cursor, sizeof(cursor)))
			break;
	}
	for (int k = 0; k < p->nnumbers && p->budget > 0 && p->ncalls < MAX_CALLS_PER_WABA; k++)
		if (!call(p, CALL_NUMBER, p->numbers[k], psprintf("%s?fields=%s", p->numbers[k], number_fields)))
			return;
}

static void
store(WabaPoll *p)
{
	const char *failure = NULL;

	worker_begin_to_finish("storing Graph API poll results");
	for (int i = 0; i < p->ncalls; i++)
	{
		Call	   *c = &p->calls[i];
		Oid			ctypes[3] = {INT8OID, TEXTOID, INT4OID};
		Datum		cargs[3] = {Int64GetDatum(p->id), CStringGetTextDatum(c->path), Int32GetDatum((int32) c->status)};
		char		cnulls[3] = {' ', ' ', c->status ? ' ' : 'n'};
		Oid			atypes[2] = {TEXTOID, TEXTOID};
		Datum		aargs[2];

		if (SPI_execute_with_args("SELECT antiban.record_mgmt_call($1, $2, $3)", 3, ctypes, cargs, cnulls,
								  false, 0) != SPI_OK_SELECT)
			elog(ERROR, "antiban: could not record a management call");
		if (c->error)
		{
			failure = c->error;
			continue;
		}
		aargs[0] = CStringGetTextDatum(c->target);
		aargs[1] = CStringGetTextDatum(c->body);
		if (SPI_execute_with_args(c->kind == CALL_NUMBER ? "SELECT antiban.apply_number_poll($1, $2::jsonb)"
								  : "SELECT antiban.apply_template_poll($1, $2::jsonb)",
								  2, atypes, aargs, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "antiban: could not store a poll answer");
	}
	if (p->budget <= 0 && failure == NULL && p->ncalls == 0)
		failure = "the management rate limit's budget for this hour is used up";
	{
		Oid			types[4] = {INT8OID, BOOLOID, TEXTOID, FLOAT8OID};
		Datum		args[4] = {Int64GetDatum(p->id), BoolGetDatum(failure == NULL),
		failure ? CStringGetTextDatum(failure) : (Datum) 0, Float8GetDatum(antiban_poll_interval_ms / 1000.0)};
		char		nulls[4] = {' ', ' ', failure ? ' ' : 'n', ' '};

		if (SPI_execute_with_args("SELECT antiban.record_poll($1, $2, $3, make_interval(secs => $4))",
								  4, types, args, nulls, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "antiban: could not record the poll");
	}
	worker_commit();
	if (failure)
		ereport(LOG, (errmsg("antiban monitor: polling WABA %s failed: %s", p->waba_id, failure)));
}

int
monitor_poll_due(void)
{
	WabaPoll   *polls;
	int			n;
	int			calls = 0;

	/*
	 * The senders' circuit breaker says the endpoint does not answer: each
	 * poll would fail and still spend the hour's budget, which the first
	 * polls after the outage need.  The breaker's probe finds it back.
	 */
	if (breaker_holds(breaker_endpoint()))
		return 0;
	polls = palloc0(sizeof(WabaPoll) * MAX_WABAS_PER_TICK);
	n = load_plan(polls);

	for (int i = 0; i < n; i++)
	{
		WabaPoll   *p = &polls[i];

		if (p->budget <= 0)
			continue;			/* wait for the rolling hour to free calls */
		pgstat_report_activity(STATE_RUNNING, psprintf("polling WABA %s", p->waba_id));
		fetch(p);
		store(p);
		calls += p->ncalls + monitor_poll_pricing(p->id, p->waba_id, p->token, p->budget);
		memset(p->token, 0, strlen(p->token));
	}
	return calls;
}
