/*
 * strmap.c — see strmap.h.  Deletion uses backward shifting so the table
 * never fills with tombstones under churn (pair buckets come and go).
 */
#include "strmap.h"
#include "sim.h"

#include <stdlib.h>
#include <string.h>

static uint64_t
hash_str(const char *s)
{
	uint64_t	h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char) *s) * 1099511628211ULL;
	return h ^ (h >> 29);
}

void
strmap_init(strmap *m)
{
	m->slots = NULL;
	m->cap = 0;
	m->len = 0;
}

static size_t
find_slot(const strmap *m, const char *key, uint64_t h)
{
	size_t		mask = m->cap - 1;
	size_t		i = h & mask;

	while (m->slots[i].key &&
		   (m->slots[i].hash != h || strcmp(m->slots[i].key, key) != 0))
		i = (i + 1) & mask;
	return i;
}

void *
strmap_get(const strmap *m, const char *key)
{
	size_t		i;

	if (m->len == 0)
		return NULL;
	i = find_slot(m, key, hash_str(key));
	return m->slots[i].key ? m->slots[i].value : NULL;
}

static void
rehash(strmap *m, size_t newcap)
{
	strmap_slot *old = m->slots;
	size_t		oldcap = m->cap;

	m->slots = xcalloc(newcap, sizeof(strmap_slot));
	m->cap = newcap;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].key)
			m->slots[find_slot(m, old[i].key, old[i].hash)] = old[i];
	free(old);
}

/* Load factor 0.7 keeps probe sequences short. */
bool
strmap_full_soon(const strmap *m)
{
	return (m->len + 1) * 10 > m->cap * 7;
}

void	  **
strmap_put(strmap *m, const char *key, bool *created)
{
	uint64_t	h = hash_str(key);
	size_t		i;

	if (strmap_full_soon(m))
		rehash(m, m->cap ? m->cap * 2 : 16);
	i = find_slot(m, key, h);
	if (created)
		*created = (m->slots[i].key == NULL);
	if (!m->slots[i].key)
	{
		m->slots[i].key = xstrdup(key);
		m->slots[i].hash = h;
		m->slots[i].value = NULL;
		m->len++;
	}
	return &m->slots[i].value;
}

void *
strmap_remove(strmap *m, const char *key)
{
	size_t		mask,
				i,
				j;
	void	   *value;

	if (m->len == 0)
		return NULL;
	mask = m->cap - 1;
	i = find_slot(m, key, hash_str(key));
	if (!m->slots[i].key)
		return NULL;
	value = m->slots[i].value;
	free(m->slots[i].key);
	m->slots[i].key = NULL;
	m->len--;
	/* Shift later members of the probe chain back into the hole. */
	for (j = (i + 1) & mask; m->slots[j].key; j = (j + 1) & mask)
	{
		size_t		home = m->slots[j].hash & mask;
		bool		movable = (i <= j) ? (home <= i || home > j) : (home <= i && home > j);

		if (movable)
		{
			m->slots[i] = m->slots[j];
			m->slots[j].key = NULL;
			i = j;
		}
	}
	return value;
}

/* Drop every entry keep() rejects; returns how many were dropped. */
size_t
strmap_retain(strmap *m, strmap_keep_fn keep, void *arg, strmap_free_fn f)
{
	size_t		dropped = 0;

	for (size_t i = 0; i < m->cap; i++)
	{
		if (!m->slots[i].key || keep(m->slots[i].value, arg))
			continue;
		if (f)
			f(m->slots[i].value);
		free(m->slots[i].key);
		m->slots[i].key = NULL;
		m->len--;
		dropped++;
	}
	if (dropped)
		rehash(m, m->cap);		/* re-place survivors: holes broke chains */
	return dropped;
}

void
strmap_free(strmap *m, strmap_free_fn f)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key)
		{
			if (f)
				f(m->slots[i].value);
			free(m->slots[i].key);
		}
	free(m->slots);
	strmap_init(m);
}

static int
cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

const char **
strmap_sorted_keys(const strmap *m)
{
	const char **keys = xmalloc((m->len + 1) * sizeof(char *));
	size_t		n = 0;

	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key)
			keys[n++] = m->slots[i].key;
	qsort(keys, n, sizeof(char *), cmp_keys);
	keys[n] = NULL;
	return keys;
}
