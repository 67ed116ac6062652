/*
 * test_lead_vector.c
 *		Feature hashing, merging stored vectors, and what the model reads.
 */
#include "unit.h"

#include <math.h>
#include <string.h>

#include "core/lead_features.h"
#include "core/lead_vector.h"

#define NEAR(a, b) assert_true(fabs((double) (a) - (double) (b)) < 1e-6)

static void
hash_is_fnv1a_and_never_changes(void **state)
{
	/* published FNV-1a test vectors */
	assert_int_equal(lead_hash("", 0), 0x811c9dc5u);
	assert_int_equal(lead_hash("a", 1), 0xe40c292cu);
	assert_int_equal(lead_hash("foobar", 6), 0xbf9cf968u);
	/* a stored vector and a trained model must keep agreeing: pinned buckets */
	assert_int_equal(lead_unigram_feature("cdb"), 53736);
	assert_int_equal(lead_bigram_feature("renda", "fix"), 106904);
	/* word and pair spaces differ; pair order matters */
	assert_int_not_equal(lead_unigram_feature("renda"), lead_bigram_feature("renda", ""));
	assert_int_not_equal(lead_bigram_feature("a", "b"), lead_bigram_feature("b", "a"));
	assert_true(lead_feature_is_text(lead_unigram_feature("")));
	assert_true(lead_feature_is_text(lead_bigram_feature("x", "y")));
}

static void
normalize_sorts_and_sums(void **state)
{
	LeadEntry	e[] = {{2000, 1}, {5, 1}, {2000, 2}, {0, 1}, {LEAD_FEATURE_SPACE, 1}, {7, 1}, {7, -1},
	{9, NAN}};
	int			n = lead_vector_normalize(e, 8);

	assert_int_equal(n, 2);
	assert_int_equal(e[0].idx, 5);
	assert_int_equal(e[1].idx, 2000);
	NEAR(e[1].val, 3);
	assert_int_equal(lead_vector_normalize(e, 0), 0);
}

static void
add_merges_sorted_vectors(void **state)
{
	LeadEntry	a[] = {{1, 1}, {3, 1}, {2000, 2}};
	LeadEntry	b[] = {{2, 1}, {3, 2}, {2000, -2}, {3000, 1}};
	LeadEntry	out[7];
	int			n = lead_vector_add(a, 3, b, 4, out);

	assert_int_equal(n, 4);		/* 2000 cancelled out */
	assert_int_equal(out[0].idx, 1);
	assert_int_equal(out[1].idx, 2);
	assert_int_equal(out[2].idx, 3);
	NEAR(out[2].val, 3);
	assert_int_equal(out[3].idx, 3000);
	assert_int_equal(lead_vector_add(a, 3, NULL, 0, out), 3);
	assert_int_equal(lead_vector_add(NULL, 0, b, 4, out), 4);
}

static void
present_is_binary_fit_cosine_text_and_engagement(void **state)
{
	/* fit signal seen in 3 messages, two text features (counts 1 and e) */
	LeadEntry	stored[] = {{LF_PRODUCT_CDB, 3}, {LF_ENG_REPLIES, 5}, {2000, 1}, {3000, (float) M_E}};
	LeadEntry	eng[] = {{LF_ENG_REPLIES, 0.7f}, {LF_SILENT_3D, 1}};
	LeadEntry	out[6];
	int			n = lead_vector_present(stored, 4, eng, 2, out);
	double		norm = sqrt(1.0 + 4.0);	/* (1 + ln 1)^2 + (1 + ln e)^2 */

	assert_int_equal(n, 5);		/* the stored engagement entry is dropped */
	assert_int_equal(out[0].idx, LF_PRODUCT_CDB);
	NEAR(out[0].val, 1);
	assert_int_equal(out[1].idx, LF_ENG_REPLIES);
	NEAR(out[1].val, 0.7);
	assert_int_equal(out[2].idx, LF_SILENT_3D);
	assert_int_equal(out[3].idx, 2000);
	NEAR(out[3].val, 1 / norm);
	NEAR(out[4].val, 2 / norm);
	/* the text part has unit length whatever the conversation's length */
	NEAR(out[3].val * out[3].val + out[4].val * out[4].val, 1);
	/* engagement alone */
	n = lead_vector_present(NULL, 0, eng, 2, out);
	assert_int_equal(n, 2);
}

static void
dot_uses_dense_weights(void **state)
{
	static float w[LEAD_FEATURE_SPACE];
	LeadEntry	x[] = {{1, 2}, {LEAD_FEATURE_SPACE - 1, 0.5f}};

	w[1] = 3;
	w[LEAD_FEATURE_SPACE - 1] = -4;
	NEAR(lead_vector_dot(x, 2, w), 4);
	NEAR(lead_vector_dot(x, 0, w), 0);
}

UnitGroup
lead_vector_tests(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(hash_is_fnv1a_and_never_changes),
		cmocka_unit_test(normalize_sorts_and_sums),
		cmocka_unit_test(add_merges_sorted_vectors),
		cmocka_unit_test(present_is_binary_fit_cosine_text_and_engagement),
		cmocka_unit_test(dot_uses_dense_weights),
	};

	return (UnitGroup) UNIT_GROUP("lead_vector", tests);
}
