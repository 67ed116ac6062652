/*
 * lead.h
 *		Declarations shared by the lead model's adapters (src/pg/lead_*.c):
 *		text features through PostgreSQL's text search, engagement as a
 *		composite type, the per-backend model cache, training with LIBLINEAR.
 */
#ifndef ANTIBAN_PG_LEAD_H
#define ANTIBAN_PG_LEAD_H

#include "pg/antiban.h"
#include "pg/privileged.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "utils/array.h"
#include "utils/jsonb.h"

#include "core/lead_engagement.h"
#include "core/lead_score.h"
#include "core/lead_text.h"
#include "core/lead_vector.h"

/* lead_guc.c */
extern int	antiban_lead_half_life_s;
extern int	antiban_lead_reason_language;
extern int	antiban_lead_min_examples;
extern int	antiban_lead_reasons;
extern bool antiban_lead_flow;
extern int	antiban_lead_scoring;
extern int	antiban_lead_scoring_interval_ms;

#define LEAD_SCORING_INLINE 0
#define LEAD_SCORING_DEFERRED 1
extern void antiban_define_lead_gucs(void);

/* A growing sparse vector in the current memory context. */
typedef struct LeadVec
{
	LeadEntry  *e;
	int			n;
	int			cap;
} LeadVec;

extern void lead_vec_init(LeadVec *v, int cap);
extern void lead_vec_push(LeadVec *v, int32 idx, float val);
extern void lead_vec_normalize(LeadVec *v);
/* From the int4[] and float4[] columns (NULLs read as empty); errors on a bad pair. */
extern void lead_vec_from_arrays(ArrayType *idx, ArrayType *val, LeadVec *out);
extern void lead_vec_to_arrays(const LeadEntry *e, int n, Datum *idx, Datum *val);

/* lead_terms.c: the words behind hashed features, gathered while training */
typedef struct LeadTerms LeadTerms;

extern LeadTerms *lead_terms_create(void);
extern void lead_terms_note_lexeme(LeadTerms *t, int32 feature, const char *lexemes);
extern void lead_terms_note_surface(LeadTerms *t, const char *lexeme, const char *word);
extern const char *lead_terms_lexeme(LeadTerms *t, Oid config, const char *word,
									 char *(*lexeme_of) (const char *, Oid));
extern char *lead_terms_best(LeadTerms *t, int32 feature);

/* lead_text.c */
extern Oid	lead_ts_config(LeadLanguage lang);
/* Adds one message's features (fit signals and hashed lexemes) to out; terms may be NULL. */
extern void lead_text_extract(const char *body, LeadVec *out, LeadTerms *terms);

/* lead_engagement_pg.c */
extern void lead_engagement_from_datum(Datum d, bool isnull, LeadEngagement *out);
extern Datum lead_engagement_to_datum(const LeadEngagement *e, TupleDesc desc);

/* antiban.lead_engagement's attributes, in order, as datums (12 of them). */
#define LEAD_ENGAGEMENT_NATTS 12
extern void lead_engagement_fields(const LeadEngagement *e, Datum *v, bool *n);
extern TupleDesc lead_engagement_desc(void);

/* lead_model.c */
typedef struct LeadModelEntry
{
	int64		id;
	int64		portfolio_id;	/* 0: the default model */
	LeadModelView view;
	int			nterms;
	int32	   *term_features;	/* sorted */
	char	  **terms;
} LeadModelEntry;

extern const LeadModelEntry *lead_model_get(int64 id);

typedef struct LeadScoreResult
{
	int16		score;
	float4		probability;
	Jsonb	   *reasons;
} LeadScoreResult;

/* Scores a stored vector and engagement at now with a model, reasons included. */
extern void lead_score_stored(const LeadModelEntry *m, const LeadEntry *stored, int n,
							  const LeadEngagement *e, LeadTime now, LeadScoreResult *out);
extern const char *lead_model_term(void *model, int feature);

/* The presented vector of stored features and engagement at now (palloc'd). */
extern int	lead_present(const LeadEntry *stored, int n, const LeadEngagement *e, LeadTime now,
						 LeadEntry **out);

/* lead_train.c: the identity internal SQL runs under (see there) */
typedef struct LeadSpiScope
{
	Privileged	priv;
	bool		switched;
} LeadSpiScope;

extern void lead_spi_begin(LeadSpiScope *s);
extern void lead_spi_end(LeadSpiScope *s);

#endif							/* ANTIBAN_PG_LEAD_H */
