/*
 * test_health.c
 *		The health score: each term of the formula pinned to exact points.
 */
#include "unit.h"

#include <math.h>
#include <string.h>

#include "core/health.h"

/* GREEN, CONNECTED, quiet errors, good last-day rates, no reply bonus. */
static HealthSignals
clean(void)
{
	return (HealthSignals) {
		.quality = QUALITY_GREEN,
		.previous_quality = QUALITY_GREEN,
		.status = "CONNECTED",
		.can_send = CAN_SEND_AVAILABLE,
		.sent_recent = 200,
		.sent_day = 1000,
		.delivered_day = 950,
		.read_day = 500,
		.replied_day = 50,
		.seconds_since_bad_event = -1,
	};
}

static HealthScore
score(const HealthSignals *s)
{
	HealthWeights w = health_weights_default();
	HealthScore h;

	memset(&h, 0x7f, sizeof(h));
	health_score(s, &w, &h);
	return h;
}

static const HealthTerm *
term(const HealthScore *h, const char *signal)
{
	for (int i = 0; i < h->nterms; i++)
		if (strcmp(h->terms[i].signal, signal) == 0)
			return &h->terms[i];
	return NULL;
}

static void
assert_why_contains(const HealthScore *h, const char *signal, const char *text)
{
	const HealthTerm *t = term(h, signal);

	assert_non_null(t);
	if (strstr(t->why, text) == NULL)
		fail_msg("why of %s is \"%s\", expected it to contain \"%s\"", signal, t->why, text);
}

static void
clean_green_number_is_100(void **state)
{
	HealthSignals s = clean();
	HealthScore h = score(&s);

	assert_int_equal(h.score, 100);
	assert_int_equal(h.nterms, 0);
	s.status = NULL;
	assert_int_equal(score(&s).score, 100);
	s.status = "connected";
	assert_int_equal(score(&s).score, 100);
}

static void
yellow_falling_from_green_is_70(void **state)
{
	HealthSignals s = clean();
	HealthScore h;

	s.quality = s.previous_quality = QUALITY_YELLOW;
	h = score(&s);
	assert_int_equal(h.score, 80);
	s.previous_quality = QUALITY_GREEN;
	h = score(&s);
	assert_int_equal(h.score, 70);
	assert_int_equal(h.nterms, 2);
	assert_string_equal(h.terms[0].signal, "quality");
	assert_int_equal(h.terms[0].points, -20);
	assert_string_equal(h.terms[0].why, "quality YELLOW");
	assert_string_equal(h.terms[1].signal, "quality_trend");
	assert_int_equal(h.terms[1].points, -10);
	assert_string_equal(h.terms[1].why, "quality fell from GREEN to YELLOW");
	/* rising is no trend, and an unknown rating on either side is none */
	s.quality = QUALITY_GREEN;
	s.previous_quality = QUALITY_RED;
	assert_int_equal(score(&s).score, 100);
	s.quality = QUALITY_RED;
	s.previous_quality = QUALITY_UNKNOWN;
	assert_int_equal(score(&s).score, 50);
	s.quality = QUALITY_UNKNOWN;
	s.previous_quality = QUALITY_GREEN;
	assert_int_equal(score(&s).score, 95);
}

static void
red_and_flagged_is_20(void **state)
{
	HealthSignals s = clean();
	HealthScore h;

	s.quality = QUALITY_RED;
	s.previous_quality = QUALITY_RED;
	s.status = "flagged";
	h = score(&s);
	assert_int_equal(h.score, 20);
	assert_int_equal(h.nterms, 2);
	assert_int_equal(term(&h, "quality")->points, -50);
	assert_int_equal(term(&h, "status")->points, -30);
	assert_string_equal(term(&h, "status")->why, "status FLAGGED");
}

static void
every_status_costs_its_weight(void **state)
{
	struct
	{
		const char *status;
		int			score;
	}			cases[] = {
		{"RATE_LIMITED", 80}, {"RESTRICTED", 40}, {"BANNED", 0}, {"DISCONNECTED", 0},
		{"Deleted", 0}, {"PENDING", 90}, {"UNVERIFIED", 90}, {"MIGRATED", 90},
		{"UNKNOWN", 90}, {"OFFLINE", 90}, {"SOMETHING_NEW", 90},
	};
	HealthSignals s = clean();

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		s.status = cases[i].status;
		assert_int_equal(score(&s).score, cases[i].score);
	}
	s.status = "SOMETHING_NEW";
	{
		HealthScore h = score(&s);

		assert_why_contains(&h, "status", "SOMETHING_NEW, which antiban does not know");
	}
}

static void
spam_rate_costs_400_per_unit(void **state)
{
	HealthSignals s = clean();
	HealthScore h;

	s.spam_errors = 12;
	s.seconds_since_bad_event = 0;
	h = score(&s);
	assert_int_equal(h.score, 76);
	assert_int_equal(h.nterms, 1);
	assert_int_equal(term(&h, "spam_errors")->points, -24);
	assert_string_equal(term(&h, "spam_errors")->why,
						"12 × 131048 (spam rate limit) in 200 recent sends");
	/* one in a thousand would cost 0.4: the floor makes it 15 */
	s.spam_errors = 1;
	s.sent_recent = 1000;
	assert_int_equal(score(&s).score, 85);
	/* and the cap holds at 40 */
	s.spam_errors = 500;
	assert_int_equal(score(&s).score, 60);
}

static void
spam_penalty_fades_by_half_life(void **state)
{
	HealthSignals s = clean();
	HealthScore h;

	s.spam_errors = 12;
	s.seconds_since_bad_event = 1800;
	h = score(&s);
	assert_int_equal(h.score, 88);
	assert_why_contains(&h, "spam_errors", "; faded to 50 % over 30 min");
	/* 2 h: 24 / 16 = 1.5, rounded away from zero */
	s.seconds_since_bad_event = 7200;
	assert_int_equal(score(&s).score, 98);
	s.seconds_since_bad_event = 3600;
	assert_int_equal(score(&s).score, 94);
	s.seconds_since_bad_event = -1;
	assert_int_equal(score(&s).score, 76);
	/* Meta's own rating does not fade */
	s = clean();
	s.quality = s.previous_quality = QUALITY_RED;
	s.seconds_since_bad_event = 7200;
	assert_int_equal(score(&s).score, 50);
}

static void
blocked_is_0_and_limited_costs_25(void **state)
{
	HealthSignals s = clean();
	HealthScore h;

	s.can_send = CAN_SEND_BLOCKED;
	h = score(&s);
	assert_int_equal(h.score, 0);
	assert_string_equal(term(&h, "can_send")->why, "Meta says BLOCKED");
	assert_int_equal(term(&h, "can_send")->points, -100);
	s.can_send = CAN_SEND_LIMITED;
	assert_int_equal(score(&s).score, 75);
}

static void
two_percent_blocks_is_80(void **state)
{
	HealthSignals s = clean();
	HealthScore h;

	s.sent_day = 100;
	s.delivered_day = 95;
	s.read_day = 50;
	s.replied_day = 0;
	s.blocks_day = 2;
	h = score(&s);
	assert_int_equal(h.score, 80);
	assert_int_equal(h.nterms, 1);
	assert_string_equal(term(&h, "block_rate")->why,
						"2.0 % of the last day's recipients blocked or opted out (2 of 100 sent)");
	/* on a quiet day a block still counts against at least 50 sends */
	s.sent_day = 10;
	s.blocks_day = 1;
	h = score(&s);
	assert_int_equal(h.score, 80);
	assert_why_contains(&h, "block_rate", "(1 of 10 sent, counted as 50)");
	/* and the cap is 30 */
	s.blocks_day = 10;
	assert_int_equal(score(&s).score, 70);
}

static void
delivery_80_percent_is_90(void **state)
{
	HealthSignals s = clean();
	HealthScore h;

	s.sent_day = 100;
	s.delivered_day = 80;
	s.read_day = 40;
	s.replied_day = 0;
	h = score(&s);
	assert_int_equal(h.score, 90);
	assert_int_equal(term(&h, "delivery_rate")->points, -10);
	assert_string_equal(term(&h, "delivery_rate")->why,
						"80 % of the last day's 100 sends delivered (target 90 %)");
	/* under 50 sends the rate says nothing */
	s.sent_day = 49;
	s.delivered_day = 10;
	s.read_day = 10;
	assert_int_equal(score(&s).score, 100);
	/* the cap is 20 */
	s.sent_day = 100;
	s.delivered_day = 50;
	s.read_day = 50;
	assert_int_equal(score(&s).score, 80);
}

static void
low_read_rate_costs_up_to_10(void **state)
{
	HealthSignals s = clean();

	s.sent_day = 100;
	s.delivered_day = 100;
	s.replied_day = 0;
	s.read_day = 20;
	assert_int_equal(score(&s).score, 95);
	s.read_day = 0;
	assert_int_equal(score(&s).score, 90);
	s.read_day = 30;
	assert_int_equal(score(&s).score, 100);
}

static void
reply_bonus_is_capped_at_100(void **state)
{
	HealthSignals s = clean();
	HealthScore h;

	s.replied_day = 95;
	h = score(&s);
	assert_int_equal(h.score, 100);
	assert_int_equal(term(&h, "reply_rate")->points, 5);
	assert_why_contains(&h, "reply_rate", "10 % of the last day's 950 deliveries got a reply");
	s.quality = s.previous_quality = QUALITY_YELLOW;
	assert_int_equal(score(&s).score, 85);
	/* no bonus under 50 deliveries */
	s.sent_day = 49;
	s.delivered_day = 49;
	s.read_day = 49;
	s.replied_day = 49;
	assert_int_equal(score(&s).score, 80);
}

static void
policy_errors_cost_60_each_up_to_100(void **state)
{
	HealthSignals s = clean();
	HealthScore h;

	s.policy_errors = 1;
	assert_int_equal(score(&s).score, 40);
	s.policy_errors = 2;
	s.status = "RESTRICTED";
	h = score(&s);
	assert_int_equal(h.score, 0);
	assert_int_equal(term(&h, "policy_errors")->points, -100);
	assert_int_equal(term(&h, "status")->points, -60);
	assert_why_contains(&h, "policy_errors", "2 × 368/131031");
}

static void
quiet_number_counts_at_least_20_sends(void **state)
{
	HealthSignals s = clean();
	HealthScore h;

	s.sent_recent = 5;
	s.spam_errors = 3;
	/* 3 / 20 × 400 = 60, capped at 40 */
	h = score(&s);
	assert_int_equal(h.score, 60);
	assert_why_contains(&h, "spam_errors", "3 × 131048 (spam rate limit) in 5 recent sends, counted as 20");
	/* below the cap the sample shows: 1 / 20 × 400 = 20, not 1 / 5 × 400 */
	s.spam_errors = 1;
	assert_int_equal(score(&s).score, 80);
	s.spam_errors = 0;
	s.throughput_errors = 1;
	assert_int_equal(score(&s).score, 95);
	/* no sends at all: still over 20 */
	s.sent_recent = 0;
	assert_int_equal(score(&s).score, 95);
}

static void
other_error_rates(void **state)
{
	HealthSignals s = clean();
	HealthScore h;

	s.sent_recent = 100;
	s.throughput_errors = 5;	/* 100 × 0.05 = 5 */
	s.pair_errors = 4;			/* 50 × 0.04 = 2 */
	s.marketing_cap_errors = 50;	/* 25, capped at 10 */
	s.undeliverable_errors = 30;	/* 30, capped at 15 */
	h = score(&s);
	assert_int_equal(h.nterms, 4);
	assert_string_equal(h.terms[0].signal, "throughput_errors");
	assert_int_equal(h.terms[0].points, -5);
	assert_string_equal(h.terms[1].signal, "pair_errors");
	assert_int_equal(h.terms[1].points, -2);
	assert_string_equal(h.terms[2].signal, "marketing_cap_errors");
	assert_int_equal(h.terms[2].points, -10);
	assert_string_equal(h.terms[3].signal, "undeliverable_errors");
	assert_int_equal(h.terms[3].points, -15);
	assert_int_equal(h.score, 68);
	assert_string_equal(h.terms[1].why, "4 × 131056 (pair rate limit) in 100 recent sends");
}

static void
terms_come_in_formula_order_and_score_floors_at_0(void **state)
{
	const char *order[] = {"quality", "quality_trend", "status", "can_send", "spam_errors",
		"policy_errors", "throughput_errors", "pair_errors", "marketing_cap_errors",
	"undeliverable_errors", "block_rate", "delivery_rate", "read_rate"};
	HealthSignals s = {
		.quality = QUALITY_RED, .previous_quality = QUALITY_YELLOW, .status = "FLAGGED",
		.can_send = CAN_SEND_LIMITED, .sent_recent = 100, .spam_errors = 1, .policy_errors = 1,
		.throughput_errors = 10, .pair_errors = 10, .marketing_cap_errors = 10,
		.undeliverable_errors = 10, .sent_day = 100, .delivered_day = 50, .read_day = 0,
		.blocks_day = 1, .seconds_since_bad_event = -1,
	};
	HealthScore h = score(&s);

	assert_int_equal(h.nterms, 13);
	for (int i = 0; i < 13; i++)
		assert_string_equal(h.terms[i].signal, order[i]);
	assert_int_equal(h.score, 0);
}

static void
negative_counts_and_bad_weights_count_as_nothing(void **state)
{
	HealthSignals s = clean();
	HealthWeights w = health_weights_default();
	HealthScore h;

	s.sent_recent = -5;
	s.spam_errors = -3;
	s.policy_errors = -1;
	s.blocks_day = -1;
	s.sent_day = -100;
	s.replied_day = -4;
	assert_int_equal(score(&s).score, 100);

	s = clean();
	s.quality = s.previous_quality = QUALITY_YELLOW;
	w.quality_yellow = NAN;
	health_score(&s, &w, &h);
	assert_int_equal(h.score, 100);
	assert_int_equal(h.nterms, 0);
	/* every weight is the caller's: a gentler yellow */
	w.quality_yellow = 7;
	health_score(&s, &w, &h);
	assert_int_equal(h.score, 93);
}

static void
ratings_and_capabilities_parse(void **state)
{
	QualityRating q = QUALITY_RED;
	SendCapability c = CAN_SEND_BLOCKED;

	assert_true(quality_rating_parse("GREEN", &q));
	assert_int_equal(q, QUALITY_GREEN);
	assert_true(quality_rating_parse("yellow", &q));
	assert_int_equal(q, QUALITY_YELLOW);
	assert_true(quality_rating_parse("NA", &q));
	assert_int_equal(q, QUALITY_UNKNOWN);
	q = QUALITY_RED;
	assert_true(quality_rating_parse("UNKNOWN", &q));
	assert_int_equal(q, QUALITY_UNKNOWN);
	assert_false(quality_rating_parse("BLUE", &q));
	assert_false(quality_rating_parse(NULL, &q));
	assert_string_equal(quality_rating_name(QUALITY_RED), "RED");

	assert_true(send_capability_parse("AVAILABLE", &c));
	assert_int_equal(c, CAN_SEND_AVAILABLE);
	assert_true(send_capability_parse("LIMITED", &c));
	assert_int_equal(c, CAN_SEND_LIMITED);
	assert_false(send_capability_parse("MAYBE", &c));
	assert_false(send_capability_parse(NULL, &c));
	assert_string_equal(send_capability_name(CAN_SEND_BLOCKED), "BLOCKED");
}

/* The weights setting: named fields change, the rest keep their defaults. */
static void
weights_are_configurable(void **state)
{
	HealthWeights w = health_weights_default();
	HealthWeights d = health_weights_default();
	char		err[128] = "";

	assert_true(health_weights_apply(&w, " quality_red=60, spam_cap = 55.5,block_min_sample=100 ,", err, sizeof(err)));
	assert_true(w.quality_red == 60);
	assert_true(w.spam_cap == 55.5);
	assert_int_equal(w.block_min_sample, 100);
	assert_true(w.quality_yellow == d.quality_yellow);
	assert_true(health_weights_apply(&w, "", err, sizeof(err)));
	assert_true(health_weights_apply(&w, NULL, err, sizeof(err)));

	assert_false(health_weights_apply(&w, "quality_purple=3", err, sizeof(err)));
	assert_string_equal(err, "unknown weight \"quality_purple\"");
	assert_false(health_weights_apply(&w, "spam_cap", err, sizeof(err)));
	assert_string_equal(err, "spam_cap needs \"=value\"");
	assert_false(health_weights_apply(&w, "spam_cap=lots", err, sizeof(err)));
	assert_string_equal(err, "spam_cap needs a number after \"=\"");
	assert_false(health_weights_apply(&w, "spam_cap=-1", err, sizeof(err)));
	assert_string_equal(err, "spam_cap must be 0 or more, not -1");
	assert_false(health_weights_apply(&w, "delivery_target=1.5", err, sizeof(err)));
	assert_string_equal(err, "delivery_target must be a share between 0 and 1, not 1.5");
	assert_false(health_weights_apply(&w, "day_min_sample=2.5", err, sizeof(err)));
	assert_string_equal(err, "day_min_sample must be a whole number of messages, 0 or more, not 2.5");
	assert_false(health_weights_apply(&w, "spam_cap=1 2", err, sizeof(err)));
	assert_string_equal(err, "expected \",\" after spam_cap=1");
	assert_false(health_weights_apply(&w, "spam_cap=nan", err, sizeof(err)));

	/* a changed weight changes the score: RED costs 60 instead of 50 */
	{
		HealthSignals s = {.quality = QUALITY_RED, .previous_quality = QUALITY_RED,
		.can_send = CAN_SEND_AVAILABLE, .seconds_since_bad_event = -1};
		HealthScore h;

		w = health_weights_default();
		health_score(&s, &w, &h);
		assert_int_equal(h.score, 50);
		assert_true(health_weights_apply(&w, "quality_red=60", err, sizeof(err)));
		health_score(&s, &w, &h);
		assert_int_equal(h.score, 40);
	}
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(weights_are_configurable),
	cmocka_unit_test(clean_green_number_is_100),
	cmocka_unit_test(yellow_falling_from_green_is_70),
	cmocka_unit_test(red_and_flagged_is_20),
	cmocka_unit_test(every_status_costs_its_weight),
	cmocka_unit_test(spam_rate_costs_400_per_unit),
	cmocka_unit_test(spam_penalty_fades_by_half_life),
	cmocka_unit_test(blocked_is_0_and_limited_costs_25),
	cmocka_unit_test(two_percent_blocks_is_80),
	cmocka_unit_test(delivery_80_percent_is_90),
	cmocka_unit_test(low_read_rate_costs_up_to_10),
	cmocka_unit_test(reply_bonus_is_capped_at_100),
	cmocka_unit_test(policy_errors_cost_60_each_up_to_100),
	cmocka_unit_test(quiet_number_counts_at_least_20_sends),
	cmocka_unit_test(other_error_rates),
	cmocka_unit_test(terms_come_in_formula_order_and_score_floors_at_0),
	cmocka_unit_test(negative_counts_and_bad_weights_count_as_nothing),
	cmocka_unit_test(ratings_and_capabilities_parse),
};

UnitGroup
health_tests(void)
{
	return (UnitGroup) UNIT_GROUP("health", tests);
}
