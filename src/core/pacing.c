/*
 * pacing.c
 *		Bucket shapes judged by arrival at Meta (see pacing.h for the proof).
 */
#include "pacing.h"

#include <math.h>

bool
pair_rate_params(int burst, double per_minute, double headroom, double jitter_s,
				 TokenBucketParams *out)
{
	double		meta_rate;
	double		rate;

	if (burst < 1 || !(per_minute > 0) || !(headroom >= 0 && headroom < 1) ||
		!(jitter_s >= 0))
		return false;
	meta_rate = per_minute / 60.0;
	rate = meta_rate * (1.0 - headroom);
	/* the spacing must also cover the latency spread: 1/R >= 1/meta + J */
	rate = fmin(rate, 1.0 / (1.0 / meta_rate + jitter_s));
	out->rate = token_bucket_limit(rate);
	out->capacity = token_bucket_limit((double) burst);
	return out->rate > 0;
}

double
throughput_rate_for_arrival(double level, double burst, double headroom, double jitter_s)
{
	double		rate = level * (1.0 - headroom) - burst;

	if (jitter_s > 0)
		rate = fmin(rate, (level - burst) / (1.0 + jitter_s));
	return rate < 1.0 ? 1.0 : rate;
}

double
pair_jitter_absorbed(const TokenBucketParams *p, double per_minute)
{
	if (p->rate <= 0 || per_minute <= 0)
		return 0;
	return fmax(0, (double) TB_SCALE / (double) p->rate - 60.0 / per_minute);
}
