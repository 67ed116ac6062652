/*
 * errors.h — Meta's Graph error catalog and the HTTP reply type.
 */
#ifndef ERRORS_H
#define ERRORS_H

#include <stdbool.h>
#include <stddef.h>

#include "sbuf.h"

/* One Graph error answer.  Zero/NULL fields take the catalog defaults. */
typedef struct meta_error
{
	int			code;
	int			http;			/* 0: catalog status */
	const char *message;		/* NULL: "(#code) title" */
	const char *type;			/* NULL: "OAuthException" */
	const char *details;		/* NULL: catalog details; "": no error_data */
	int			subcode;		/* 0: none */
	bool		transient;		/* adds "is_transient":true */
} meta_error;

/* What an HTTP handler produces; http.c turns it into an MHD response. */
typedef struct sim_reply
{
	int			status;
	char	   *body;			/* malloc'd, owned by the reply */
	size_t		len;
	const char *content_type;
	char	   *usage_header;	/* X-Business-Use-Case-Usage, malloc'd or NULL */
	bool		drop;			/* close the connection without answering */
	bool		lost_reply;		/* processed, then connection closed */
	int			delay_ms;		/* answer this much later */
} sim_reply;

int			meta_error_http(int code);
const char *meta_error_title(int code);
const char *meta_error_details(int code);
void		meta_error_json(sbuf *b, const meta_error *e);

void		reply_free(sim_reply *r);
void		reply_sbuf(sim_reply *r, int status, sbuf *b);
void		reply_text(sim_reply *r, int status, const char *text);
void		reply_error(sim_reply *r, const meta_error *e);
void		reply_code(sim_reply *r, int code, const char *details);
void		reply_sim_error(sim_reply *r, int status, const char *msg);

#endif							/* ERRORS_H */
