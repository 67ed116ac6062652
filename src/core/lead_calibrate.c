/*
 * lead_calibrate.c
 *		Platt scaling and the held-out metrics of the lead model.
 */
#include "lead_calibrate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PLATT_MAX_ITER 100
#define PLATT_MIN_STEP 1e-10
#define PLATT_RIDGE 1e-12
#define PLATT_EPS 1e-5
#define P_CLIP 1e-15

double
lead_sigmoid(double x)
{
	if (x >= 0)
		return 1.0 / (1.0 + exp(-x));
	return exp(x) / (1.0 + exp(x));
}

/* -t log(s(x)) - (1 - t) log(1 - s(x)), computed without overflow. */
static double
cross_entropy(double x, double t)
{
	return (x < 0 ? -x : 0) + log1p(exp(-fabs(x))) + (1 - t) * x;
}

/* Platt's targets: a little short of 0 and 1, more so for few examples */
typedef struct Targets
{
	double		hi;
	double		lo;
} Targets;

static double
objective(const double *z, const bool *won, const Targets *t, int n, double a, double b)
{
	double		f = 0;

	for (int i = 0; i < n; i++)
		f += cross_entropy(a * z[i] + b, won[i] ? t->hi : t->lo);
	return f;
}

bool
lead_platt_fit(const double *z, const bool *won, int n, LeadPlatt *out)
{
	int			pos = 0,
				neg = 0;
	Targets		t;
	double		a = 0,
				b,
				f;

	for (int i = 0; i < n; i++)
		won[i] ? pos++ : neg++;
	out->a = 1;
	out->b = 0;
	if (pos == 0 || neg == 0)
		return false;
	t.hi = (pos + 1.0) / (pos + 2.0);
	t.lo = 1.0 / (neg + 2.0);
	b = log((pos + 1.0) / (neg + 1.0));
	f = objective(z, won, &t, n, a, b);
	for (int iter = 0; iter < PLATT_MAX_ITER; iter++)
	{
		double		haa = PLATT_RIDGE,
					hab = 0,
					hbb = PLATT_RIDGE,
					ga = 0,
					gb = 0,
					det,
					da,
					db,
					gd,
					step;

		for (int i = 0; i < n; i++)
		{
			double		p = lead_sigmoid(a * z[i] + b);
			double		d = p * (1 - p);
			double		target = won[i] ? t.hi : t.lo;

			haa += d * z[i] * z[i];
			hab += d * z[i];
			hbb += d;
			ga += (p - target) * z[i];
			gb += p - target;
		}
		if (fabs(ga) < PLATT_EPS && fabs(gb) < PLATT_EPS)
			break;
		det = haa * hbb - hab * hab;
		if (!(det > 0))
			break;
		da = -(hbb * ga - hab * gb) / det;
		db = -(-hab * ga + haa * gb) / det;
		gd = ga * da + gb * db;
		/* backtrack until the objective falls enough (Armijo) */
		for (step = 1; step >= PLATT_MIN_STEP; step /= 2)
		{
			double		nf = objective(z, won, &t, n, a + step * da, b + step * db);

			if (nf < f + 1e-4 * step * gd)
			{
				a += step * da;
				b += step * db;
				f = nf;
				break;
			}
		}
		if (step < PLATT_MIN_STEP)
			break;
	}
	out->a = a;
	out->b = b;
	return true;
}

double
lead_platt_apply(const LeadPlatt *p, double z)
{
	return lead_sigmoid(p->a * z + p->b);
}

static int
by_score(const void *x, const void *y)
{
	double		a = ((const LeadScored *) x)->score;
	double		b = ((const LeadScored *) y)->score;

	return (a > b) - (a < b);
}

double
lead_auc(const double *score, const bool *won, int n, LeadScored *work)
{
	double		rank_sum = 0;
	int			pos = 0;

	for (int i = 0; i < n; i++)
	{
		work[i].score = score[i];
		work[i].won = won[i];
		pos += won[i];
	}
	if (pos == 0 || pos == n)
		return NAN;
	qsort(work, n, sizeof(LeadScored), by_score);
	for (int i = 0; i < n;)
	{
		int			j = i;
		double		mid;

		while (j < n && work[j].score == work[i].score)
			j++;
		mid = (i + 1 + j) / 2.0;	/* the average of ranks i+1 .. j */
		for (int k = i; k < j; k++)
			if (work[k].won)
				rank_sum += mid;
		i = j;
	}
	return (rank_sum - pos * (pos + 1) / 2.0) / ((double) pos * (n - pos));
}

void
lead_metrics(const double *p, const bool *won, int n, LeadScored *work, LeadMetrics *out)
{
	memset(out, 0, sizeof(*out));
	out->n = n;
	for (int i = 0; i < n; i++)
	{
		double		q = p[i] < P_CLIP ? P_CLIP : p[i] > 1 - P_CLIP ? 1 - P_CLIP : p[i];
		int			bin = (int) (p[i] * LEAD_CALIBRATION_BINS);

		if (bin >= LEAD_CALIBRATION_BINS)
			bin = LEAD_CALIBRATION_BINS - 1;
		if (bin < 0)
			bin = 0;
		out->won += won[i];
		out->log_loss -= won[i] ? log(q) : log(1 - q);
		out->brier += (p[i] - won[i]) * (p[i] - won[i]);
		out->bins[bin].n++;
		out->bins[bin].won += won[i];
		out->bins[bin].mean_p += p[i];
	}
	for (int b = 0; b < LEAD_CALIBRATION_BINS; b++)
		if (out->bins[b].n > 0)
		{
			LeadBin    *x = &out->bins[b];

			x->mean_p /= x->n;
			out->ece += (double) x->n / n * fabs(x->mean_p - (double) x->won / x->n);
		}
	if (n > 0)
	{
		out->log_loss /= n;
		out->brier /= n;
	}
	out->auc = lead_auc(p, won, n, work);
}
