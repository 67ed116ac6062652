/*
 * test_lead_flow.c
 *		Sources of new leads, engagement, the stages evidence moves a lead
 *		to, and which score changes are news.
 */
#include "unit.h"

#include <string.h>

#include "core/lead_flow.h"

#define T0 (INT64_C(800000000) * LEAD_SECOND)

static void
referral_wins_over_campaign(void **state)
{
	assert_string_equal(lead_source_name(lead_source_of(LEAD_REFERRAL_AD, true)), "ctwa");
	assert_string_equal(lead_source_name(lead_source_of(LEAD_REFERRAL_AD, false)), "ctwa");
	assert_string_equal(lead_source_name(lead_source_of(LEAD_REFERRAL_NONE, true)), "campaign");
	assert_string_equal(lead_source_name(lead_source_of(LEAD_REFERRAL_NONE, false)), "organic");
	assert_string_equal(lead_source_name(LEAD_SOURCE_APP), "app");
	/* tester11 F6: a referral from a post is not an ad */
	assert_int_equal(lead_referral_of(NULL), LEAD_REFERRAL_NONE);
	assert_int_equal(lead_referral_of("ad"), LEAD_REFERRAL_AD);
	assert_int_equal(lead_referral_of(""), LEAD_REFERRAL_AD);
	assert_int_equal(lead_referral_of("post"), LEAD_REFERRAL_POST);
	assert_int_equal(lead_referral_of("story"), LEAD_REFERRAL_POST);
	assert_string_equal(lead_source_name(lead_source_of(LEAD_REFERRAL_POST, true)), "ctwa_post");
}

static void
engaging_takes_a_second_message_a_tap_or_an_answer(void **state)
{
	assert_false(lead_engaged(1, 0, T0, LEAD_TIME_NEVER));	/* wrote once */
	assert_true(lead_engaged(2, 0, T0, LEAD_TIME_NEVER));
	assert_true(lead_engaged(1, 0.5, T0, LEAD_TIME_NEVER));	/* a decayed tap still counts */
	assert_true(lead_engaged(1, 0, T0 + 1, T0));	/* answered our message */
	assert_false(lead_engaged(1, 0, T0, T0 + 1));	/* we wrote last */
	assert_false(lead_engaged(0, 0, LEAD_TIME_NEVER, T0));
}

static void
stages_move_forward_only(void **state)
{
	assert_string_equal(lead_stage_after("new", false, 10, 60, false), "new");
	assert_string_equal(lead_stage_after("new", true, 10, 60, false), "engaged");
	assert_string_equal(lead_stage_after("new", false, 60, 60, false), "qualified");	/* at the threshold */
	assert_string_equal(lead_stage_after("new", true, 59, 60, false), "engaged");
	assert_string_equal(lead_stage_after("engaged", true, 80, 60, false), "qualified");
	assert_string_equal(lead_stage_after("engaged", false, LEAD_NO_SCORE, 0, false), "engaged");	/* no score */
	/* a qualified lead whose score falls stays qualified; people close leads */
	assert_string_equal(lead_stage_after("qualified", true, 5, 60, false), "qualified");
	assert_string_equal(lead_stage_after("lost", true, 99, 60, false), "lost");
	assert_string_equal(lead_stage_after("disqualified", true, 99, 60, false), "disqualified");
	/* a lead folded into another never moves */
	assert_string_equal(lead_stage_after("new", true, 99, 60, true), "new");
	assert_null(lead_stage_after(NULL, true, 99, 60, false));
	/* 101: never by score */
	assert_string_equal(lead_stage_after("engaged", true, 100, 101, false), "engaged");
}

static void
score_news(void **state)
{
	assert_true(lead_score_news(LEAD_NO_SCORE, 3, 60));	/* the first score */
	assert_false(lead_score_news(40, 44, 60));
	assert_true(lead_score_news(40, 45, 60));
	assert_true(lead_score_news(45, 40, 60));
	assert_true(lead_score_news(58, 61, 60));	/* crosses the threshold */
	assert_true(lead_score_news(61, 59, 60));
	assert_false(lead_score_news(61, 63, 60));
	assert_false(lead_score_news(40, LEAD_NO_SCORE, 60));
}

UnitGroup
lead_flow_tests(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(referral_wins_over_campaign),
		cmocka_unit_test(engaging_takes_a_second_message_a_tap_or_an_answer),
		cmocka_unit_test(stages_move_forward_only),
		cmocka_unit_test(score_news),
	};

	return (UnitGroup) UNIT_GROUP("lead_flow", tests);
}
