/*
 * quiet_hours.c
 *		The recipient's quiet hours, on their local clock.
 */
#include "quiet_hours.h"

#include <stdio.h>
#include <string.h>

#define USEC INT64_C(1000000)
#define DAY_US (INT64_C(86400) * USEC)
#define MINUTE_US (INT64_C(60) * USEC)

static bool
parse_clock(const char *s, int *minute, int *used)
{
	int			h,
				m,
				n = 0;

	if (sscanf(s, "%2d:%2d%n", &h, &m, &n) != 2 || n != 5 || h < 0 || h > 23 || m < 0 || m > 59)
		return false;
	*minute = h * 60 + m;
	*used = n;
	return true;
}

bool
quiet_hours_parse(const char *text, QuietHours *out, const char **why)
{
	int			used;

	memset(out, 0, sizeof(*out));
	if (text == NULL || text[0] == '\0')
		return true;
	if (!parse_clock(text, &out->start_minute, &used) || text[used] != '-' ||
		!parse_clock(text + used + 1, &out->end_minute, &used) || text[6 + used] != '\0')
	{
		*why = "Write the quiet hours as HH:MM-HH:MM, for example 21:00-08:00";
		return false;
	}
	if (out->start_minute == out->end_minute)
	{
		*why = "The quiet hours start and end at the same time";
		return false;
	}
	out->enabled = true;
	return true;
}

bool
quiet_hours_contains(const QuietHours *q, int minute)
{
	if (!q->enabled)
		return false;
	if (q->start_minute < q->end_minute)
		return minute >= q->start_minute && minute < q->end_minute;
	return minute >= q->start_minute || minute < q->end_minute;
}

/* Floor division: local times before the epoch still land in the right day. */
static int64_t
floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

int64_t
quiet_hours_ready_at(const QuietHours *q, int64_t now, int utc_offset_s)
{
	int64_t		local = now + (int64_t) utc_offset_s * USEC;
	int64_t		midnight = floor_div(local, DAY_US) * DAY_US;
	int			minute = (int) ((local - midnight) / MINUTE_US);
	int64_t		end;

	if (!quiet_hours_contains(q, minute))
		return now;
	end = midnight + q->end_minute * MINUTE_US;
	if (end <= local)
		end += DAY_US;			/* overnight: it ends tomorrow morning */
	return end - (int64_t) utc_offset_s * USEC;
}
