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
 */
#include "deadline.h"
#include "log.h"
#include "metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#define NO_DEADLINE 0

typedef struct tracker
{
	MHD_socket	fd;
	atomic_int_least64_t deadline_ms;	/* monotonic; NO_DEADLINE: none */
	bool		cut;
	struct tracker *prev,
			   *next;
} tracker;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static tracker *trackers;
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
deadline_init(int header_timeout_s, int body_timeout_s)
{
	header_ms = (int64_t) header_timeout_s * 1000;
	body_ms = (int64_t) body_timeout_s * 1000;
}

static void
opened(struct MHD_Connection *conn, void **socket_context)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	tracker    *t;

	if (!info || !(t = calloc(1, sizeof(tracker))))
		return;					/* untracked: only MHD's idle timeout applies */
	t->fd = info->connect_fd;
	atomic_store(&t->deadline_ms, now_ms() + header_ms);
	pthread_mutex_lock(&lock);
	t->next = trackers;
	if (trackers)
		trackers->prev = t;
	trackers = t;
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
set_deadline(struct MHD_Connection *conn, int64_t deadline)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	tracker    *t = info ? info->socket_context : NULL;

	if (t)
		atomic_store(&t->deadline_ms, deadline);
}

void
deadline_headers_done(struct MHD_Connection *conn, bool body_follows)
{
	set_deadline(conn, body_follows ? now_ms() + body_ms : NO_DEADLINE);
}

void
deadline_clear(struct MHD_Connection *conn)
{
	set_deadline(conn, NO_DEADLINE);
}

void
deadline_request_done(struct MHD_Connection *conn)
{
	set_deadline(conn, now_ms() + header_ms);
}

int
deadline_sweep(void)
{
	int64_t		now = now_ms();
	int			cut = 0;

	pthread_mutex_lock(&lock);
	for (tracker *t = trackers; t; t = t->next)
	{
		int64_t		deadline = atomic_load(&t->deadline_ms);

		if (t->cut || deadline == NO_DEADLINE || now < deadline)
			continue;
		(void) shutdown(t->fd, SHUT_RDWR);
		t->cut = true;
		cut++;
	}
	pthread_mutex_unlock(&lock);
	if (cut > 0)
	{
		metrics_connections_cut(cut);
		log_line("%d connections cut: headers not in within %lld s, or body not within %lld s",
				 cut, (long long) (header_ms / 1000), (long long) (body_ms / 1000));
	}
	return cut;
}
