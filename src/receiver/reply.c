/*
 * reply.c — antiban-receiver: the HTTP answers.
 *
 * Every answer but the challenge echo is fixed, so each is built once at
 * start and shared by all threads (libmicrohttpd reference-counts them).
 */
#include "reply.h"

#include <string.h>

typedef struct reply_def
{
	unsigned int status;
	const char *body;
	const char *header;			/* one extra header, or NULL */
	const char *value;
} reply_def;

static const reply_def reply_defs[N_REPLIES] = {
	[REPLY_OK] = {200, "{\"ok\":true}", NULL},
	[REPLY_BAD_REQUEST] = {400, "{\"ok\":false,\"error\":\"ambiguous body length: one Content-Length header, or Transfer-Encoding alone\"}", "Connection", "close"},
	[REPLY_BAD_SIGNATURE] = {401, "{\"ok\":false,\"error\":\"invalid or missing X-Hub-Signature-256\"}", NULL},
	[REPLY_FORBIDDEN] = {403, "{\"ok\":false,\"error\":\"verification refused\"}", NULL},
	[REPLY_NOT_FOUND] = {404, "{\"ok\":false,\"error\":\"not found\"}", NULL},
	[REPLY_BAD_METHOD] = {405, "{\"ok\":false,\"error\":\"method not allowed\"}", "Allow", "GET, POST"},
	[REPLY_TOO_LARGE] = {413, "{\"ok\":false,\"error\":\"body too large\"}", "Connection", "close"},
	[REPLY_UNAVAILABLE] = {503, "{\"ok\":false,\"error\":\"database unavailable\"}", NULL},
	[REPLY_BUSY] = {503, "{\"ok\":false,\"error\":\"too many requests waiting for the database\"}", NULL},
	[REPLY_SHUTTING_DOWN] = {503, "{\"ok\":false,\"error\":\"shutting down\"}", "Connection", "close"},
};

static struct MHD_Response *replies[N_REPLIES];

static struct MHD_Response *
build(const char *body, const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *) body,
															 MHD_RESPMEM_PERSISTENT);

	if (r && (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES ||
			  MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") != MHD_YES))
	{
		MHD_destroy_response(r);
		return NULL;
	}
	return r;
}

bool
reply_init(void)
{
	for (int i = 0; i < N_REPLIES; i++)
	{
		const reply_def *d = &reply_defs[i];

		replies[i] = build(d->body, "application/json");
		if (!replies[i] ||
			(d->header && MHD_add_response_header(replies[i], d->header, d->value) != MHD_YES))
			return false;
	}
	return true;
}

void
reply_free(void)
{
	for (int i = 0; i < N_REPLIES; i++)
		if (replies[i])
			MHD_destroy_response(replies[i]);
	memset(replies, 0, sizeof(replies));
}

enum MHD_Result
reply_queue(struct MHD_Connection *conn, reply_kind kind, int *status)
{
	*status = (int) reply_defs[kind].status;
	return MHD_queue_response(conn, reply_defs[kind].status, replies[kind]);
}

enum MHD_Result
reply_text(struct MHD_Connection *conn, const char *text, int *status)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *) text,
															 MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain") != MHD_YES ||
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") != MHD_YES ||
		MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") != MHD_YES)
	{
		MHD_destroy_response(r);
		return MHD_NO;
	}
	*status = MHD_HTTP_OK;
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}
