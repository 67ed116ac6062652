/*
 * warmup.c
 *		The warm-up curve and one step of a warming number's schedule.
 *
 * Rules, in order:
 *	1. A number that has not started its warm-up starts day 0 now.
 *	2. After 24 h on a day, the day counts (day + 1) if health is at least
 *	   gate_health and nothing bad happened in the last step; otherwise the
 *	   same day starts again.  Meta judges a number by what users do with its
 *	   messages: growing while they block it is how numbers get banned.
 *	3. The cap is start_daily × growth^day; at max_daily the number graduates.
 *	4. With the cap sent in the last 24 h, the number is full until the
 *	   oldest of those sends leaves the window.
 */
#include "warmup.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

WarmupParams
warmup_defaults(void)
{
	return (WarmupParams) {
		.start_daily = 250,
		.growth = 2.0,
		.max_daily = 100000,
		.gate_health = 80,
		.spread_hours = 8.0,
	};
}

/*
 * The daily cap of warm-up day 'day' (0-based): start_daily × growth^day,
 * rounded, at most max_daily.  Computed in double so a large day saturates
 * instead of overflowing.
 */
int64_t
warmup_daily_cap(const WarmupParams *p, int day, bool *graduated)
{
	double		cap = (double) p->start_daily * pow(p->growth, day > 0 ? day : 0);
	int64_t		out;

	if (isnan(cap) || cap <= 0)
		out = 0;
	else if (cap >= (double) p->max_daily)
		out = p->max_daily;
	else
		out = llround(cap);
	if (out > p->max_daily)
		out = p->max_daily;
	if (graduated)
		*graduated = out >= p->max_daily;
	return out;
}

/* Messages per second on day 'day': its cap spread over spread_hours. */
double
warmup_rate(const WarmupParams *p, int day)
{
	return (double) warmup_daily_cap(p, day, NULL) / (fmax(p->spread_hours, 1.0 / 60) * 3600.0);
}

static void say(WarmupStep *out, const char *fmt,...) __attribute__((format(printf, 2, 3)));
static void
say(WarmupStep *out, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(out->why, sizeof(out->why), fmt, ap);
	va_end(ap);
}

/* Rule 2: a finished day counts, or is repeated. */
static void
end_day(const WarmupParams *p, const WarmupInput *in, WarmupStep *out)
{
	WarmupState *n = &out->next;
	int64_t		cap = warmup_daily_cap(p, n->day, NULL);

	out->day_changed = true;
	n->day_started = in->now;
	if (in->health >= p->gate_health && !in->bad_signal)
	{
		n->day++;
		say(out, "warm-up day %d counted at health %d: cap %lld -> %lld a day",
			n->day, in->health, (long long) cap, (long long) warmup_daily_cap(p, n->day, NULL));
	}
	else
		say(out, "warm-up day %d repeated: %s; cap stays %lld a day", n->day + 1,
			in->bad_signal ? "a bad signal this step" : "health under the gate",
			(long long) cap);
}

void
warmup_step(const WarmupParams *p, const WarmupState *s, const WarmupInput *in,
			WarmupStep *out)
{
	WarmupState *n = &out->next;

	*n = *s;
	out->day_changed = false;
	out->why[0] = '\0';
	if (n->day < 0)
		n->day = 0;
	if (n->day_started <= 0 || n->day_started > in->now)
	{
		n->day_started = in->now;
		out->day_changed = true;
		say(out, "warm-up day %d starts", n->day + 1);
	}
	else if (in->now - n->day_started >= WARMUP_DAY_US)
		end_day(p, in, out);

	out->daily_cap = warmup_daily_cap(p, n->day, &out->graduated);
	out->rate = warmup_rate(p, n->day);
	out->full_until = 0;
	if (out->graduated)
		say(out, "warm-up done: the cap reached %lld a day", (long long) p->max_daily);
	else if (in->sent_24h >= out->daily_cap)
		out->full_until = in->oldest_sent_24h > 0 ? in->oldest_sent_24h + WARMUP_DAY_US
			: in->now + WARMUP_DAY_US;
}
