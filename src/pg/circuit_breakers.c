/*
 * circuit_breakers.c
 *		The breakers' shared memory: a few slots, one per endpoint, under
 *		one LWLock (a breaker changes a few times per request batch at most;
 *		nothing hot waits on it), and antiban.circuit_breaker_states() for
 *		the view antiban.circuit_breakers.
 *
 * The state is about the network, not about a transaction: it changes when
 * a request ends, whatever becomes of the transaction that records it, and
 * it starts closed after a restart (the first failures open it again).
 * Times are the real clock: a pinned antiban.now() must not stop probes.
 */
#include "pg/circuit_breakers.h"

#include "common/pg_prng.h"
#include "funcapi.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/guc.h"

/* One deployment uses one endpoint; a few slots survive URL changes. */
#define BREAKER_SLOTS 8

typedef struct BreakerSlot
{
	bool		used;
	char		endpoint[BREAKER_ENDPOINT_MAX];
	BreakerState state;
	TimestampTz last_used;
	int64		unreachable_total;	/* connection-level failures, ever */
	int64		probes_total;
	TimestampTz last_failure_at;
	char		last_failure[BREAKER_DETAIL_MAX];
} BreakerSlot;

typedef struct BreakerShared
{
	BreakerSlot slots[BREAKER_SLOTS];
} BreakerShared;

int			antiban_breaker_failures = 5;
int			antiban_breaker_probe_base_ms = 1000;
int			antiban_breaker_probe_cap_ms = 60000;

static BreakerShared *breakers = NULL;
static LWLock *breaker_lock = NULL;

void
antiban_define_breaker_gucs(void)
{
	DefineCustomIntVariable("antiban.breaker_failures",
							"Connection-level failures in a row (DNS, connect, TLS) that open the Graph API endpoint's circuit breaker.",
							"While it is open the senders claim nothing and probe the endpoint with backoff.",
							&antiban_breaker_failures, 5, 1, 100000, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.breaker_probe_base",
							"First wait before probing an endpoint whose breaker opened; doubled after each failed probe.",
							NULL, &antiban_breaker_probe_base_ms, 1000, 10, 3600000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.breaker_probe_cap",
							"Longest wait between two probes of an endpoint whose breaker is open.",
							NULL, &antiban_breaker_probe_cap_ms, 60000, 10, 3600000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
}

Size
breakers_shmem_size(void)
{
	return MAXALIGN(sizeof(BreakerShared));
}

void
breakers_request_locks(void)
{
	RequestNamedLWLockTranche("antiban_breakers", 1);
}

/* Called under AddinShmemInitLock (shmem.c). */
void
breakers_shmem_init(void)
{
	bool		found;

	breakers = antiban_shmem_region("antiban breakers", breakers_shmem_size(), &found);
	if (!found)
		memset(breakers, 0, sizeof(BreakerShared));
	breaker_lock = &GetNamedLWLockTranche("antiban_breakers")->lock;
}

char *
breaker_endpoint(void)
{
	return psprintf("%s/%s", antiban_graph_base_url, antiban_graph_version);
}

static BreakerParams
params_now(void)
{
	BreakerParams p = {
		.threshold = antiban_breaker_failures,
		.probe = {
			.base_us = (int64) antiban_breaker_probe_base_ms * 1000,
			.cap_us = (int64) Max(antiban_breaker_probe_cap_ms, antiban_breaker_probe_base_ms) * 1000,
		},
		/* the probe's own request gives up by then */
		.probe_timeout_us = (int64) antiban_http_timeout_ms * 1000 + 5 * USECS_PER_SEC,
	};

	return p;
}

/* Is 'a' a better slot to reuse than 'b'?  Free, then closed, then least recently used. */
static bool
better_victim(const BreakerSlot *a, const BreakerSlot *b)
{
	if (!a->used || !b->used)
		return !a->used && b->used;
	if ((a->state.phase == BREAKER_CLOSED) != (b->state.phase == BREAKER_CLOSED))
		return a->state.phase == BREAKER_CLOSED;
	return a->last_used < b->last_used;
}

/* The endpoint's slot, made when missing (caller holds the lock exclusively). */
static BreakerSlot *
slot_for(const char *endpoint, TimestampTz now)
{
	BreakerSlot *victim = NULL;

	for (int i = 0; i < BREAKER_SLOTS; i++)
	{
		BreakerSlot *s = &breakers->slots[i];

		if (s->used && strcmp(s->endpoint, endpoint) == 0)
		{
			s->last_used = now;
			return s;
		}
		if (victim == NULL || better_victim(s, victim))
			victim = s;
	}
	memset(victim, 0, sizeof(*victim));
	victim->used = true;
	strlcpy(victim->endpoint, endpoint, sizeof(victim->endpoint));
	victim->last_used = now;
	return victim;
}

static void
describe(const BreakerSlot *s, const BreakerChange *change, TimestampTz now, const char *detail,
		 BreakerEvent *ev)
{
	ev->change = *change;
	if (change->reason == BREAKER_NO_CHANGE)
		return;
	ev->at = now;
	ev->consecutive_failures = s->state.consecutive_failures;
	ev->failed_probes = s->state.failed_probes;
	ev->next_probe_at = s->state.phase == BREAKER_OPEN ? s->state.next_probe_at : 0;
	ev->probe_wait_us = s->state.phase == BREAKER_OPEN ? s->state.probe_wait_us : 0;
	strlcpy(ev->endpoint, s->endpoint, sizeof(ev->endpoint));
	strlcpy(ev->detail, detail ? detail : "", sizeof(ev->detail));
}

static double
random01(void)
{
	return pg_prng_double(&pg_global_prng_state);
}

/*
 * May the caller claim?  *wait_until is when to look again while it holds:
 * the next probe, or the probe's deadline while one is out.
 */
BreakerGate
breaker_check(const char *endpoint, TimestampTz now, TimestampTz *wait_until, BreakerEvent *ev)
{
	BreakerParams p = params_now();
	BreakerChange change;
	BreakerGate gate;
	BreakerSlot *s;

	LWLockAcquire(breaker_lock, LW_EXCLUSIVE);
	s = slot_for(endpoint, now);
	gate = breaker_gate(&s->state, &p, now, random01(), &change);
	describe(s, &change, now, "the probe was not back within antiban.http_timeout", ev);
	*wait_until = s->state.phase == BREAKER_HALF_OPEN ? s->state.probe_deadline : s->state.next_probe_at;
	LWLockRelease(breaker_lock);
	return gate;
}

/* Take the probe that is due: true for one caller only. */
bool
breaker_take_probe(const char *endpoint, TimestampTz now, const char *detail, BreakerEvent *ev)
{
	BreakerParams p = params_now();
	BreakerChange change;
	BreakerSlot *s;
	bool		taken;

	LWLockAcquire(breaker_lock, LW_EXCLUSIVE);
	s = slot_for(endpoint, now);
	taken = breaker_begin_probe(&s->state, &p, now, &change);
	if (taken)
		s->probes_total++;
	describe(s, &change, now, detail, ev);
	LWLockRelease(breaker_lock);
	return taken;
}

/* The probe taken could not go after all. */
void
breaker_drop_probe(const char *endpoint, TimestampTz now)
{
	BreakerSlot *s;

	LWLockAcquire(breaker_lock, LW_EXCLUSIVE);
	s = slot_for(endpoint, now);
	if (s->state.phase == BREAKER_HALF_OPEN)
		s->probes_total--;
	breaker_abandon_probe(&s->state, now);
	LWLockRelease(breaker_lock);
}

/* A request to the endpoint ended; 'detail' says how (for the history). */
void
breaker_report(const char *endpoint, BreakerSignal signal, bool probe, TimestampTz now,
			   const char *detail, BreakerEvent *ev)
{
	BreakerParams p = params_now();
	BreakerChange change;
	BreakerSlot *s;

	LWLockAcquire(breaker_lock, LW_EXCLUSIVE);
	s = slot_for(endpoint, now);
	breaker_observe(&s->state, &p, signal, probe, now, random01(), &change);
	if (signal == BREAKER_SIGNAL_UNREACHABLE)
	{
		s->unreachable_total++;
		s->last_failure_at = now;
		strlcpy(s->last_failure, detail ? detail : "", sizeof(s->last_failure));
	}
	describe(s, &change, now, detail, ev);
	LWLockRelease(breaker_lock);
}

/* Is the endpoint's breaker open or probing?  (The monitor skips its polls.) */
bool
breaker_holds(const char *endpoint)
{
	bool		holds = false;

	LWLockAcquire(breaker_lock, LW_SHARED);
	for (int i = 0; i < BREAKER_SLOTS; i++)
	{
		BreakerSlot *s = &breakers->slots[i];

		if (s->used && strcmp(s->endpoint, endpoint) == 0)
			holds = s->state.phase != BREAKER_CLOSED;
	}
	LWLockRelease(breaker_lock);
	return holds;
}

static Datum
time_or_null(TimestampTz t, bool *isnull)
{
	*isnull = t == 0;
	return TimestampTzGetDatum(t);
}

static Datum
interval_us(int64 us)
{
	Interval   *i = palloc0(sizeof(Interval));

	i->time = us;
	return IntervalPGetDatum(i);
}

static void
emit_slot(ReturnSetInfo *rsinfo, const BreakerSlot *s)
{
	Datum		values[13];
	bool		nulls[13] = {0};
	bool		open = s->state.phase != BREAKER_CLOSED;

	values[0] = CStringGetTextDatum(s->endpoint);
	values[1] = CStringGetTextDatum(breaker_phase_name(s->state.phase));
	values[2] = Int32GetDatum(s->state.consecutive_failures);
	values[3] = Int32GetDatum(s->state.failed_probes);
	values[4] = time_or_null(s->state.opened_at, &nulls[4]);
	values[5] = time_or_null(s->state.phase == BREAKER_OPEN ? s->state.next_probe_at : 0, &nulls[5]);
	values[6] = interval_us(s->state.probe_wait_us);
	nulls[6] = !open;
	values[7] = time_or_null(s->state.phase == BREAKER_HALF_OPEN ? s->state.probe_deadline : 0, &nulls[7]);
	values[8] = time_or_null(s->state.changed_at, &nulls[8]);
	values[9] = time_or_null(s->last_failure_at, &nulls[9]);
	values[10] = CStringGetTextDatum(s->last_failure);
	nulls[10] = s->last_failure[0] == '\0';
	values[11] = Int64GetDatum(s->unreachable_total);
	values[12] = Int64GetDatum(s->probes_total);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

PG_FUNCTION_INFO_V1(antiban_circuit_breaker_states);

/* antiban.circuit_breaker_states(): every endpoint the senders have called. */
Datum
antiban_circuit_breaker_states(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	BreakerSlot *copy = palloc(sizeof(BreakerSlot) * BREAKER_SLOTS);

	antiban_require_loaded();
	InitMaterializedSRF(fcinfo, 0);
	/* copy under the lock, build tuples after releasing it */
	LWLockAcquire(breaker_lock, LW_SHARED);
	memcpy(copy, breakers->slots, sizeof(BreakerSlot) * BREAKER_SLOTS);
	LWLockRelease(breaker_lock);
	for (int i = 0; i < BREAKER_SLOTS; i++)
		if (copy[i].used)
			emit_slot(rsinfo, &copy[i]);
	return (Datum) 0;
}
