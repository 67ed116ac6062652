/*
 * breaker_sender.c
 *		The sender and the endpoint's circuit breaker (core/circuit_breaker.c,
 *		state in src/pg/circuit_breakers.c).
 *
 * Before each claim the sender asks the breaker.  Closed: claim as usual.
 * Open: claim nothing and sleep until the next probe is due.  When a probe
 * is due, one sender takes it: a GET of a number's id on the management
 * path, which sends nothing to anyone and can not duplicate a message,
 * counted within antiban.mgmt_requests_per_hour like the monitor's calls
 * once it may have reached Meta (a refused connect did not).  Without a
 * WABA that has a token and budget left, the probe is one due message
 * instead, sent under the usual rules.
 *
 * After each batch every result tells the breaker what it proves; the
 * messages whose request never got a connection are held (breaker_hold.c)
 * instead of recorded as failed attempts.  Phase changes are kept here and
 * written by sender_breaker_flush in a short transaction of their own, with
 * one alert when the breaker opens.
 */
#include "worker/breaker_sender.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "pg/circuit_breakers.h"
#include "pg/privileged.h"
#include "worker/worker_txn.h"

/* The GET probe's result id: never an outbox row's. */
#define PROBE_ID ((int64) -1)
#define MAX_EVENTS 32

typedef enum ProbeKind
{
	PROBE_NONE,
	PROBE_GET,					/* the management GET is out */
	PROBE_MESSAGE_WANTED,		/* taken; the claim picks the message */
	PROBE_MESSAGE				/* that message is out */
} ProbeKind;

typedef struct Probe
{
	ProbeKind	kind;
	int64		message_id;		/* PROBE_MESSAGE */
	int64		waba;			/* PROBE_GET: whose budget it spends */
	char		path[128];		/* PROBE_GET: as antiban.mgmt_calls stores it */
	char		endpoint[BREAKER_ENDPOINT_MAX];
	BreakerEvent taken;			/* open -> half_open, written once it went */
} Probe;

/* A management call to count (the GET probe, once it may have reached Meta). */
typedef struct MgmtCall
{
	bool		pending;
	int64		waba;
	char		path[128];
	int			http_status;	/* 0: no answer */
} MgmtCall;

static Probe probe;
static MgmtCall mgmt_call;
static BreakerEvent events[MAX_EVENTS];
static int	nevents = 0;
static char endpoint[BREAKER_ENDPOINT_MAX];

/* Which WABA and number a GET probe may use: a token and budget left. */
static const char *const target_sql =
"SELECT waba, number_id, phone_number_id FROM antiban.breaker_probe_target($1)";

static const char *const event_sql =
"SELECT antiban.note_breaker_event($1, $2, $3::antiban.breaker_state, $4::antiban.breaker_state,"
" $5, $6, $7, $8, make_interval(secs => $9), $10)";

static void
note_event(const BreakerEvent *ev)
{
	if (ev->change.reason == BREAKER_NO_CHANGE)
		return;
	if (nevents == MAX_EVENTS)
	{
		/* never while flushing each loop; keep the newest */
		memmove(events, events + 1, sizeof(BreakerEvent) * (MAX_EVENTS - 1));
		nevents--;
	}
	events[nevents++] = *ev;
	/* closed again: the other senders sleep until their next probe time */
	if (ev->change.to == BREAKER_CLOSED)
		antiban_wake_senders();
}

/* The breaker's times are the real clock; the sender's waits are antiban.now(). */
static TimestampTz
on_sender_clock(TimestampTz real_time)
{
	return antiban_now() + Max(real_time - GetCurrentTimestamp(), 0);
}

/* Choose the GET probe's target and take the probe; false: no target. */
static bool
start_get_probe(SenderState *st, TimestampTz now)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[1] = {INT4OID};
	Datum		args[1] = {Int32GetDatum(antiban_mgmt_requests_per_hour)};
	const char *token = NULL;
	char	   *url = NULL;
	char		detail[BREAKER_DETAIL_MAX];
	bool		isnull;

	worker_begin("antiban sender: choosing the circuit breaker's probe");
	if (plan == NULL)
		plan = privileged_prepare(target_sql, 1, types);
	if (SPI_execute_plan(plan, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not choose the circuit breaker's probe");
	if (SPI_processed == 1)
	{
		HeapTuple	t = SPI_tuptable->vals[0];
		TupleDesc	d = SPI_tuptable->tupdesc;

		probe.waba = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
		snprintf(probe.path, sizeof(probe.path), "%s?fields=id", SPI_getvalue(t, d, 3));
		token = access_token_for(DatumGetInt64(SPI_getbinval(t, d, 2, &isnull)));
		if (token)
		{
			token = MemoryContextStrdup(st->batch_context, token);
			url = MemoryContextStrdup(st->batch_context, psprintf("%s/%s", endpoint, probe.path));
		}
	}
	worker_commit();
	if (token == NULL)
		return false;
	snprintf(detail, sizeof(detail), "probe: GET %s (a management call, nothing sent to anyone)", probe.path);
	if (!breaker_take_probe(endpoint, now, detail, &probe.taken))
		return true;			/* another sender took it */
	if (!cloudapi_submit_get(st->client, PROBE_ID, url, token))
	{
		breaker_drop_probe(endpoint, now);
		return true;
	}
	probe.kind = PROBE_GET;
	strlcpy(probe.endpoint, endpoint, sizeof(probe.endpoint));
	note_event(&probe.taken);
	return true;
}

/*
 * How many messages may be claimed now: 'room' while the breaker is closed,
 * 1 for a message probe, else 0 (*next_due: when to ask again).
 */
int
sender_breaker_admit(SenderState *st, int room, TimestampTz *next_due)
{
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz wait_until;
	BreakerEvent ev;
	BreakerGate gate;
	char	   *current = breaker_endpoint();

	strlcpy(endpoint, current, sizeof(endpoint));
	pfree(current);
	gate = breaker_check(endpoint, now, &wait_until, &ev);
	note_event(&ev);
	if (gate == BREAKER_GATE_CLAIM)
		return room;
	*next_due = on_sender_clock(wait_until);
	/* our own probe is still out (it ends within antiban.http_timeout) */
	if (gate == BREAKER_GATE_HOLD || probe.kind != PROBE_NONE)
		return 0;
	if (start_get_probe(st, now))
		return 0;
	if (!breaker_take_probe(endpoint, now, "", &probe.taken))
		return 0;
	probe.kind = PROBE_MESSAGE_WANTED;
	strlcpy(probe.endpoint, endpoint, sizeof(probe.endpoint));
	return 1;
}

/* After the claim: the message probe is the one claimed, if any. */
void
sender_breaker_claimed(const Outgoing *out, int n)
{
	if (probe.kind != PROBE_MESSAGE_WANTED)
		return;
	if (n == 0)
	{
		/* nothing due to probe with: wait for the next turn */
		breaker_drop_probe(probe.endpoint, GetCurrentTimestamp());
		probe.kind = PROBE_NONE;
		return;
	}
	probe.kind = PROBE_MESSAGE;
	probe.message_id = out[0].id;
	snprintf(probe.taken.detail, sizeof(probe.taken.detail),
			 "probe: message " INT64_FORMAT " (no WABA with an access token and management calls left this hour)",
			 out[0].id);
	note_event(&probe.taken);
}

static bool
is_probe(const CloudApiResult *r)
{
	return (probe.kind == PROBE_GET && r->id == PROBE_ID) ||
		(probe.kind == PROBE_MESSAGE && r->id == probe.message_id);
}

/* The probe is back: count the GET as a management call if Meta may have seen it. */
static void
probe_back(const CloudApiResult *r)
{
	if (probe.kind == PROBE_GET && r->transport != TRANSPORT_NOT_SENT)
	{
		mgmt_call.pending = true;
		mgmt_call.waba = probe.waba;
		strlcpy(mgmt_call.path, probe.path, sizeof(mgmt_call.path));
		mgmt_call.http_status = r->transport == TRANSPORT_OK ? (int) r->http_status : 0;
	}
	probe.kind = PROBE_NONE;
}

static void
describe_result(const CloudApiResult *r, bool probed, char *detail, size_t size)
{
	if (r->transport != TRANSPORT_OK)
		snprintf(detail, size, "%s", r->transport_error);
	else if (r->id == PROBE_ID)
		snprintf(detail, size, "HTTP %ld to the probe", r->http_status);
	else
		snprintf(detail, size, "HTTP %ld to %smessage " INT64_FORMAT, r->http_status,
				 probed ? "the probe, " : "", r->id);
}

/*
 * Tell the breaker how each request ended.  Results to record in the outbox
 * stay in results[0..return value); the held ones (never got a connection:
 * nothing reached Meta) go to 'held'; the GET probe's is taken out.
 */
int
sender_breaker_sort(SenderState *st, CloudApiResult *results, int n, CloudApiResult *held, int *nheld)
{
	TimestampTz now = GetCurrentTimestamp();
	int			keep = 0;

	*nheld = 0;
	for (int i = 0; i < n; i++)
	{
		CloudApiResult *r = &results[i];
		bool		probed = is_probe(r);
		BreakerSignal signal = breaker_signal(r->transport == TRANSPORT_OK, &r->facts);
		char		detail[BREAKER_DETAIL_MAX];
		BreakerEvent ev;

		describe_result(r, probed, detail, sizeof(detail));
		breaker_report(probed ? probe.endpoint : endpoint, signal, probed, now, detail, &ev);
		note_event(&ev);
		if (probed)
			probe_back(r);
		if (r->id == PROBE_ID)
			continue;
		if (signal == BREAKER_SIGNAL_UNREACHABLE && r->transport == TRANSPORT_NOT_SENT)
			held[(*nheld)++] = *r;
		else
		{
			if (keep != i)
				results[keep] = *r;
			keep++;
		}
	}
	return keep;
}

static void
write_event(const BreakerEvent *ev)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[10] = {TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT4OID, INT4OID,
	TIMESTAMPTZOID, FLOAT8OID, TEXTOID};
	Datum		args[10];
	char		nulls[10] = "          ";

	if (plan == NULL)
		plan = privileged_prepare(event_sql, 10, types);
	args[0] = TimestampTzGetDatum(ev->at);
	args[1] = CStringGetTextDatum(ev->endpoint);
	args[2] = CStringGetTextDatum(breaker_phase_name(ev->change.from));
	args[3] = CStringGetTextDatum(breaker_phase_name(ev->change.to));
	args[4] = CStringGetTextDatum(breaker_reason_name(ev->change.reason));
	args[5] = Int32GetDatum(ev->consecutive_failures);
	args[6] = Int32GetDatum(ev->failed_probes);
	args[7] = TimestampTzGetDatum(ev->next_probe_at);
	nulls[7] = ev->next_probe_at == 0 ? 'n' : ' ';
	args[8] = Float8GetDatum((double) ev->probe_wait_us / USECS_PER_SEC);
	nulls[8] = ev->next_probe_at == 0 ? 'n' : ' ';
	args[9] = CStringGetTextDatum(ev->detail);
	if (SPI_execute_plan(plan, args, nulls, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not record a circuit breaker change");
}

static void
write_mgmt_call(void)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[3] = {INT8OID, TEXTOID, INT4OID};
	Datum		args[3] = {Int64GetDatum(mgmt_call.waba), CStringGetTextDatum(mgmt_call.path),
	Int32GetDatum(mgmt_call.http_status)};
	char		nulls[3] = {' ', ' ', mgmt_call.http_status ? ' ' : 'n'};

	if (plan == NULL)
		plan = privileged_prepare("SELECT antiban.record_mgmt_call($1, $2, $3)", 3, types);
	if (SPI_execute_plan(plan, args, nulls, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not record the probe's management call");
}

/* Write what changed since the last flush (rare: a few rows per outage). */
void
sender_breaker_flush(void)
{
	if (nevents == 0 && !mgmt_call.pending)
		return;
	worker_begin("antiban sender: recording circuit breaker changes");
	for (int i = 0; i < nevents; i++)
		write_event(&events[i]);
	if (mgmt_call.pending)
		write_mgmt_call();
	worker_commit();
	nevents = 0;
	mgmt_call.pending = false;
}
