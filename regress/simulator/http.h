/*
 * http.h — the libmicrohttpd front end: request view passed to handlers,
 * daemon start/stop.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "errors.h"

struct MHD_Connection;

/* One complete request, as the route handlers see it. */
typedef struct sim_request
{
	struct MHD_Connection *conn;
	const char *method;
	const char *url;
	const char *body;			/* NUL-terminated; "" when empty */
	size_t		body_len;
} sim_request;

const char *req_arg(const sim_request *r, const char *name);
const char *req_header(const sim_request *r, const char *name);

bool		http_start(char *err, size_t errlen);
int			http_port(void);
void		http_stop(void);

/* Route handlers (send.c, mgmt.c, control.c, sink.c). */
void		send_handle(const sim_request *req, const char *number_id, sim_reply *r);
void		mgmt_handle(const sim_request *req, const char *version, const char *id,
						const char *edge, sim_reply *r);
void		control_handle(const sim_request *req, const char *path, sim_reply *r);
void		sink_handle(const sim_request *req, const char *path, sim_reply *r);

#endif							/* HTTP_H */
