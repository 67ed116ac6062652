/*
 * http.h — antiban-receiver: the libmicrohttpd server.
 */
#ifndef RECEIVER_HTTP_H
#define RECEIVER_HTTP_H

#include <stdbool.h>
#include <stddef.h>

/* Binds and starts the worker threads; false with a message in err. */
extern bool http_start(char *err, size_t errlen);

/* Webhook requests begun and not finished (for /metrics). */
extern int	http_in_flight(void);

/* The port actually bound (useful with --port 0). */
extern int	http_port(void);

/*
 * Stops accepting, lets requests already begun finish (up to
 * SHUTDOWN_GRACE_MS), then stops the threads and closes every socket.
 */
extern void http_stop(void);

#endif							/* RECEIVER_HTTP_H */
