/*
 * http.c — antiban-receiver: the libmicrohttpd server.
 *
 * libmicrohttpd runs its own poll loop on a pool of --threads threads,
 * which never wait for the database: a request whose body is in is
 * suspended and queued (queue.c), and resumed for its answer once a
 * batcher thread has it stored.  A slow database makes requests wait, not
 * the server: it goes on accepting and reading, and past --queue answers
 * 503 so Meta retries later.
 *
 * The access handler is called once when the headers are in, then once
 * per chunk of body, then once more with no data, and once more after a
 * resume: routing happens on the first call, the webhook handlers on the
 * last ones.  Every connection has a deadline for its headers and body
 * (deadline.c), checked with overdue queued requests by a housekeeping
 * thread.
 */
#include "body.h"
#include "config.h"
#include "deadline.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "options.h"
#include "queue.h"
#include "reply.h"
#include "request.h"
#include "webhook.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static struct MHD_Daemon *daemon_handle;
static struct sockaddr_storage listen_addr;
static atomic_bool stopping;
static atomic_int in_flight;	/* requests begun and not completed */
static pthread_t housekeeper;
static atomic_bool housekeeping_done;

static double
elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1e3 + (now.tv_nsec - since->tv_nsec) / 1e6;
}

static request *
request_begin(const char *method, const char *url)
{
	request    *req = calloc(1, sizeof(request));

	if (!req)
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, &req->started);
	log_sanitize(req->method, sizeof(req->method), method);
	log_sanitize(req->path, sizeof(req->path), url);
	/* an escaped "?" is part of the path once unescaped: never log past it */
	req->path[strcspn(req->path, "?")] = '\0';
	atomic_fetch_add(&in_flight, 1);
	return req;
}

/* A declared length over --max-body gets its 413 before the body is read. */
static enum MHD_Result
post_begin(struct MHD_Connection *conn, request *req)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
												 MHD_HTTP_HEADER_CONTENT_LENGTH);

	if (!body_begin(req, cl, (size_t) receiver_opts.max_body))
		return reply_queue(conn, REPLY_TOO_LARGE, &req->status);
	return MHD_YES;
}

typedef struct framing
{
	int			content_lengths;
	bool		transfer_encoding;
} framing;

static enum MHD_Result
count_framing(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	framing    *f = cls;

	(void) kind;
	(void) value;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
		f->content_lengths++;
	else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0)
		f->transfer_encoding = true;
	return MHD_YES;
}

/*
 * Two Content-Length headers, or one with Transfer-Encoding: libmicrohttpd
 * would frame the body by one of them, and a proxy in front of us may have
 * framed it by the other, so what follows the body could be read as a
 * request nobody checked (request smuggling).  Such a request gets 400 and
 * its connection is closed (RFC 9112, section 6.3).
 */
static bool
framing_ambiguous(struct MHD_Connection *conn)
{
	framing		f = {0};

	MHD_get_connection_values(conn, MHD_HEADER_KIND, count_framing, &f);
	return f.content_lengths > 1 || (f.content_lengths > 0 && f.transfer_encoding);
}

/* Routing, on the first call for a request. */
static enum MHD_Result
route(struct MHD_Connection *conn, request *req, const char *url, const char *method)
{
	if (atomic_load(&stopping))
		return reply_queue(conn, REPLY_SHUTTING_DOWN, &req->status);
	if (framing_ambiguous(conn))
		return reply_queue(conn, REPLY_BAD_REQUEST, &req->status);
	if (strcmp(url, receiver_opts.path) != 0)
		return reply_queue(conn, REPLY_NOT_FOUND, &req->status);
	if (strcmp(method, MHD_HTTP_METHOD_GET) == 0)
		return webhook_verify(conn, req);
	if (strcmp(method, MHD_HTTP_METHOD_POST) == 0)
		return post_begin(conn, req);
	return reply_queue(conn, REPLY_BAD_METHOD, &req->status);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
		   const char *version, const char *upload_data, size_t *upload_data_size,
		   void **con_cls)
{
	request    *req = *con_cls;

	(void) cls;
	(void) version;
	if (!req)
	{
		if (!(req = request_begin(method, url)))
			return MHD_NO;
		*con_cls = req;
		req->conn = conn;
		deadline_headers_done(conn, strcmp(method, MHD_HTTP_METHOD_POST) == 0);
		return route(conn, req, url, method);
	}
	if (req->status)
	{
		*upload_data_size = 0;	/* answered already: the rest is dropped */
		return MHD_YES;
	}
	if (*upload_data_size)
	{
		bool		ok = body_append(req, upload_data, *upload_data_size,
										 (size_t) receiver_opts.max_body);

		*upload_data_size = 0;
		return ok ? MHD_YES : MHD_NO;
	}
	if (req->answered_by_db)
		return webhook_answer(conn, req);
	deadline_clear(conn);
	return webhook_ingest(conn, req);
}

static void
suspend(void *conn)
{
	MHD_suspend_connection(conn);
}

/* In a batcher thread: the last touch of the request before its answer. */
static void
resume(job *j)
{
	request    *req = (request *) ((char *) j - offsetof(request, job));

	req->answered_by_db = true;
	MHD_resume_connection(req->conn);
}

bool
http_defer(request *req)
{
	req->job.done = resume;
	return queue_push(&req->job, suspend, req->conn);
}

static const char *
termination_reason(enum MHD_RequestTerminationCode toe)
{
	switch (toe)
	{
		case MHD_REQUEST_TERMINATED_COMPLETED_OK:
			return NULL;
		case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
			return "timed out";
		case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
			return "cut by shutdown";
		case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
		case MHD_REQUEST_TERMINATED_READ_ERROR:
			return "client went away";
		default:
			return "connection error";
	}
}

/* The request log line, then the request's memory goes. */
static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	request    *req = *con_cls;
	const char *why = termination_reason(toe);
	double		ms;

	(void) cls;
	deadline_request_done(conn);
	if (!req)
		return;
	ms = elapsed_ms(&req->started);
	metrics_webhook_done(req->status, strcmp(req->method, MHD_HTTP_METHOD_POST) == 0, req->received, ms);
	if (!receiver_opts.quiet || why)
		log_line("%s %s %d %.2f ms %zu bytes%s%s", req->method, req->path, req->status,
				 ms, req->received, why ? " " : "", why ? why : "");
	free(req->body);
	free(req);
	*con_cls = NULL;
	atomic_fetch_sub(&in_flight, 1);
}

static void
mhd_logger(void *cls, const char *fmt, va_list ap)
{
	char		msg[512];

	(void) cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_line("libmicrohttpd: %s", msg);
}

/* --listen and --port into listen_addr; a host name takes its first address. */
static bool
resolve_listen(char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
	.ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *ai;
	char		port[8];
	int			rc;

	snprintf(port, sizeof(port), "%d", receiver_opts.port);
	if ((rc = getaddrinfo(receiver_opts.listen_addr, port, &hints, &ai)) != 0)
	{
		snprintf(err, errlen, "cannot resolve --listen %s: %s", receiver_opts.listen_addr,
				 gai_strerror(rc));
		return false;
	}
	memcpy(&listen_addr, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	return true;
}

/* Every HOUSEKEEPING_MS: cut overdue clients, answer overdue queued requests. */
static void *
housekeeping(void *arg)
{
	const struct timespec tick = {.tv_sec = HOUSEKEEPING_MS / 1000,
	.tv_nsec = (HOUSEKEEPING_MS % 1000) * 1000000L};

	(void) arg;
	while (!atomic_load(&housekeeping_done))
	{
		nanosleep(&tick, NULL);
		(void) deadline_sweep();
		if (!receiver_opts.no_db)
			queue_expire();
	}
	return NULL;
}

bool
http_start(char *err, size_t errlen)
{
	/*
	 * poll(), not epoll: with epoll, libmicrohttpd 0.9.75 often misses a
	 * client's close that arrives together with the last body bytes (5 of
	 * 20 seen in a test), leaving the request "in flight" until the 30 s
	 * timeout and holding up shutdown.  poll() saw 20 of 20, at the same
	 * throughput with 8 or 256 connections.
	 */
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_ALLOW_SUSPEND_RESUME |
		MHD_USE_ERROR_LOG;

	if (!resolve_listen(err, errlen))
		return false;
	if (!reply_init())
	{
		snprintf(err, errlen, "out of memory");
		return false;
	}
	/* "::" means every address, IPv4 ones included */
	if (listen_addr.ss_family == AF_INET6)
		flags |= IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *) &listen_addr)->sin6_addr) ?
			MHD_USE_DUAL_STACK : MHD_USE_IPv6;
	deadline_init(receiver_opts.header_timeout, receiver_opts.body_timeout, receiver_opts.max_connections);
	/* the logger comes first, so that errors about later options reach it */
	daemon_handle = MHD_start_daemon(flags, (uint16_t) receiver_opts.port, NULL, NULL, on_request, NULL,
									 MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL,
									 MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &listen_addr,
									 MHD_OPTION_THREAD_POOL_SIZE, (unsigned int) receiver_opts.threads,
									 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) CONNECTION_TIMEOUT_S,
									 MHD_OPTION_CONNECTION_LIMIT, (unsigned int) receiver_opts.max_connections,
									 MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int) receiver_opts.max_per_ip,
									 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) CONNECTION_MEMORY,
									 MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
									 MHD_OPTION_NOTIFY_CONNECTION, deadline_connection, NULL,
									 MHD_OPTION_END);
	if (!daemon_handle)
	{
		snprintf(err, errlen, "cannot listen on %s port %d: %s", receiver_opts.listen_addr,
				 receiver_opts.port, errno ? strerror(errno) : "libmicrohttpd failed to start");
		reply_free();
		return false;
	}
	if (pthread_create(&housekeeper, NULL, housekeeping, NULL) != 0)
	{
		snprintf(err, errlen, "cannot start the housekeeping thread");
		MHD_stop_daemon(daemon_handle);
		reply_free();
		return false;
	}
	return true;
}

int
http_in_flight(void)
{
	return atomic_load(&in_flight);
}

int
http_port(void)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon_handle,
														   MHD_DAEMON_INFO_BIND_PORT);

	return info ? info->port : receiver_opts.port;
}

/*
 * In-flight requests finish; a request that begins meanwhile on a kept-
 * alive connection gets 503 with "Connection: close" (Meta retries it).
 */
static void
drain(void)
{
	struct timespec start,
				tick = {.tv_nsec = 10 * 1000000L};

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (atomic_load(&in_flight) > 0 && elapsed_ms(&start) < SHUTDOWN_GRACE_MS)
		nanosleep(&tick, NULL);
	if (atomic_load(&in_flight) > 0)
		log_line("%d requests still running after %d ms: cutting them",
				 atomic_load(&in_flight), SHUTDOWN_GRACE_MS);
}

void
http_stop(void)
{
	MHD_socket	listen_fd;

	atomic_store(&stopping, true);
	listen_fd = MHD_quiesce_daemon(daemon_handle);
	drain();
	/* nothing may stay suspended when the daemon stops */
	if (!receiver_opts.no_db)
		queue_stop();
	atomic_store(&housekeeping_done, true);
	pthread_join(housekeeper, NULL);
	MHD_stop_daemon(daemon_handle);
	/* a quiesced socket is ours to close, but only once the threads are gone */
	if (listen_fd != MHD_INVALID_SOCKET)
		close(listen_fd);
	daemon_handle = NULL;
	reply_free();
}
