/*
 * db.h — antiban-receiver: prepared statements run through a pool, and the
 * two SQL calls of the webhook path.
 */
#ifndef RECEIVER_DB_H
#define RECEIVER_DB_H

#include "job.h"
#include "pool.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

/* Built-in type OIDs (pg_type.dat), stable across releases. */
#define INT8OID		20
#define BYTEAOID	17
#define TEXTOID		25
#define BYTEAARRAYOID	1001
#define TEXTARRAYOID	1009

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

/* db_run that also says whether a NULL was the query's own error. */
extern PGresult *db_call(pool *p, const db_statement *s, const char *const *values,
						 const int *lengths, const int *formats, bool *query_failed);

/* The webhook path's pool (set by main before the server starts). */
extern pool *webhook_pool;

/* Prepares both webhook statements on a new connection (a pool_setup_fn). */
extern bool db_prepare(PGconn *conn);

/* antiban.webhook_verify(token) */
extern db_outcome db_verify(const char *token);

/*
 * antiban.ingest_webhooks(bodies, signatures): n POSTs in one call, one
 * durable commit; out[i] is POST i's outcome.  A signature may be NULL.
 */
extern void db_ingest_batch(int n, const char *const *bodies, const size_t *lens,
							const char *const *signatures, db_outcome *out);

#endif							/* RECEIVER_DB_H */
