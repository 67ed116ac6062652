/*
 * test_transport_outcome.c
 *		Which transport failures prove that nothing reached Meta.
 */
#include "unit.h"

#include "core/transport_outcome.h"

static TransportOutcome
outcome(TransportFailure failure, bool started, bool reused, bool withheld)
{
	TransportFacts f = {
		.failure = failure, .request_started = started,
		.connection_reused = reused, .body_withheld = withheld,
	};

	return transport_failure_outcome(&f);
}

/* DNS, refused connections, TLS handshakes: the request never started. */
static void
set_up_failures_are_not_sent(void **state)
{
	assert_int_equal(outcome(TRANSPORT_FAILED_RESOLVE, false, false, false), TRANSPORT_NOT_SENT);
	assert_int_equal(outcome(TRANSPORT_FAILED_CONNECT, false, false, false), TRANSPORT_NOT_SENT);
	assert_int_equal(outcome(TRANSPORT_FAILED_TLS, false, false, false), TRANSPORT_NOT_SENT);
	/* a connect timeout, a malformed URL */
	assert_int_equal(outcome(TRANSPORT_FAILED_TIMEOUT, false, false, false), TRANSPORT_NOT_SENT);
	assert_int_equal(outcome(TRANSPORT_FAILED_LOCAL, false, false, false), TRANSPORT_NOT_SENT);
}

/*
 * The lost reply on a kept-alive connection: libcurl wants to re-send on a
 * fresh connection, the rewind is refused, and the connect time is 0.  It
 * may have been accepted.
 */
static void
kept_alive_send_failure_is_ambiguous(void **state)
{
	assert_int_equal(outcome(TRANSPORT_FAILED_SEND, true, true, false), TRANSPORT_AMBIGUOUS);
	assert_int_equal(outcome(TRANSPORT_FAILED_RECEIVE, true, true, false), TRANSPORT_AMBIGUOUS);
	assert_int_equal(outcome(TRANSPORT_FAILED_TIMEOUT, true, true, false), TRANSPORT_AMBIGUOUS);
	/* a set-up code can not excuse a connection that already had the request */
	assert_int_equal(outcome(TRANSPORT_FAILED_CONNECT, true, true, false), TRANSPORT_AMBIGUOUS);
	assert_int_equal(outcome(TRANSPORT_FAILED_CONNECT, false, true, false), TRANSPORT_AMBIGUOUS);
}

/* On a new connection too: anything after the request started. */
static void
failure_after_the_request_started_is_ambiguous(void **state)
{
	for (int f = TRANSPORT_FAILED_RESOLVE; f <= TRANSPORT_FAILED_OTHER; f++)
		assert_int_equal(outcome((TransportFailure) f, true, false, false), TRANSPORT_AMBIGUOUS);
}

/* A POST whose body never left is incomplete: nothing could be accepted. */
static void
withheld_body_is_not_sent(void **state)
{
	assert_int_equal(outcome(TRANSPORT_FAILED_SEND, true, true, true), TRANSPORT_NOT_SENT);
	assert_int_equal(outcome(TRANSPORT_FAILED_CONNECT, true, false, true), TRANSPORT_NOT_SENT);
	assert_int_equal(outcome(TRANSPORT_FAILED_TIMEOUT, true, false, true), TRANSPORT_NOT_SENT);
}

/* Facts that contradict each other prove nothing. */
static void
contradictions_are_ambiguous(void **state)
{
	assert_int_equal(outcome(TRANSPORT_FAILED_SEND, false, false, false), TRANSPORT_AMBIGUOUS);
	assert_int_equal(outcome(TRANSPORT_FAILED_RECEIVE, false, false, false), TRANSPORT_AMBIGUOUS);
	assert_int_equal(outcome(TRANSPORT_FAILED_OTHER, false, false, false), TRANSPORT_AMBIGUOUS);
}

UnitGroup
transport_outcome_tests(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(set_up_failures_are_not_sent),
		cmocka_unit_test(kept_alive_send_failure_is_ambiguous),
		cmocka_unit_test(failure_after_the_request_started_is_ambiguous),
		cmocka_unit_test(withheld_body_is_not_sent),
		cmocka_unit_test(contradictions_are_ambiguous),
	};

	return (UnitGroup) UNIT_GROUP("transport_outcome", tests);
}
