/*
 * pricing_market.h
 *		Meta's pricing market of a recipient: a standalone country or a
 *		regional bucket ("Rest of Latin America", "North America", "Other"),
 *		as it stood on a given date.
 *
 * A rate card lists a price per market; the market comes from the
 * recipient's country (calling_code.h), with the moves Meta announced
 * (markets that left their region on 2025-10-01, 2026-07-01 and
 * 2026-10-01).  Countries in no list are "Other", except the rest of the
 * +1 plan, which Meta prices as North America.  Dates are YYYYMMDD in the
 * WABA's time zone: market changes, like rate changes, take effect at
 * 00:00 there.
 */
#ifndef ANTIBAN_PRICING_MARKET_H
#define ANTIBAN_PRICING_MARKET_H

#include <stdbool.h>

#define PRICING_MARKET_OTHER "Other"
#define PRICING_MARKET_NORTH_AMERICA "North America"

/* The market of a country (ISO 3166-1 alpha-2) on 'date'; nanp: its calling code is +1. */
extern const char *pricing_market(const char *country, bool nanp, int date);

/*
 * The market of a recipient on 'date': a phone number by its calling code,
 * a business-scoped user id ("BR.8675309...") by the country it starts
 * with (an assumption: Meta's examples start with the user's country).
 * *country (may be NULL) gets the country or NULL (then the market is Other).
 */
extern const char *pricing_market_of_number(const char *number, int date, const char **country);

/* Is 'name' a market antiban can map numbers to (exactly as Meta's cards spell it)? */
extern bool pricing_market_known(const char *name);

/*
 * The i-th mapping rule, for listing: country, market and the dates it
 * holds (from inclusive, until exclusive, 0 = open).  False past the end.
 */
extern bool pricing_market_rule(int i, const char **country, const char **market, int *from, int *until);

#endif							/* ANTIBAN_PRICING_MARKET_H */
