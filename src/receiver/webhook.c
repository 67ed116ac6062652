/*
 * webhook.c — antiban-receiver: Meta's two webhook calls.
 *
 * The receiver decides nothing itself: the database checks the verify
 * token and the signature, and says whether the event is stored.  What
 * happens here is the mapping of its answers to HTTP, and refusing early
 * what cannot be Meta's (and could not travel as a text parameter).
 */
#include "config.h"
#include "db.h"
#include "options.h"
#include "reply.h"
#include "text_param.h"
#include "webhook.h"

#include <string.h>

static const char *
query_arg(struct MHD_Connection *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
}

enum MHD_Result
webhook_verify(struct MHD_Connection *conn, request *req)
{
	const char *mode = query_arg(conn, "hub.mode");
	const char *token = query_arg(conn, "hub.verify_token");
	const char *challenge = query_arg(conn, "hub.challenge");

	if (!challenge || !*challenge)
		return reply_queue(conn, REPLY_FORBIDDEN, &req->status);
	if (receiver_opts.no_db)
		return reply_text(conn, challenge, &req->status);
	if (!mode || strcmp(mode, "subscribe") != 0 || !text_param_ok(token))
		return reply_queue(conn, REPLY_FORBIDDEN, &req->status);

	switch (db_verify(token))
	{
		case DB_ACCEPTED:
			return reply_text(conn, challenge, &req->status);
		case DB_REFUSED:
			return reply_queue(conn, REPLY_FORBIDDEN, &req->status);
		case DB_UNAVAILABLE:
			break;
	}
	return reply_queue(conn, REPLY_UNAVAILABLE, &req->status);
}

enum MHD_Result
webhook_ingest(struct MHD_Connection *conn, request *req)
{
	const char *signature = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
														"X-Hub-Signature-256");

	if (req->too_large)
		return reply_queue(conn, REPLY_TOO_LARGE, &req->status);
	if (receiver_opts.no_db)
		return reply_queue(conn, REPLY_OK, &req->status);
	/* a missing header goes to the database as NULL: it decides (401) */
	if (signature && !text_param_ok(signature))
		return reply_queue(conn, REPLY_BAD_SIGNATURE, &req->status);

	switch (db_ingest(req->body, req->len, signature))
	{
		case DB_ACCEPTED:
			return reply_queue(conn, REPLY_OK, &req->status);
		case DB_REFUSED:
			return reply_queue(conn, REPLY_BAD_SIGNATURE, &req->status);
		case DB_UNAVAILABLE:
			break;
	}
	return reply_queue(conn, REPLY_UNAVAILABLE, &req->status);
}
