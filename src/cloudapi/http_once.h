/*
 * http_once.h
 *		One blocking HTTP request (libcurl easy) for the monitor: Graph API
 *		management GETs and alert webhook POSTs.  No PostgreSQL headers.
 */
#ifndef ANTIBAN_CLOUDAPI_HTTP_ONCE_H
#define ANTIBAN_CLOUDAPI_HTTP_ONCE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/transport_outcome.h"

#define HTTP_ONCE_MAX_BODY (4 * 1024 * 1024)

typedef struct HttpOnce
{
	long		status;			/* 0: no answer (see error and transport) */
	TransportOutcome transport; /* without an answer: did the request leave? */
	bool		timed_out;		/* no answer within timeout_ms */
	char	   *body;			/* NUL-terminated, malloc'd; NULL if none */
	size_t		len;
	char		error[256];		/* transport error, never containing the token */
} HttpOnce;

/* GET when json_body is NULL, else POST it as application/json. */
extern bool http_once(const char *url, const char *bearer_token, const char *json_body,
					  long timeout_ms, HttpOnce *out);
extern void http_once_free(HttpOnce *r);
/* URL-escape 's' into 'out' (false if it does not fit). */
extern bool http_escape(const char *s, char *out, size_t size);

/* Graph answers: the error's message and code; the next page's cursor. */
extern bool graph_error(const char *body, char *message, size_t size, int *code);
extern bool graph_next_cursor(const char *body, char *cursor, size_t size);

#endif							/* ANTIBAN_CLOUDAPI_HTTP_ONCE_H */
