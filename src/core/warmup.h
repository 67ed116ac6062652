/*
 * warmup.h
 *		The warm-up schedule of a new number: how many messages it may send
 *		per moving 24 h and how fast, day by day, and when a day counts.
 *
 * A new number that sends thousands on its first day looks like a spammer to
 * Meta.  Warming numbers start at a small daily cap that grows by a factor
 * each day the number stays healthy; a day spent under the health gate is
 * repeated, not counted.  Once the cap reaches max_daily the number has
 * graduated and becomes active.  The rate spreads a day's cap over
 * spread_hours, so the cap is never sent in one burst.
 */
#ifndef ANTIBAN_WARMUP_H
#define ANTIBAN_WARMUP_H

#include <stdbool.h>
#include <stdint.h>

#define WARMUP_WHY_MAX 160
#define WARMUP_DAY_US (INT64_C(86400) * 1000000)

typedef struct WarmupParams
{
	int64_t		start_daily;	/* 250: the cap of day 0 */
	double		growth;			/* 2.0: the cap's factor per counted day */
	int64_t		max_daily;		/* 100000: graduation */
	int			gate_health;	/* 80: a day counts only at this health or better */
	double		spread_hours;	/* 8: a day's cap takes at least this long to send */
} WarmupParams;

typedef struct WarmupState
{
	int			day;			/* 0-based warm-up day */
	int64_t		day_started;	/* 0: not started yet */
} WarmupState;

typedef struct WarmupInput
{
	int			health;
	bool		bad_signal;		/* a throttle- or pause-class event since the last step */
	int64_t		sent_24h;		/* messages sent in the last 24 h */
	int64_t		oldest_sent_24h;	/* the oldest of them (0: none) */
	int64_t		now;
} WarmupInput;

typedef struct WarmupStep
{
	WarmupState next;
	int64_t		daily_cap;		/* messages per moving 24 h today */
	double		rate;			/* messages per second: daily_cap over spread_hours */
	int64_t		full_until;		/* 0: room today; else when the oldest send leaves the 24 h */
	bool		graduated;		/* the cap reached max_daily: the number is active */
	bool		day_changed;	/* a day was counted or repeated */
	char		why[WARMUP_WHY_MAX];
} WarmupStep;

extern WarmupParams warmup_defaults(void);
extern int64_t warmup_daily_cap(const WarmupParams *p, int day, bool *graduated);
extern double warmup_rate(const WarmupParams *p, int day);
extern void warmup_step(const WarmupParams *p, const WarmupState *s,
						const WarmupInput *in, WarmupStep *out);

#endif							/* ANTIBAN_WARMUP_H */
