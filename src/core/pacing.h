/*
 * pacing.h
 *		Bucket shapes that hold where Meta judges them: at arrival.
 *
 * Meta counts a request when it arrives, not when the sender claimed its
 * token.  Between the two lies the request's latency, which varies: a
 * request claimed later may arrive sooner than an earlier one (470 ms then
 * 150 ms), so two claims spaced exactly as Meta allows can arrive closer
 * than that.  Call J the spread of latencies (slowest minus fastest): every
 * window of length T at Meta holds only requests claimed within T + J.  A
 * bucket of capacity C refilling at R grants at most C + R * (T + J) there,
 * so each shape below keeps enough headroom for J.
 */
#ifndef ANTIBAN_PACING_H
#define ANTIBAN_PACING_H

#include <stdbool.h>

#include "token_bucket.h"

/*
 * The pair bucket (one number, one recipient): Meta's burst B refilling one
 * token per 6 s.  Claims n = B + k (k >= 1) need T + J >= k / R, while Meta
 * admits them once T >= k * 6 s: both hold when 1 / R >= 6 s + J.  The
 * capacity stays B (a burst claimed at once arrives within J; Meta's bucket,
 * idle as long as ours, is full too), and the rate is the smaller of
 * (1 - headroom) of Meta's and 1 / (6 s + J).  With the default 10 %
 * headroom the spacing is 6.67 s: up to 0.67 s of jitter is absorbed with
 * no jitter margin configured at all.
 */
extern bool pair_rate_params(int burst, double per_minute, double headroom,
							 double jitter_s, TokenBucketParams *out);

/*
 * A throughput level L with burst C: every one-second window at Meta holds
 * at most C + R * (1 + J) claims, so R = min(L * (1 - headroom) - C,
 * (L - C) / (1 + J)).  Never below one message a second.
 */
extern double throughput_rate_for_arrival(double level, double burst,
										  double headroom, double jitter_s);

/* The latency spread a pair bucket absorbs against Meta's 'per_minute'. */
extern double pair_jitter_absorbed(const TokenBucketParams *p, double per_minute);

#endif							/* ANTIBAN_PACING_H */
