/*
 * db.c — antiban-receiver: running prepared statements through a pool, and
 * the two SQL calls of the webhook path.
 *
 * Statements are prepared once per connection.  The body goes as a binary
 * bytea parameter: the HMAC is over the exact bytes Meta sent, so they
 * must reach the database with no escaping and no re-encoding.
 *
 * Errors are logged with their SQLSTATE and primary message only: the
 * detail of an error can quote parameter values, and the parameters are
 * secrets (verify token, signature) or private (message bodies).
 */
#include "db.h"
#include "log.h"
#include "pool.h"

#include <string.h>

pool	   *webhook_pool;

typedef enum statement_id
{
	STMT_VERIFY,
	STMT_INGEST,
	N_STATEMENTS
} statement_id;

static const db_statement statements[N_STATEMENTS] = {
	[STMT_VERIFY] = {
		"antiban.webhook_verify",
		"antiban_receiver_verify",
		"SELECT antiban.webhook_verify($1)",
		1, {TEXTOID}
	},
	[STMT_INGEST] = {
		"antiban.ingest_webhook",
		"antiban_receiver_ingest",
		"SELECT stored, signature_valid FROM antiban.ingest_webhook($1::bytea, $2)",
		2, {BYTEAOID, TEXTOID}
	},
};

/* action is "preparing" or "calling" */
static void
log_db_error(const char *action, const char *label, PGconn *conn, const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	if (state && msg)
		log_line("%s %s failed: SQLSTATE %s: %s", action, label, state, msg);
	else
		log_line("%s %s failed: %s", action, label, PQerrorMessage(conn));
}

bool
db_prepare_statements(PGconn *conn, const db_statement *statements, int n)
{
	for (int i = 0; i < n; i++)
	{
		const db_statement *s = &statements[i];
		PGresult   *res = PQprepare(conn, s->name, s->sql, s->nparams, s->types);
		bool		ok = PQresultStatus(res) == PGRES_COMMAND_OK;

		if (!ok)
			log_db_error("preparing", s->label, conn, res);
		PQclear(res);
		if (!ok)
			return false;
	}
	return true;
}

/*
 * Runs a prepared statement; NULL unless it returned rows.  A connection
 * that sat idle while the server restarted only shows it is dead when
 * used: then the call runs once more on a new connection rather than
 * answering 503.  A repeat is harmless, since Meta's own retries already
 * make duplicate deliveries something the database must absorb.
 */
PGresult *
db_run(pool *p, const db_statement *s, const char *const *values, const int *lengths,
	   const int *formats)
{
	for (int attempt = 0; attempt < 2; attempt++)
	{
		pool_conn  *pc = pool_acquire(p);
		PGconn	   *conn;
		PGresult   *res;
		bool		lost;

		if (!pc)
			return NULL;
		conn = pool_pgconn(pc);
		res = PQexecPrepared(conn, s->name, s->nparams, values, lengths, formats, 0);
		if (PQresultStatus(res) == PGRES_TUPLES_OK)
		{
			pool_release(pc, false);
			return res;
		}
		log_db_error("calling", s->label, conn, res);
		lost = pool_conn_lost(conn, res);
		PQclear(res);
		pool_release(pc, lost);
		if (!lost || pool_is_fresh(pc))
			return NULL;
	}
	return NULL;
}

bool
db_prepare(PGconn *conn)
{
	return db_prepare_statements(conn, statements, N_STATEMENTS);
}

static PGresult *
run(statement_id id, const char *const *values, const int *lengths, const int *formats)
{
	return db_run(webhook_pool, &statements[id], values, lengths, formats);
}

static bool
is_true(const PGresult *res, int col)
{
	return !PQgetisnull(res, 0, col) && strcmp(PQgetvalue(res, 0, col), "t") == 0;
}

db_outcome
db_verify(const char *token)
{
	const char *values[1] = {token};
	PGresult   *res = run(STMT_VERIFY, values, NULL, NULL);
	db_outcome	out;

	if (!res)
		return DB_UNAVAILABLE;
	if (PQntuples(res) != 1 || PQnfields(res) != 1)
	{
		log_line("antiban.webhook_verify returned %d rows of %d columns, not one boolean",
				 PQntuples(res), PQnfields(res));
		out = DB_UNAVAILABLE;
	}
	else
		out = is_true(res, 0) ? DB_ACCEPTED : DB_REFUSED;
	PQclear(res);
	return out;
}

/*
 * A bad signature is refused whatever "stored" says; a good one counts
 * as accepted only when the database says it stored the event, so no 200
 * ever goes out for an event that could be lost.
 */
db_outcome
db_ingest(const char *body, size_t len, const char *signature)
{
	/* a NULL value would be SQL NULL: an empty body is still a body */
	const char *values[2] = {body ? body : "", signature};
	const int	lengths[2] = {(int) len, 0};
	const int	formats[2] = {1, 0};
	PGresult   *res = run(STMT_INGEST, values, lengths, formats);
	db_outcome	out;

	if (!res)
		return DB_UNAVAILABLE;
	if (PQntuples(res) != 1 || PQnfields(res) != 2)
	{
		log_line("antiban.ingest_webhook returned %d rows of %d columns, not one (stored, signature_valid)",
				 PQntuples(res), PQnfields(res));
		out = DB_UNAVAILABLE;
	}
	else if (!is_true(res, 1))
		out = DB_REFUSED;
	else if (is_true(res, 0))
		out = DB_ACCEPTED;
	else
	{
		log_line("antiban.ingest_webhook did not store a correctly signed event");
		out = DB_UNAVAILABLE;
	}
	PQclear(res);
	return out;
}
