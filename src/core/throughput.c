/*
 * throughput.c
 *		Meta's per-number throughput levels and sendable statuses.
 */
#include "throughput.h"

#include "pacing.h"

#include <math.h>
#include <string.h>

static const struct
{
	const char *level;
	double		mps;
}			levels[] = {
	{"STANDARD", 80.0},
	{"HIGH", 1000.0},
	{"COEXISTENCE", 20.0},
};

bool
throughput_params(const char *level, double rate_override,
				  double burst_override, double factor, double headroom,
				  double jitter_s, TokenBucketParams *out)
{
	double		rate = -1.0;
	double		burst;

	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcmp(level, levels[i].level) == 0)
			rate = levels[i].mps;
	if (rate < 0)
		return false;
	if (rate_override > 0)
		rate = rate_override;
	if (factor > 0 && factor < 1.0)
		rate *= factor;
	if (burst_override > 0)
		burst = burst_override;
	else
	{
		/* keep every one-second window within the rate: burst + refill = rate */
		burst = floor(rate / 100.0);
		/* two, so that a sender polling every millisecond loses no refill */
		if (burst < 2.0)
			burst = 2.0;
		if (rate_override <= 0)
			rate = throughput_rate_for_arrival(rate, burst, headroom, jitter_s);
	}
	/* an explicit rate may be slow (a warming number: a few a minute), never zero */
	if (rate < THROUGHPUT_MIN_RATE)
		rate = THROUGHPUT_MIN_RATE;
	if (burst < 1.0)
		burst = 1.0;
	out->rate = token_bucket_limit(rate);
	out->capacity = token_bucket_limit(burst);
	return true;
}

/*
 * Statuses from which a number still sends.  FLAGGED and RATE_LIMITED numbers
 * can send (carefully: health handles that); BANNED, RESTRICTED, DELETED,
 * MIGRATED, DISCONNECTED, PENDING, UNVERIFIED and OFFLINE cannot.
 */
bool
number_status_can_send(const char *status)
{
	static const char *const sendable[] = {"CONNECTED", "FLAGGED", "RATE_LIMITED", "UNKNOWN"};

	for (size_t i = 0; i < sizeof(sendable) / sizeof(sendable[0]); i++)
		if (strcmp(status, sendable[i]) == 0)
			return true;
	return false;
}
