/*
 * rate_control.h
 *		A number's mode (active, throttled, paused, recovering, warming) and the
 *		share of its throughput it may use, driven by health and bad signals.
 *
 * AIMD, as TCP does it: a bad signal halves the rate at once, clean intervals
 * win it back a step at a time.  One congestion event is one decrease: a
 * congestion signal (130429) about a request sent before the last decrease
 * reports the congestion that decrease already answered, and is ignored
 * (as TCP ignores losses of segments sent before it cut its window); so is
 * one sent within congestion_window after it, because Meta counts
 * throughput over the last second of arrivals, which still holds what was
 * sent before the decrease (TCP waits a round trip for the same reason).
 * Without that, each request of the second after a decrease met a window
 * still full and cut again: 100 → 50 → 25 → 12 → 6 → 5 % in 600 ms.  After a
 * congestion decrease the rate climbs back quickly (one increase per
 * probe_interval) while it stays under the rate at which congestion was met
 * (its ceiling, TCP's slow-start threshold), then carefully (one per
 * increase_interval) beyond it: a number whose server allows less than its
 * level settles just under what the server allows instead of at its floor,
 * and a 130429 costs a retry, not a ban.  Slow-downs for quality or health
 * have no ceiling and always climb carefully.  A pause ends only after a cooldown and a
 * recovered health, and then ramps up slowly instead of jumping back to full
 * speed, because Meta punishes a number that repeats what got it flagged.
 */
#ifndef ANTIBAN_RATE_CONTROL_H
#define ANTIBAN_RATE_CONTROL_H

#include <stdbool.h>
#include <stdint.h>

#include "decision.h"

#define RATE_CONTROL_WHY_MAX 160

typedef struct RateControlParams
{
	int			throttle_below; /* 70: health under this throttles */
	int			pause_below;	/* 30: health under this pauses */
	int			resume_at;		/* 60: a pause may end once health is at least this */
	double		decrease;		/* 0.5: multiplicative decrease on a bad signal */
	double		increase;		/* 0.1: additive increase per clean interval */
	double		min_factor;		/* 0.05 */
	int64_t		increase_interval;	/* 5 min: one increase per interval */
	int64_t		probe_interval; /* 30 s: one increase per interval while under
								 * the rate of the last congestion */
	int64_t		congestion_window;	/* 1 s: Meta's throughput window, during
									 * which a decrease is not yet seen */
	int64_t		pause_cooldown; /* 30 min: shortest automatic pause */
	int64_t		ramp;			/* 2 h: recovering -> active */
	double		ramp_start;		/* 0.1: where recovering starts */
} RateControlParams;

typedef struct RateControlState
{
	NumberMode	mode;
	double		factor;			/* 0 < factor <= 1: share of the throughput level */
	int64_t		since;			/* when the mode was entered */
	int64_t		last_change;	/* last increase or decrease of factor */
	int64_t		last_decrease;	/* last multiplicative decrease; 0: never */
	double		ceiling;		/* the factor at which Meta last answered
								 * congestion; 0: the last decrease was not
								 * congestion (or none) */
	bool		operator_hold;	/* an operator forced the mode: change nothing */
	bool		hard_block;		/* the pause needs a person (ban, 368, BLOCKED...) */
	bool		warmup_pending; /* its warm-up is unfinished: full rate means warming */
} RateControlState;

typedef struct RateControlInput
{
	int			health;
	bool		bad_signal;		/* a new throttle-class event since the last step
								 * (a quality drop) */
	int64_t		congestion_at;	/* the latest request sent among new congestion
								 * signals (130429); 0: none */
	bool		congestion_only;	/* set by rate_control_step: the only bad
									 * signal is a new congestion event */
	bool		pause_signal;	/* a new pause-class event (131048 burst...) */
	bool		hard_signal;	/* ban, restriction, 368, 131031, BLOCKED */
	int64_t		now;
} RateControlInput;

typedef struct RateControlStep
{
	RateControlState next;
	bool		changed;		/* mode, factor or hard_block changed */
	char		why[RATE_CONTROL_WHY_MAX];
} RateControlStep;

extern RateControlParams rate_control_defaults(void);
extern void rate_control_step(const RateControlParams *p,
							  const RateControlState *s,
							  const RateControlInput *in,
							  RateControlStep *out);
extern bool rate_control_congestion_is_new(const RateControlParams *p,
										   const RateControlState *s,
										   int64_t request_at);
extern void rate_control_congestion(const RateControlParams *p,
									const RateControlState *s,
									const char *cause, int64_t request_at,
									int64_t now, RateControlStep *out);

#endif							/* ANTIBAN_RATE_CONTROL_H */
