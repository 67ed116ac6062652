/*
 * ring.h — growable FIFO of fixed-size elements.
 *
 * Sliding windows (throughput per second, management calls per hour,
 * marketing sends per day) are FIFOs of timestamps: push on the right,
 * expire on the left.  Memory follows the real traffic inside the window,
 * not the configured limit, so a number configured at 1,000,000 mps costs
 * nothing until it actually sends that much.
 */
#ifndef RING_H
#define RING_H

#include <stddef.h>
#include <stdint.h>

typedef struct ring
{
	char	   *buf;
	size_t		elem;			/* element size in bytes */
	size_t		cap;			/* power of two */
	size_t		head;
	size_t		len;
} ring;

void		ring_init(ring *r, size_t elem);
void		ring_free(ring *r);
void		ring_clear(ring *r);
void		ring_push(ring *r, const void *e);
void	   *ring_at(const ring *r, size_t i);
void		ring_pop(ring *r);

static inline void *
ring_front(const ring *r)
{
	return r->len ? ring_at(r, 0) : NULL;
}

/* Helpers for rings of int64 timestamps. */
void		ring_push_ts(ring *r, int64_t t);
/* Drop timestamps <= cutoff; returns the number left. */
size_t		ring_expire_ts(ring *r, int64_t cutoff);

#endif							/* RING_H */
