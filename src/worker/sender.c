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

/* Answers not recorded yet (see collect_results). */
static CloudApiResult *answers;
static int	nanswers;
static TimestampTz answers_since;

#define MAX_RESULTS 256
/*
 * When the numbers' tokens, not the room in flight, limited the last claim,
 * the next one waits this long after it: each claim pays for its
 * transaction and for two UPDATE statements of the outbox and their
 * statement triggers, whatever its size, and claiming the moment one token
 * came back made batches of a few messages.  Half of the 10 ms a number's
 * bucket holds (its burst is a hundredth of its rate, core/throughput.c):
 * no token is lost waiting, even by a single sender.
 */
#define CLAIM_GATHER_MS 5
/* How long answers wait to be recorded together (collect_results). */
#define RECORD_GATHER_MS 20
/* How long a stopping sender waits for, and records, the answers in flight. */
#define STOP_DRAIN_MS 5000

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

/* A recording transaction: what worker_run_stoppable runs while stopping. */
typedef struct RecordStep
{
	SenderState *st;
	CloudApiResult *results;
	int			nrecord;
	CloudApiResult *held;
	int			nheld;
} RecordStep;

static void
record_step(void *arg)
{
	RecordStep *r = arg;

	sender_breaker_hold(r->st, r->held, r->nheld);
	if (r->nrecord > 0)
		sender_record(r->st, r->results, r->nrecord);
}

/*
 * Record results: the messages the endpoint never saw are held for the
 * circuit breaker, the others recorded as answered or failed.  SIGTERM lets
 * this finish (a message that reached Meta is recorded, not reconciled);
 * while stopping, deadline_ms bounds it (a lock nobody releases): what it
 * could not record stays 'sending' under its lease, reconciled later, never
 * sent again blindly.
 */
static void
record_results(SenderState *st, CloudApiResult *results, int n, const char *activity,
			   int deadline_ms)
{
	RecordStep	r = {.st = st, .results = results};

	r.held = MemoryContextAlloc(st->batch_context, sizeof(CloudApiResult) * n);
	r.nrecord = sender_breaker_sort(st, results, n, r.held, &r.nheld);
	if (r.nrecord == 0 && r.nheld == 0)
		return;
	if (deadline_ms > 0)
	{
		if (!worker_run_stoppable(activity, record_step, &r, deadline_ms))
			ereport(WARNING,
					(errmsg("antiban sender could not record %d answers before stopping", r.nrecord + r.nheld),
					 errdetail("Their messages stay 'sending' until a status webhook or the lease reconciles them.")));
		return;
	}
	worker_begin(activity);
	record_step(&r);
	worker_commit();
}

/* The claim's transaction: what worker_run_stoppable runs. */
typedef struct ClaimStep
{
	SenderState *st;
	int			room;
	Outgoing   *out;
	int			n;
	TimestampTz next_due;
} ClaimStep;

static void
claim_step(void *arg)
{
	ClaimStep  *c = arg;
	int			room = Min(c->room, Min(antiban_claim_batch, MAX_RESULTS));
	int64		tokens;
	int64		granted;
	TimestampTz next_token;

	/*
	 * Claim no more than the numbers can send now, less what other senders'
	 * claims in progress are about to take: nothing to put back.
	 */
	tokens = buckets_available(numbers_cache_get(), antiban_now(), &next_token);
	granted = claim_share_promise(c->st->slot, tokens, room);
	c->st->token_bound = granted < room;
	if (granted == 0)
	{
		/* promised to another claim, which ends within milliseconds */
		c->next_due = tokens > 0 ? antiban_now() + CLAIM_GATHER_MS * 1000 : next_token;
		return;
	}
	c->n = sender_claim(c->st, (int) granted, &c->out, &c->next_due);
}

/*
 * Claim as many as there is room for; returns how many went out.  SIGTERM
 * ends a claim in progress (rolled back: its messages stay queued).
 */
static int
claim_and_send(SenderState *st, TimestampTz *next_due)
{
	ClaimStep	c = {.st = st};
	CloudApiResult failed[MAX_RESULTS];
	int			nfailed = 0;
	TimestampTz now;

	c.room = antiban_max_inflight - cloudapi_inflight(st->client) - nanswers;
	if (c.room <= 0)
		return 0;
	/* the endpoint's breaker: all, one probe, or nothing */
	c.room = sender_breaker_admit(st, c.room, next_due);
	if (c.room <= 0)
		return 0;
	now = GetCurrentTimestamp();
	if (st->token_bound && now < st->last_claim + CLAIM_GATHER_MS * 1000)
	{
		/* the numbers' tokens were the limit: let a batch gather */
		*next_due = antiban_now() + (st->last_claim + CLAIM_GATHER_MS * 1000 - now);
		return 0;
	}
	st->last_claim = now;
	if (!worker_run_stoppable("antiban sender: claiming due messages", claim_step, &c, 0))
	{
		claim_share_forget(st->slot);
		/* rolled back: what the claim remembered never went out */
		for (int i = 0; i < c.n; i++)
			hash_search(st->inflight, &c.out[i].id, HASH_REMOVE, NULL);
		c.n = 0;
		c.out = NULL;
	}
	*next_due = c.next_due;
	sender_breaker_claimed(c.out, c.n);
	submit_all(st, c.out, c.n, failed, &nfailed);
	if (nfailed > 0)
		record_results(st, failed, nfailed, "antiban sender: recording requests that could not start", 0);
	return c.n;
}

/*
 * Answers wait here to be recorded together: each recording pays for its
 * transaction and for an UPDATE of the outbox with its statement triggers,
 * whatever its size, and recording each poll's few answers at once cost
 * more than the rows themselves.  Recorded when RECORD_GATHER_MS have passed
 * since the first of them came back, when they take half the room, when
 * nothing else is in flight, and when stopping.  Until then their messages
 * are 'sending' under their lease, as during the HTTP call (a crash then
 * leaves them to the reconcile, never to a second send), and they count as
 * in flight: a sender never has more than antiban.max_inflight messages
 * 'sending'.
 */
static void
record_answers(SenderState *st, int deadline_ms)
{
	if (nanswers == 0)
		return;
	record_results(st, answers, nanswers, "antiban sender: recording answers", deadline_ms);
	nanswers = 0;
}

static int
collect_results(SenderState *st, int wait_ms, int deadline_ms)
{
	int			n;

	if (answers == NULL)
		answers = MemoryContextAlloc(TopMemoryContext, sizeof(CloudApiResult) * MAX_RESULTS);
	n = cloudapi_poll(st->client, wait_ms, answers + nanswers, MAX_RESULTS - nanswers);
	if (n > 0 && nanswers == 0)
		answers_since = GetCurrentTimestamp();
	nanswers += n;
	if (deadline_ms > 0 || nanswers >= Min(MAX_RESULTS, antiban_max_inflight) / 2 ||
		cloudapi_inflight(st->client) == 0 ||
		GetCurrentTimestamp() >= answers_since + RECORD_GATHER_MS * 1000)
		record_answers(st, deadline_ms);
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
	(void) worker_run_stoppable("antiban sender: reconciling leases and validity",
								(void (*) (void *)) sender_reconcile, st, 0);
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
		sender_fit_open_files(antiban_max_inflight);
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
		/*
		 * Wait for answers no longer than until the next token: a number's
		 * bucket holds 10 ms of its rate, and what overflows is lost.
		 */
		done = collect_results(st, cloudapi_inflight(st->client) > 0 && claimed == 0 ?
							   (int) Min(20, idle_wait_ms(next_due)) : 0, 0);
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

/*
 * Requests still out when asked to stop: record what comes back in time
 * (recording included: a statement still waiting then is cancelled).
 */
static void
drain_before_exit(SenderState *st)
{
	TimestampTz give_up = GetCurrentTimestamp() + STOP_DRAIN_MS * 1000;
	TimestampTz now;

	while (cloudapi_inflight(st->client) > 0 && (now = GetCurrentTimestamp()) < give_up)
		collect_results(st, 50, Max(1, (int) ((give_up - now) / 1000)));
	record_answers(st, Max(1000, (int) ((give_up - GetCurrentTimestamp()) / 1000)));
	sender_breaker_flush();
}

/* A sender that exits, on an error too, holds no tokens back from the others. */
static void
forget_promise(int code, Datum slot)
{
	claim_share_forget(DatumGetInt32(slot));
}

void
antiban_sender_main(Datum arg)
{
	SenderState st = {.slot = DatumGetInt32(arg)};
	HASHCTL		ctl = {.keysize = sizeof(int64), .entrysize = sizeof(InFlight)};

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, worker_sigterm);
	BackgroundWorkerUnblockSignals();
	worker_finish_statements_on_sigterm();
	worker_connect("antiban sender");
	sender_fit_open_files(antiban_max_inflight);

	st.inflight = hash_create("antiban in flight", 1024, &ctl, HASH_ELEM | HASH_BLOBS);
	st.batch_context = AllocSetContextCreate(TopMemoryContext, "antiban sender batch",
											 ALLOCSET_DEFAULT_SIZES);
	st.client = cloudapi_create(antiban_http_timeout_ms, Min(antiban_http_timeout_ms, 5000));
	if (st.client == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("antiban sender could not initialise libcurl")));
	srandom((unsigned) MyProcPid);
	claim_share_forget(st.slot);
	before_shmem_exit(forget_promise, Int32GetDatum(st.slot));

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
