/*
 * mgmt.h — management (WABA / phone number / template) GET endpoints and
 * their per-WABA rate limit.  State guarded by sim_lock.
 */
#ifndef MGMT_H
#define MGMT_H

#include "sbuf.h"

void		mgmt_init(void);
void		mgmt_clear(void);
void		mgmt_summary(sbuf *b);
void		mgmt_calls_tsv(sbuf *b);
void		mgmt_calls_jsonl(sbuf *b);

#endif							/* MGMT_H */
