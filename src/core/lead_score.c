/*
 * lead_score.c
 *		Scoring a presented vector, and the reasons in words.
 */
#include "lead_score.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lead_features.h"

void
lead_model_score(const LeadModelView *m, const LeadEntry *x, int n, LeadScore *out)
{
	out->z = m->intercept + lead_vector_dot(x, n, m->w);
	out->p = lead_platt_apply(&m->platt, out->z);
	out->score = (int) lround(100.0 * out->p);
}

/*
 * Keeps the k entries with the largest sign * contribution in best[]
 * (sorted, strongest first): a bounded insertion, k is small.
 */
static void
keep(LeadReason *best, int *nbest, int k, int feature, double c, double sign)
{
	int			i = *nbest;

	if (i == k && sign * c <= sign * best[k - 1].contribution)
		return;
	if (i == k)
		i--;
	else
		(*nbest)++;
	while (i > 0 && sign * c > sign * best[i - 1].contribution)
	{
		best[i] = best[i - 1];
		i--;
	}
	best[i].feature = feature;
	best[i].contribution = c;
}

/* Cuts s to at most max bytes without splitting a UTF-8 sequence. */
static void
cut_utf8(char *s, size_t max)
{
	size_t		n = strlen(s);

	if (n <= max)
		return;
	while (max > 0 && ((unsigned char) s[max] & 0xC0) == 0x80)
		max--;
	s[max] = '\0';
}

static void
describe(const LeadExplainArgs *a, LeadReason *r)
{
	const LeadFeatureInfo *info = lead_feature_info(r->feature);
	const char *sign = r->points > 0 ? "+" : a->minus;
	char		what[LEAD_REASON_TEXT - 16];

	if (info)
		snprintf(what, sizeof(what), "%s", a->lang == LEAD_REASONS_EN ? info->en : info->pt);
	else
	{
		const char *term = a->term ? a->term(a->ctx, r->feature) : NULL;
		char		quoted[LEAD_REASON_TEXT - 40];

		snprintf(quoted, sizeof(quoted), "%s", term ? term : "");
		cut_utf8(quoted, 60);
		if (term == NULL)
			snprintf(what, sizeof(what), "%s", a->lang == LEAD_REASONS_EN ?
					 "words in the conversation" : "palavras da conversa");
		else
			snprintf(what, sizeof(what), "%s %s%s%s", a->lang == LEAD_REASONS_EN ? "wrote" : "escreveu",
					 a->open_quote ? a->open_quote : "\"", quoted, a->close_quote ? a->close_quote : "\"");
	}
	snprintf(r->text, sizeof(r->text), "%s%d %s", sign, abs(r->points), what);
}

#define SLOPE_FLOOR_P 0.05

/*
 * Points: the push on the log-odds times the score's slope at this lead.
 * The slope is a tangent: a large push read off it can overshoot the whole
 * 0-100 scale ("+129 ..."), which no single reason can be worth.
 */
int
lead_reason_points(double platt_a, double contribution, double p)
{
	double		pts;

	if (p < SLOPE_FLOOR_P)
		p = SLOPE_FLOOR_P;
	if (p > 1 - SLOPE_FLOOR_P)
		p = 1 - SLOPE_FLOOR_P;
	pts = 100.0 * platt_a * contribution * p * (1 - p);
	if (isnan(pts))
		return 0;
	if (pts > LEAD_POINTS_MAX)
		pts = LEAD_POINTS_MAX;
	if (pts < -LEAD_POINTS_MAX)
		pts = -LEAD_POINTS_MAX;
	return (int) lround(pts);
}

static int
points_of(const LeadExplainArgs *a, double c)
{
	return lead_reason_points(a->model->platt.a, c, a->score->p);
}

static int
finish(const LeadExplainArgs *a, LeadReason *r, int n)
{
	int			kept = 0;

	for (int i = 0; i < n; i++)
	{
		r[i].points = points_of(a, r[i].contribution);
		if (r[i].points == 0)
			continue;
		r[kept] = r[i];
		describe(a, &r[kept]);
		kept++;
	}
	return kept;
}

void
lead_explain(const LeadExplainArgs *a, LeadReason *up, int *nup, LeadReason *down, int *ndown)
{
	int			k = a->k < 1 ? 1 : a->k > LEAD_REASONS_MAX ? LEAD_REASONS_MAX : a->k;

	*nup = 0;
	*ndown = 0;
	for (int i = 0; i < a->n; i++)
	{
		double		c = (double) a->model->w[a->x[i].idx] * a->x[i].val;

		if (c > 0)
			keep(up, nup, k, a->x[i].idx, c, 1.0);
		else if (c < 0)
			keep(down, ndown, k, a->x[i].idx, c, -1.0);
	}
	*nup = finish(a, up, *nup);
	*ndown = finish(a, down, *ndown);
}

bool
lead_reason_language_parse(const char *s, LeadReasonLanguage *out)
{
	if (s && strcmp(s, "pt") == 0)
		*out = LEAD_REASONS_PT;
	else if (s && strcmp(s, "en") == 0)
		*out = LEAD_REASONS_EN;
	else
		return false;
	return true;
}
