/*
 * monitor_pricing.h
 *		The monitor's daily pricing_analytics poll of one WABA.
 */
#ifndef ANTIBAN_MONITOR_PRICING_H
#define ANTIBAN_MONITOR_PRICING_H

#include "pg/antiban.h"

/*
 * Poll the WABA's pricing_analytics if it is due and 'budget' (management
 * calls left this rolling hour) allows one call; returns the calls made.
 */
extern int	monitor_poll_pricing(int64 waba, const char *waba_id, const char *token, int budget);

#endif							/* ANTIBAN_MONITOR_PRICING_H */
