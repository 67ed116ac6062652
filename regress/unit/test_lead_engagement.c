/*
 * test_lead_engagement.c
 *		Decaying replies, reads and taps; quick replies; silence; the
 *		negatives.
 */
#include "unit.h"

#include <math.h>

#include "core/lead_engagement.h"
#include "core/lead_features.h"

#define HOUR (INT64_C(3600) * LEAD_SECOND)
#define T0 (INT64_C(800000000) * LEAD_SECOND)
#define WEEK_S (7 * 86400.0)
#define NEAR(a, b) assert_true(fabs((double) (a) - (double) (b)) < 1e-6)

static double
feature(const LeadEngagement *e, LeadTime now, int id)
{
	LeadEntry	out[LEAD_ENGAGEMENT_MAX];
	int			n = lead_engagement_features(e, now, out);

	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			assert_true(out[i - 1].idx < out[i].idx);
		if (out[i].idx == id)
			return out[i].val;
	}
	return 0;
}

static void
decay_halves_every_half_life(void **state)
{
	NEAR(lead_decay(8, WEEK_S, WEEK_S), 4);
	NEAR(lead_decay(8, 2 * WEEK_S, WEEK_S), 2);
	NEAR(lead_decay(8, 0, WEEK_S), 8);
	NEAR(lead_decay(8, -WEEK_S, WEEK_S), 8);	/* never grows */
	NEAR(lead_decay(8, WEEK_S, 0), 8);	/* no half-life: no decay */
	/* exp(-dt ln2 / h) */
	NEAR(lead_decay(1, 3600, WEEK_S), exp(-3600 * M_LN2 / WEEK_S));
}

static void
replies_fade_with_the_half_life(void **state)
{
	LeadEngagement e;

	lead_engagement_init(&e, WEEK_S);
	lead_engagement_note(&e, LEAD_EVENT_OUTBOUND, T0 - 3, 0);
	lead_engagement_note(&e, LEAD_EVENT_INBOUND, T0 - 2, 0);
	lead_engagement_note(&e, LEAD_EVENT_OUTBOUND, T0 - 1, 0);
	lead_engagement_note(&e, LEAD_EVENT_INBOUND, T0, 0);
	NEAR(feature(&e, T0, LF_ENG_REPLIES), log1p(2));
	NEAR(feature(&e, T0 + 7 * 24 * HOUR, LF_ENG_REPLIES), log1p(1));
	/* a score taken before the last event does not grow the counts */
	NEAR(feature(&e, T0 - HOUR, LF_ENG_REPLIES), log1p(2));
}

/* Tester11 F5: 25 x "oi" with nothing sent by us were 25 "replies". */
static void
only_answers_to_our_messages_are_replies(void **state)
{
	LeadEngagement e;

	lead_engagement_init(&e, WEEK_S);
	for (int i = 0; i < 25; i++)
		lead_engagement_note(&e, LEAD_EVENT_INBOUND, T0 + i, 0);
	assert_true(e.replies == 0);
	assert_true(feature(&e, T0 + 25, LF_ENG_REPLIES) == 0);
	/* we write once: the next message answers it, the flood after it does not */
	lead_engagement_note(&e, LEAD_EVENT_OUTBOUND, T0 + 30, 0);
	for (int i = 0; i < 25; i++)
		lead_engagement_note(&e, LEAD_EVENT_INBOUND, T0 + 31 + i, 0);
	NEAR(e.replies, 1);
	NEAR(e.quick_replies, 1);
	assert_false(lead_is_reply(LEAD_TIME_NEVER, LEAD_TIME_NEVER, T0));
	assert_true(lead_is_reply(T0, LEAD_TIME_NEVER, T0 + 1));
	assert_true(lead_is_reply(T0, T0 - 1, T0 + 1));
	assert_false(lead_is_reply(T0, T0 + 1, T0 + 2));	/* second in a row */
	assert_false(lead_is_reply(T0 + 5, LEAD_TIME_NEVER, T0));	/* before ours */
}

static void
order_of_arrival_does_not_matter(void **state)
{
	LeadEngagement a,
				b;
	LeadTime	t[] = {T0, T0 + 5 * HOUR, T0 + 50 * HOUR};

	lead_engagement_init(&a, WEEK_S);
	lead_engagement_init(&b, WEEK_S);
	for (int i = 0; i < 3; i++)
		lead_engagement_note(&a, LEAD_EVENT_READ, t[i], 0);
	for (int i = 2; i >= 0; i--)
		lead_engagement_note(&b, LEAD_EVENT_READ, t[i], 0);
	NEAR(feature(&a, T0 + 100 * HOUR, LF_ENG_READS), feature(&b, T0 + 100 * HOUR, LF_ENG_READS));
	assert_true(feature(&a, T0 + 100 * HOUR, LF_ENG_READS) > 0);
}

static void
quick_replies_answer_our_last_message_within_an_hour(void **state)
{
	LeadEngagement e;

	lead_engagement_init(&e, WEEK_S);
	lead_engagement_note(&e, LEAD_EVENT_OUTBOUND, T0, 0);
	lead_engagement_note(&e, LEAD_EVENT_INBOUND, T0 + HOUR / 2, 0);	/* quick */
	lead_engagement_note(&e, LEAD_EVENT_INBOUND, T0 + HOUR / 2 + 1, 0);	/* second in a row: not an answer */
	lead_engagement_note(&e, LEAD_EVENT_OUTBOUND, T0 + 2 * HOUR, 0);
	lead_engagement_note(&e, LEAD_EVENT_TAP, T0 + 5 * HOUR, 0);	/* slow */
	/* one quick reply, 4.5 h old: 2^-(4.5 h / 1 week) */
	NEAR(e.quick_replies, exp(-4.5 * 3600 * M_LN2 / WEEK_S));
	/* two replies: the quick one and the tap just now (the second in a row answers nothing) */
	assert_true(fabs(e.replies - (e.quick_replies + 1)) < 1e-9);
	assert_true(e.taps > 0.99);
	NEAR(feature(&e, T0 + 5 * HOUR, LF_ENG_QUICK), log1p(e.quick_replies));
}

static void
silence_counts_only_when_we_wrote_last(void **state)
{
	LeadEngagement e;

	lead_engagement_init(&e, WEEK_S);
	assert_true(feature(&e, T0, LF_NEVER_REPLIED) == 0);	/* nothing happened */
	lead_engagement_note(&e, LEAD_EVENT_OUTBOUND, T0, 0);
	assert_true(feature(&e, T0, LF_NEVER_REPLIED) == 1);
	assert_true(feature(&e, T0 + 23 * HOUR, LF_SILENT_1D) == 0);
	assert_true(feature(&e, T0 + 25 * HOUR, LF_SILENT_1D) == 1);
	assert_true(feature(&e, T0 + 4 * 24 * HOUR, LF_SILENT_3D) == 1);
	assert_true(feature(&e, T0 + 4 * 24 * HOUR, LF_SILENT_1D) == 0);	/* one bucket at a time */
	assert_true(feature(&e, T0 + 8 * 24 * HOUR, LF_SILENT_7D) == 1);
	assert_true(feature(&e, T0 + 15 * 24 * HOUR, LF_SILENT_14D) == 1);
	/* they answered: silence is over, even if we do not write again */
	lead_engagement_note(&e, LEAD_EVENT_INBOUND, T0 + HOUR, 0);
	assert_true(feature(&e, T0 + 15 * 24 * HOUR, LF_SILENT_14D) == 0);
	assert_true(feature(&e, T0 + 15 * 24 * HOUR, LF_NEVER_REPLIED) == 0);
}

static void
negatives(void **state)
{
	LeadEngagement e;

	lead_engagement_init(&e, WEEK_S);
	lead_engagement_note(&e, LEAD_EVENT_FAILURE, T0, 131049);
	lead_engagement_note(&e, LEAD_EVENT_FAILURE, T0, 131026);
	lead_engagement_note(&e, LEAD_EVENT_FAILURE, T0, 130429);	/* our throughput, not the lead */
	NEAR(feature(&e, T0, LF_FAILURES), log1p(2));
	assert_true(feature(&e, T0, LF_OPTED_OUT) == 0);
	lead_engagement_note(&e, LEAD_EVENT_OPT_OUT, T0, 0);
	assert_true(feature(&e, T0, LF_OPTED_OUT) == 1);
	lead_engagement_note(&e, LEAD_EVENT_OPT_IN, T0 + HOUR, 0);
	assert_true(feature(&e, T0, LF_OPTED_OUT) == 0);
	lead_engagement_note(&e, LEAD_EVENT_BLOCK, T0 + HOUR, 0);
	assert_true(feature(&e, T0, LF_BLOCKED) == 1);
	assert_true(lead_failure_counts(131049));
	assert_false(lead_failure_counts(131047));
}

static void
event_kind_names(void **state)
{
	LeadEventKind k;

	for (int i = LEAD_EVENT_INBOUND; i <= LEAD_EVENT_BLOCK; i++)
	{
		assert_true(lead_event_kind_parse(lead_event_kind_name((LeadEventKind) i), &k));
		assert_int_equal(k, i);
	}
	assert_false(lead_event_kind_parse("delivered", &k));
	assert_false(lead_event_kind_parse(NULL, &k));
	assert_string_equal(lead_event_kind_name((LeadEventKind) 99), "unknown");
}

UnitGroup
lead_engagement_tests(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(decay_halves_every_half_life),
		cmocka_unit_test(replies_fade_with_the_half_life),
		cmocka_unit_test(only_answers_to_our_messages_are_replies),
		cmocka_unit_test(order_of_arrival_does_not_matter),
		cmocka_unit_test(quick_replies_answer_our_last_message_within_an_hour),
		cmocka_unit_test(silence_counts_only_when_we_wrote_last),
		cmocka_unit_test(negatives),
		cmocka_unit_test(event_kind_names),
	};

	return (UnitGroup) UNIT_GROUP("lead_engagement", tests);
}
