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
#include "webhook.h"

#include <string.h>

static const char *
query_arg(struct MHD_Connection *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
}

/* Length of the UTF-8 sequence at s, or 0 if it is not a valid one. */
static int
utf8_sequence(const unsigned char *s)
{
	static const unsigned int min_code[] = {0, 0, 0x80, 0x800, 0x10000};
	unsigned int cp;
	int			n;

	if (s[0] < 0x80)
		return 1;
	n = (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
	if (n == 0)
		return 0;
	cp = s[0] & (0x7f >> n);
	for (int i = 1; i < n; i++)
	{
		/* stops at a NUL before reading past it */
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min_code[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * A token or signature header worth a database round trip: non-empty,
 * at most MAX_TEXT_PARAM bytes of valid UTF-8 without control
 * characters.  The database would reject invalid UTF-8 with an error,
 * which must not turn into a 503 that invites retries.
 */
static bool
text_param_ok(const char *str)
{
	const unsigned char *s = (const unsigned char *) str;
	size_t		len = 0;

	if (!s || !*s)
		return false;
	while (*s)
	{
		int			n = utf8_sequence(s);

		if (n == 0 || *s < 0x20 || *s == 0x7f || (len += n) > MAX_TEXT_PARAM)
			return false;
		s += n;
	}
	return true;
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
