/*
 * limits.h — Meta's sending limits: per-number throughput, pair rate,
 * portfolio messaging limit and per-user marketing cap.
 */
#ifndef LIMITS_H
#define LIMITS_H

#include <stdbool.h>
#include <stdint.h>

#include "errors.h"
#include "state.h"

/*
 * Check every limit in order (throughput, pair rate, messaging limit,
 * marketing cap) and, only when all pass, charge the send against each of
 * them.  A rejected send consumes nothing.  Returns LIM_NONE or the first
 * limit broken.  Caller holds sim_lock.
 */
limit_kind	limits_admit(sim_number *n, const char *recipient, bool is_template,
						 bool is_marketing, int64_t now_ms);
void		limits_error(limit_kind k, meta_error *e);
void		limits_init(void);
void		limits_clear(void);

#endif							/* LIMITS_H */
