/*
 * circuit_breakers.h
 *		One circuit breaker per Graph API endpoint (base URL and version), in
 *		shared memory so every sender sees the same state and one probe goes
 *		at a time.  The rule is core/circuit_breaker.c.
 */
#ifndef ANTIBAN_PG_CIRCUIT_BREAKERS_H
#define ANTIBAN_PG_CIRCUIT_BREAKERS_H

#include "pg/antiban.h"

#include "core/circuit_breaker.h"

#define BREAKER_ENDPOINT_MAX 512
#define BREAKER_DETAIL_MAX 256

/* A phase change, to be written to antiban.breaker_events. */
typedef struct BreakerEvent
{
	TimestampTz at;
	BreakerChange change;
	int			consecutive_failures;
	int			failed_probes;
	TimestampTz next_probe_at;	/* 0: none */
	int64		probe_wait_us;
	char		endpoint[BREAKER_ENDPOINT_MAX];
	char		detail[BREAKER_DETAIL_MAX];
} BreakerEvent;

/* GUCs */
extern int	antiban_breaker_failures;
extern int	antiban_breaker_probe_base_ms;
extern int	antiban_breaker_probe_cap_ms;
extern void antiban_define_breaker_gucs(void);

extern Size breakers_shmem_size(void);
extern void breakers_request_locks(void);
extern void breakers_shmem_init(void);

/* The endpoint the sender and the monitor call now (palloc'd). */
extern char *breaker_endpoint(void);

/*
 * Each of these may change the phase; 'ev' then describes the change
 * (ev->change.reason != BREAKER_NO_CHANGE) for the caller to record.
 */
extern BreakerGate breaker_check(const char *endpoint, TimestampTz now, TimestampTz *wait_until,
								 BreakerEvent *ev);
extern bool breaker_take_probe(const char *endpoint, TimestampTz now, const char *detail,
							   BreakerEvent *ev);
extern void breaker_drop_probe(const char *endpoint, TimestampTz now);
extern void breaker_report(const char *endpoint, BreakerSignal signal, bool probe, TimestampTz now,
						   const char *detail, BreakerEvent *ev);
extern bool breaker_holds(const char *endpoint);

#endif							/* ANTIBAN_PG_CIRCUIT_BREAKERS_H */
