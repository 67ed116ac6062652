/*
 * subxact.h
 *		Run a step in a subtransaction of its own.
 */
#ifndef ANTIBAN_SUBXACT_H
#define ANTIBAN_SUBXACT_H

#include "utils/elog.h"

extern ErrorData *subxact_run(void (*step) (void *arg), void *arg);

#endif
