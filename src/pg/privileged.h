/*
 * privileged.h
 *		Run antiban's own SQL as antiban_owner, with a pinned search_path.
 *
 * Callers of antiban.decide() (role antiban_app) must not need SELECT on
 * antiban's internal tables; the adapters read and write them as
 * antiban_owner, a NOLOGIN role that holds exactly the rights on antiban's
 * own objects (never a superuser).  While switched, search_path is
 * "pg_catalog, antiban, pg_temp", so nothing the caller created (an
 * operator in their schema, a pg_temp.text domain) can be resolved by our
 * queries or by the triggers they fire.  An error restores both the
 * caller's identity and search_path through (sub)transaction abort.
 */
#ifndef ANTIBAN_PRIVILEGED_H
#define ANTIBAN_PRIVILEGED_H

#include "postgres.h"

#include "executor/spi.h"

/* The one search_path of every piece of antiban code that is not the caller's. */
#define ANTIBAN_SAFE_SEARCH_PATH "pg_catalog, antiban, pg_temp"
#define ANTIBAN_OWNER_ROLE "antiban_owner"

typedef struct Privileged
{
	Oid			saved_user;
	int			saved_context;
	int			guc_nestlevel;
} Privileged;

extern void privileged_begin(Privileged *p);
extern void privileged_end(Privileged *p);
extern SPIPlanPtr privileged_prepare(const char *sql, int nargs, Oid *argtypes);
extern void pin_session_search_path(void);

#endif							/* ANTIBAN_PRIVILEGED_H */
