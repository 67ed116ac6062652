/*
 * webhook.c — antiban-receiver: Meta's two webhook calls.
 *
 * The receiver decides nothing itself: the database checks the verify
 * token and the signature, and says whether the event is stored.  What
 * happens here is refusing early what cannot be Meta's (and could not
 * travel as a text parameter), handing the rest to the database queue, and
 * the mapping of its answers to HTTP.
 */
#include "config.h"
#include "http.h"
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

static enum MHD_Result
defer(struct MHD_Connection *conn, request *req, job_kind kind, const char *text)
{
	req->job.kind = kind;
	req->job.body = req->body;
	req->job.len = req->len;
	req->job.text = text;
	if (http_defer(req))
		return MHD_YES;			/* answered by webhook_answer() */
	return reply_queue(conn, REPLY_BUSY, &req->status);
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
	return defer(conn, req, JOB_VERIFY, token);
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
	return defer(conn, req, JOB_INGEST, signature);
}

enum MHD_Result
webhook_answer(struct MHD_Connection *conn, request *req)
{
	bool		verify = req->job.kind == JOB_VERIFY;

	switch (req->job.outcome)
	{
		case DB_ACCEPTED:
			return verify ? reply_text(conn, query_arg(conn, "hub.challenge"), &req->status) :
				reply_queue(conn, REPLY_OK, &req->status);
		case DB_REFUSED:
			return reply_queue(conn, verify ? REPLY_FORBIDDEN : REPLY_BAD_SIGNATURE, &req->status);
		case DB_UNAVAILABLE:
			break;
	}
	return reply_queue(conn, REPLY_UNAVAILABLE, &req->status);
}
