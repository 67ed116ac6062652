/*
 * db.h — antiban-receiver: the two SQL calls the receiver makes.
 */
#ifndef RECEIVER_DB_H
#define RECEIVER_DB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum db_outcome
{
	DB_UNAVAILABLE,				/* no connection, or any database error */
	DB_REFUSED,					/* verify: wrong token; ingest: bad signature */
	DB_ACCEPTED,				/* verify: token right; ingest: stored */
} db_outcome;

/* Prepares both statements on a new connection (a pool_setup_fn). */
extern bool db_prepare(PGconn *conn);

/* antiban.webhook_verify(token) */
extern db_outcome db_verify(const char *token);

/* antiban.ingest_webhook(body, signature); signature may be NULL. */
extern db_outcome db_ingest(const char *body, size_t len, const char *signature);

#endif							/* RECEIVER_DB_H */
