/*
 * pool.h — antiban-receiver: small pools of libpq connections.
 */
#ifndef RECEIVER_POOL_H
#define RECEIVER_POOL_H

#include <libpq-fe.h>
#include <stdbool.h>

typedef struct pool pool;
typedef struct pool_conn pool_conn;

/*
 * Called on every new or reset connection, before first use (to prepare
 * statements).  Returns false if the connection is not usable.
 */
typedef bool (*pool_setup_fn) (PGconn *conn);

/* A new pool; no connection is opened yet.  name is for log lines. */
extern pool *pool_create(const char *name, const char *conninfo, int size, pool_setup_fn setup);

/* Opens every connection now, so a bad conninfo shows in the start log. */
extern int	pool_warm(pool *p);

/*
 * A connected, set-up connection for the caller alone, or NULL if none
 * became free within POOL_WAIT_MS or the database cannot be reached.
 */
extern pool_conn *pool_acquire(pool *p);

extern PGconn *pool_pgconn(pool_conn *pc);

/* True if this connection was opened for the current acquire. */
extern bool pool_is_fresh(pool_conn *pc);

/*
 * Did this result (NULL if the query could not even be sent) show that
 * the connection itself is gone or unusable, rather than a query error?
 */
extern bool pool_conn_lost(PGconn *conn, const PGresult *res);

/* Gives the connection back; a lost one is reset on its next use. */
extern void pool_release(pool_conn *pc, bool lost);

/* Closes every connection and frees the pool; no request may be running. */
extern void pool_close(pool *p);

#endif							/* RECEIVER_POOL_H */
