/*
 * test_circuit_breaker.c
 *		The breaker: what opens it, probes with growing waits, one probe at a
 *		time, and what closes it.
 */
#include "unit.h"

#include "core/circuit_breaker.h"

#define S 1000000				/* one second in microseconds */

static const BreakerParams params = {
	.threshold = 3,
	.probe = {.base_us = 1 * S, .cap_us = 8 * S},
	.probe_timeout_us = 20 * S,
};

static void
unreachable(BreakerState *s, int64_t now, BreakerChange *c)
{
	breaker_observe(s, &params, BREAKER_SIGNAL_UNREACHABLE, false, now, 0.5, c);
}

/* Open a closed breaker at 'now' with 'threshold' failures. */
static BreakerState
opened_at(int64_t now)
{
	BreakerState s = {0};
	BreakerChange c;

	for (int i = 0; i < params.threshold; i++)
		unreachable(&s, now, &c);
	assert_int_equal(s.phase, BREAKER_OPEN);
	return s;
}

static TransportFacts
facts(TransportFailure failure, bool started, bool reused)
{
	TransportFacts f = {.failure = failure, .request_started = started, .connection_reused = reused};

	return f;
}

/* DNS, connect, TLS, a connect timeout: unreachable; nothing else is. */
static void
only_connection_failures_count(void **state)
{
	TransportFacts f;

	f = facts(TRANSPORT_FAILED_RESOLVE, false, false);
	assert_int_equal(breaker_signal(false, &f), BREAKER_SIGNAL_UNREACHABLE);
	f = facts(TRANSPORT_FAILED_CONNECT, false, false);
	assert_int_equal(breaker_signal(false, &f), BREAKER_SIGNAL_UNREACHABLE);
	f = facts(TRANSPORT_FAILED_TLS, false, false);
	assert_int_equal(breaker_signal(false, &f), BREAKER_SIGNAL_UNREACHABLE);
	f = facts(TRANSPORT_FAILED_TIMEOUT, false, false);
	assert_int_equal(breaker_signal(false, &f), BREAKER_SIGNAL_UNREACHABLE);
	/* the request may have left: never the breaker's (and never resent) */
	f = facts(TRANSPORT_FAILED_TIMEOUT, true, false);
	assert_int_equal(breaker_signal(false, &f), BREAKER_SIGNAL_NONE);
	assert_int_equal(transport_failure_outcome(&f), TRANSPORT_AMBIGUOUS);
	f = facts(TRANSPORT_FAILED_RECEIVE, true, true);
	assert_int_equal(breaker_signal(false, &f), BREAKER_SIGNAL_NONE);
	/* a kept-alive connection that dies under the request: it took one */
	f = facts(TRANSPORT_FAILED_SEND, true, true);
	f.body_withheld = true;
	assert_int_equal(transport_failure_outcome(&f), TRANSPORT_NOT_SENT);
	assert_int_equal(breaker_signal(false, &f), BREAKER_SIGNAL_NONE);
	/*
	 * libcurl found the kept-alive connection dead before the body and tried
	 * a new one, refused: unreachable now, and still nothing sent
	 */
	f = facts(TRANSPORT_FAILED_CONNECT, true, true);
	f.body_withheld = true;
	assert_int_equal(breaker_signal(false, &f), BREAKER_SIGNAL_UNREACHABLE);
	assert_int_equal(transport_failure_outcome(&f), TRANSPORT_NOT_SENT);
	/* our own failure (a bad URL, no memory) says nothing of the endpoint */
	f = facts(TRANSPORT_FAILED_LOCAL, false, false);
	assert_int_equal(breaker_signal(false, &f), BREAKER_SIGNAL_NONE);
	/* any HTTP answer, whatever its status */
	f = facts(TRANSPORT_FAILED_OTHER, false, false);
	assert_int_equal(breaker_signal(true, &f), BREAKER_SIGNAL_ANSWER);
	/* on a request never handed to a connection, every counted failure is proven not sent */
	for (int k = TRANSPORT_FAILED_RESOLVE; k <= TRANSPORT_FAILED_OTHER; k++)
	{
		f = facts((TransportFailure) k, false, false);
		if (breaker_signal(false, &f) == BREAKER_SIGNAL_UNREACHABLE)
			assert_int_equal(transport_failure_outcome(&f), TRANSPORT_NOT_SENT);
	}
}

/* 'threshold' in a row open it; an answer in between starts the count again. */
static void
opens_after_consecutive_failures(void **state)
{
	BreakerState s = {0};
	BreakerChange c;

	unreachable(&s, 10 * S, &c);
	unreachable(&s, 10 * S, &c);
	breaker_observe(&s, &params, BREAKER_SIGNAL_ANSWER, false, 10 * S, 0.5, &c);
	assert_int_equal(s.consecutive_failures, 0);
	unreachable(&s, 11 * S, &c);
	unreachable(&s, 11 * S, &c);
	assert_int_equal(s.phase, BREAKER_CLOSED);
	assert_int_equal(c.reason, BREAKER_NO_CHANGE);
	/* ambiguous endings neither count nor reset */
	breaker_observe(&s, &params, BREAKER_SIGNAL_NONE, false, 11 * S, 0.5, &c);
	assert_int_equal(s.consecutive_failures, 2);
	unreachable(&s, 12 * S, &c);
	assert_int_equal(s.phase, BREAKER_OPEN);
	assert_int_equal(c.from, BREAKER_CLOSED);
	assert_int_equal(c.to, BREAKER_OPEN);
	assert_int_equal(c.reason, BREAKER_FAILURES);
	assert_int_equal(s.opened_at, 12 * S);
	/* first wait: base with equal jitter, in [base/2, base] */
	assert_in_range(s.next_probe_at - 12 * S, S / 2, S);
	/* later failures (requests already in flight) change nothing more */
	unreachable(&s, 12 * S, &c);
	assert_int_equal(c.reason, BREAKER_NO_CHANGE);
	assert_int_equal(s.phase, BREAKER_OPEN);
}

/* Open: hold until the probe is due; then exactly one caller probes. */
static void
one_probe_at_a_time(void **state)
{
	BreakerState s = opened_at(0);
	BreakerChange c;

	assert_int_equal(breaker_gate(&s, &params, s.next_probe_at - 1, 0.5, &c), BREAKER_GATE_HOLD);
	assert_false(breaker_begin_probe(&s, &params, s.next_probe_at - 1, &c));
	assert_int_equal(breaker_gate(&s, &params, s.next_probe_at, 0.5, &c), BREAKER_GATE_PROBE_DUE);
	assert_true(breaker_begin_probe(&s, &params, s.next_probe_at, &c));
	assert_int_equal(c.from, BREAKER_OPEN);
	assert_int_equal(c.to, BREAKER_HALF_OPEN);
	assert_int_equal(c.reason, BREAKER_PROBE_DUE);
	/* a second sender finds it half-open: it holds and may not probe */
	assert_int_equal(breaker_gate(&s, &params, s.next_probe_at + 1, 0.5, &c), BREAKER_GATE_HOLD);
	assert_false(breaker_begin_probe(&s, &params, s.next_probe_at + 1, &c));
}

/* Failed probes wait twice as long each time, up to the cap, jittered. */
static void
probes_back_off(void **state)
{
	BreakerState s = opened_at(5 * S);
	BreakerChange c;
	int64_t		now = 5 * S;
	int64_t		ceiling = params.probe.base_us;

	for (int k = 1; k <= 6; k++)
	{
		int64_t		wait = s.next_probe_at - now;

		/* the k-th wait: half fixed, half random, of min(base * 2^(k-1), cap) */
		assert_in_range(wait, ceiling / 2, ceiling);
		assert_int_equal(wait, s.probe_wait_us);
		now = s.next_probe_at;
		assert_true(breaker_begin_probe(&s, &params, now, &c));
		now += S / 10;
		breaker_observe(&s, &params, BREAKER_SIGNAL_UNREACHABLE, true, now, 0.99, &c);
		assert_int_equal(c.reason, BREAKER_PROBE_FAILED);
		assert_int_equal(c.to, BREAKER_OPEN);
		assert_int_equal(s.failed_probes, k);
		ceiling = ceiling * 2 > params.probe.cap_us ? params.probe.cap_us : ceiling * 2;
	}
	/* the opening is remembered across probes */
	assert_int_equal(s.opened_at, 5 * S);
}

/* The probe answered (any status): closed, the count starts again. */
static void
an_answer_closes(void **state)
{
	BreakerState s = opened_at(0);
	BreakerChange c;

	assert_true(breaker_begin_probe(&s, &params, s.next_probe_at, &c));
	breaker_observe(&s, &params, BREAKER_SIGNAL_ANSWER, true, s.next_probe_at + 1, 0.5, &c);
	assert_int_equal(c.from, BREAKER_HALF_OPEN);
	assert_int_equal(c.to, BREAKER_CLOSED);
	assert_int_equal(c.reason, BREAKER_PROBE_ANSWERED);
	assert_int_equal(s.phase, BREAKER_CLOSED);
	assert_int_equal(s.consecutive_failures, 0);
	assert_int_equal(s.failed_probes, 0);
	assert_int_equal(s.opened_at, 0);
	assert_int_equal(breaker_gate(&s, &params, 1, 0.5, &c), BREAKER_GATE_CLAIM);

	/* an answer to a request sent before the opening closes it too */
	s = opened_at(0);
	breaker_observe(&s, &params, BREAKER_SIGNAL_ANSWER, false, 1, 0.5, &c);
	assert_int_equal(c.reason, BREAKER_ANSWERED);
	assert_int_equal(s.phase, BREAKER_CLOSED);
}

/*
 * A probe that may have left without an answer (ambiguous), or that is not
 * back by its deadline (its sender died), is lost: open again, longer wait.
 */
static void
lost_probes_reopen(void **state)
{
	BreakerState s = opened_at(0);
	BreakerChange c;
	int64_t		t = s.next_probe_at;

	assert_true(breaker_begin_probe(&s, &params, t, &c));
	breaker_observe(&s, &params, BREAKER_SIGNAL_NONE, true, t + 1, 0.5, &c);
	assert_int_equal(c.reason, BREAKER_PROBE_LOST);
	assert_int_equal(s.phase, BREAKER_OPEN);
	assert_int_equal(s.failed_probes, 1);

	t = s.next_probe_at;
	assert_true(breaker_begin_probe(&s, &params, t, &c));
	assert_int_equal(breaker_gate(&s, &params, t + params.probe_timeout_us - 1, 0.5, &c), BREAKER_GATE_HOLD);
	/* past the deadline: lost, and the next probe waits its (longer) turn */
	assert_int_equal(breaker_gate(&s, &params, t + params.probe_timeout_us, 0.5, &c), BREAKER_GATE_HOLD);
	assert_int_equal(c.reason, BREAKER_PROBE_LOST);
	assert_int_equal(c.from, BREAKER_HALF_OPEN);
	assert_int_equal(s.phase, BREAKER_OPEN);
	assert_int_equal(s.failed_probes, 2);
	assert_in_range(s.probe_wait_us, 2 * S, 4 * S);
}

/* A probe taken but never sent (nothing to probe with) leaves no trace. */
static void
abandoned_probe(void **state)
{
	BreakerState s = opened_at(0);
	BreakerChange c;
	int64_t		wait = s.probe_wait_us;
	int64_t		t = s.next_probe_at;

	assert_true(breaker_begin_probe(&s, &params, t, &c));
	breaker_abandon_probe(&s, t);
	assert_int_equal(s.phase, BREAKER_OPEN);
	assert_int_equal(s.failed_probes, 0);
	assert_int_equal(s.next_probe_at, t + wait);
	/* on a breaker that is not half-open it does nothing */
	s.phase = BREAKER_CLOSED;
	breaker_abandon_probe(&s, t);
	assert_int_equal(s.phase, BREAKER_CLOSED);
}

/* A late result of a probe already counted lost: an ordinary result. */
static void
late_probe_result(void **state)
{
	BreakerState s = opened_at(0);
	BreakerChange c;
	int64_t		t = s.next_probe_at;

	assert_true(breaker_begin_probe(&s, &params, t, &c));
	(void) breaker_gate(&s, &params, t + params.probe_timeout_us, 0.5, &c);
	assert_int_equal(s.phase, BREAKER_OPEN);
	breaker_observe(&s, &params, BREAKER_SIGNAL_UNREACHABLE, true, t + params.probe_timeout_us + 1, 0.5, &c);
	assert_int_equal(c.reason, BREAKER_NO_CHANGE);
	assert_int_equal(s.failed_probes, 1);
	breaker_observe(&s, &params, BREAKER_SIGNAL_ANSWER, true, t + params.probe_timeout_us + 2, 0.5, &c);
	assert_int_equal(c.reason, BREAKER_ANSWERED);
}

static void
names(void **state)
{
	assert_string_equal(breaker_phase_name(BREAKER_HALF_OPEN), "half_open");
	assert_string_equal(breaker_reason_name(BREAKER_FAILURES), "connection_failures");
	assert_string_equal(breaker_reason_name(BREAKER_PROBE_ANSWERED), "probe_answered");
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(only_connection_failures_count),
	cmocka_unit_test(opens_after_consecutive_failures),
	cmocka_unit_test(one_probe_at_a_time),
	cmocka_unit_test(probes_back_off),
	cmocka_unit_test(an_answer_closes),
	cmocka_unit_test(lost_probes_reopen),
	cmocka_unit_test(abandoned_probe),
	cmocka_unit_test(late_probe_result),
	cmocka_unit_test(names),
};

UnitGroup
circuit_breaker_tests(void)
{
	return (UnitGroup) UNIT_GROUP("circuit_breaker", tests);
}
