/*
 * test_rate_control.c
 *		Modes and the AIMD rate controller, and the
 *		recovering mode's place among the number modes.
 */
#include "unit.h"

#include <limits.h>
#include <math.h>
#include <string.h>

#include "core/decision.h"
#include "core/rate_control.h"

#define MIN(m) ((int64_t) (m) * INT64_C(60000000))
#define T0 MIN(10000)

static RateControlStep
step(RateControlState s, int health, bool bad, bool pause, bool hard, int64_t now)
{
	RateControlParams p = rate_control_defaults();
	RateControlInput in = {.health = health, .bad_signal = bad, .pause_signal = pause,
	.hard_signal = hard, .now = now};
	RateControlStep out;

	memset(&out, 0x7f, sizeof(out));
	rate_control_step(&p, &s, &in, &out);
	return out;
}

static RateControlState
in_mode(NumberMode mode, double factor)
{
	return (RateControlState) {.mode = mode, .factor = factor, .since = T0, .last_change = T0};
}

static void
assert_why(const RateControlStep *r, const char *expected)
{
	assert_string_equal(r->why, expected);
}

static void
bad_signal_halves_down_to_the_floor(void **state)
{
	RateControlStep r = step(in_mode(MODE_ACTIVE, 1.0), 90, true, false, false, T0 + MIN(1));

	assert_true(r.changed);
	assert_int_equal(r.next.mode, MODE_THROTTLED);
	assert_float_equal(r.next.factor, 0.5, 1e-9);
	assert_int_equal(r.next.since, T0 + MIN(1));
	assert_int_equal(r.next.last_change, T0 + MIN(1));
	assert_why(&r, "throttle-class event: throttled to 50 % of the rate");

	r = step(r.next, 90, true, false, false, T0 + MIN(2));
	assert_float_equal(r.next.factor, 0.25, 1e-9);
	assert_int_equal(r.next.since, T0 + MIN(1));
	assert_why(&r, "throttle-class event: rate 50 % → 25 %");

	for (int i = 0; i < 5; i++)
		r = step(r.next, 90, true, false, false, T0 + MIN(3 + i));
	assert_float_equal(r.next.factor, 0.05, 1e-9);
	r = step(r.next, 90, true, false, false, T0 + MIN(9));
	assert_false(r.changed);
	assert_float_equal(r.next.factor, 0.05, 1e-9);
}

static void
low_health_throttles_an_active_number(void **state)
{
	RateControlStep r = step(in_mode(MODE_ACTIVE, 1.0), 55, false, false, false, T0);

	assert_int_equal(r.next.mode, MODE_THROTTLED);
	assert_float_equal(r.next.factor, 0.5, 1e-9);
	assert_why(&r, "health 55 < 70: throttled to 50 % of the rate");
	r = step(in_mode(MODE_ACTIVE, 1.0), 70, false, false, false, T0);
	assert_false(r.changed);
	assert_int_equal(r.next.mode, MODE_ACTIVE);
}

static void
additive_increase_after_each_clean_interval(void **state)
{
	RateControlState s = in_mode(MODE_THROTTLED, 0.5);
	RateControlStep r = step(s, 90, false, false, false, T0 + MIN(5) - 1);

	assert_false(r.changed);
	assert_float_equal(r.next.factor, 0.5, 1e-9);
	/* low health earns no increase, however long */
	r = step(s, 69, false, false, false, T0 + MIN(60));
	assert_false(r.changed);
	r = step(s, 90, false, false, false, T0 + MIN(5));
	assert_true(r.changed);
	assert_int_equal(r.next.mode, MODE_THROTTLED);
	assert_float_equal(r.next.factor, 0.6, 1e-9);
	assert_int_equal(r.next.last_change, T0 + MIN(5));
	assert_why(&r, "clean for 5 min: rate 50 % → 60 %");
	/* one increase per interval, counted from the last change */
	r = step(r.next, 90, false, false, false, T0 + MIN(9));
	assert_false(r.changed);
	for (int i = 2; i <= 4; i++)
	{
		r = step(r.next, 90, false, false, false, T0 + MIN(5 * i));
		assert_int_equal(r.next.mode, MODE_THROTTLED);
	}
	assert_float_equal(r.next.factor, 0.9, 1e-9);
	r = step(r.next, 90, false, false, false, T0 + MIN(25));
	assert_int_equal(r.next.mode, MODE_ACTIVE);
	assert_true(r.next.factor == 1.0);
	assert_int_equal(r.next.since, T0 + MIN(25));
	assert_why(&r, "clean for 5 min: rate 90 % → 100 %, active");
}

static void
low_health_pauses(void **state)
{
	RateControlState s = in_mode(MODE_ACTIVE, 1.0);
	RateControlStep r;

	s.hard_block = true;		/* stale: a new automatic pause is not hard */
	r = step(s, 25, false, false, false, T0 + MIN(1));
	assert_true(r.changed);
	assert_int_equal(r.next.mode, MODE_PAUSED);
	assert_int_equal(r.next.since, T0 + MIN(1));
	assert_false(r.next.hard_block);
	assert_why(&r, "health 25 < 30: paused");

	r = step(in_mode(MODE_THROTTLED, 0.5), 90, false, true, false, T0 + MIN(1));
	assert_int_equal(r.next.mode, MODE_PAUSED);
	assert_why(&r, "pause-class event (e.g. a 131048 burst): paused");
}

static void
pause_lasts_its_cooldown_and_needs_health(void **state)
{
	RateControlState s = in_mode(MODE_PAUSED, 0.5);
	RateControlStep r;

	r = step(s, 90, false, false, false, T0 + MIN(30) - 1);
	assert_false(r.changed);
	assert_int_equal(r.next.mode, MODE_PAUSED);
	r = step(s, 59, false, false, false, T0 + MIN(30));
	assert_false(r.changed);
	/* a pause signal while paused does not restart the cooldown */
	r = step(s, 90, false, true, false, T0 + MIN(20));
	assert_int_equal(r.next.since, T0);
	r = step(s, 72, false, false, false, T0 + MIN(30));
	assert_true(r.changed);
	assert_int_equal(r.next.mode, MODE_RECOVERING);
	assert_float_equal(r.next.factor, 0.1, 1e-9);
	assert_int_equal(r.next.since, T0 + MIN(30));
	assert_int_equal(r.next.last_change, T0 + MIN(30));
	assert_why(&r, "paused 30 min and health 72 ≥ 60: recovering from 10 %");
}

static void
hard_block_holds_until_a_person_clears_it(void **state)
{
	RateControlStep r = step(in_mode(MODE_ACTIVE, 1.0), 100, false, false, true, T0 + MIN(1));
	RateControlState held;

	assert_int_equal(r.next.mode, MODE_PAUSED);
	assert_true(r.next.hard_block);
	assert_int_equal(r.next.since, T0 + MIN(1));
	held = r.next;
	r = step(held, 100, false, false, false, T0 + MIN(600));
	assert_false(r.changed);
	assert_int_equal(r.next.mode, MODE_PAUSED);
	assert_why(&r, "paused until a person clears the hard block");

	held.hard_block = false;
	r = step(held, 100, false, false, false, T0 + MIN(600));
	assert_int_equal(r.next.mode, MODE_RECOVERING);
	assert_float_equal(r.next.factor, 0.1, 1e-9);

	/* a hard signal on an automatic pause makes it hard, keeping its start */
	r = step(in_mode(MODE_PAUSED, 1.0), 100, false, false, true, T0 + MIN(5));
	assert_true(r.changed);
	assert_true(r.next.hard_block);
	assert_int_equal(r.next.since, T0);
}

static void
recovering_ramps_linearly_to_active(void **state)
{
	RateControlState s = in_mode(MODE_RECOVERING, 0.1);
	RateControlStep r = step(s, 90, false, false, false, T0 + MIN(60));

	assert_true(r.changed);
	assert_int_equal(r.next.mode, MODE_RECOVERING);
	assert_float_equal(r.next.factor, 0.55, 1e-9);
	assert_int_equal(r.next.since, T0);
	assert_why(&r, "recovering: 55 % of the rate, 60 of 120 min into the ramp");
	/* never below the current factor */
	s.factor = 0.7;
	r = step(s, 90, false, false, false, T0 + MIN(60));
	assert_false(r.changed);
	assert_float_equal(r.next.factor, 0.7, 1e-9);
	r = step(s, 90, false, false, false, T0 + MIN(120));
	assert_true(r.changed);
	assert_int_equal(r.next.mode, MODE_ACTIVE);
	assert_true(r.next.factor == 1.0);
	assert_why(&r, "ramp done: active");
}

static void
bad_signal_while_recovering_throttles(void **state)
{
	RateControlStep r = step(in_mode(MODE_RECOVERING, 0.55), 90, true, false, false, T0 + MIN(61));

	assert_int_equal(r.next.mode, MODE_THROTTLED);
	assert_float_equal(r.next.factor, 0.275, 1e-9);
	assert_int_equal(r.next.since, T0 + MIN(61));
	r = step(in_mode(MODE_RECOVERING, 0.55), 65, false, false, false, T0 + MIN(61));
	assert_int_equal(r.next.mode, MODE_THROTTLED);
}

static void
operator_hold_freezes_everything(void **state)
{
	RateControlState s = in_mode(MODE_THROTTLED, 0.3);
	RateControlStep r;

	s.operator_hold = true;
	r = step(s, 0, true, true, true, T0 + MIN(600));
	assert_false(r.changed);
	assert_int_equal(r.next.mode, MODE_THROTTLED);
	assert_true(r.next.factor == 0.3);
	assert_int_equal(r.next.since, T0);
	assert_int_equal(r.next.last_change, T0);
	assert_false(r.next.hard_block);
	assert_true(r.next.operator_hold);
	s.mode = MODE_PAUSED;
	r = step(s, 100, false, false, false, T0 + MIN(600));
	assert_false(r.changed);
	assert_int_equal(r.next.mode, MODE_PAUSED);
	assert_why(&r, "operator hold: the controller changes nothing");
}

static void
warming_pauses_and_halves_but_ignores_low_health(void **state)
{
	RateControlStep r = step(in_mode(MODE_WARMING, 0.8), 90, true, false, false, T0 + MIN(1));

	assert_int_equal(r.next.mode, MODE_WARMING);
	assert_float_equal(r.next.factor, 0.4, 1e-9);
	assert_int_equal(r.next.since, T0);
	assert_why(&r, "throttle-class event while warming: rate 80 % → 40 %");
	r = step(in_mode(MODE_WARMING, 0.8), 50, false, false, false, T0 + MIN(600));
	assert_false(r.changed);
	assert_int_equal(r.next.mode, MODE_WARMING);
	r = step(in_mode(MODE_WARMING, 0.8), 90, false, true, false, T0 + MIN(1));
	assert_int_equal(r.next.mode, MODE_PAUSED);
	r = step(in_mode(MODE_WARMING, 0.8), 29, false, false, false, T0 + MIN(1));
	assert_int_equal(r.next.mode, MODE_PAUSED);
}

static void
stored_factor_outside_range_is_repaired(void **state)
{
	RateControlStep r = step(in_mode(MODE_ACTIVE, 0.0), 90, false, false, false, T0);

	assert_true(r.changed);
	assert_float_equal(r.next.factor, 0.05, 1e-9);
	r = step(in_mode(MODE_ACTIVE, 3.0), 90, false, false, false, T0);
	assert_true(r.next.factor == 1.0);
}

static void
recovering_is_a_mode_and_eligible(void **state)
{
	NumberMode m = MODE_ACTIVE;
	NumberView n = {.health = 80, .mode = MODE_RECOVERING, .can_send = true};

	assert_true(number_mode_parse("recovering", &m));
	assert_int_equal(m, MODE_RECOVERING);
	assert_true(number_mode_parse("warming", &m));
	assert_int_equal(m, MODE_WARMING);
	assert_false(number_mode_parse("resting", &m));
	assert_string_equal(number_mode_name(MODE_RECOVERING), "recovering");
	assert_string_equal(number_mode_name(MODE_THROTTLED), "throttled");
	assert_true(number_is_eligible(&n, 50));
}

/* A number paused in the middle of its warm-up goes back to it, not to active. */
static void
unfinished_warmup_resumes_after_recovery(void **state)
{
	RateControlState s = in_mode(MODE_RECOVERING, 0.9);
	RateControlStep r;

	s.warmup_pending = true;
	r = step(s, 90, false, false, false, T0 + MIN(120));
	assert_int_equal(r.next.mode, MODE_WARMING);
	assert_true(r.next.factor == 1.0);
	assert_why(&r, "ramp done: back to its warm-up");
	/* the same from throttled, once the rate is whole again */
	s = in_mode(MODE_THROTTLED, 0.95);
	s.warmup_pending = true;
	r = step(s, 90, false, false, false, T0 + MIN(5));
	assert_int_equal(r.next.mode, MODE_WARMING);
	assert_why(&r, "clean for 5 min: rate 95 % → 100 %, back to its warm-up");
	s.warmup_pending = false;
	r = step(s, 90, false, false, false, T0 + MIN(5));
	assert_int_equal(r.next.mode, MODE_ACTIVE);
}

/* Congestion met at once: one decrease by the configured factor, per event. */
static void
congestion_decreases_once_per_event(void **state)
{
	RateControlParams p = rate_control_defaults();
	RateControlState s = in_mode(MODE_ACTIVE, 1.0);
	RateControlStep r;

	p.decrease = 0.7;
	/* a request sent at T0 + 1 min meets 130429, answered at + 2 min */
	rate_control_congestion(&p, &s, "throughput limit (130429)", T0 + MIN(1), T0 + MIN(2), &r);
	assert_true(r.changed);
	assert_int_equal(r.next.mode, MODE_THROTTLED);
	assert_float_equal(r.next.factor, 0.7, 1e-9);
	assert_int_equal(r.next.last_decrease, T0 + MIN(2));
	assert_int_equal(r.next.last_change, T0 + MIN(2));
	assert_why(&r, "throughput limit (130429): rate 100 % → 70 %");

	/* another request sent before that decrease: the same event */
	s = r.next;
	rate_control_congestion(&p, &s, "throughput limit (130429)", T0 + MIN(2), T0 + MIN(3), &r);
	assert_false(r.changed);
	assert_float_equal(r.next.factor, 0.7, 1e-9);
	assert_int_equal(r.next.last_decrease, T0 + MIN(2));
	assert_why(&r, "throughput limit (130429) for a request sent before the last decrease took effect: already answered");

	/* one sent after it took effect (Meta's second has passed): a new event, a second decrease */
	rate_control_congestion(&p, &s, "throughput limit (130429)", T0 + MIN(2) + p.congestion_window + 1, T0 + MIN(3), &r);
	assert_true(r.changed);
	assert_float_equal(r.next.factor, 0.49, 1e-9);
}

/*
 * The burst: the server allows a quarter of the level; five requests
 * already in flight meet 130429 one after another.  One event, one decrease;
 * only a request sent after it is a new event.
 */
static void
burst_in_flight_is_one_event(void **state)
{
	RateControlParams p = rate_control_defaults();
	RateControlState s = in_mode(MODE_ACTIVE, 1.0);
	RateControlStep r;

	for (int i = 0; i < 5; i++)
	{
		rate_control_congestion(&p, &s, "throughput limit (130429)", T0 + i * 1000,
								T0 + 100000 + i * 50000, &r);
		assert_true(r.changed == (i == 0));
		s = r.next;
	}
	assert_float_equal(s.factor, 0.5, 1e-9);
	assert_float_equal(s.ceiling, 1.0, 1e-9);
	/*
	 * Sent after the decrease, but Meta's count of the last second still
	 * holds what was sent before it: the same event (this cut again, five
	 * times in 600 ms, against the simulator).
	 */
	rate_control_congestion(&p, &s, "throughput limit (130429)", T0 + 400000, T0 + 500000, &r);
	assert_false(r.changed);
	rate_control_congestion(&p, &s, "throughput limit (130429)", T0 + 100000 + p.congestion_window,
							T0 + 1200000, &r);
	assert_false(r.changed);
	/* a second later the rate really is still too high: a new event */
	rate_control_congestion(&p, &s, "throughput limit (130429)", T0 + 100001 + p.congestion_window,
							T0 + 1300000, &r);
	assert_float_equal(r.next.factor, 0.25, 1e-9);
	assert_float_equal(r.next.ceiling, 0.5, 1e-9);
}

/* Under the rate of the last congestion the rate climbs every probe_interval. */
static void
congestion_probes_back_quickly(void **state)
{
	RateControlParams p = rate_control_defaults();
	RateControlState s = in_mode(MODE_ACTIVE, 0.5);
	RateControlInput in = {.health = 95};
	RateControlStep r;
	int64_t		t = T0 + MIN(1);

	rate_control_congestion(&p, &s, "throughput limit (130429)", t - 1000, t, &r);
	s = r.next;
	assert_float_equal(s.factor, 0.25, 1e-9);
	in.now = t + p.probe_interval - 1;
	rate_control_step(&p, &s, &in, &r);
	assert_false(r.changed);
	assert_why(&r, "throttled at 25 %: next increase in 1 s");
	in.now = t + p.probe_interval;
	rate_control_step(&p, &s, &in, &r);
	assert_true(r.changed);
	assert_float_equal(r.next.factor, 0.35, 1e-9);
	assert_why(&r, "climbing back under the 50 % of the last congestion: rate 25 % → 35 %");
	s = r.next;
	in.now += p.probe_interval;
	rate_control_step(&p, &s, &in, &r);
	assert_float_equal(r.next.factor, 0.45, 1e-9);
	s = r.next;
	/* 55 % is past the ceiling: carefully again, one step per increase_interval */
	in.now += p.probe_interval;
	rate_control_step(&p, &s, &in, &r);
	assert_false(r.changed);
	in.now = s.last_change + p.increase_interval;
	rate_control_step(&p, &s, &in, &r);
	assert_float_equal(r.next.factor, 0.55, 1e-9);
	/* a slow-down for quality leaves no ceiling: careful all the way */
	in.bad_signal = true;
	rate_control_step(&p, &r.next, &in, &r);
	assert_float_equal(r.next.ceiling, 0, 1e-12);
	s = r.next;
	in.bad_signal = false;
	in.now += p.probe_interval;
	rate_control_step(&p, &s, &in, &r);
	assert_false(r.changed);
}

/*
 * A number whose server allows 'allowed' of its level, for an hour: each
 * second at a higher share meets congestion (for a request sent that
 * second), the monitor steps every 10 s.  The mean share it sends at.
 */
static double
mean_share_against(const RateControlParams *p, double allowed, double *lowest)
{
	RateControlState s = in_mode(MODE_ACTIVE, 1.0);
	RateControlInput in = {.health = 95};
	RateControlStep r;
	double		sum = 0;
	int			n = 0;

	*lowest = 1.0;
	for (int sec = 1; sec <= 3600; sec++)
	{
		int64_t		now = T0 + (int64_t) sec * 1000000;

		if (s.factor > allowed + 1e-9)
		{
			rate_control_congestion(p, &s, "throughput limit (130429)", now - 500000, now, &r);
			s = r.next;
		}
		if (sec % 10 == 0)
		{
			in.now = now;
			rate_control_step(p, &s, &in, &r);
			s = r.next;
		}
		if (s.factor < *lowest)
			*lowest = s.factor;
		if (sec > 600)
		{
			sum += fmin(s.factor, allowed);
			n++;
		}
	}
	return sum / n;
}

static void
rate_settles_near_what_the_server_allows(void **state)
{
	RateControlParams p = rate_control_defaults();
	double		lowest;
	double		mean;

	/* 20 mps allowed of a configured 70: 29 % */
	mean = mean_share_against(&p, 20.0 / 70.0, &lowest);
	assert_true(lowest > p.min_factor);
	assert_true(mean / (20.0 / 70.0) > 0.8);	/* 85 % measured */
	/* climbing back only every increase_interval, as before, stays lower */
	p.probe_interval = p.increase_interval;
	assert_true(mean_share_against(&p, 20.0 / 70.0, &lowest) / (20.0 / 70.0) < 0.75);	/* 71 % */
}

/* The monitor's step sees the event the sender already acted on, and leaves it. */
static void
monitor_step_ignores_congestion_already_answered(void **state)
{
	RateControlParams p = rate_control_defaults();
	RateControlState s = in_mode(MODE_ACTIVE, 1.0);
	RateControlInput in = {.health = 95, .now = T0 + MIN(3), .congestion_at = T0 + MIN(1)};
	RateControlStep r;

	p.decrease = 0.7;
	p.probe_interval = p.increase_interval;	/* about cuts only: no climb yet */
	rate_control_congestion(&p, &s, "throughput limit (130429)", T0 + MIN(1), T0 + MIN(2), &r);
	s = r.next;
	rate_control_step(&p, &s, &in, &r);
	assert_false(r.changed);
	assert_float_equal(r.next.factor, 0.7, 1e-9);

	/* before the sender acted (no decrease yet), the step cuts: by the same factor */
	s = in_mode(MODE_ACTIVE, 1.0);
	rate_control_step(&p, &s, &in, &r);
	assert_true(r.changed);
	assert_float_equal(r.next.factor, 0.7, 1e-9);
	assert_int_equal(r.next.last_decrease, T0 + MIN(3));
	/* and then congestion from that request is answered */
	assert_false(rate_control_congestion_is_new(&p, &r.next, T0 + MIN(1)));
	assert_false(rate_control_congestion_is_new(&p, &r.next, 0));
	assert_false(rate_control_congestion_is_new(&p, &r.next, T0 + MIN(3) + p.congestion_window));
	assert_true(rate_control_congestion_is_new(&p, &r.next, T0 + MIN(3) + p.congestion_window + 1));

	/* a cut for any other reason also answers the congestion before it */
	s = in_mode(MODE_ACTIVE, 1.0);
	in.congestion_at = 0;
	in.bad_signal = true;
	rate_control_step(&p, &s, &in, &r);
	assert_int_equal(r.next.last_decrease, T0 + MIN(3));
}

static void
congestion_spares_paused_held_and_warming_modes(void **state)
{
	RateControlParams p = rate_control_defaults();
	RateControlState s = in_mode(MODE_PAUSED, 0.5);
	RateControlStep r;

	rate_control_congestion(&p, &s, "throughput limit (130429)", T0, T0 + 1, &r);
	assert_false(r.changed);
	assert_int_equal(r.next.last_decrease, 0);
	assert_why(&r, "throughput limit (130429): the number is paused, nothing to slow");

	s = in_mode(MODE_ACTIVE, 1.0);
	s.operator_hold = true;
	rate_control_congestion(&p, &s, "throughput limit (130429)", T0, T0 + 1, &r);
	assert_false(r.changed);

	s = in_mode(MODE_WARMING, 1.0);
	rate_control_congestion(&p, &s, "throughput limit (130429)", T0, T0 + 1, &r);
	assert_true(r.changed);
	assert_int_equal(r.next.mode, MODE_WARMING);
	assert_float_equal(r.next.factor, 0.5, 1e-9);

	s = in_mode(MODE_RECOVERING, 0.4);
	rate_control_congestion(&p, &s, "throughput limit (130429)", T0, T0 + 1, &r);
	assert_int_equal(r.next.mode, MODE_THROTTLED);
	assert_float_equal(r.next.factor, 0.2, 1e-9);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(congestion_decreases_once_per_event),
	cmocka_unit_test(burst_in_flight_is_one_event),
	cmocka_unit_test(congestion_probes_back_quickly),
	cmocka_unit_test(rate_settles_near_what_the_server_allows),
	cmocka_unit_test(monitor_step_ignores_congestion_already_answered),
	cmocka_unit_test(congestion_spares_paused_held_and_warming_modes),
	cmocka_unit_test(unfinished_warmup_resumes_after_recovery),
	cmocka_unit_test(bad_signal_halves_down_to_the_floor),
	cmocka_unit_test(low_health_throttles_an_active_number),
	cmocka_unit_test(additive_increase_after_each_clean_interval),
	cmocka_unit_test(low_health_pauses),
	cmocka_unit_test(pause_lasts_its_cooldown_and_needs_health),
	cmocka_unit_test(hard_block_holds_until_a_person_clears_it),
	cmocka_unit_test(recovering_ramps_linearly_to_active),
	cmocka_unit_test(bad_signal_while_recovering_throttles),
	cmocka_unit_test(operator_hold_freezes_everything),
	cmocka_unit_test(warming_pauses_and_halves_but_ignores_low_health),
	cmocka_unit_test(stored_factor_outside_range_is_repaired),
	cmocka_unit_test(recovering_is_a_mode_and_eligible),
};

UnitGroup
rate_control_tests(void)
{
	return (UnitGroup) UNIT_GROUP("rate_control", tests);
}
