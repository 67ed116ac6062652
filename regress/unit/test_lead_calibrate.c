/*
 * test_lead_calibrate.c
 *		Platt scaling and the held-out metrics (AUC, log loss, Brier, ECE).
 */
#include "unit.h"

#include <math.h>
#include <stdlib.h>

#include "core/lead_calibrate.h"

#define NEAR(a, b, eps) assert_true(fabs((double) (a) - (double) (b)) < (eps))

static void
sigmoid_never_overflows(void **state)
{
	NEAR(lead_sigmoid(0), 0.5, 1e-12);
	NEAR(lead_sigmoid(800), 1, 1e-12);
	NEAR(lead_sigmoid(-800), 0, 1e-12);
	assert_false(isnan(lead_sigmoid(-1e308)));
	NEAR(lead_sigmoid(2) + lead_sigmoid(-2), 1, 1e-12);
}

/*
 * Outcomes drawn from p = sigmoid(2 z - 1) with a fixed generator: Platt
 * finds a and b close to 2 and -1.
 */
static void
platt_recovers_a_known_logistic(void **state)
{
	enum
	{
	N = 20000};
	static double z[N];
	static bool won[N];
	unsigned	seed = 12345;
	LeadPlatt	p;

	for (int i = 0; i < N; i++)
	{
		seed = seed * 1103515245u + 12345u;
		z[i] = -3 + 6.0 * (seed >> 8) / (double) (1u << 24);
		seed = seed * 1103515245u + 12345u;
		won[i] = (seed >> 8) / (double) (1u << 24) < lead_sigmoid(2 * z[i] - 1);
	}
	assert_true(lead_platt_fit(z, won, N, &p));
	NEAR(p.a, 2, 0.15);
	NEAR(p.b, -1, 0.1);
	NEAR(lead_platt_apply(&p, 0.5), lead_sigmoid(p.a * 0.5 + p.b), 1e-12);
}

static void
platt_stays_finite_on_separable_data(void **state)
{
	double		z[] = {-2, -1, -0.5, 0.5, 1, 2};
	bool		won[] = {false, false, false, true, true, true};
	LeadPlatt	p;

	assert_true(lead_platt_fit(z, won, 6, &p));
	assert_true(isfinite(p.a) && isfinite(p.b));
	assert_true(p.a > 0);
	/* Platt's targets: never quite 0 or 1 */
	assert_true(lead_platt_apply(&p, 2) < 1 - 1e-3);
	assert_true(lead_platt_apply(&p, -2) > 1e-3);
	/* one outcome only: nothing to fit */
	assert_false(lead_platt_fit(z, (bool[]) {true, true, true, true, true, true}, 6, &p));
	assert_true(p.a == 1 && p.b == 0);
}

static void
auc_counts_ties_half(void **state)
{
	LeadScored	work[8];
	double		perfect[] = {0.1, 0.2, 0.8, 0.9};
	double		reversed[] = {0.9, 0.8, 0.2, 0.1};
	double		tied[] = {0.5, 0.5, 0.5, 0.5};
	double		mixed[] = {0.1, 0.4, 0.35, 0.8};
	bool		won[] = {false, false, true, true};

	NEAR(lead_auc(perfect, won, 4, work), 1, 1e-12);
	NEAR(lead_auc(reversed, won, 4, work), 0, 1e-12);
	NEAR(lead_auc(tied, won, 4, work), 0.5, 1e-12);
	/* the classic example: 3 of 4 pairs ordered */
	NEAR(lead_auc(mixed, won, 4, work), 0.75, 1e-12);
	assert_true(isnan(lead_auc(perfect, (bool[]) {true, true, true, true}, 4, work)));
}

static void
metrics_by_hand(void **state)
{
	double		p[] = {0.05, 0.15, 0.95, 0.85};
	bool		won[] = {false, true, true, true};
	LeadScored	work[4];
	LeadMetrics m;

	lead_metrics(p, won, 4, work, &m);
	assert_int_equal(m.n, 4);
	assert_int_equal(m.won, 3);
	NEAR(m.auc, 1, 1e-12);
	NEAR(m.log_loss, -(log(0.95) + log(0.15) + log(0.95) + log(0.85)) / 4, 1e-12);
	NEAR(m.brier, (0.0025 + 0.7225 + 0.0025 + 0.0225) / 4, 1e-12);
	/* bins 0 (0.05, lost), 1 (0.15, won), 8 (0.85, won), 9 (0.95, won) */
	assert_int_equal(m.bins[1].n, 1);
	assert_int_equal(m.bins[1].won, 1);
	NEAR(m.ece, (0.05 + 0.85 + 0.15 + 0.05) / 4, 1e-12);
	/* a probability of exactly 1 falls in the last bin; log loss stays finite */
	lead_metrics((double[]) {1.0, 0.0}, (bool[]) {false, true}, 2, work, &m);
	assert_int_equal(m.bins[9].n, 1);
	assert_true(isfinite(m.log_loss) && m.log_loss > 30);
}

UnitGroup
lead_calibrate_tests(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(sigmoid_never_overflows),
		cmocka_unit_test(platt_recovers_a_known_logistic),
		cmocka_unit_test(platt_stays_finite_on_separable_data),
		cmocka_unit_test(auc_counts_ties_half),
		cmocka_unit_test(metrics_by_hand),
	};

	return (UnitGroup) UNIT_GROUP("lead_calibrate", tests);
}
