/*
 * business_hours.h
 *		Weekly shifts in an agent's local time: is an instant on shift, and
 *		when have N business minutes passed since a start?
 *
 * A shift is a weekday and a wall-clock start and end in the agent's time
 * zone ("fri 22:00-06:00" crosses midnight into Saturday).  Business time is
 * real elapsed time while the agent's wall clock is inside a shift, so a
 * shift that spans a daylight-saving change lasts an hour more or less, as
 * the agent lives it.  Time zones are not this file's business: the caller
 * supplies the UTC offset at any instant (the PostgreSQL adapter reads
 * PostgreSQL's tz database; tests give fixed offsets or tables of
 * transitions), never libc's TZ.
 */
#ifndef ANTIBAN_BUSINESS_HOURS_H
#define ANTIBAN_BUSINESS_HOURS_H

#include <stdbool.h>
#include <stdint.h>

#define BH_SECONDS_PER_DAY 86400
#define BH_USECS_PER_SEC INT64_C(1000000)
/* No deadline within the horizon (a schedule too thin for the time asked). */
#define BUSINESS_NEVER INT64_MAX
/* How far ahead a deadline is searched. */
#define BUSINESS_HORIZON_DAYS 400

typedef struct WeeklyShift
{
	int			weekday;		/* the day it starts: 0 = Sunday ... 6 = Saturday */
	int32_t		start;			/* seconds after local midnight, 0 .. 86399 */
	int32_t		length;			/* seconds, 1 .. 86400 (a full day) */
} WeeklyShift;

/* No shifts at all means no working-hours restriction: always on shift. */
typedef struct WeeklySchedule
{
	const WeeklyShift *shifts;
	int			nshifts;
} WeeklySchedule;

/* Seconds east of UTC in force at 'unix_seconds' (-10800 for Sao Paulo today). */
typedef int32_t (*UtcOffsetFn) (int64_t unix_seconds, void *arg);

typedef struct LocalClock
{
	UtcOffsetFn offset;
	void	   *arg;
} LocalClock;

/*
 * A shift from wall-clock start and end (seconds after midnight, end up to
 * 86400): an end at or before the start crosses midnight ("22:00-06:00"),
 * an end equal to the start is a whole day.  False for values out of range.
 */
extern bool weekly_shift_make(int weekday, int32_t start, int32_t end, WeeklyShift *out);

/* Instants are microseconds since the Unix epoch, UTC. */
extern bool business_on_shift(const WeeklySchedule *s, const LocalClock *clock, int64_t at);

/*
 * The instant at which 'business' microseconds of shift time have passed
 * since 'start' ('start' itself when business <= 0).  BUSINESS_NEVER when
 * that is past the horizon.
 */
extern int64_t business_deadline(const WeeklySchedule *s, const LocalClock *clock,
								 int64_t start, int64_t business);

/* Shift time, in microseconds, between two instants (0 when to <= from). */
extern int64_t business_elapsed(const WeeklySchedule *s, const LocalClock *clock,
								int64_t from, int64_t to);

/* The next instant after 'at' at which on-shift status changes (BUSINESS_NEVER if none within the horizon). */
extern int64_t business_next_change(const WeeklySchedule *s, const LocalClock *clock, int64_t at);

#endif							/* ANTIBAN_BUSINESS_HOURS_H */
