/*
 * config.h — POST /_sim/config, POST /_sim/script, --config FILE and
 * POST /_sim/reset.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "sbuf.h"

/* Both validate the whole document before changing anything, so a bad
 * request leaves the simulator as it was.  sim_lock held. */
bool		config_apply(json_object *cfg, char *err, size_t errlen);
bool		script_apply(json_object *script, char *err, size_t errlen);
void		config_dump(sbuf *b);

/* Build all state from the command line and --config (sim_lock held). */
bool		sim_state_setup(char *err, size_t errlen);
void		sim_state_teardown(void);
/* Back to the start-up state; keep_config keeps numbers, templates and
 * settings and only clears ledger, windows, buckets and scripts. */
bool		sim_reset(bool keep_config, char *err, size_t errlen);

#endif							/* CONFIG_H */
