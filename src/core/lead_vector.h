/*
 * lead_vector.h
 *		Sparse feature vectors of the lead model: hashing text into them,
 *		merging them as messages arrive, and turning what is stored into
 *		what the model reads.
 *
 * A conversation's vector is stored once (features int4[], values
 * float4[], sorted by index, no duplicates) and grows as messages arrive:
 * a new message's vector is added to it, never recomputed from the whole
 * conversation.  What the model reads is derived at scoring time
 * (lead_vector_present): fit signals as 0/1, text counts as
 * cosine-normalised 1 + ln(count), engagement appended.  Training and
 * scoring call the same function, so they cannot disagree.
 */
#ifndef ANTIBAN_LEAD_VECTOR_H
#define ANTIBAN_LEAD_VECTOR_H

#include <stddef.h>
#include <stdint.h>

typedef struct LeadEntry
{
	int32_t		idx;
	float		val;
} LeadEntry;

/* FNV-1a, 32 bits: stable across machines, releases and compilers. */
extern uint32_t lead_hash(const char *s, size_t len);

/* The bucket of one lexeme, and of an ordered pair of lexemes. */
extern int32_t lead_unigram_feature(const char *lexeme);
extern int32_t lead_bigram_feature(const char *first, const char *second);

/*
 * Sorts e by index and sums duplicates, in place; drops entries outside
 * the feature space, zero or not finite.  Returns the new length.
 */
extern int	lead_vector_normalize(LeadEntry *e, int n);

/* out = a + b (both normalised); out has room for na + nb.  Returns its length. */
extern int	lead_vector_add(const LeadEntry *a, int na, const LeadEntry *b, int nb, LeadEntry *out);

/*
 * What the model reads: stored (normalised) as presented (fit 0/1, text
 * cosine-normalised 1 + ln(count), engagement entries dropped: they are
 * never stored), merged with eng (engagement entries, sorted).  out has
 * room for n + neng.  Returns its length; out is sorted by index.
 */
extern int	lead_vector_present(const LeadEntry *stored, int n, const LeadEntry *eng, int neng,
								LeadEntry *out);

/* w . x over a dense weight array of LEAD_FEATURE_SPACE floats. */
extern double lead_vector_dot(const LeadEntry *x, int n, const float *w);

#endif							/* ANTIBAN_LEAD_VECTOR_H */
