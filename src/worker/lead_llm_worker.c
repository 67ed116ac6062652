/*
 * lead_llm_worker.c
 *		The "antiban leads" background worker: deferred lead scoring
 *		(lead_scorer.c) and the optional LLM step of lead qualification.
 *
 * Every antiban.lead_scoring_interval it scores what webhooks queued with
 * antiban.lead_scoring = deferred (nothing to do with inline scoring).
 * With antiban.lead_llm_url empty (the default) that is all: a reload that
 * sets the URL wakes it.  Otherwise, one conversation
 * at a time: a short transaction claims a conversation with unread inbound
 * text (antiban.lead_llm_claim: the daily budget, the request body, an
 * in-flight row of antiban.lead_llm_calls) and reads the API key; the HTTP
 * call runs outside any transaction, bounded by antiban.lead_llm_timeout;
 * a second short transaction records and checks the answer
 * (antiban.lead_llm_record), which on success adds the slots to the lead's
 * features and rescores it.  The key lives in this process's memory for
 * the length of one call, is sent only as the Authorization header, and is
 * wiped from the answer before the answer reaches SQL.
 */
#include "pg/antiban.h"
#include "pg/lead.h"
#include "pg/lead_llm.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "cloudapi/http_once.h"
#include "worker/lead_scorer.h"
#include "worker/worker_txn.h"

PGDLLEXPORT void antiban_lead_llm_main(Datum arg);

void
antiban_register_lead_llm(void)
{
	worker_register("antiban leads", "antiban leads", "antiban_lead_llm_main", (Datum) 0, 5);
}

static MemoryContext step_context = NULL;

/* One claimed call: what the HTTP request needs, in step_context. */
typedef struct LlmCall
{
	int64		id;
	char	   *request;
	char	   *key;			/* NULL without a key (a local endpoint may need none) */
} LlmCall;

static void
wipe(char *s)
{
	if (s)
		explicit_bzero(s, strlen(s));
}

/* Every copy of the key in the answer becomes "[redacted]", in place or anew. */
static char *
scrub_key(char *body, const char *key)
{
	StringInfoData out;
	const char *p = body;
	const char *hit;
	size_t		klen = key ? strlen(key) : 0;

	if (body == NULL || klen == 0 || strstr(body, key) == NULL)
		return body;
	initStringInfo(&out);
	while ((hit = strstr(p, key)) != NULL)
	{
		appendBinaryStringInfo(&out, p, hit - p);
		appendStringInfoString(&out, "[redacted]");
		p = hit + klen;
	}
	appendStringInfoString(&out, p);
	return out.data;
}

static bool
claim(LlmCall *call)
{
	Datum		args[3] = {CStringGetTextDatum(antiban_lead_llm_model),
		Int32GetDatum(antiban_lead_llm_daily_budget), Int32GetDatum(antiban_lead_llm_timeout_ms)};
	bool		found;

	worker_begin("lead llm: picking a conversation");
	if (SPI_execute_with_args("SELECT call_id, request FROM antiban.lead_llm_claim($1, $2, $3)",
							  3, (Oid[]) {TEXTOID, INT4OID, INT4OID}, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not claim a conversation for the LLM");
	found = SPI_processed == 1;
	if (found)
	{
		bool		isnull;

		call->id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		call->request = MemoryContextStrdup(step_context,
											SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2));
		if (SPI_execute("SELECT value FROM antiban.secrets WHERE kind = 'llm_api_key' AND waba_id IS NULL",
						true, 1) != SPI_OK_SELECT)
			elog(ERROR, "antiban: could not read the LLM key");
		call->key = NULL;
		if (SPI_processed == 1)
		{
			char	   *key = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

			call->key = MemoryContextStrdup(step_context, key);
			wipe(key);
		}
	}
	worker_commit();
	return found;
}

static void
record(const LlmCall *call, const HttpOnce *r, int latency_ms)
{
	char	   *body = r->status ? scrub_key(r->body, call->key) : NULL;
	const char *failure = NULL;
	Datum		args[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};

	if (r->status == 0)
		failure = r->timed_out ? "timeout" : r->error;
	/* an answer that is not text in the database's encoding is not JSON either */
	if (body && !pg_verifymbstr(body, strlen(body), true))
		body = "";
	args[0] = Int64GetDatum(call->id);
	args[1] = Int32GetDatum((int32) r->status);
	nulls[1] = r->status ? ' ' : 'n';
	args[2] = failure ? CStringGetTextDatum(failure) : (Datum) 0;
	nulls[2] = failure ? ' ' : 'n';
	args[3] = Int32GetDatum(latency_ms);
	args[4] = body ? CStringGetTextDatum(body) : (Datum) 0;
	nulls[4] = body ? ' ' : 'n';

	worker_begin_to_finish("lead llm: recording the answer");
	if (SPI_execute_with_args("SELECT antiban.lead_llm_record($1, $2, $3, $4, $5)", 5,
							  (Oid[]) {INT8OID, INT4OID, TEXTOID, INT4OID, TEXTOID},
							  args, nulls, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not record an LLM answer");
	worker_commit();
}

/* Claim, call, record.  False when no conversation was due. */
static bool
call_step(void)
{
	LlmCall		call = {0};
	HttpOnce	r;
	TimestampTz started;
	long		secs;
	int			usecs;

	if (!claim(&call))
		return false;
	pgstat_report_activity(STATE_RUNNING, "lead llm: waiting for the endpoint");
	started = GetCurrentTimestamp();
	(void) http_once(antiban_lead_llm_url, call.key, call.request, antiban_lead_llm_timeout_ms, &r);
	TimestampDifference(started, GetCurrentTimestamp(), &secs, &usecs);
	PG_TRY();
	{
		record(&call, &r, (int) Min(secs * 1000 + usecs / 1000, INT_MAX));
	}
	PG_FINALLY();
	{
		wipe(call.key);
		http_once_free(&r);
	}
	PG_END_TRY();
	return true;
}

static void
close_abandoned_step(void)
{
	worker_begin("lead llm: closing abandoned calls");
	if (SPI_execute("SELECT antiban.lead_llm_close_abandoned()", false, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not close abandoned LLM calls");
	worker_commit();
}

/* Run one step; its error is reported and forgotten, never fatal. */
static bool
run_step(const char *what, bool (*step) (void))
{
	MemoryContext caller = CurrentMemoryContext;
	bool		worked = false;

	MemoryContextReset(step_context);
	MemoryContextSwitchTo(step_context);
	PG_TRY();
	{
		worked = step();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(step_context);
		EmitErrorReport();
		FlushErrorState();
		AbortOutOfAnyTransaction();
		elog(LOG, "antiban leads: %s failed; trying again later", what);
		worked = false;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(caller);
	worker_report_idle("waiting for conversations");
	return worked;
}

static bool
close_abandoned(void)
{
	close_abandoned_step();
	return true;
}

static bool
configured(void)
{
	if (antiban_lead_llm_url == NULL || antiban_lead_llm_url[0] == '\0')
	{
		worker_report_idle("off: antiban.lead_llm_url is empty");
		return false;
	}
	if (antiban_lead_llm_model == NULL || antiban_lead_llm_model[0] == '\0')
	{
		worker_report_idle("off: antiban.lead_llm_model is empty");
		return false;
	}
	return true;
}

void
antiban_lead_llm_main(Datum arg)
{
	bool		abandoned_closed = false;
	bool		scoring_more = false;
	TimestampTz scored_at = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, worker_sigterm);
	BackgroundWorkerUnblockSignals();
	worker_connect("antiban leads");
	step_context = AllocSetContextCreate(TopMemoryContext, "antiban leads step",
										 ALLOCSET_DEFAULT_SIZES);

	while (!ShutdownRequestPending)
	{
		bool		more = false;
		bool		llm;

		worker_handle_signals();
		if (!worker_extension_present())
		{
			worker_report_idle("waiting for CREATE EXTENSION antiban");
			worker_wait_ms(5000);
			continue;
		}
		/* (a reload wakes the latch: score only when the interval is up, or more wait) */
		if (scoring_more || TimestampDifferenceExceeds(scored_at, GetCurrentTimestamp(),
													   antiban_lead_scoring_interval_ms))
		{
			scoring_more = more = run_step("scoring queued lead events", lead_scorer_step);
			scored_at = GetCurrentTimestamp();
		}
		llm = configured();
		if (llm)
		{
			if (!abandoned_closed)
				abandoned_closed = run_step("closing abandoned calls", close_abandoned);
			more = run_step("an LLM call", call_step) || more;
		}
		if (!more)
			worker_wait_ms(llm ? Min(antiban_lead_llm_poll_ms, antiban_lead_scoring_interval_ms)
						   : antiban_lead_scoring_interval_ms);
	}
	proc_exit(1);				/* 1: restarted if someone terminates it */
}
