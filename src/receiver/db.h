/*
 * db.h — antiban-receiver: prepared statements run through a pool, and the
 * two SQL calls of the webhook path.
 */
#ifndef RECEIVER_DB_H
#define RECEIVER_DB_H

#include "pool.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

/* Built-in type OIDs (pg_type.dat), stable across releases. */
#define INT8OID		20
#define BYTEAOID	17
#define TEXTOID		25

typedef struct db_statement
{
	const char *label;			/* for the log */
	const char *name;			/* prepared statement name */
	const char *sql;
	int			nparams;
	Oid			types[2];
} db_statement;

/* Prepares n statements on a new connection (inside a pool_setup_fn). */
extern bool db_prepare_statements(PGconn *conn, const db_statement *statements, int n);

/*
 * Runs a prepared statement on a connection of p; the result if it
 * returned rows (PQclear it), else NULL with the error logged.  A
 * connection found dead is replaced and the call run once more.
 */
extern PGresult *db_run(pool *p, const db_statement *s, const char *const *values,
						const int *lengths, const int *formats);

typedef enum db_outcome
{
	DB_UNAVAILABLE,				/* no connection, or any database error */
	DB_REFUSED,					/* verify: wrong token; ingest: bad signature */
	DB_ACCEPTED,				/* verify: token right; ingest: stored */
} db_outcome;

/* The webhook path's pool (set by main before the server starts). */
extern pool *webhook_pool;

/* Prepares both webhook statements on a new connection (a pool_setup_fn). */
extern bool db_prepare(PGconn *conn);

/* antiban.webhook_verify(token) */
extern db_outcome db_verify(const char *token);

/* antiban.ingest_webhook(body, signature); signature may be NULL. */
extern db_outcome db_ingest(const char *body, size_t len, const char *signature);

#endif							/* RECEIVER_DB_H */
