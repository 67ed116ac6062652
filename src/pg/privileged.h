/*
 * privileged.h
 *		Run antiban's own catalog queries as the bootstrap superuser.
 *
 * Callers of antiban.decide() (role antiban_app) must not need SELECT on
 * antiban's internal tables; the adapters read them on their own authority.
 * An error restores the caller's identity through transaction abort.
 */
#ifndef ANTIBAN_PRIVILEGED_H
#define ANTIBAN_PRIVILEGED_H

#include "postgres.h"

#include "executor/spi.h"

typedef struct Privileged
{
	Oid			saved_user;
	int			saved_context;
} Privileged;

extern void privileged_begin(Privileged *p);
extern void privileged_end(Privileged *p);
extern SPIPlanPtr privileged_prepare(const char *sql, int nargs, Oid *argtypes);

#endif							/* ANTIBAN_PRIVILEGED_H */
