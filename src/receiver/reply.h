/*
 * reply.h — antiban-receiver: the HTTP answers.
 */
#ifndef RECEIVER_REPLY_H
#define RECEIVER_REPLY_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum reply_kind
{
	REPLY_OK,					/* 200: stored */
	REPLY_BAD_REQUEST,			/* 400 and close: ambiguous body length */
	REPLY_BAD_SIGNATURE,		/* 401 */
	REPLY_FORBIDDEN,			/* 403: verification refused */
	REPLY_NOT_FOUND,			/* 404 */
	REPLY_BAD_METHOD,			/* 405 */
	REPLY_TOO_LARGE,			/* 413 */
	REPLY_UNAVAILABLE,			/* 503: database unavailable */
	REPLY_BUSY,					/* 503: too many requests waiting for it */
	REPLY_SHUTTING_DOWN,		/* 503 and close: stopping */
	N_REPLIES
} reply_kind;

/* Builds the shared responses; false if out of memory. */
extern bool reply_init(void);
extern void reply_free(void);

/* Queues a canned answer; *status gets its HTTP status for the log. */
extern enum MHD_Result reply_queue(struct MHD_Connection *conn, reply_kind kind, int *status);

/* 200 text/plain with this exact body (the verification challenge). */
extern enum MHD_Result reply_text(struct MHD_Connection *conn, const char *text, int *status);

#endif							/* RECEIVER_REPLY_H */
