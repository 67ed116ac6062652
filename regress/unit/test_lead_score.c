/*
 * test_lead_score.c
 *		A score from a model, and its reasons in points and words.
 */
#include "unit.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/lead_features.h"
#include "core/lead_score.h"

static float w[LEAD_FEATURE_SPACE];

static const char *
term_of(void *ctx, int feature)
{
	return feature == 5000 ? "quanto rende" : NULL;
}

static LeadModelView
model(void)
{
	memset(w, 0, sizeof(w));
	w[LF_PRODUCT_CDB] = 1.2f;
	w[LF_AMOUNT_50K] = 0.6f;
	w[LF_SILENT_3D] = -0.9f;
	w[LF_JUST_CURIOUS] = -0.02f;	/* too small to be a reason */
	w[5000] = 0.4f;
	w[6000] = 0.3f;
	return (LeadModelView) {.w = w, .intercept = -0.5, .platt = {1, 0}};
}

static void
score_is_the_calibrated_probability_in_percent(void **state)
{
	LeadModelView m = model();
	LeadEntry	x[] = {{LF_PRODUCT_CDB, 1}, {LF_SILENT_3D, 1}};
	LeadScore	s;

	lead_model_score(&m, x, 2, &s);
	assert_true(fabs(s.z - (-0.5 + 1.2 - 0.9)) < 1e-6);
	assert_true(fabs(s.p - 1 / (1 + exp(0.2))) < 1e-6);
	assert_int_equal(s.score, 45);
	m.platt = (LeadPlatt) {2, 1};
	lead_model_score(&m, x, 2, &s);
	assert_int_equal(s.score, (int) lround(100 / (1 + exp(-(2 * -0.2 + 1)))));
	lead_model_score(&m, NULL, 0, &s);	/* no features: the intercept alone */
	assert_true(fabs(s.z + 0.5) < 1e-12);
}

static void
reasons_are_points_at_this_lead_in_words(void **state)
{
	LeadModelView m = model();
	LeadEntry	x[] = {{LF_PRODUCT_CDB, 1}, {LF_AMOUNT_50K, 1}, {LF_JUST_CURIOUS, 1},
	{LF_SILENT_3D, 1}, {5000, 1}, {6000, 1}};
	LeadScore	s;
	LeadReason	up[LEAD_REASONS_MAX],
				down[LEAD_REASONS_MAX];
	int			nup,
				ndown;
	LeadExplainArgs a = {.model = &m, .x = x, .n = 6, .score = &s, .k = 3,
	.lang = LEAD_REASONS_PT, .term = term_of, .minus = "\u2212",
	.open_quote = "\u201c", .close_quote = "\u201d"};
	int			cdb_points;

	lead_model_score(&m, x, 6, &s);
	lead_explain(&a, up, &nup, down, &ndown);
	/* strongest three pushes up, in order; the fourth (6000) left out */
	assert_int_equal(nup, 3);
	assert_int_equal(up[0].feature, LF_PRODUCT_CDB);
	assert_int_equal(up[1].feature, LF_AMOUNT_50K);
	assert_int_equal(up[2].feature, 5000);
	cdb_points = (int) lround(100 * 1.2 * s.p * (1 - s.p));
	assert_int_equal(up[0].points, cdb_points);
	{
		char		want[64];

		snprintf(want, sizeof(want), "+%d perguntou sobre CDB", cdb_points);
		assert_string_equal(up[0].text, want);
	}
	assert_non_null(strstr(up[2].text, "escreveu \u201cquanto rende\u201d"));
	/* one push down; the tiny one is not a reason */
	assert_int_equal(ndown, 1);
	assert_int_equal(down[0].feature, LF_SILENT_3D);
	assert_true(down[0].points < 0);
	assert_true(strncmp(down[0].text, "\u2212", strlen("\u2212")) == 0);
	assert_non_null(strstr(down[0].text, "sem resposta há 3 a 7 dias"));
	/* English, and a hashed feature without a known term */
	a.lang = LEAD_REASONS_EN;
	a.k = 8;
	a.minus = "-";
	lead_explain(&a, up, &nup, down, &ndown);
	assert_int_equal(nup, 4);
	assert_non_null(strstr(up[0].text, "asked about CDBs"));
	assert_non_null(strstr(up[2].text, "wrote \u201cquanto rende\u201d"));
	assert_non_null(strstr(up[3].text, "words in the conversation"));
	assert_true(down[0].text[0] == '-');
}

/* A lead scored 0 hears what put it there: the slope is taken at 5 at least. */
static void
saturated_scores_still_have_reasons(void **state)
{
	LeadModelView m = model();
	LeadEntry	x[] = {{LF_SILENT_3D, 1}};
	LeadScore	s;
	LeadReason	up[LEAD_REASONS_MAX],
				down[LEAD_REASONS_MAX];
	int			nup,
				ndown;
	LeadExplainArgs a = {.model = &m, .x = x, .n = 1, .score = &s, .k = 3, .lang = LEAD_REASONS_EN,
	.minus = "-"};

	w[LF_SILENT_3D] = -9;
	lead_model_score(&m, x, 1, &s);
	assert_int_equal(s.score, 0);
	lead_explain(&a, up, &nup, down, &ndown);
	assert_int_equal(ndown, 1);
	assert_int_equal(down[0].points, (int) lround(-100 * 9 * 0.05 * 0.95));
	assert_string_equal(down[0].text, "-43 no reply for 3 to 7 days");
}

/* Tester11 F5: the tangent read "+129 respondeu": no reason exceeds the scale. */
static void
no_reason_is_worth_more_than_the_scale(void **state)
{
	LeadModelView m = model();
	LeadEntry	x[] = {{LF_PRODUCT_CDB, 1}};
	LeadScore	s;
	LeadReason	up[LEAD_REASONS_MAX],
				down[LEAD_REASONS_MAX];
	int			nup,
				ndown;
	LeadExplainArgs a = {.model = &m, .x = x, .n = 1, .score = &s, .k = 3, .lang = LEAD_REASONS_EN,
	.minus = "-"};

	w[LF_PRODUCT_CDB] = 6;
	m.intercept = -6;
	lead_model_score(&m, x, 1, &s);
	lead_explain(&a, up, &nup, down, &ndown);
	assert_int_equal(nup, 1);
	assert_int_equal(up[0].points, 100);	/* 100 * 6 * 0.5 * 0.5 = 150 on the tangent */
	assert_int_equal(lead_reason_points(1, -40, 0.5), -100);
	assert_int_equal(lead_reason_points(1, 0.4, 0.5), 10);
	assert_int_equal(lead_reason_points(1, NAN, 0.5), 0);
}

static void
without_a_lookup_terms_are_words_of_the_conversation(void **state)
{
	LeadModelView m = model();
	LeadEntry	x[] = {{7000, 1}};
	LeadScore	s;
	LeadReason	up[1],
				down[1];
	int			nup,
				ndown;
	LeadExplainArgs a = {.model = &m, .x = x, .n = 1, .score = &s, .k = 1, .lang = LEAD_REASONS_PT,
	.term = NULL, .minus = "-"};

	w[7000] = 2;
	lead_model_score(&m, x, 1, &s);
	lead_explain(&a, up, &nup, down, &ndown);
	assert_int_equal(nup, 1);
	assert_int_equal(ndown, 0);
	assert_non_null(strstr(up[0].text, "palavras da conversa"));
}

static const char *
long_term(void *ctx, int feature)
{
	return (const char *) ctx;
}

static void
long_terms_keep_whole_characters(void **state)
{
	static char term[201];
	LeadModelView m = model();
	LeadEntry	x[] = {{7000, 1}};
	LeadScore	s;
	LeadReason	up[1],
				down[1];
	int			nup,
				ndown;
	LeadExplainArgs a = {.model = &m, .x = x, .n = 1, .score = &s, .k = 1, .lang = LEAD_REASONS_PT,
	.term = long_term, .ctx = term, .minus = "-", .open_quote = "\u201c", .close_quote = "\u201d"};
	const char *open;

	for (int i = 0; i < 100; i++)
		memcpy(term + 2 * i, "\xc3\xa7", 2);
	w[7000] = 2;
	lead_model_score(&m, x, 1, &s);
	lead_explain(&a, up, &nup, down, &ndown);
	assert_int_equal(nup, 1);
	open = strstr(up[0].text, "\u201c");
	assert_non_null(open);
	/* 60 bytes of the term at most, an even number: no split letter */
	assert_true(strlen(open) - strlen("\u201c") - strlen("\u201d") <= 60);
	assert_int_equal((strlen(open) - strlen("\u201c") - strlen("\u201d")) % 2, 0);
}

static void
reason_language_names(void **state)
{
	LeadReasonLanguage l;

	assert_true(lead_reason_language_parse("en", &l));
	assert_int_equal(l, LEAD_REASONS_EN);
	assert_true(lead_reason_language_parse("pt", &l));
	assert_int_equal(l, LEAD_REASONS_PT);
	assert_false(lead_reason_language_parse("es", &l));
}

static void
catalog_is_in_id_order_with_unique_keys(void **state)
{
	int			n;
	const LeadFeatureInfo *c = lead_feature_catalog(&n);

	for (int i = 0; i < n; i++)
	{
		assert_true(lead_feature_is_fit(c[i].id) || lead_feature_is_engagement(c[i].id));
		if (i > 0)
			assert_true(c[i - 1].id < c[i].id);
		assert_ptr_equal(lead_feature_info(c[i].id), &c[i]);
		assert_ptr_equal(lead_feature_by_key(c[i].key), &c[i]);
		assert_true(strlen(c[i].pt) > 0 && strlen(c[i].en) > 0);
	}
	assert_null(lead_feature_info(LEAD_TEXT_BASE));
	assert_null(lead_feature_info(0));
	assert_null(lead_feature_by_key("nope"));
}

UnitGroup
lead_score_tests(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(score_is_the_calibrated_probability_in_percent),
		cmocka_unit_test(reasons_are_points_at_this_lead_in_words),
		cmocka_unit_test(saturated_scores_still_have_reasons),
		cmocka_unit_test(no_reason_is_worth_more_than_the_scale),
		cmocka_unit_test(without_a_lookup_terms_are_words_of_the_conversation),
		cmocka_unit_test(long_terms_keep_whole_characters),
		cmocka_unit_test(reason_language_names),
		cmocka_unit_test(catalog_is_in_id_order_with_unique_keys),
	};

	return (UnitGroup) UNIT_GROUP("lead_score", tests);
}
