/*
 * throughput.h
 *		A number's throughput bucket from Meta's throughput level.
 */
#ifndef ANTIBAN_THROUGHPUT_H
#define ANTIBAN_THROUGHPUT_H

#include <stdbool.h>

#include "token_bucket.h"

/*
 * level: STANDARD (80 mps), HIGH (1,000 mps) or COEXISTENCE (20 mps).
 * rate_override / burst_override: <= 0 means "not set".  factor scales the
 * rate down for throttled numbers (1.0: full speed).
 *
 * Meta counts messages per second as they arrive.  A bucket with capacity C
 * refilling at R grants up to C + R in one second, and requests leave in an
 * order the network may bunch by a few milliseconds.  So the level's L
 * messages per second become a burst of C = L/100 (at least two messages)
 * refilling at L * (1 - headroom) - C: no one-second window at Meta holds
 * more than L even with that jitter.  jitter_s, the spread of request
 * latencies, may lower the rate further: pacing.h judges by arrival.  Overrides are taken as given, down
 * to THROUGHPUT_MIN_RATE: a warming number may send a few a minute.
 */
#define THROUGHPUT_MIN_RATE 0.001
extern bool throughput_params(const char *level, double rate_override,
							  double burst_override, double factor,
							  double headroom, double jitter_s,
							  TokenBucketParams *out);
extern bool number_status_can_send(const char *status);

#endif							/* ANTIBAN_THROUGHPUT_H */
