/*
 * backoff.c
 *		Retry delays.  Jitter keeps a thousand messages that failed together
 *		from all coming back in the same millisecond.
 */
#include "backoff.h"

int64_t
backoff_delay(const BackoffPolicy *p, int attempt, double random01, int64_t at_least_us)
{
	int64_t		d = p->base_us;

	for (int i = 1; i < attempt && d < p->cap_us; i++)
		d *= 2;
	if (d > p->cap_us)
		d = p->cap_us;
	if (random01 < 0 || random01 >= 1)
		random01 = 0.5;
	d = d / 2 + (int64_t) ((double) (d / 2) * random01);
	return d < at_least_us ? at_least_us : d;
}

int64_t
backoff_pair_delay(int consecutive_hits)
{
	int64_t		seconds = 1;

	/* 4^X, capped at 4^6 s (about 68 min): the pair is long free by then */
	for (int i = 0; i < consecutive_hits && i < 6; i++)
		seconds *= 4;
	return seconds * 1000000;
}
