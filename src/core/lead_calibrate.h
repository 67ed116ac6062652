/*
 * lead_calibrate.h
 *		From a model's decision value to a probability a person can read,
 *		and the measures of how good both are.
 *
 * A logistic regression already outputs a probability, but one trained
 * with regularisation on a few hundred conversations is not calibrated:
 * "0.8" may be won half the time.  Platt scaling fits p = 1/(1 +
 * exp(-(a z + b))) to decision values the model did not see in training
 * (cross-validated), with Platt's smoothed targets so that a perfectly
 * separated set does not give infinite a.  Newton's method with
 * backtracking, as Lin, Lin and Weng describe it ("A note on Platt's
 * probabilistic outputs for support vector machines", 2007).
 *
 * Metrics on a held-out set: AUC (how well it ranks, ties counted half),
 * log loss and Brier score (how good the probabilities are), and the
 * expected calibration error over ten equal-width bins (how far the stated
 * probability is from the observed rate, weighted by bin size).
 */
#ifndef ANTIBAN_LEAD_CALIBRATE_H
#define ANTIBAN_LEAD_CALIBRATE_H

#include <stdbool.h>

#define LEAD_CALIBRATION_BINS 10

typedef struct LeadPlatt
{
	double		a;
	double		b;
} LeadPlatt;

typedef struct LeadScored
{
	double		score;
	bool		won;
} LeadScored;

typedef struct LeadBin
{
	int			n;
	int			won;
	double		mean_p;
} LeadBin;

typedef struct LeadMetrics
{
	int			n;
	int			won;
	double		auc;			/* NaN without both outcomes */
	double		log_loss;
	double		brier;
	double		ece;
	LeadBin		bins[LEAD_CALIBRATION_BINS];
} LeadMetrics;

/* The logistic function, without overflow. */
extern double lead_sigmoid(double x);

/*
 * Fits a and b on decision values z and outcomes won (n of them, both
 * outcomes present); false if they are not (a = 1, b = 0 then).
 */
extern bool lead_platt_fit(const double *z, const bool *won, int n, LeadPlatt *out);

extern double lead_platt_apply(const LeadPlatt *p, double z);

/* AUC of scores against outcomes; work has room for n.  NaN without both outcomes. */
extern double lead_auc(const double *score, const bool *won, int n, LeadScored *work);

/* Every metric of probabilities p; work has room for n. */
extern void lead_metrics(const double *p, const bool *won, int n, LeadScored *work, LeadMetrics *out);

#endif							/* ANTIBAN_LEAD_CALIBRATE_H */
