/*
 * pricing.h — what Meta would bill for the simulator's messages: per-country
 * prices set in the configuration ("prices"), and the WABA node's
 * pricing_analytics field computed from the ledger.  Guarded by sim_lock.
 */
#ifndef PRICING_H
#define PRICING_H

#include <stdbool.h>

#include "sbuf.h"

void		pricing_init(void);
void		pricing_clear(void);

/* Set the price of one delivered message of a category (marketing, utility,
 * authentication, service) to a country (ISO alpha-2, or "*" for any). */
void		pricing_set(const char *country, const char *category, double price);

/* The ISO country of a recipient's digits ("ZZ" when the simulator does not know the code). */
const char *pricing_country(const char *digits);

/* {"data":[{"data_points":[...]}]} for a WABA, from the `fields` argument's
 * pricing_analytics modifiers; false with *err when they are unusable. */
bool		pricing_analytics(sbuf *b, const char *waba_id, const char *fields, const char **err);

#endif							/* PRICING_H */
