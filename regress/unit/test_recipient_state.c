/*
 * test_recipient_state.c
 *		A person's record: consent by event time, windows, and merging two
 *		records of one person (src/core/recipient_state.c).
 */
#include <string.h>

#include "unit.h"

#include "core/reach_window.h"
#include "core/recipient_state.h"

#define T(s) ((int64_t) (s) * INT64_C(1000000))

static RecipientState
fresh(void)
{
	RecipientState rs;

	recipient_state_init(&rs);
	return rs;
}

static void
a_resume_older_than_a_stop_is_ignored(void **state)
{
	RecipientState rs = fresh();

	assert_true(recipient_state_set_consent(&rs, true, T(200)));
	assert_false(recipient_state_set_consent(&rs, false, T(100)));
	assert_true(rs.opted_out);
	assert_int_equal(rs.consent_at, T(200));
	/* a newer resume gives marketing back */
	assert_true(recipient_state_set_consent(&rs, false, T(300)));
	assert_false(rs.opted_out);
	/* and the older stop, arriving late, does not take it away */
	assert_false(recipient_state_set_consent(&rs, true, T(200)));
	assert_false(rs.opted_out);
}

static void
a_stop_wins_a_tie(void **state)
{
	RecipientState rs = fresh();

	recipient_state_set_consent(&rs, false, T(100));
	assert_true(recipient_state_set_consent(&rs, true, T(100)));
	assert_false(recipient_state_set_consent(&rs, false, T(100)));
	assert_true(rs.opted_out);
	/* the same event again changes nothing */
	assert_false(recipient_state_set_consent(&rs, true, T(100)));
}

static void
a_statement_as_of_now_wins_a_tie_not_the_future(void **state)
{
	RecipientState rs = fresh();

	recipient_state_set_consent(&rs, true, T(100));
	assert_true(recipient_state_set_consent_now(&rs, false, T(100)));
	assert_false(rs.opted_out);
	/* a stop the person said later than "now" stands */
	recipient_state_set_consent(&rs, true, T(200));
	assert_false(recipient_state_set_consent_now(&rs, false, T(150)));
	assert_true(rs.opted_out);
}

static void
any_event_beats_none(void **state)
{
	RecipientState rs = fresh();

	assert_false(rs.opted_out);
	assert_true(consent_event_wins(&rs, false, T(1)));
	/* a stop of unknown time (stored before times were kept) still counts */
	assert_true(recipient_state_set_consent(&rs, true, CONSENT_NEVER));
	assert_true(rs.opted_out);
	assert_true(recipient_state_set_consent(&rs, false, T(1)));
	assert_false(rs.opted_out);
}

static void
a_window_never_shrinks(void **state)
{
	RecipientState rs = fresh();

	recipient_state_open_window(&rs, T(500), 7);
	recipient_state_open_window(&rs, T(400), 8);
	assert_int_equal(rs.window_until, T(500));
	assert_int_equal(rs.window_number_id, 7);
	recipient_state_open_window(&rs, T(600), 8);
	assert_int_equal(rs.window_number_id, 8);
	assert_int_equal(rs.last_number_id, 8);
}

static RecipientState
phone_record(void)
{
	RecipientState rs = fresh();

	rs.last_sent = T(1000);
	rs.last_number_id = 1;
	rs.last_reach = T(1000);
	recipient_state_set_consent(&rs, false, T(50));
	recipient_state_open_window(&rs, T(2000), 1);
	rs.last_number_id = 1;
	return rs;
}

static RecipientState
bsuid_record(void)
{
	RecipientState rs = fresh();

	rs.last_sent = T(1500);
	rs.last_number_id = 2;
	recipient_state_set_consent(&rs, true, T(900));
	recipient_state_open_window(&rs, T(1800), 3);
	rs.last_number_id = 2;
	recipient_state_defer_marketing(&rs, T(3000));
	return rs;
}

static void
merged_records_keep_the_latest_of_each(void **state)
{
	RecipientState a = phone_record();
	RecipientState b = bsuid_record();

	recipient_state_merge(&a, &b);
	assert_true(a.opted_out);			/* the stop (900) is later than the resume (50) */
	assert_int_equal(a.consent_at, T(900));
	assert_int_equal(a.window_until, T(2000));	/* the later window, with its number */
	assert_int_equal(a.window_number_id, 1);
	assert_int_equal(a.last_sent, T(1500));	/* sticky: the latest send */
	assert_int_equal(a.last_number_id, 2);
	assert_int_equal(a.last_reach, T(1000));	/* counted once, at its latest */
	assert_int_equal(a.marketing_not_before, T(3000));	/* Meta's cap follows the person */
}

static void
a_marketing_deferral_is_never_shortened(void **state)
{
	RecipientState rs = fresh();

	recipient_state_defer_marketing(&rs, T(500));
	recipient_state_defer_marketing(&rs, T(300));
	assert_int_equal(rs.marketing_not_before, T(500));
	recipient_state_defer_marketing(&rs, T(700));
	assert_int_equal(rs.marketing_not_before, T(700));
}

static void
merging_is_commutative_and_idempotent(void **state)
{
	RecipientState ab = phone_record();
	RecipientState ba = bsuid_record();
	RecipientState a = phone_record();
	RecipientState b = bsuid_record();
	RecipientState again;

	recipient_state_merge(&ab, &b);
	recipient_state_merge(&ba, &a);
	assert_int_equal(ab.opted_out, ba.opted_out);
	assert_int_equal(ab.consent_at, ba.consent_at);
	assert_int_equal(ab.window_until, ba.window_until);
	assert_int_equal(ab.window_number_id, ba.window_number_id);
	assert_int_equal(ab.last_sent, ba.last_sent);
	assert_int_equal(ab.last_number_id, ba.last_number_id);
	assert_int_equal(ab.last_reach, ba.last_reach);
	assert_int_equal(ab.marketing_not_before, ba.marketing_not_before);
	again = ab;
	recipient_state_merge(&again, &b);
	recipient_state_merge(&again, &ab);
	assert_memory_equal(&again, &ab, sizeof(ab));
}

static void
an_empty_record_merges_into_nothing(void **state)
{
	RecipientState a = phone_record();
	RecipientState before = a;
	RecipientState empty = fresh();

	recipient_state_merge(&a, &empty);
	assert_memory_equal(&a, &before, sizeof(a));
	recipient_state_merge(&empty, &before);
	assert_int_equal(empty.last_reach, before.last_reach);
	assert_int_equal(empty.window_until, before.window_until);
	assert_int_equal(empty.consent_at, before.consent_at);
	assert_true(before.last_reach != REACH_NEVER);
}

static void
a_stop_ends_every_opt_in_before_it(void **state)
{
	RecipientState rs = fresh();

	assert_false(recipient_state_opt_in_live(&rs));
	recipient_state_opt_in(&rs, T(100), false);
	assert_true(recipient_state_opt_in_live(&rs));
	/* stop, then a resume: marketing is allowed again, but the opt-in is gone */
	recipient_state_set_consent(&rs, true, T(200));
	recipient_state_set_consent(&rs, false, T(300));
	assert_false(rs.opted_out);
	assert_false(recipient_state_opt_in_live(&rs));
	/* a new opt-in brings it back */
	recipient_state_opt_in(&rs, T(400), false);
	assert_true(recipient_state_opt_in_live(&rs));
}

static void
a_late_stop_older_than_the_opt_in_changes_nothing(void **state)
{
	RecipientState rs = fresh();

	recipient_state_opt_in(&rs, T(400), false);
	recipient_state_set_consent(&rs, true, T(200));
	assert_true(recipient_state_opt_in_live(&rs));
	/* a stop at the very instant of the opt-in wins */
	recipient_state_set_consent(&rs, true, T(400));
	assert_false(recipient_state_opt_in_live(&rs));
}

static void
a_resume_in_force_after_a_stop_does_not_revive_an_opt_in(void **state)
{
	RecipientState a = fresh();
	RecipientState b = fresh();

	/* the stop came between the opt-in and a resume, in another record */
	recipient_state_opt_in(&a, T(100), false);
	recipient_state_set_consent(&b, true, T(150));
	recipient_state_set_consent(&b, false, T(300));
	recipient_state_merge(&a, &b);
	assert_false(a.opted_out);
	assert_false(recipient_state_opt_in_live(&a));
	/* and the other way round */
	recipient_state_init(&a);
	recipient_state_opt_in(&a, T(100), false);
	recipient_state_merge(&b, &a);
	assert_false(recipient_state_opt_in_live(&b));
}

static void
merged_send_logs_count_a_send_once(void **state)
{
	RecipientState a = fresh();
	RecipientState b = fresh();

	frequency_log_record(&a.sent[CAP_MARKETING], T(10));
	frequency_log_record(&b.sent[CAP_MARKETING], T(20));
	recipient_state_merge(&a, &b);
	recipient_state_merge(&a, &b);
	assert_int_equal(frequency_log_count(&a.sent[CAP_MARKETING], T(100), T(50)), 2);
	assert_int_equal(frequency_log_count(&a.sent[CAP_UTILITY], T(100), T(50)), 0);
}

static void
the_latest_stated_time_zone_wins_in_any_order(void **state)
{
	RecipientState a = fresh();
	RecipientState b = fresh();
	RecipientState ab,
				ba;

	assert_int_equal(a.time_zone, 0);
	recipient_state_set_time_zone(&a, 7, T(200));
	recipient_state_set_time_zone(&a, 3, T(100));
	assert_int_equal(a.time_zone, 7);
	/* cleared later: back to the number's zone */
	recipient_state_set_time_zone(&b, 0, T(300));
	ab = a;
	recipient_state_merge(&ab, &b);
	ba = b;
	recipient_state_merge(&ba, &a);
	assert_int_equal(ab.time_zone, 0);
	assert_int_equal(ba.time_zone, 0);
	assert_int_equal(ab.time_zone_at, T(300));
	/* a tie goes the same way whichever record absorbs the other */
	recipient_state_init(&a);
	recipient_state_init(&b);
	recipient_state_set_time_zone(&a, 4, T(50));
	recipient_state_set_time_zone(&b, 9, T(50));
	/* one record: the second statement at the same instant wins (a pinned clock) */
	recipient_state_set_time_zone(&b, 0, T(50));
	assert_int_equal(b.time_zone, 0);
	recipient_state_set_time_zone(&b, 9, T(50));
	ab = a;
	recipient_state_merge(&ab, &b);
	ba = b;
	recipient_state_merge(&ba, &a);
	assert_int_equal(ab.time_zone, ba.time_zone);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(the_latest_stated_time_zone_wins_in_any_order),
	cmocka_unit_test(a_stop_ends_every_opt_in_before_it),
	cmocka_unit_test(a_late_stop_older_than_the_opt_in_changes_nothing),
	cmocka_unit_test(a_resume_in_force_after_a_stop_does_not_revive_an_opt_in),
	cmocka_unit_test(merged_send_logs_count_a_send_once),
	cmocka_unit_test(a_resume_older_than_a_stop_is_ignored),
	cmocka_unit_test(a_stop_wins_a_tie),
	cmocka_unit_test(a_statement_as_of_now_wins_a_tie_not_the_future),
	cmocka_unit_test(any_event_beats_none),
	cmocka_unit_test(a_window_never_shrinks),
	cmocka_unit_test(merged_records_keep_the_latest_of_each),
	cmocka_unit_test(a_marketing_deferral_is_never_shortened),
	cmocka_unit_test(merging_is_commutative_and_idempotent),
	cmocka_unit_test(an_empty_record_merges_into_nothing),
};

UnitGroup
recipient_state_tests(void)
{
	return (UnitGroup) UNIT_GROUP("recipient_state", tests);
}
