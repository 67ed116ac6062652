/*
 * lead_vector.c
 *		Hashing, merging and presenting sparse lead feature vectors.
 */
#include "lead_vector.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lead_features.h"

uint32_t
lead_hash(const char *s, size_t len)
{
	uint32_t	h = 2166136261u;

	for (size_t i = 0; i < len; i++)
	{
		h ^= (unsigned char) s[i];
		h *= 16777619u;
	}
	return h;
}

/*
 * Unigrams and pairs are hashed with different prefixes so the pair
 * "renda fixa" never lands where the word "renda" does by construction.
 */
static int32_t
bucket(uint32_t h)
{
	return LEAD_TEXT_BASE + (int32_t) (h & ((1u << LEAD_HASH_BITS) - 1));
}

int32_t
lead_unigram_feature(const char *lexeme)
{
	uint32_t	h = lead_hash("u\x1f", 2);

	/* continue FNV over the lexeme */
	for (const char *p = lexeme; *p; p++)
	{
		h ^= (unsigned char) *p;
		h *= 16777619u;
	}
	return bucket(h);
}

int32_t
lead_bigram_feature(const char *first, const char *second)
{
	uint32_t	h = lead_hash("b\x1f", 2);

	for (const char *p = first; *p; p++)
	{
		h ^= (unsigned char) *p;
		h *= 16777619u;
	}
	h ^= 0x1f;
	h *= 16777619u;
	for (const char *p = second; *p; p++)
	{
		h ^= (unsigned char) *p;
		h *= 16777619u;
	}
	return bucket(h);
}

static int
by_index(const void *a, const void *b)
{
	int32_t		x = ((const LeadEntry *) a)->idx;
	int32_t		y = ((const LeadEntry *) b)->idx;

	return (x > y) - (x < y);
}

int
lead_vector_normalize(LeadEntry *e, int n)
{
	int			out = 0;

	if (n <= 0)
		return 0;
	qsort(e, n, sizeof(LeadEntry), by_index);
	for (int i = 0; i < n; i++)
	{
		if (e[i].idx < 1 || e[i].idx >= LEAD_FEATURE_SPACE || !isfinite(e[i].val))
			continue;
		if (out > 0 && e[out - 1].idx == e[i].idx)
			e[out - 1].val += e[i].val;
		else
			e[out++] = e[i];
	}
	/* sums may cancel out */
	n = out;
	out = 0;
	for (int i = 0; i < n; i++)
		if (e[i].val != 0.0f)
			e[out++] = e[i];
	return out;
}

int
lead_vector_add(const LeadEntry *a, int na, const LeadEntry *b, int nb, LeadEntry *out)
{
	int			i = 0,
				j = 0,
				n = 0;

	while (i < na || j < nb)
	{
		if (j >= nb || (i < na && a[i].idx < b[j].idx))
			out[n++] = a[i++];
		else if (i >= na || b[j].idx < a[i].idx)
			out[n++] = b[j++];
		else
		{
			out[n] = a[i++];
			out[n].val += b[j++].val;
			if (out[n].val != 0.0f)
				n++;
		}
	}
	return n;
}

int
lead_vector_present(const LeadEntry *stored, int n, const LeadEntry *eng, int neng, LeadEntry *out)
{
	double		norm = 0.0;
	int			m = 0,
				j = 0;

	for (int i = 0; i < n; i++)
		if (lead_feature_is_text(stored[i].idx) && stored[i].val > 0)
		{
			double		v = 1.0 + log(stored[i].val < 1.0f ? 1.0 : stored[i].val);

			norm += v * v;
		}
	norm = norm > 0 ? sqrt(norm) : 1.0;
	for (int i = 0; i < n; i++)
	{
		int32_t		idx = stored[i].idx;
		float		v;

		if (stored[i].val <= 0 || lead_feature_is_engagement(idx))
			continue;
		if (lead_feature_is_text(idx))
			v = (float) ((1.0 + log(stored[i].val < 1.0f ? 1.0 : stored[i].val)) / norm);
		else
			v = 1.0f;
		/* engagement ids sit between fit and text ids: merge them in */
		while (j < neng && eng[j].idx < idx)
			out[m++] = eng[j++];
		out[m].idx = idx;
		out[m++].val = v;
	}
	while (j < neng)
		out[m++] = eng[j++];
	return m;
}

double
lead_vector_dot(const LeadEntry *x, int n, const float *w)
{
	double		s = 0.0;

	for (int i = 0; i < n; i++)
		s += (double) w[x[i].idx] * x[i].val;
	return s;
}
