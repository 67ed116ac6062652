/*
 * deadline.c — antiban-receiver: a client has a deadline for its headers
 * and one for its body; one that misses it is cut.
 *
 * Each connection has a tracker, made when libmicrohttpd opens it and
 * freed when it closes it (MHD_OPTION_NOTIFY_CONNECTION), kept in a list
 * under one mutex.  The request threads only store deadlines (atomics).
 * The sweep holds the mutex while it shuts sockets down, and a tracker
 * leaves the list (under the same mutex) before libmicrohttpd closes its
 * socket, so a shutdown(2) never reaches a descriptor that was closed and
 * reused by another connection.  It shuts down, never closes: the socket
 * stays libmicrohttpd's.
 *
 * Under pressure (at least PRESSURE_PERCENT of --max-connections open),
 * the deadlines shrink to PRESSURE_HEADER_MS and PRESSURE_BODY_MS: past
 * the limit libmicrohttpd stops accepting, so a client that holds its
 * connection until --header-timeout keeps everyone queued behind it
 * waiting that long (5,000 slow clients: normal POSTs waited up to 9.7 s,
 * bench/receiver_load.sh).  Meta's POSTs arrive whole in milliseconds; a
 * slow one cut here gets no 200 and is posted again.
 */
#include "config.h"
#include "deadline.h"
#include "log.h"
#include "metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

/* What a connection is waiting for from its client. */
typedef enum
{
	AWAIT_NOTHING,				/* its request is the receiver's to answer */
	AWAIT_HEADERS,
	AWAIT_BODY
} awaiting;

typedef struct tracker
{
	MHD_socket	fd;
	atomic_int	awaiting;		/* an awaiting */
	atomic_int_least64_t since_ms;	/* monotonic: when it began waiting */
	bool		cut;
	struct tracker *prev,
			   *next;
} tracker;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static tracker *trackers;
static int	open_count;			/* trackers in the list */
static int	pressure_count;		/* open_count from which deadlines shrink */
static int64_t header_ms,
			body_ms;

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
deadline_init(int header_timeout_s, int body_timeout_s, int max_connections)
{
	header_ms = (int64_t) header_timeout_s * 1000;
	body_ms = (int64_t) body_timeout_s * 1000;
	pressure_count = (int) ((int64_t) max_connections * PRESSURE_PERCENT / 100);
	if (pressure_count < 1)
		pressure_count = 1;
}

static void
await(tracker *t, awaiting what)
{
	atomic_store(&t->since_ms, now_ms());
	atomic_store(&t->awaiting, (int) what);
}

static void
opened(struct MHD_Connection *conn, void **socket_context)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	tracker    *t;

	if (!info || !(t = calloc(1, sizeof(tracker))))
		return;					/* untracked: only MHD's idle timeout applies */
	t->fd = info->connect_fd;
	await(t, AWAIT_HEADERS);
	pthread_mutex_lock(&lock);
	t->next = trackers;
	if (trackers)
		trackers->prev = t;
	trackers = t;
	open_count++;
	pthread_mutex_unlock(&lock);
	*socket_context = t;
}

static void
closed(void **socket_context)
{
	tracker    *t = *socket_context;

	if (!t)
		return;
	pthread_mutex_lock(&lock);
	if (t->prev)
		t->prev->next = t->next;
	else
		trackers = t->next;
	if (t->next)
		t->next->prev = t->prev;
	open_count--;
	pthread_mutex_unlock(&lock);
	free(t);
	*socket_context = NULL;
}

void
deadline_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
					enum MHD_ConnectionNotificationCode toe)
{
	(void) cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		opened(conn, socket_context);
	else if (toe == MHD_CONNECTION_NOTIFY_CLOSED)
		closed(socket_context);
}

static void
set_awaiting(struct MHD_Connection *conn, awaiting what)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	tracker    *t = info ? info->socket_context : NULL;

	if (t)
		await(t, what);
}

void
deadline_headers_done(struct MHD_Connection *conn, bool body_follows)
{
	set_awaiting(conn, body_follows ? AWAIT_BODY : AWAIT_NOTHING);
}

void
deadline_clear(struct MHD_Connection *conn)
{
	set_awaiting(conn, AWAIT_NOTHING);
}

void
deadline_request_done(struct MHD_Connection *conn)
{
	set_awaiting(conn, AWAIT_HEADERS);
}

int
deadline_sweep(void)
{
	int64_t		now = now_ms();
	int			cut = 0;
	bool		pressure;
	int64_t		headers_within,
				body_within;

	pthread_mutex_lock(&lock);
	pressure = open_count >= pressure_count;
	headers_within = pressure && PRESSURE_HEADER_MS < header_ms ? PRESSURE_HEADER_MS : header_ms;
	body_within = pressure && PRESSURE_BODY_MS < body_ms ? PRESSURE_BODY_MS : body_ms;
	for (tracker *t = trackers; t; t = t->next)
	{
		awaiting	what = (awaiting) atomic_load(&t->awaiting);
		int64_t		since = atomic_load(&t->since_ms);

		if (t->cut || what == AWAIT_NOTHING ||
			now - since < (what == AWAIT_HEADERS ? headers_within : body_within))
			continue;
		(void) shutdown(t->fd, SHUT_RDWR);
		t->cut = true;
		cut++;
	}
	pthread_mutex_unlock(&lock);
	if (cut > 0)
	{
		metrics_connections_cut(cut, pressure);
		if (pressure)
			log_line("%d connections cut under pressure (%d%% of --max-connections open): "
					 "headers not in within %lld ms, or body not within %lld ms",
					 cut, PRESSURE_PERCENT, (long long) headers_within, (long long) body_within);
		else
			log_line("%d connections cut: headers not in within %lld s, or body not within %lld s",
					 cut, (long long) (header_ms / 1000), (long long) (body_ms / 1000));
	}
	return cut;
}
