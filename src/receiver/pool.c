/*
 * pool.c — antiban-receiver: small pools of libpq connections (one for the
 * webhook path, one for the admin listener, each with its own conninfo).
 *
 * A pool is a fixed array of slots under one mutex; a request takes a free slot,
 * runs its query outside the lock and gives the slot back.  Connecting,
 * resetting and preparing happen lazily in the requesting thread, also
 * outside the lock, so one slow connect never blocks the other slots.
 *
 * A slot whose connection failed is reset with PQreset on its next use,
 * but not before RECONNECT_BACKOFF_MS: while the database is down,
 * requests are answered 503 at once rather than each paying a connect.
 */
#include "config.h"
#include "log.h"
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct pool_conn
{
	pool	   *owner;
	int			id;
	PGconn	   *conn;
	bool		busy;
	bool		ready;			/* connected and set up */
	bool		fresh;			/* connected during the current acquire */
	int64_t		retry_at_ms;	/* no connect attempt before this */
};

struct pool
{
	const char *name;			/* in log lines: "webhook", "admin" */
	pthread_mutex_t lock;
	pthread_cond_t freed;
	const char *conninfo;
	pool_setup_fn setup;
	int			size;
	pool_conn  *slots;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

pool *
pool_create(const char *name, const char *conninfo, int size, pool_setup_fn setup)
{
	pthread_condattr_t attr;
	pool	   *p = calloc(1, sizeof(pool));

	if (!p)
		abort();
	pthread_mutex_init(&p->lock, NULL);

	/* timed waits measure a monotonic clock: wall-clock jumps are harmless */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&p->freed, &attr);
	pthread_condattr_destroy(&attr);

	p->name = name;
	p->conninfo = conninfo;
	p->setup = setup;
	p->size = size;
	p->slots = calloc(size, sizeof(pool_conn));
	if (!p->slots)
		abort();
	for (int i = 0; i < size; i++)
	{
		p->slots[i].owner = p;
		p->slots[i].id = i + 1;
	}
	return p;
}

/*
 * The user's conninfo comes last, so what it says wins over our
 * defaults: a connect timeout, a name in pg_stat_activity, and UTF-8,
 * the encoding the request checks assume.
 */
static PGconn *
open_connection(const pool *p)
{
	const char *const keys[] = {"connect_timeout", "fallback_application_name",
	"client_encoding", "dbname", NULL};
	const char *const values[] = {CONNECT_TIMEOUT_S, RECEIVER_NAME, "UTF8", p->conninfo, NULL};

	return PQconnectdbParams(keys, values, 1);
}

/* Runs in the requesting thread, without the pool lock. */
static bool
connect_slot(pool_conn *pc)
{
	if (pc->conn)
		PQreset(pc->conn);
	else
		pc->conn = open_connection(pc->owner);
	if (!pc->conn)
		abort();				/* out of memory */
	if (PQstatus(pc->conn) != CONNECTION_OK)
	{
		log_line("%s database connection %d failed: %s", pc->owner->name, pc->id,
				 PQerrorMessage(pc->conn));
		return false;
	}
	if (!pc->owner->setup(pc->conn))
		return false;
	log_line("%s database connection %d ready (server %d, pid %d)", pc->owner->name, pc->id,
			 PQserverVersion(pc->conn), PQbackendPID(pc->conn));
	return true;
}

/* Makes a taken slot usable, or answers false with its backoff set. */
static bool
make_ready(pool_conn *pc)
{
	pc->fresh = false;
	if (pc->ready)
		return true;
	if (now_ms() < pc->retry_at_ms)
		return false;
	if (!connect_slot(pc))
	{
		pc->retry_at_ms = now_ms() + RECONNECT_BACKOFF_MS;
		return false;
	}
	pc->ready = pc->fresh = true;
	return true;
}

/*
 * Free slot to hand out, best first: a ready connection, then one that
 * may try to connect now, then one still backing off (which will fail
 * fast: better a quick 503 than waiting for another slot).
 */
static pool_conn *
take_free_slot(pool *p)
{
	pool_conn  *best = NULL;
	int			best_rank = 0;
	int64_t		now = now_ms();

	for (int i = 0; i < p->size; i++)
	{
		pool_conn  *pc = &p->slots[i];
		int			rank = pc->ready ? 3 : (now >= pc->retry_at_ms ? 2 : 1);

		if (!pc->busy && rank > best_rank)
			best = pc, best_rank = rank;
	}
	if (best)
		best->busy = true;
	return best;
}

pool_conn *
pool_acquire(pool *p)
{
	pool_conn  *pc;
	struct timespec deadline;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += POOL_WAIT_MS / 1000;
	deadline.tv_nsec += (POOL_WAIT_MS % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L)
		deadline.tv_sec++, deadline.tv_nsec -= 1000000000L;

	pthread_mutex_lock(&p->lock);
	while (!(pc = take_free_slot(p)))
		if (pthread_cond_timedwait(&p->freed, &p->lock, &deadline) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&p->lock);
	if (!pc)
	{
		log_line("no %s database connection free within %d ms", p->name, POOL_WAIT_MS);
		return NULL;
	}
	if (!make_ready(pc))
	{
		/* not "lost": it never was ready, the others are no less so */
		pool_release(pc, false);
		return NULL;
	}
	return pc;
}

PGconn *
pool_pgconn(pool_conn *pc)
{
	return pc->conn;
}

bool
pool_is_fresh(pool_conn *pc)
{
	return pc->fresh;
}

/*
 * Class 08 is connection exceptions; 57P0x an administrator, a crash,
 * a dropped database or an idle timeout ending the session; 26000 a prepared statement that vanished
 * (a pooler swapped the session).  A session left inside a transaction
 * cannot be reused either.
 */
bool
pool_conn_lost(PGconn *conn, const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (!res || PQstatus(conn) != CONNECTION_OK)
		return true;
	if (PQtransactionStatus(conn) != PQTRANS_IDLE)
		return true;
	if (!state)
		return false;
	return strncmp(state, "08", 2) == 0 || strncmp(state, "57P0", 4) == 0 ||
		strcmp(state, "26000") == 0;
}

/*
 * A lost connection usually means a server restart or failover, which
 * took every idle connection with it: those are reset on their next use
 * too, so the caller's retry gets a new connection, not another corpse.
 */
void
pool_release(pool_conn *pc, bool lost)
{
	pool	   *p = pc->owner;

	pthread_mutex_lock(&p->lock);
	pc->busy = false;
	if (lost)
		for (int i = 0; i < p->size; i++)
			if (!p->slots[i].busy)
				p->slots[i].ready = false;
	pthread_cond_signal(&p->freed);
	pthread_mutex_unlock(&p->lock);
}

/*
 * Stops at the first failure: one error line says it all, and the first
 * requests may try again at once (no backoff from start-up).
 */
int
pool_warm(pool *p)
{
	int			ready = 0;

	for (int i = 0; i < p->size; i++)
	{
		pool_conn  *pc = &p->slots[i];

		if (!make_ready(pc))
		{
			pc->retry_at_ms = 0;
			break;
		}
		ready++;
	}
	return ready;
}

void
pool_close(pool *p)
{
	pthread_mutex_lock(&p->lock);
	for (int i = 0; i < p->size; i++)
		if (p->slots[i].conn)
			PQfinish(p->slots[i].conn);
	pthread_mutex_unlock(&p->lock);
	free(p->slots);
	pthread_cond_destroy(&p->freed);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
