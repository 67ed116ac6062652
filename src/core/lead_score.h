/*
 * lead_score.h
 *		A lead's score from a trained model, and why: the features that
 *		pushed it up and down most, in points and in words.
 *
 * The score is the calibrated probability of winning the lead, 0 to 100.
 * A reason's points are the feature's push on the log-odds times the
 * slope of the score where this lead stands: "+18 perguntou sobre CDB"
 * means the question is worth about 18 points to this lead.  For a lead
 * near 50 that is what it would lose without the feature; the slope is
 * taken no lower than at 5 and 95, so a lead scored 0 or 100 still hears
 * what put it there (what-if-not points vanish where the curve is flat).
 * Points order reasons exactly as their pushes do; reasons worth less
 * than half a point are left out.
 */
#ifndef ANTIBAN_LEAD_SCORE_H
#define ANTIBAN_LEAD_SCORE_H

#include <stdbool.h>

#include "lead_calibrate.h"
#include "lead_vector.h"

#define LEAD_REASONS_MAX 8
#define LEAD_REASON_TEXT 160

typedef enum LeadReasonLanguage
{
	LEAD_REASONS_PT,
	LEAD_REASONS_EN
} LeadReasonLanguage;

typedef struct LeadModelView
{
	const float *w;				/* LEAD_FEATURE_SPACE weights; won is positive */
	double		intercept;
	LeadPlatt	platt;
} LeadModelView;

typedef struct LeadScore
{
	double		z;				/* the model's decision value */
	double		p;				/* calibrated probability of winning */
	int			score;			/* round(100 p) */
} LeadScore;

typedef struct LeadReason
{
	int			feature;
	double		contribution;	/* w x, on the decision value */
	int			points;
	char		text[LEAD_REASON_TEXT];
} LeadReason;

/* The surface words of a hashed text feature (NULL: unknown); ctx is the caller's. */
typedef const char *(*LeadTermLookup) (void *ctx, int feature);

typedef struct LeadExplainArgs
{
	const LeadModelView *model;
	const LeadEntry *x;			/* the presented vector that was scored */
	int			n;
	const LeadScore *score;
	int			k;				/* at most this many each way (<= LEAD_REASONS_MAX) */
	LeadReasonLanguage lang;
	LeadTermLookup term;
	void	   *ctx;
	const char *minus;			/* "−" (U+2212) or "-" */
	const char *open_quote;		/* "“" or "\"" around a lead's words */
	const char *close_quote;
} LeadExplainArgs;

extern void lead_model_score(const LeadModelView *m, const LeadEntry *x, int n, LeadScore *out);

/* Fills up[] (strongest first) and down[] (strongest first); sets their counts. */
/* The most one reason can be worth: the whole score scale. */
#define LEAD_POINTS_MAX 100

/* A push on the log-odds in score points at probability p, within +-LEAD_POINTS_MAX. */
extern int	lead_reason_points(double platt_a, double contribution, double p);

extern void lead_explain(const LeadExplainArgs *a, LeadReason *up, int *nup, LeadReason *down, int *ndown);

/* "pt", "en" */
extern bool lead_reason_language_parse(const char *s, LeadReasonLanguage *out);

#endif							/* ANTIBAN_LEAD_SCORE_H */
