/*
 * business_hours.c
 *		Shift time in an agent's local wall clock, measured in real time.
 *
 * Everything walks the timeline in segments: from an instant, the stretch
 * over which neither the on-shift status nor the UTC offset changes.  A
 * segment ends at the next shift boundary (found in local time, then turned
 * back into UTC with the offset in force), at an offset change (found by
 * bisection on the caller's offset function, to the second), or a day later,
 * whichever comes first.  Capping a segment at a day keeps the bisection
 * honest: no real time zone changes its offset twice within a day.
 *
 * Daylight saving needs no special case.  Where the wall clock jumps forward
 * (Sao Paulo's old midnight changes: 00:00 became 01:00), a shift that
 * starts inside the gap starts at the jump; where it falls back, the
 * repeated hour is worked, and counted, twice.
 */
#include "business_hours.h"

#define USEC BH_USECS_PER_SEC
#define DAY_USEC (INT64_C(86400) * USEC)
/* Instants past year 10000 are out of reach: no arithmetic near INT64_MAX. */
#define LAST_INSTANT (INT64_C(253402300800) * USEC)

typedef struct Segment
{
	bool		on;
	int64_t		end;			/* exclusive */
} Segment;

static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t		q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

bool
weekly_shift_make(int weekday, int32_t start, int32_t end, WeeklyShift *out)
{
	if (weekday < 0 || weekday > 6 || start < 0 || start >= BH_SECONDS_PER_DAY ||
		end < 0 || end > BH_SECONDS_PER_DAY)
		return false;
	out->weekday = weekday;
	out->start = start;
	out->length = end > start ? end - start : end + BH_SECONDS_PER_DAY - start;
	return true;
}

/* Day of the week of a day number since 1970-01-01 (a Thursday), Sunday = 0. */
static int
weekday_of(int64_t day)
{
	return (int) (((day + 4) % 7 + 7) % 7);
}

/*
 * Is local wall time 'local' (microseconds, as if UTC) inside a shift?  The
 * boundary is where that stops being true: the end of the containing shift,
 * or the next shift start; always after 'local'.
 */
static bool
local_status(const WeeklySchedule *s, int64_t local, int64_t *boundary)
{
	int64_t		day = floor_div(local, DAY_USEC);
	int			wd = weekday_of(day);
	bool		on = false;
	int64_t		on_end = 0;
	int64_t		next_start = INT64_MAX;

	if (s->nshifts == 0)
	{
		*boundary = INT64_MAX;
		return true;
	}
	for (int i = 0; i < s->nshifts; i++)
	{
		const WeeklyShift *sh = &s->shifts[i];
		int64_t		start;

		/* shifts are at most a day long: only today's and yesterday's can cover now */
		for (int k = -1; k <= 0; k++)
		{
			int64_t		st = (day + k) * DAY_USEC + sh->start * USEC;
			int64_t		en = st + sh->length * USEC;

			if (weekday_of(day + k) == sh->weekday && st <= local && local < en)
			{
				if (!on || en > on_end)
					on_end = en;
				on = true;
			}
		}
		start = (day + ((sh->weekday - wd) % 7 + 7) % 7) * DAY_USEC + sh->start * USEC;
		if (start <= local)
			start += 7 * DAY_USEC;
		if (start < next_start)
			next_start = start;
	}
	*boundary = on ? on_end : next_start;
	return on;
}

/* First second in (lo, hi] whose offset differs from lo's ('off'); offset(hi) differs. */
static int64_t
offset_change(const LocalClock *clock, int64_t lo, int64_t hi, int32_t off)
{
	while (hi - lo > 1)
	{
		int64_t		mid = lo + (hi - lo) / 2;

		if (clock->offset(mid, clock->arg) == off)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

static Segment
segment_at(const WeeklySchedule *s, const LocalClock *clock, int64_t t)
{
	int64_t		second = floor_div(t, USEC);
	int32_t		off = clock->offset(second, clock->arg);
	int64_t		boundary;
	Segment		seg;
	int64_t		last;

	seg.on = local_status(s, t + off * USEC, &boundary);
	seg.end = t + DAY_USEC;
	if (boundary != INT64_MAX && boundary - off * USEC < seg.end)
		seg.end = boundary - off * USEC;
	/* the offset must hold up to the segment's last second */
	last = floor_div(seg.end - 1, USEC);
	if (last > second && clock->offset(last, clock->arg) != off)
		seg.end = offset_change(clock, second, last, off) * USEC;
	return seg;
}

bool
business_on_shift(const WeeklySchedule *s, const LocalClock *clock, int64_t at)
{
	int64_t		boundary;

	if (s->nshifts == 0)
		return true;
	if (at > LAST_INSTANT || at < -LAST_INSTANT)
		return false;
	return local_status(s, at + clock->offset(floor_div(at, USEC), clock->arg) * USEC, &boundary);
}

int64_t
business_deadline(const WeeklySchedule *s, const LocalClock *clock, int64_t start, int64_t business)
{
	int64_t		t = start;
	int64_t		remaining = business;
	int64_t		limit;

	if (business <= 0)
		return start;
	if (start > LAST_INSTANT || start < -LAST_INSTANT)
		return BUSINESS_NEVER;
	if (s->nshifts == 0)
		return business > LAST_INSTANT - start ? BUSINESS_NEVER : start + business;
	limit = start + BUSINESS_HORIZON_DAYS * DAY_USEC;
	while (t < limit)
	{
		Segment		seg = segment_at(s, clock, t);

		if (seg.on)
		{
			if (seg.end - t >= remaining)
				return t + remaining;
			remaining -= seg.end - t;
		}
		t = seg.end;
	}
	return BUSINESS_NEVER;
}

int64_t
business_elapsed(const WeeklySchedule *s, const LocalClock *clock, int64_t from, int64_t to)
{
	int64_t		total = 0;
	int64_t		t = from;

	if (to <= from)
		return 0;
	if (from < -LAST_INSTANT)
		t = from = -LAST_INSTANT;
	if (to > LAST_INSTANT)
		to = LAST_INSTANT;
	if (to <= from)
		return 0;
	if (s->nshifts == 0)
		return to - from;
	while (t < to)
	{
		Segment		seg = segment_at(s, clock, t);
		int64_t		end = seg.end < to ? seg.end : to;

		if (seg.on)
			total += end - t;
		t = end;
	}
	return total;
}

int64_t
business_next_change(const WeeklySchedule *s, const LocalClock *clock, int64_t at)
{
	Segment		seg;
	bool		status;
	int64_t		limit;

	if (s->nshifts == 0 || at > LAST_INSTANT || at < -LAST_INSTANT)
		return BUSINESS_NEVER;
	seg = segment_at(s, clock, at);
	status = seg.on;
	limit = at + BUSINESS_HORIZON_DAYS * DAY_USEC;
	while (seg.end < limit)
	{
		int64_t		t = seg.end;

		seg = segment_at(s, clock, t);
		if (seg.on != status)
			return t;
	}
	return BUSINESS_NEVER;
}
