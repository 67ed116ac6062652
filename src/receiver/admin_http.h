/*
 * admin_http.h — antiban-receiver: the private admin listener (dashboard,
 * its JSON, /metrics, /health), a second libmicrohttpd server with its own
 * address, port, threads and database pool.
 */
#ifndef RECEIVER_ADMIN_HTTP_H
#define RECEIVER_ADMIN_HTTP_H

#include "strbuf.h"

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Loads the auth file and the page, opens the admin pool and binds
 * --admin-listen:--admin-port.  False with a message in err.
 */
extern bool admin_http_start(char *err, size_t errlen);
extern int	admin_http_port(void);
extern void admin_http_stop(void);

/*
 * Adds Content-Type, Cache-Control and the security headers every admin
 * answer carries (a strict Content-Security-Policy: no inline script or
 * style, nothing from another origin).
 */
extern bool admin_http_headers(struct MHD_Response *r, const char *type, const char *cache);

/* Answers with a constant JSON body. */
extern enum MHD_Result admin_reply_json(struct MHD_Connection *conn, unsigned int code,
										const char *json, int *status);

/* Answers with a copy of body. */
extern enum MHD_Result admin_reply_copy(struct MHD_Connection *conn, unsigned int code,
										const char *type, const char *body, size_t len, int *status);

/* Answers with sb's text, which the response takes over (sb is emptied). */
extern enum MHD_Result admin_reply_owned(struct MHD_Connection *conn, unsigned int code,
										 const char *type, strbuf *sb, int *status);

#endif							/* RECEIVER_ADMIN_HTTP_H */
