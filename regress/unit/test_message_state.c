/*
 * test_message_state.c
 *		The outbox state machine.
 */
#include "unit.h"

#include "core/message_state.h"

static void
happy_path(void **state)
{
	assert_true(message_transition_allowed(MSG_QUEUED, MSG_SENDING));
	assert_true(message_transition_allowed(MSG_SENDING, MSG_SENT));
	assert_true(message_transition_allowed(MSG_SENT, MSG_DELIVERED));
	assert_true(message_transition_allowed(MSG_DELIVERED, MSG_READ));
	/* Meta skips delivered when both happen at once */
	assert_true(message_transition_allowed(MSG_SENT, MSG_READ));
}

static void
never_backwards(void **state)
{
	assert_false(message_transition_allowed(MSG_READ, MSG_SENT));
	assert_false(message_transition_allowed(MSG_READ, MSG_DELIVERED));
	assert_false(message_transition_allowed(MSG_DELIVERED, MSG_SENT));
	assert_false(message_transition_allowed(MSG_SENT, MSG_SENDING));
	assert_false(message_transition_allowed(MSG_SENT, MSG_QUEUED));
}

static void
webhook_evidence_settles_waiting_messages(void **state)
{
	/* queued again after an unconfirmed send, then Meta says it was delivered */
	assert_true(message_transition_allowed(MSG_QUEUED, MSG_DELIVERED));
	assert_true(message_transition_allowed(MSG_RETRY_WAIT, MSG_SENT));
	assert_false(message_transition_allowed(MSG_CANCELLED, MSG_SENT));
}

static void
finals_and_cancel(void **state)
{
	MessageState finals[] = {MSG_READ, MSG_FAILED, MSG_DEAD, MSG_REJECTED, MSG_EXPIRED, MSG_CANCELLED};

	for (size_t i = 0; i < sizeof(finals) / sizeof(finals[0]); i++)
		assert_true(message_state_is_final(finals[i]));
	assert_true(message_transition_allowed(MSG_QUEUED, MSG_CANCELLED));
	assert_true(message_transition_allowed(MSG_RETRY_WAIT, MSG_CANCELLED));
	assert_false(message_transition_allowed(MSG_SENDING, MSG_CANCELLED));
	assert_false(message_transition_allowed(MSG_CANCELLED, MSG_QUEUED));
}

static void
unknown_can_be_resolved(void **state)
{
	assert_true(message_transition_allowed(MSG_SENDING, MSG_UNKNOWN));
	assert_true(message_transition_allowed(MSG_UNKNOWN, MSG_SENT));
	assert_true(message_transition_allowed(MSG_UNKNOWN, MSG_QUEUED));
	assert_false(message_state_is_final(MSG_UNKNOWN));
}

static void
names(void **state)
{
	MessageState s;

	assert_true(message_state_parse("retry_wait", &s));
	assert_int_equal(s, MSG_RETRY_WAIT);
	assert_string_equal(message_state_name(MSG_UNKNOWN), "unknown");
	assert_false(message_state_parse("lost", &s));
}

static void
delivered_and_read_imply_sent(void **state)
{
	assert_true(message_state_implies_sent(MSG_DELIVERED));
	assert_true(message_state_implies_sent(MSG_READ));
	assert_false(message_state_implies_sent(MSG_SENT));
	assert_false(message_state_implies_sent(MSG_SENDING));
	assert_false(message_state_implies_sent(MSG_FAILED));
	assert_false(message_state_implies_sent(MSG_UNKNOWN));
}

/* Only an operator's requeue brings a message back from dead, failed or unknown. */
static void
requeue_only_from_endings_without_delivery(void **state)
{
	for (int s = 0; s < MSG_NSTATES; s++)
		assert_int_equal(message_requeue_allowed((MessageState) s),
						 s == MSG_DEAD || s == MSG_FAILED || s == MSG_UNKNOWN);
	/* the state machine alone still never does it */
	assert_false(message_transition_allowed(MSG_DEAD, MSG_QUEUED));
	assert_false(message_transition_allowed(MSG_FAILED, MSG_QUEUED));
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(requeue_only_from_endings_without_delivery),
	cmocka_unit_test(delivered_and_read_imply_sent),
	cmocka_unit_test(happy_path),
	cmocka_unit_test(never_backwards),
	cmocka_unit_test(webhook_evidence_settles_waiting_messages),
	cmocka_unit_test(finals_and_cancel),
	cmocka_unit_test(unknown_can_be_resolved),
	cmocka_unit_test(names),
};

UnitGroup
message_state_tests(void)
{
	return (UnitGroup) UNIT_GROUP("message_state", tests);
}
