/*
 * quiet_hours.h
 *		Hours of the recipient's day in which business-initiated messages of
 *		a category wait (for example no marketing 21:00-08:00 local time).
 *
 * The rule works on the recipient's local wall clock, given as the UTC
 * offset in force at 'now' (the adapter asks the time-zone database, so
 * daylight saving is the database's business).  The hold ends at the next
 * local end of the quiet period, computed with that same offset: across a
 * daylight-saving change inside the quiet period it may be off by the
 * change (an hour), never by more.
 */
#ifndef ANTIBAN_QUIET_HOURS_H
#define ANTIBAN_QUIET_HOURS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct QuietHours
{
	bool		enabled;
	int			start_minute;	/* minutes after local midnight, 0..1439 */
	int			end_minute;		/* exclusive; may be before start (overnight) */
} QuietHours;

/* "21:00-08:00" (24 h clock, start before or after end); "" disables. */
extern bool quiet_hours_parse(const char *text, QuietHours *out, const char **why);

/* Is a local minute of the day (0..1439) inside the quiet period? */
extern bool quiet_hours_contains(const QuietHours *q, int minute_of_day);

/*
 * 'now' when a message may go at 'now' (UTC microseconds since any epoch
 * that starts at a UTC midnight, as PostgreSQL's and Unix's do) for a
 * recipient whose clock is 'utc_offset_s' seconds ahead of UTC; otherwise
 * the UTC time of the next local end of the quiet period.
 */
extern int64_t quiet_hours_ready_at(const QuietHours *q, int64_t now, int utc_offset_s);

#endif							/* ANTIBAN_QUIET_HOURS_H */
