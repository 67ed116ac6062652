/*
 * db.c — antiban-receiver: running prepared statements through a pool, and
 * the two SQL calls of the webhook path.
 *
 * Statements are prepared once per connection.  The bodies go as a binary
 * bytea[] parameter: the HMAC is over the exact bytes Meta sent, so they
 * must reach the database with no escaping and no re-encoding.
 *
 * Errors are logged with their SQLSTATE and primary message only: the
 * detail of an error can quote parameter values, and the parameters are
 * secrets (verify token, signature) or private (message bodies).
 */
#include "db.h"
#include "log.h"
#include "pool.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

pool	   *webhook_pool;

typedef enum statement_id
{
	STMT_VERIFY,
	STMT_INGEST_BATCH,
	N_STATEMENTS
} statement_id;

static const db_statement statements[N_STATEMENTS] = {
	[STMT_VERIFY] = {
		"antiban.webhook_verify",
		"antiban_receiver_verify",
		"SELECT antiban.webhook_verify($1)",
		1, {TEXTOID}
	},
	[STMT_INGEST_BATCH] = {
		"antiban.ingest_webhooks",
		"antiban_receiver_ingest_batch",
		"SELECT ord, stored, signature_valid FROM antiban.ingest_webhooks($1::bytea[], $2::text[])",
		2, {BYTEAARRAYOID, TEXTARRAYOID}
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
db_call(pool *p, const db_statement *s, const char *const *values, const int *lengths,
		const int *formats, bool *query_failed)
{
	*query_failed = false;
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
		*query_failed = !lost;
		PQclear(res);
		pool_release(pc, lost);
		if (!lost || pool_is_fresh(pc))
			return NULL;
	}
	return NULL;
}

PGresult *
db_run(pool *p, const db_statement *s, const char *const *values, const int *lengths,
	   const int *formats)
{
	bool		query_failed;

	return db_call(p, s, values, lengths, formats, &query_failed);
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
is_true(const PGresult *res, int row, int col)
{
	return !PQgetisnull(res, row, col) && strcmp(PQgetvalue(res, row, col), "t") == 0;
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
		out = is_true(res, 0, 0) ? DB_ACCEPTED : DB_REFUSED;
	PQclear(res);
	return out;
}

/*
 * A one-dimensional array in PostgreSQL's binary format (array_recv):
 * dimensions, element type, then each element's length (-1: NULL) and
 * bytes, all integers big-endian.  *len gets its size.
 */
static char *
binary_array(uint32_t element_type, int n, const char *const *values, const size_t *lens, int *len)
{
	size_t		size = 5 * sizeof(uint32_t);
	bool		has_null = false;
	char	   *buf,
			   *p;

	for (int i = 0; i < n; i++)
	{
		size += sizeof(uint32_t) + (values[i] ? lens[i] : 0);
		has_null |= values[i] == NULL;
	}
	if (size > INT32_MAX || !(buf = malloc(size)))
		return NULL;
	p = buf;
#define PUT32(v) do { uint32_t be_ = htonl((uint32_t) (v)); memcpy(p, &be_, 4); p += 4; } while (0)
	PUT32(1);					/* dimensions */
	PUT32(has_null);
	PUT32(element_type);
	PUT32(n);					/* length of the dimension */
	PUT32(1);					/* its lower bound */
	for (int i = 0; i < n; i++)
	{
		PUT32(values[i] ? lens[i] : (uint32_t) -1);
		if (values[i] && lens[i] > 0)
			memcpy(p, values[i], lens[i]);
		p += values[i] ? lens[i] : 0;
	}
#undef PUT32
	*len = (int) size;
	return buf;
}

/*
 * Row i is POST i: (ord, stored, signature_valid).  A bad signature is
 * refused whatever "stored" says; a good one counts as accepted only when
 * the database says it stored the event, so no 200 ever goes out for an
 * event that could be lost.
 */
static bool
read_outcomes(const PGresult *res, int n, db_outcome *out)
{
	if (PQntuples(res) != n || PQnfields(res) != 3)
	{
		log_line("antiban.ingest_webhooks returned %d rows of %d columns for %d bodies",
				 PQntuples(res), PQnfields(res), n);
		return false;
	}
	for (int i = 0; i < n; i++)
	{
		if (atoi(PQgetvalue(res, i, 0)) != i + 1)
		{
			log_line("antiban.ingest_webhooks returned its rows out of order");
			return false;
		}
		if (!is_true(res, i, 2))
			out[i] = DB_REFUSED;
		else if (is_true(res, i, 1))
			out[i] = DB_ACCEPTED;
		else
		{
			log_line("antiban.ingest_webhooks did not store a correctly signed event");
			out[i] = DB_UNAVAILABLE;
		}
	}
	return true;
}

/*
 * One call for all n.  If the call itself fails (not the connection), each
 * POST is tried on its own, so a body that breaks the call costs a 503 to
 * itself only, not to every POST that shared its batch.
 */
void
db_ingest_batch(int n, const char *const *bodies, const size_t *lens, const char *const *signatures,
				db_outcome *out)
{
	size_t	   *sig_lens = calloc(n, sizeof(size_t));
	const char **nonnull_bodies = calloc(n, sizeof(char *));
	const char *values[2];
	int			lengths[2];
	const int	formats[2] = {1, 1};
	PGresult   *res = NULL;
	bool		query_failed = false;

	for (int i = 0; i < n; i++)
		out[i] = DB_UNAVAILABLE;
	if (!sig_lens || !nonnull_bodies)
		abort();				/* out of memory */
	for (int i = 0; i < n; i++)
	{
		sig_lens[i] = signatures[i] ? strlen(signatures[i]) : 0;
		/* a NULL would be SQL NULL: an empty body is still a body */
		nonnull_bodies[i] = bodies[i] ? bodies[i] : "";
	}
	values[0] = binary_array(BYTEAOID, n, nonnull_bodies, lens, &lengths[0]);
	values[1] = binary_array(TEXTOID, n, signatures, sig_lens, &lengths[1]);
	if (values[0] && values[1])
		res = db_call(webhook_pool, &statements[STMT_INGEST_BATCH], values, lengths, formats, &query_failed);
	else
		log_line("%d webhook bodies do not fit in one call", n);
	if (res)
	{
		if (!read_outcomes(res, n, out))
			for (int i = 0; i < n; i++)
				out[i] = DB_UNAVAILABLE;
		PQclear(res);
	}
	else if (n > 1 && (query_failed || !values[0] || !values[1]))
		for (int i = 0; i < n; i++)
			db_ingest_batch(1, &bodies[i], &lens[i], &signatures[i], &out[i]);
	free((void *) values[0]);
	free((void *) values[1]);
	free(sig_lens);
	free(nonnull_bodies);
}
