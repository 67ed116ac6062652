/*
 * volume_tier.c
 *		Band arithmetic for volume-tiered prices (see volume_tier.h).
 */
#include "core/volume_tier.h"

#include <inttypes.h>
#include <stdio.h>

int
tier_band_of(const int64_t *afters, int n, int64_t position)
{
	int			band = -1;

	if (position < 1)
		return -1;
	for (int i = 0; i < n && afters[i] < position; i++)
		band = i;
	return band;
}

static int64_t
max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

void
tier_spread(const int64_t *afters, int n, int64_t already, int64_t count, int64_t *out)
{
	int64_t		last = already + count;

	for (int i = 0; i < n; i++)
	{
		int64_t		lo = max64(already, afters[i]);
		int64_t		hi = i + 1 < n ? min64(last, afters[i + 1]) : last;

		out[i] = hi > lo ? hi - lo : 0;
	}
}

int64_t
tier_after(int64_t first)
{
	return first <= 1 ? 0 : first - 1;
}

bool
tier_bands_check(const int64_t *firsts, const int64_t *lasts, int n, int *bad, const char **why)
{
	*bad = 0;
	if (n == 0)
	{
		*why = "no bands";
		return false;
	}
	for (int i = 0; i < n; i++)
	{
		*bad = i;
		if (i == 0 && firsts[0] > 1)
		{
			*why = "the first band must start at message 0 or 1";
			return false;
		}
		if (i > 0 && (lasts[i - 1] == TIER_OPEN || firsts[i] != lasts[i - 1] + 1))
		{
			*why = "a band must start right after the previous one ends (no gap, no overlap)";
			return false;
		}
		if (lasts[i] != TIER_OPEN && lasts[i] < firsts[i])
		{
			*why = "a band ends before it starts";
			return false;
		}
		if (i == n - 1 && lasts[i] != TIER_OPEN)
		{
			*why = "the last band must be open-ended (To empty or MAX)";
			return false;
		}
	}
	return true;
}

void
tier_label(int64_t after, int64_t next_after, char *buf, size_t size)
{
	int64_t		first = after == 0 ? 0 : after + 1;

	if (next_after == TIER_OPEN)
		snprintf(buf, size, "%" PRId64 ":MAX", first);
	else
		snprintf(buf, size, "%" PRId64 ":%" PRId64, first, next_after);
}
