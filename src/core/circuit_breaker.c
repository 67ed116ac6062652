/*
 * circuit_breaker.c
 *		The breaker's rule: what opens it, when it probes, what closes it.
 *		Plain state transitions over a struct; the caller holds whatever
 *		lock guards it and writes the changes it is told about.
 */
#include "circuit_breaker.h"

static const char *const phase_names[BREAKER_NPHASES] = {"closed", "open", "half_open"};

static const char *const reason_names[BREAKER_NREASONS] = {
	[BREAKER_NO_CHANGE] = "none",
	[BREAKER_FAILURES] = "connection_failures",
	[BREAKER_PROBE_DUE] = "probe_due",
	[BREAKER_PROBE_FAILED] = "probe_failed",
	[BREAKER_PROBE_LOST] = "probe_lost",
	[BREAKER_PROBE_ANSWERED] = "probe_answered",
	[BREAKER_ANSWERED] = "answered",
};

const char *
breaker_phase_name(BreakerPhase phase)
{
	return phase_names[phase];
}

const char *
breaker_reason_name(BreakerReason reason)
{
	return reason_names[reason];
}

/*
 * The endpoint is unreachable when a new connection to it could not be set
 * up: the name did not resolve, the connect was refused, TLS failed.  Only a
 * new connection fails that way, so it counts even after libcurl first tried
 * a dead kept-alive one.  Time running out counts only while connecting (no
 * connection was ever handed the request).  Anything after a connection
 * took the request is not the breaker's: the endpoint took a connection.
 */
BreakerSignal
breaker_signal(bool answered, const TransportFacts *facts)
{
	if (answered)
		return BREAKER_SIGNAL_ANSWER;
	switch (facts->failure)
	{
		case TRANSPORT_FAILED_RESOLVE:
		case TRANSPORT_FAILED_CONNECT:
		case TRANSPORT_FAILED_TLS:
			return BREAKER_SIGNAL_UNREACHABLE;
		case TRANSPORT_FAILED_TIMEOUT:
			return facts->request_started || facts->connection_reused ?
				BREAKER_SIGNAL_NONE : BREAKER_SIGNAL_UNREACHABLE;
		case TRANSPORT_FAILED_LOCAL:	/* our side: a bad URL, no memory */
		case TRANSPORT_FAILED_SEND:
		case TRANSPORT_FAILED_RECEIVE:
		case TRANSPORT_FAILED_OTHER:
			return BREAKER_SIGNAL_NONE;
	}
	return BREAKER_SIGNAL_NONE;
}

static void
change_to(BreakerState *s, BreakerPhase to, BreakerReason why, int64_t now, BreakerChange *change)
{
	change->from = s->phase;
	change->to = to;
	change->reason = why;
	s->phase = to;
	s->changed_at = now;
}

/* Open (again): the next probe after the wait for this many failed probes. */
static void
open_for(BreakerState *s, const BreakerParams *p, int64_t now, double random01)
{
	s->probe_wait_us = backoff_delay(&p->probe, s->failed_probes + 1, random01, 0);
	s->next_probe_at = now + s->probe_wait_us;
	s->probe_deadline = 0;
}

static void
close_it(BreakerState *s, BreakerReason why, int64_t now, BreakerChange *change)
{
	change_to(s, BREAKER_CLOSED, why, now, change);
	s->consecutive_failures = 0;
	s->failed_probes = 0;
	s->opened_at = 0;
	s->next_probe_at = 0;
	s->probe_wait_us = 0;
	s->probe_deadline = 0;
}

static void
no_change(const BreakerState *s, BreakerChange *change)
{
	change->from = change->to = s->phase;
	change->reason = BREAKER_NO_CHANGE;
}

/* The probe failed or is lost: open again, waiting longer. */
static void
probe_failed(BreakerState *s, const BreakerParams *p, BreakerReason why, int64_t now,
			 double random01, BreakerChange *change)
{
	s->failed_probes++;
	change_to(s, BREAKER_OPEN, why, now, change);
	open_for(s, p, now, random01);
}

/*
 * May the caller claim now?  A half-open breaker whose probe is past its
 * deadline (its sender died, or never recorded it) counts the probe as lost
 * and opens again: the next probe then waits its turn.
 */
BreakerGate
breaker_gate(BreakerState *s, const BreakerParams *p, int64_t now, double random01,
			 BreakerChange *change)
{
	no_change(s, change);
	if (s->phase == BREAKER_CLOSED)
		return BREAKER_GATE_CLAIM;
	if (s->phase == BREAKER_HALF_OPEN && now >= s->probe_deadline)
		probe_failed(s, p, BREAKER_PROBE_LOST, now, random01, change);
	if (s->phase == BREAKER_OPEN && now >= s->next_probe_at)
		return BREAKER_GATE_PROBE_DUE;
	return BREAKER_GATE_HOLD;
}

/* Take the probe: true for exactly one caller while a probe is due. */
bool
breaker_begin_probe(BreakerState *s, const BreakerParams *p, int64_t now, BreakerChange *change)
{
	no_change(s, change);
	if (s->phase != BREAKER_OPEN || now < s->next_probe_at)
		return false;
	change_to(s, BREAKER_HALF_OPEN, BREAKER_PROBE_DUE, now, change);
	s->probe_deadline = now + p->probe_timeout_us;
	return true;
}

/*
 * The probe taken could not be sent after all (nothing to probe with):
 * open again with the same wait, as if it had not been taken.
 */
void
breaker_abandon_probe(BreakerState *s, int64_t now)
{
	if (s->phase != BREAKER_HALF_OPEN)
		return;
	s->phase = BREAKER_OPEN;
	s->next_probe_at = now + s->probe_wait_us;
	s->probe_deadline = 0;
}

/* What a request's end says; 'probe' when it is the probe taken. */
void
breaker_observe(BreakerState *s, const BreakerParams *p, BreakerSignal signal, bool probe,
				int64_t now, double random01, BreakerChange *change)
{
	no_change(s, change);
	if (signal == BREAKER_SIGNAL_ANSWER)
	{
		if (s->phase == BREAKER_CLOSED)
			s->consecutive_failures = 0;
		else
			close_it(s, probe && s->phase == BREAKER_HALF_OPEN ? BREAKER_PROBE_ANSWERED : BREAKER_ANSWERED,
					 now, change);
		return;
	}
	if (probe && s->phase == BREAKER_HALF_OPEN)
	{
		if (signal == BREAKER_SIGNAL_UNREACHABLE)
			s->consecutive_failures++;
		probe_failed(s, p, signal == BREAKER_SIGNAL_UNREACHABLE ? BREAKER_PROBE_FAILED : BREAKER_PROBE_LOST,
					 now, random01, change);
		return;
	}
	if (signal != BREAKER_SIGNAL_UNREACHABLE)
		return;
	s->consecutive_failures++;
	if (s->phase == BREAKER_CLOSED && s->consecutive_failures >= p->threshold)
	{
		change_to(s, BREAKER_OPEN, BREAKER_FAILURES, now, change);
		s->opened_at = now;
		s->failed_probes = 0;
		open_for(s, p, now, random01);
	}
}
