/*
 * http.h — antiban-receiver: the libmicrohttpd server.
 */
#ifndef RECEIVER_HTTP_H
#define RECEIVER_HTTP_H

#include "request.h"

#include <stdbool.h>
#include <stddef.h>

/* Binds and starts the worker threads; false with a message in err. */
extern bool http_start(char *err, size_t errlen);

/*
 * Suspends the request's connection and queues its job for the database;
 * webhook_answer() is called when it is done.  False when the queue is
 * full or stopping (nothing was suspended): answer 503.
 */
extern bool http_defer(request *req);

/* Webhook requests begun and not finished (for /metrics). */
extern int	http_in_flight(void);

/* The port actually bound (useful with --port 0). */
extern int	http_port(void);

/*
 * Stops accepting, lets requests already begun finish (up to
 * SHUTDOWN_GRACE_MS), answers 503 to any still waiting for the database,
 * then stops the threads and closes every socket.
 */
extern void http_stop(void);

#endif							/* RECEIVER_HTTP_H */
