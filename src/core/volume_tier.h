/*
 * volume_tier.h
 *		Volume tiers: marginal pricing per band of a month's charged
 *		messages (per business portfolio, market and counter, the month in
 *		the WABA's time zone).
 *
 * Meta publishes bands as "first:last" message numbers ("0:100000",
 * "100001:1000000", ..., "80000001:MAX").  Pricing is marginal: message
 * number p of the month is priced at the band holding p, so the first
 * 100,000 pay the list rate, the next 900,000 the tier-1 rate, and so on.
 * A band is stored by 'after', the count of messages before it (0,
 * 100000, 1000000, ...); a band ends where the next begins.
 */
#ifndef ANTIBAN_VOLUME_TIER_H
#define ANTIBAN_VOLUME_TIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TIER_OPEN (-1)			/* a band without a last message: "MAX" */

/* The band (index into afters, sorted ascending) holding message number 'position' (1-based); -1: none. */
extern int	tier_band_of(const int64_t *afters, int n, int64_t position);

/*
 * How many of 'count' messages sent after 'already' this month fall in
 * each band: out[i] for band i.  Messages before the first band (a gap)
 * are counted nowhere; the result is the spread the marginal price needs.
 */
extern void tier_spread(const int64_t *afters, int n, int64_t already, int64_t count, int64_t *out);

/* 'after' of a band published as "first:...": 0 for the first band (first 0 or 1). */
extern int64_t tier_after(int64_t first);

/*
 * Published bands (first and last message numbers, last TIER_OPEN for the
 * top band), sorted by first: do they cover 1..infinity without gaps or
 * overlaps?  On false, *bad is the offending band and *why says how.
 */
extern bool tier_bands_check(const int64_t *firsts, const int64_t *lasts, int n, int *bad, const char **why);

/* Meta's label of a band: "0:100000", "100001:1000000", "80000001:MAX". */
extern void tier_label(int64_t after, int64_t next_after, char *buf, size_t size);

#endif							/* ANTIBAN_VOLUME_TIER_H */
