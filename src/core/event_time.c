/*
 * event_time.c
 *		Webhook event times, clamped to what a receipt can mean.
 */
#include "event_time.h"

#include <stdbool.h>
#include <stddef.h>

#define USECS_PER_SECOND INT64_C(1000000)

/*
 * Far beyond any clamp bound, far below overflow once in microseconds: a
 * longer run of digits is just as absurd and saturates here.
 */
#define SECONDS_CEILING INT64_C(1000000000000)

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* digits[.digits] -> microseconds; false for anything else. */
static bool
parse_unix_seconds(const char *s, int64_t *out_us)
{
	int64_t		seconds = 0;
	int64_t		micros = 0;
	int64_t		scale = USECS_PER_SECOND / 10;
	const char *p = s;

	if (!is_digit(*p))
		return false;
	for (; is_digit(*p); p++)
	{
		seconds = seconds * 10 + (*p - '0');
		if (seconds > SECONDS_CEILING)
			seconds = SECONDS_CEILING;
	}
	if (*p == '.')
	{
		if (!is_digit(*++p))
			return false;
		for (; is_digit(*p); p++, scale /= 10)
			micros += (*p - '0') * scale;
	}
	if (*p != '\0')
		return false;
	*out_us = seconds * USECS_PER_SECOND + micros;
	return true;
}

EventTimeVerdict
event_time_from_text(const char *seconds, int64_t receipt_us, int64_t *out_us)
{
	int64_t		earliest = receipt_us - META_RETRY_HORIZON_SECONDS * USECS_PER_SECOND;
	int64_t		latest = receipt_us + EVENT_CLOCK_SKEW_SECONDS * USECS_PER_SECOND;
	int64_t		at;

	*out_us = receipt_us;
	if (seconds == NULL || seconds[0] == '\0')
		return EVENT_TIME_MISSING;
	if (!parse_unix_seconds(seconds, &at))
		return EVENT_TIME_UNREADABLE;
	if (at < earliest)
	{
		*out_us = earliest;
		return EVENT_TIME_TOO_OLD;
	}
	if (at > latest)
	{
		*out_us = latest;
		return EVENT_TIME_TOO_NEW;
	}
	*out_us = at;
	return EVENT_TIME_OK;
}

bool
stated_time_in_future(int64_t at_us, int64_t now_us)
{
	return at_us > now_us + EVENT_CLOCK_SKEW_SECONDS * USECS_PER_SECOND;
}
