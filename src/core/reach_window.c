/*
 * reach_window.c
 *		Moving 24 h unique-recipient counter, bucketed by minute.
 */
#include "reach_window.h"

#include <string.h>

static int64_t
minute_of(int64_t t)
{
	int64_t		m = t / REACH_MINUTE_US;

	/* floor division, so times before the epoch land in the right minute */
	return (t % REACH_MINUTE_US < 0) ? m - 1 : m;
}

static uint32_t
slot_of(int64_t minute)
{
	int64_t		s = minute % REACH_WINDOW_SLOTS;

	return (uint32_t) (s < 0 ? s + REACH_WINDOW_SLOTS : s);
}

void
reach_window_init(ReachWindow *w, int64_t now)
{
	memset(w, 0, sizeof(*w));
	w->head_minute = minute_of(now);
}

/* Drop the minutes that left the window.  A clock that goes back is ignored. */
void
reach_window_advance(ReachWindow *w, int64_t now)
{
	int64_t		target = minute_of(now);
	int64_t		steps = target - w->head_minute;

	if (steps <= 0)
		return;
	if (steps >= REACH_WINDOW_SLOTS)
	{
		memset(w->counts, 0, sizeof(w->counts));
		w->total = 0;
	}
	else
	{
		/* slot (head+k) % N held minute head+k-N, which has now expired */
		for (int64_t m = w->head_minute + 1; m <= target; m++)
		{
			w->total -= w->counts[slot_of(m)];
			w->counts[slot_of(m)] = 0;
		}
	}
	w->head_minute = target;
}

/* Is a recipient whose latest counted reach was 'last_reach' still counted? */
bool
reach_window_counts(const ReachWindow *w, int64_t last_reach)
{
	int64_t		m;

	if (last_reach == REACH_NEVER)
		return false;
	m = minute_of(last_reach);
	return m > w->head_minute - REACH_WINDOW_SLOTS && m <= w->head_minute;
}

/*
 * Count a reach at 'now' for a recipient last reached at 'last_reach'.
 * Returns true when the recipient is new to the window (the total grew).
 */
bool
reach_window_record(ReachWindow *w, int64_t last_reach, int64_t now)
{
	bool		counted;

	reach_window_advance(w, now);
	counted = reach_window_counts(w, last_reach);
	if (counted)
		w->counts[slot_of(minute_of(last_reach))]--;
	else
		w->total++;
	/* A pinned clock behind head still counts in the newest minute. */
	w->counts[slot_of(w->head_minute)]++;
	return !counted;
}

/* Take back a reach recorded for a send that did not happen. */
void
reach_window_forget(ReachWindow *w, int64_t last_reach)
{
	if (!reach_window_counts(w, last_reach))
		return;
	w->counts[slot_of(minute_of(last_reach))]--;
	w->total--;
}

/* Rebuild: count a recipient last reached at 'last_reach' (after a restart). */
void
reach_window_restore(ReachWindow *w, int64_t last_reach)
{
	if (!reach_window_counts(w, last_reach))
		return;
	w->counts[slot_of(minute_of(last_reach))]++;
	w->total++;
}

/* When a recipient counted at 'last_reach' stops being counted. */
int64_t
reach_window_expires_at(int64_t last_reach)
{
	return (minute_of(last_reach) + REACH_WINDOW_SLOTS) * REACH_MINUTE_US;
}

/*
 * Earliest time a new recipient fits under 'limit': now if there is room,
 * else when enough of the oldest minutes have expired.
 */
int64_t
reach_window_ready_at(const ReachWindow *w, int64_t limit, int64_t now)
{
	int64_t		excess = w->total - limit + 1;
	int64_t		oldest = w->head_minute - REACH_WINDOW_SLOTS + 1;

	if (excess <= 0)
		return now;
	for (int64_t m = oldest; m <= w->head_minute; m++)
	{
		excess -= w->counts[slot_of(m)];
		if (excess <= 0)
			return reach_window_expires_at(m * REACH_MINUTE_US);
	}
	/* limit below zero: never */
	return INT64_MAX;
}
