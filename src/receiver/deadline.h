/*
 * deadline.h — antiban-receiver: a client has a deadline for its headers
 * and one for its body; one that misses it is cut.
 *
 * libmicrohttpd's own timeout counts idle time only, so a client that
 * sends a byte a second keeps a connection for ever (slowloris).  Here each
 * connection carries a deadline: --header-timeout from its accept (or from
 * the end of its previous request, on a kept-alive connection) to complete
 * headers, then --body-timeout for the body; none while the database works
 * on its request.  A sweep, every HOUSEKEEPING_MS, shuts down the sockets
 * past their deadline; libmicrohttpd then closes them as a client abort.
 * Near --max-connections the deadlines shrink (deadline.c says why).
 */
#ifndef RECEIVER_DEADLINE_H
#define RECEIVER_DEADLINE_H

#include <microhttpd.h>
#include <stdbool.h>

/*
 * From max_connections * PRESSURE_PERCENT / 100 open connections on, the
 * deadlines are PRESSURE_HEADER_MS and PRESSURE_BODY_MS (config.h).
 */
extern void deadline_init(int header_timeout_s, int body_timeout_s, int max_connections);

/* MHD_OPTION_NOTIFY_CONNECTION: a connection opened or closed. */
extern void deadline_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
								enum MHD_ConnectionNotificationCode toe);

/* The headers are in: the body's deadline starts (none without a body). */
extern void deadline_headers_done(struct MHD_Connection *conn, bool body_follows);

/* The request is the receiver's to answer now: no deadline. */
extern void deadline_clear(struct MHD_Connection *conn);

/* The answer went out: the next request's headers are due. */
extern void deadline_request_done(struct MHD_Connection *conn);

/* Cuts every connection past its deadline; how many it cut. */
extern int	deadline_sweep(void);

#endif							/* RECEIVER_DEADLINE_H */
