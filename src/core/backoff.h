/*
 * backoff.h
 *		When to try again: exponential backoff with jitter, Retry-After, and
 *		Meta's 4^X seconds for the pair rate limit.
 */
#ifndef ANTIBAN_BACKOFF_H
#define ANTIBAN_BACKOFF_H

#include <stdint.h>

typedef struct BackoffPolicy
{
	int64_t		base_us;		/* first retry after about this long */
	int64_t		cap_us;			/* never wait longer than this */
} BackoffPolicy;

/*
 * Delay before attempt number 'attempt' + 1 (attempt >= 1 failed already):
 * base * 2^(attempt-1), capped, with "equal jitter" (half fixed, half random
 * from 'random01' in [0, 1)) so that retries of a burst spread out, and never
 * less than 'at_least_us' (Retry-After, or the error's minimum).
 */
extern int64_t backoff_delay(const BackoffPolicy *p, int attempt, double random01,
							 int64_t at_least_us);
/* 131056: 4^X seconds, X = how many times this pair hit it in a row (from 0). */
extern int64_t backoff_pair_delay(int consecutive_hits);

#endif							/* ANTIBAN_BACKOFF_H */
