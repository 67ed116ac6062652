/*
 * lead_scorer.h
 *		Deferred lead scoring, a step of the "antiban leads" worker.
 */
#ifndef ANTIBAN_LEAD_SCORER_H
#define ANTIBAN_LEAD_SCORER_H

#include "postgres.h"

/* One batch of antiban.process_lead_events(); true when more wait. */
extern bool lead_scorer_step(void);

#endif							/* ANTIBAN_LEAD_SCORER_H */
