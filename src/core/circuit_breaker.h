/*
 * circuit_breaker.h
 *		When the Graph API endpoint does not answer at all, hold the queue
 *		instead of spending every message's attempts on it.
 *
 *	closed     requests go; connection-level failures in a row are counted,
 *	           and 'threshold' of them open the breaker.
 *	open       nothing is claimed; when next_probe_at comes one caller
 *	           takes the probe and the breaker is half-open.
 *	half_open  one probe is out.  Any HTTP answer closes the breaker; a
 *	           failed or lost probe opens it again with a longer wait
 *	           (exponential, capped, with jitter: core/backoff.c).
 *
 * Only failures that prove the endpoint unreachable count: a new connection
 * that could not be set up (DNS, a refused or timed-out connect, TLS).  The
 * sender holds such a message only when nothing of it reached Meta
 * (TRANSPORT_NOT_SENT), so sending it later can not duplicate it; one whose
 * request may have left is never resent blindly (core/transport_outcome.c).
 * Any HTTP answer, even an error, proves the endpoint answers.
 */
#ifndef ANTIBAN_CIRCUIT_BREAKER_H
#define ANTIBAN_CIRCUIT_BREAKER_H

#include <stdbool.h>
#include <stdint.h>

#include "backoff.h"
#include "transport_outcome.h"

typedef enum BreakerPhase
{
	BREAKER_CLOSED,
	BREAKER_OPEN,
	BREAKER_HALF_OPEN
} BreakerPhase;

#define BREAKER_NPHASES 3

/* Why the phase changed (written to antiban.breaker_events). */
typedef enum BreakerReason
{
	BREAKER_NO_CHANGE,
	BREAKER_FAILURES,			/* closed -> open: threshold reached */
	BREAKER_PROBE_DUE,			/* open -> half_open: a probe went out */
	BREAKER_PROBE_FAILED,		/* half_open -> open: the probe could not connect */
	BREAKER_PROBE_LOST,			/* half_open -> open: no answer (ambiguous, or
								 * not back by its deadline) */
	BREAKER_PROBE_ANSWERED,		/* half_open -> closed */
	BREAKER_ANSWERED			/* open -> closed: a request from before the
								 * opening was answered */
} BreakerReason;

#define BREAKER_NREASONS 7

/* What a request's end tells the breaker. */
typedef enum BreakerSignal
{
	BREAKER_SIGNAL_NONE,		/* proves nothing about the endpoint */
	BREAKER_SIGNAL_ANSWER,		/* an HTTP answer arrived */
	BREAKER_SIGNAL_UNREACHABLE	/* a connection-level failure, nothing sent */
} BreakerSignal;

/* What a caller may do now. */
typedef enum BreakerGate
{
	BREAKER_GATE_CLAIM,			/* closed: send as usual */
	BREAKER_GATE_HOLD,			/* open or probing: send nothing */
	BREAKER_GATE_PROBE_DUE		/* open and a probe is due: take it with
								 * breaker_begin_probe */
} BreakerGate;

typedef struct BreakerParams
{
	int			threshold;		/* connection-level failures in a row that open it */
	BackoffPolicy probe;		/* waits between probes: base, doubled, capped */
	int64_t		probe_timeout_us;	/* a probe not back by then is lost */
} BreakerParams;

typedef struct BreakerState
{
	BreakerPhase phase;
	int			consecutive_failures;	/* closed: in a row; open: since it
										 * opened */
	int			failed_probes;	/* since it opened */
	int64_t		opened_at;		/* 0 when closed */
	int64_t		next_probe_at;	/* open: when a probe may go */
	int64_t		probe_wait_us;	/* open: the wait that set next_probe_at */
	int64_t		probe_deadline; /* half_open: the probe is lost after this */
	int64_t		changed_at;		/* last phase change */
} BreakerState;

/* One phase change, for the history. */
typedef struct BreakerChange
{
	BreakerPhase from;
	BreakerPhase to;
	BreakerReason reason;
} BreakerChange;

extern BreakerSignal breaker_signal(bool answered, const TransportFacts *facts);
extern BreakerGate breaker_gate(BreakerState *s, const BreakerParams *p, int64_t now,
								double random01, BreakerChange *change);
extern bool breaker_begin_probe(BreakerState *s, const BreakerParams *p, int64_t now,
								BreakerChange *change);
extern void breaker_abandon_probe(BreakerState *s, int64_t now);
extern void breaker_observe(BreakerState *s, const BreakerParams *p, BreakerSignal signal,
							bool probe, int64_t now, double random01, BreakerChange *change);
extern const char *breaker_phase_name(BreakerPhase phase);
extern const char *breaker_reason_name(BreakerReason reason);

#endif							/* ANTIBAN_CIRCUIT_BREAKER_H */
