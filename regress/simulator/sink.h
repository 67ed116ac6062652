/*
 * sink.h — a webhook receiver built into the simulator (/_sim/sink), so
 * a test can point --webhook-url at the simulator itself and inspect what
 * Meta-style POSTs looked like: raw bodies, signatures, parsed statuses.
 * Guarded by sim_lock.
 */
#ifndef SINK_H
#define SINK_H

#include <stdint.h>

void		sink_init(void);
void		sink_clear(void);
void		sink_fail_next(int64_t n);

#endif							/* SINK_H */
