/*
 * rate_control.c
 *		One step of a number's rate controller (the warm-up curve is warmup.c).
 *
 * Rules, first match wins:
 *	1. An operator hold freezes everything.
 *	2. A hard signal (ban, restriction, 368, 131031, BLOCKED) pauses until a
 *	   person clears hard_block; a pause signal or health under pause_below
 *	   pauses too.
 *	3. A pause ends once it is not hard, has lasted pause_cooldown and health
 *	   is back at resume_at: the number recovers from ramp_start.
 *	4. Recovering ramps linearly to full rate over 'ramp', then is active (or
 *	   warming again, if it left an unfinished warm-up); a bad signal or low
 *	   health throttles it instead.
 *	5. Active: a bad signal or health under throttle_below throttles.
 *	6. Throttled: each bad step multiplies the factor by 'decrease'; each
 *	   clean increase_interval at good health adds 'increase' (each probe_interval
 *	   while under the ceiling a congestion decrease left); at 1 it is
 *	   active (or warming) again.
 *	7. Warming follows the warm-up curve; only pauses and bad signals touch it.
 *
 * A congestion signal is a bad signal only when its request was sent after
 * the last decrease (rate_control_congestion_is_new).  Congestion met by the
 * sender or told by a webhook is acted on at once with
 * rate_control_congestion(); the monitor's step later sees the same event and
 * leaves it alone.
 */
#include "rate_control.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#define MINUTE		INT64_C(60000000)
#define SECOND		INT64_C(1000000)
/* Factors this close are equal: repeated +0.1 never lands exactly on 1. */
#define FACTOR_EPSILON 1e-9

RateControlParams
rate_control_defaults(void)
{
	return (RateControlParams) {
		.throttle_below = 70,
		.pause_below = 30,
		.resume_at = 60,
		.decrease = 0.5,
		.increase = 0.1,
		.min_factor = 0.05,
		.increase_interval = 5 * MINUTE,
		.probe_interval = 30 * SECOND,
		.congestion_window = SECOND,
		.pause_cooldown = 30 * MINUTE,
		.ramp = 120 * MINUTE,
		.ramp_start = 0.1,
	};
}

static void say(RateControlStep *out, const char *fmt,...) __attribute__((format(printf, 2, 3)));
static void
say(RateControlStep *out, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(out->why, sizeof(out->why), fmt, ap);
	va_end(ap);
}

static double
pct(double factor)
{
	return factor * 100;
}

static long long
minutes(int64_t us)
{
	return (long long) (us / MINUTE);
}

static void
enter(RateControlState *n, NumberMode mode, int64_t now)
{
	if (n->mode != mode)
	{
		n->mode = mode;
		n->since = now;
	}
}

/* Full rate again: active, or back on the warm-up curve it left. */
static const char *
settle(RateControlState *n, int64_t now)
{
	n->factor = 1.0;
	enter(n, n->warmup_pending ? MODE_WARMING : MODE_ACTIVE, now);
	return n->warmup_pending ? "back to its warm-up" : "active";
}

/*
 * Multiplicative decrease, at most once per step; from any mode but warming.
 * 'congestion': the only bad signal was a new 130429, whose rate becomes
 * the ceiling to climb back to quickly.
 */
static void
throttle(const RateControlParams *p, const RateControlInput *in, bool congestion,
		 RateControlStep *out)
{
	RateControlState *n = &out->next;
	double		before = n->factor;
	bool		was_throttled = n->mode == MODE_THROTTLED;
	char		cause[48];

	if (congestion)
		snprintf(cause, sizeof(cause), "throughput limit (130429)");
	else if (in->bad_signal)
		snprintf(cause, sizeof(cause), "throttle-class event");
	else
		snprintf(cause, sizeof(cause), "health %d < %d", in->health, p->throttle_below);
	n->ceiling = congestion ? before : 0;
	n->factor = fmax(p->min_factor, before * p->decrease);
	n->last_change = n->last_decrease = in->now;
	enter(n, MODE_THROTTLED, in->now);
	if (was_throttled)
		say(out, "%s: rate %.0f %% → %.0f %%", cause, pct(before), pct(n->factor));
	else
		say(out, "%s: throttled to %.0f %% of the rate", cause, pct(n->factor));
}

/* Rule 2: does this step pause the number?  Says why when it does. */
static bool
step_pause(const RateControlParams *p, const RateControlInput *in, RateControlStep *out)
{
	RateControlState *n = &out->next;
	const char *verb = n->mode == MODE_PAUSED ? "stays paused" : "paused";

	if (!in->hard_signal && !in->pause_signal && in->health >= p->pause_below)
		return false;
	if (n->mode != MODE_PAUSED)
		n->hard_block = false;
	enter(n, MODE_PAUSED, in->now);
	if (in->hard_signal)
	{
		n->hard_block = true;
		say(out, "ban or account restriction: %s until a person clears it", verb);
	}
	else if (in->pause_signal)
		say(out, "pause-class event (e.g. a 131048 burst): %s", verb);
	else
		say(out, "health %d < %d: %s", in->health, p->pause_below, verb);
	return true;
}

/* Rule 3: a pause ends after its cooldown, at good health, unless hard. */
static void
step_paused(const RateControlParams *p, const RateControlInput *in, RateControlStep *out)
{
	RateControlState *n = &out->next;
	int64_t		paused_for = in->now - n->since;

	if (n->hard_block)
		say(out, "paused until a person clears the hard block");
	else if (paused_for < p->pause_cooldown)
		say(out, "paused %lld min of at least %lld min", minutes(paused_for), minutes(p->pause_cooldown));
	else if (in->health < p->resume_at)
		say(out, "paused: health %d < %d", in->health, p->resume_at);
	else
	{
		n->mode = MODE_RECOVERING;
		n->factor = p->ramp_start;
		n->since = n->last_change = in->now;
		say(out, "paused %lld min and health %d ≥ %d: recovering from %.0f %%",
			minutes(paused_for), in->health, p->resume_at, pct(n->factor));
	}
}

/* Rule 4: a linear ramp from ramp_start to 1, never below the current factor. */
static void
step_recovering(const RateControlParams *p, const RateControlInput *in, RateControlStep *out)
{
	RateControlState *n = &out->next;
	int64_t		elapsed = in->now - n->since;
	double		target;

	if (in->bad_signal || in->health < p->throttle_below)
	{
		throttle(p, in, in->congestion_only && in->health >= p->throttle_below, out);
		return;
	}
	if (elapsed >= p->ramp)
	{
		const char *now_in = settle(n, in->now);

		n->since = n->last_change = in->now;
		say(out, "ramp done: %s", now_in);
		return;
	}
	target = p->ramp_start + (1.0 - p->ramp_start) * (double) elapsed / (double) p->ramp;
	if (target > n->factor)
	{
		n->factor = target;
		n->last_change = in->now;
	}
	say(out, "recovering: %.0f %% of the rate, %lld of %lld min into the ramp",
		pct(n->factor), minutes(elapsed), minutes(p->ramp));
}

/*
 * Climb back quickly: the last decrease answered congestion and one more
 * increase stays at or under the rate where Meta answered it.
 */
static bool
probes_quickly(const RateControlParams *p, const RateControlState *n)
{
	return n->ceiling > 0 && n->factor + p->increase <= n->ceiling + FACTOR_EPSILON;
}

/* Rule 6: one decrease per bad step, one increase per clean interval. */
static void
step_throttled(const RateControlParams *p, const RateControlInput *in, RateControlStep *out)
{
	RateControlState *n = &out->next;
	int64_t		clean_for = in->now - n->last_change;
	double		before = n->factor;
	bool		probing = probes_quickly(p, n);
	int64_t		interval = probing ? p->probe_interval : p->increase_interval;

	if (in->bad_signal)
		throttle(p, in, in->congestion_only && in->health >= p->throttle_below, out);
	else if (in->health < p->throttle_below)
		say(out, "throttled at %.0f %%: health %d < %d", pct(before), in->health, p->throttle_below);
	else if (clean_for < interval)
		say(out, "throttled at %.0f %%: next increase in %lld s",
			pct(before), (long long) ((interval - clean_for + SECOND - 1) / SECOND));
	else
	{
		n->factor = fmin(1.0, before + p->increase);
		n->last_change = in->now;
		if (probing && n->factor < 1.0 - FACTOR_EPSILON)
			say(out, "climbing back under the %.0f %% of the last congestion: rate %.0f %% → %.0f %%",
				pct(n->ceiling), pct(before), pct(n->factor));
		else if (n->factor < 1.0 - FACTOR_EPSILON)
			say(out, "clean for %lld min: rate %.0f %% → %.0f %%",
				minutes(clean_for), pct(before), pct(n->factor));
		else
			say(out, "clean for %lld min: rate %.0f %% → 100 %%, %s",
				minutes(clean_for), pct(before), settle(n, in->now));
	}
}

/* Rule 7: the warm-up curve owns the rate; a bad signal still cuts it. */
static void
step_warming(const RateControlParams *p, const RateControlInput *in, RateControlStep *out)
{
	RateControlState *n = &out->next;
	double		before = n->factor;

	if (!in->bad_signal)
	{
		say(out, "warming: the warm-up curve sets the rate");
		return;
	}
	n->factor = fmax(p->min_factor, before * p->decrease);
	n->last_change = n->last_decrease = in->now;
	say(out, "throttle-class event while warming: rate %.0f %% → %.0f %%",
		pct(before), pct(n->factor));
}

/* Bring a stored factor outside (0, 1] back into [min_factor, 1]. */
static void
repair_factor(const RateControlParams *p, RateControlState *n)
{
	if (isnan(n->factor) || n->factor > 1.0)
		n->factor = 1.0;
	else if (n->factor < p->min_factor)
		n->factor = p->min_factor;
}

static void
note_changes(const RateControlState *s, RateControlStep *out)
{
	const RateControlState *n = &out->next;

	out->changed = n->mode != s->mode || n->hard_block != s->hard_block ||
		!(fabs(n->factor - s->factor) <= FACTOR_EPSILON);
}

/*
 * Is a congestion signal about a request sent at 'request_at' a new event?
 * Only if the request left more than congestion_window after the last
 * decrease: one sent before it (or at the same instant, as on a pinned
 * clock) met the congestion that decrease answered, and one sent within the
 * window arrived while Meta's count still held what was sent before it.
 */
bool
rate_control_congestion_is_new(const RateControlParams *p, const RateControlState *s,
							   int64_t request_at)
{
	if (request_at == 0)
		return false;
	if (s->last_decrease == 0)
		return true;
	return request_at > s->last_decrease + p->congestion_window;
}

/*
 * One controller step from state 's' and input 'in' into 'out'.  A stored
 * factor outside (0, 1] is first brought back into [min_factor, 1].
 */
void
rate_control_step(const RateControlParams *p, const RateControlState *s,
				  const RateControlInput *given, RateControlStep *out)
{
	RateControlState *n = &out->next;
	RateControlInput in_copy = *given;
	const RateControlInput *in = &in_copy;

	*n = *s;
	out->changed = false;
	out->why[0] = '\0';
	if (s->operator_hold)
	{
		say(out, "operator hold: the controller changes nothing");
		return;
	}
	repair_factor(p, n);
	in_copy.congestion_only = !given->bad_signal &&
		rate_control_congestion_is_new(p, s, given->congestion_at);
	in_copy.bad_signal = given->bad_signal || in_copy.congestion_only;

	if (!step_pause(p, in, out))
	{
		switch (n->mode)
		{
			case MODE_PAUSED:
				step_paused(p, in, out);
				break;
			case MODE_RECOVERING:
				step_recovering(p, in, out);
				break;
			case MODE_THROTTLED:
				step_throttled(p, in, out);
				break;
			case MODE_WARMING:
				step_warming(p, in, out);
				break;
			case MODE_ACTIVE:
				if (in->bad_signal || in->health < p->throttle_below)
					throttle(p, in, in->congestion_only && in->health >= p->throttle_below, out);
				else
					say(out, "active at %.0f %% of the rate", pct(n->factor));
				break;
		}
	}
	note_changes(s, out);
}

/*
 * Meta answered congestion ('cause', e.g. "throughput limit (130429)") for
 * a request sent at 'request_at': one multiplicative decrease now, unless the
 * event was already answered, the number is paused (it recovers from
 * ramp_start anyway) or an operator holds it.  A warming number stays on its
 * curve with a lower factor, as in a step.
 */
void
rate_control_congestion(const RateControlParams *p, const RateControlState *s,
						const char *cause, int64_t request_at, int64_t now,
						RateControlStep *out)
{
	RateControlState *n = &out->next;
	double		before;

	*n = *s;
	out->changed = false;
	out->why[0] = '\0';
	if (s->operator_hold)
	{
		say(out, "%s: operator hold, the controller changes nothing", cause);
		return;
	}
	if (s->mode == MODE_PAUSED)
	{
		say(out, "%s: the number is paused, nothing to slow", cause);
		return;
	}
	if (!rate_control_congestion_is_new(p, s, request_at))
	{
		say(out, "%s for a request sent before the last decrease took effect: already answered", cause);
		return;
	}
	repair_factor(p, n);
	before = n->factor;
	n->ceiling = before;
	n->factor = fmax(p->min_factor, before * p->decrease);
	n->last_change = n->last_decrease = now;
	if (n->mode != MODE_WARMING)
		enter(n, MODE_THROTTLED, now);
	say(out, "%s: rate %.0f %% → %.0f %%", cause, pct(before), pct(n->factor));
	note_changes(s, out);
}
