/*
 * sender.c
 *		The sender background workers: drain the outbox to the Cloud API.
 *
 * Each loop: claim due messages in one short transaction (tokens taken
 * there, rows leased as 'sending'), hand them to libcurl multi outside any
 * transaction, and record the answers in a second short transaction.  The
 * worker sleeps on its latch when there is nothing to do: committing
 * senders wake it (wake.c), and a tick covers retries, leases and expiry.
 * SIGHUP reloads the settings (concurrency changes live); SIGTERM stops it
 * after recording what already came back; the postmaster restarts it after
 * a crash, and leases make sure nothing in flight is lost or sent twice.
 * When the endpoint does not answer at all, its circuit breaker holds the
 * claims and the messages (breaker_sender.c).
 */
#include "worker/sender.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "worker/breaker_sender.h"
#include "worker/worker_txn.h"

PGDLLEXPORT void antiban_sender_main(Datum arg);

#define MAX_RESULTS 256

void
antiban_register_senders(void)
{
	for (int i = 0; i < antiban_sender_workers; i++)
	{
		char		name[BGW_MAXLEN];

		snprintf(name, sizeof(name), "antiban sender %d", i + 1);
		worker_register(name, "antiban sender", "antiban_sender_main", Int32GetDatum(i), 1);
	}
}

static void
submit_all(SenderState *st, Outgoing *out, int n, CloudApiResult *failed, int *nfailed)
{
	for (int i = 0; i < n; i++)
	{
		CloudApiResult *r = &failed[*nfailed];

		if (out[i].token && cloudapi_submit(st->client, out[i].id, out[i].url, out[i].token, out[i].body))
			continue;
		/* nothing left this machine: a transient failure, retried with backoff */
		memset(r, 0, sizeof(*r));
		r->id = out[i].id;
		r->transport = TRANSPORT_NOT_SENT;
		r->facts.failure = TRANSPORT_FAILED_LOCAL;	/* not the endpoint's doing */
		r->answer.error_code = -1;
		snprintf(r->transport_error, sizeof(r->transport_error), "%s",
				 out[i].token ? "could not start the HTTP request" :
				 "no access token for this number's WABA (antiban.set_secret('access_token', ...))");
		(*nfailed)++;
	}
}

/*
 * Record results: the messages the endpoint never saw are held for the
 * circuit breaker, the others recorded as answered or failed.
 */
static void
record_results(SenderState *st, CloudApiResult *results, int n, const char *activity)
{
	CloudApiResult *held = MemoryContextAlloc(st->batch_context, sizeof(CloudApiResult) * n);
	int			nheld;
	int			nrecord = sender_breaker_sort(st, results, n, held, &nheld);

	if (nrecord == 0 && nheld == 0)
		return;
	worker_begin(activity);
	sender_breaker_hold(st, held, nheld);
	if (nrecord > 0)
		sender_record(st, results, nrecord);
	worker_commit();
}

/* Claim as many as there is room for; returns how many went out. */
static int
claim_and_send(SenderState *st, TimestampTz *next_due)
{
	int			room = antiban_max_inflight - cloudapi_inflight(st->client);
	Outgoing   *out = NULL;
	CloudApiResult failed[MAX_RESULTS];
	int			nfailed = 0;
	int			n;

	int64		tokens;
	TimestampTz next_token;

	if (room <= 0)
		return 0;
	/* the endpoint's breaker: all, one probe, or nothing */
	room = sender_breaker_admit(st, room, next_due);
	if (room <= 0)
		return 0;
	worker_begin("antiban sender: claiming due messages");
	/* claim no more than the numbers can send now: nothing to put back */
	tokens = buckets_available(numbers_cache_get(), antiban_now(), &next_token);
	if (tokens == 0)
	{
		worker_commit();
		sender_breaker_claimed(out, 0);
		*next_due = next_token;
		return 0;
	}
	n = sender_claim(st, (int) Min(tokens, Min(room, Min(antiban_claim_batch, MAX_RESULTS))), &out, next_due);
	worker_commit();
	sender_breaker_claimed(out, n);
	submit_all(st, out, n, failed, &nfailed);
	if (nfailed > 0)
		record_results(st, failed, nfailed, "antiban sender: recording requests that could not start");
	return n;
}

static int
collect_results(SenderState *st, int wait_ms)
{
	CloudApiResult results[MAX_RESULTS];
	int			n = cloudapi_poll(st->client, wait_ms, results, MAX_RESULTS);

	if (n > 0)
		record_results(st, results, n, "antiban sender: recording answers");
	return n;
}

static void
report_activity(SenderState *st, const char *state)
{
	char		line[128];

	snprintf(line, sizeof(line), "antiban sender %d: %s, %d in flight", st->slot + 1, state,
			 cloudapi_inflight(st->client));
	pgstat_report_activity(cloudapi_inflight(st->client) > 0 ? STATE_RUNNING : STATE_IDLE, line);
}

static void
reconcile_if_due(SenderState *st)
{
	TimestampTz now = GetCurrentTimestamp();

	if (now < st->next_reconcile)
		return;
	st->next_reconcile = now + (TimestampTz) antiban_sender_tick_ms * 1000;
	worker_begin("antiban sender: reconciling leases and validity");
	sender_reconcile(st);
	worker_commit();
}

/* How long to sleep when nothing is in flight: until the next due message. */
static long
idle_wait_ms(TimestampTz next_due)
{
	long		tick = antiban_sender_tick_ms;
	TimestampTz now = antiban_now();

	if (next_due == 0)
		return tick;
	if (next_due <= now)
		return 1;
	return Min(tick, (long) ((next_due - now) / 1000) + 1);
}

static void
handle_signals(SenderState *st)
{
	CHECK_FOR_INTERRUPTS();
	if (ConfigReloadPending)
	{
		ConfigReloadPending = false;
		ProcessConfigFile(PGC_SIGHUP);
		cloudapi_set_timeouts(st->client, antiban_http_timeout_ms, Min(antiban_http_timeout_ms, 5000));
	}
}

static void
sender_loop(SenderState *st)
{
	while (!ShutdownRequestPending)
	{
		TimestampTz next_due = 0;
		int			claimed = 0;
		int			done;

		MemoryContextReset(st->batch_context);
		handle_signals(st);
		reconcile_if_due(st);
		claimed = claim_and_send(st, &next_due);
		done = collect_results(st, cloudapi_inflight(st->client) > 0 && claimed == 0 ? 20 : 0);
		sender_breaker_flush();
		report_activity(st, "sending");
		if (cloudapi_inflight(st->client) == 0 && claimed == 0 && done == 0)
		{
			report_activity(st, "waiting for messages");
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 idle_wait_ms(next_due), PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
		else if (claimed == 0 && done == 0)
			ResetLatch(MyLatch);
	}
}

/* Requests still out when asked to stop: record what comes back in time. */
static void
drain_before_exit(SenderState *st)
{
	TimestampTz give_up = GetCurrentTimestamp() + 5 * USECS_PER_SEC;

	while (cloudapi_inflight(st->client) > 0 && GetCurrentTimestamp() < give_up)
		collect_results(st, 50);
	sender_breaker_flush();
}

void
antiban_sender_main(Datum arg)
{
	SenderState st = {.slot = DatumGetInt32(arg)};
	HASHCTL		ctl = {.keysize = sizeof(int64), .entrysize = sizeof(InFlight)};

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();
	worker_connect("antiban sender");

	st.inflight = hash_create("antiban in flight", 1024, &ctl, HASH_ELEM | HASH_BLOBS);
	st.batch_context = AllocSetContextCreate(TopMemoryContext, "antiban sender batch",
											 ALLOCSET_DEFAULT_SIZES);
	st.client = cloudapi_create(antiban_http_timeout_ms, Min(antiban_http_timeout_ms, 5000));
	if (st.client == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("antiban sender could not initialise libcurl")));
	srandom((unsigned) MyProcPid);

	/* idle until the extension exists in this database */
	while (!ShutdownRequestPending && !worker_extension_present())
	{
		report_activity(&st, "waiting for CREATE EXTENSION antiban");
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 5000, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		handle_signals(&st);
	}
	antiban_register_sender_latch(st.slot, MyLatch);
	sender_loop(&st);
	drain_before_exit(&st);
	antiban_register_sender_latch(st.slot, NULL);
	cloudapi_destroy(st.client);
	proc_exit(1);
}
