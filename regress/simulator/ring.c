/*
 * ring.c — see ring.h.
 */
#include "ring.h"
#include "sim.h"

#include <stdlib.h>
#include <string.h>

void
ring_init(ring *r, size_t elem)
{
	r->buf = NULL;
	r->elem = elem;
	r->cap = 0;
	r->head = 0;
	r->len = 0;
}

void
ring_free(ring *r)
{
	free(r->buf);
	ring_init(r, r->elem);
}

void
ring_clear(ring *r)
{
	r->head = 0;
	r->len = 0;
}

void *
ring_at(const ring *r, size_t i)
{
	return r->buf + ((r->head + i) & (r->cap - 1)) * r->elem;
}

/* Double the buffer, unwrapping the contents to start at 0. */
static void
ring_grow(ring *r)
{
	size_t		newcap = r->cap ? r->cap * 2 : 8;
	char	   *nb = xmalloc(newcap * r->elem);

	for (size_t i = 0; i < r->len; i++)
		memcpy(nb + i * r->elem, ring_at(r, i), r->elem);
	free(r->buf);
	r->buf = nb;
	r->cap = newcap;
	r->head = 0;
}

void
ring_push(ring *r, const void *e)
{
	if (r->len == r->cap)
		ring_grow(r);
	memcpy(r->buf + ((r->head + r->len) & (r->cap - 1)) * r->elem, e, r->elem);
	r->len++;
}

void
ring_pop(ring *r)
{
	if (r->len == 0)
		return;
	r->head = (r->head + 1) & (r->cap - 1);
	r->len--;
}

void
ring_push_ts(ring *r, int64_t t)
{
	ring_push(r, &t);
}

size_t
ring_expire_ts(ring *r, int64_t cutoff)
{
	while (r->len && *(int64_t *) ring_at(r, 0) <= cutoff)
		ring_pop(r);
	/* Give memory back after a burst; windows are often idle for long. */
	if (r->len == 0 && r->cap > 1024)
		ring_free(r);
	return r->len;
}
