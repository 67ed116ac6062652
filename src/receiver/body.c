/*
 * body.c — antiban-receiver: a POST body kept within --max-body.
 */
#include "body.h"

#include <stdlib.h>
#include <string.h>

/*
 * A declared length over the limit is refused before a byte of the body
 * is read (libmicrohttpd then closes the connection instead of reading
 * it).  The first buffer is sized from it, but never beyond BODY_INITIAL:
 * a client must send the bytes before it gets the memory.
 */
bool
body_begin(request *req, const char *content_length, size_t max_body)
{
	unsigned long long declared = content_length ? strtoull(content_length, NULL, 10) : 0;

	if (declared > (unsigned long long) max_body)
	{
		req->too_large = true;
		return false;
	}
	req->cap = declared && declared < BODY_INITIAL ? (size_t) declared : BODY_INITIAL;
	return true;
}

/*
 * Keeps the body bytes, until the total passes max_body: from then on
 * they are counted and dropped, and the request ends in 413.  (A body
 * without Content-Length cannot be answered mid-way: libmicrohttpd only
 * queues a reply before or after the upload.)  One that goes on past
 * twice the limit is not worth reading to the end: false closes it.
 */
bool
body_append(request *req, const char *data, size_t n, size_t max_body)
{
	req->received += n;
	if (req->too_large)
		return req->received <= 2 * max_body;
	if (req->received > max_body)
	{
		req->too_large = true;
		free(req->body);
		req->body = NULL;
		req->len = req->cap = 0;
		return true;
	}
	if (req->len + n > req->cap || !req->body)
	{
		size_t		cap = req->cap ? req->cap : BODY_INITIAL;
		char	   *grown;

		while (cap < req->len + n)
			cap *= 2;
		/* the total is within the limit here: never allocate beyond it */
		if (cap > max_body)
			cap = max_body;
		if (!(grown = realloc(req->body, cap)))
			return false;
		req->body = grown;
		req->cap = cap;
	}
	memcpy(req->body + req->len, data, n);
	req->len += n;
	return true;
}
