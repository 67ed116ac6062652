/*
 * error_consequences.h
 *		Acting on a Meta error code: one routine for the sender's record step
 *		and for the webhooks' failed statuses (antiban.act_on_error).
 */
#ifndef ANTIBAN_ERROR_CONSEQUENCES_H
#define ANTIBAN_ERROR_CONSEQUENCES_H

#include "pg/antiban.h"

/* One error Meta reported for one of our messages. */
typedef struct MetaErrorEvent
{
	int64		number_id;		/* the number that sent it */
	int64		message_id;		/* its outbox id; 0: none */
	int			code;
	int			http_status;	/* 400 for webhooks, which carry none */
	const char *source;			/* "send" (an answer) or "webhook" (a failed status) */
	TimestampTz request_at;		/* when the request that met it went out; 0: now */
	const char *recipient;		/* as stored on the message; NULL: none */
} MetaErrorEvent;

/* What meta_error_act did, as flags (names: meta_error_done_names). */
#define DONE_RECORDED			0x01	/* a send_errors row */
#define DONE_PAUSED				0x02
#define DONE_SLOWED				0x04
#define DONE_PAIR_DRAINED		0x08
#define DONE_MARKETING_DEFERRED	0x10
#define DONE_OPTED_OUT			0x20
#define DONE_KINDS				6

extern const char *const meta_error_done_names[DONE_KINDS];

/* error_consequences.c: inside a transaction; takes antiban_owner's rights itself. */
extern int	meta_error_act(const MetaErrorEvent *e);

/* health.c: the rate controller's one decrease for a congestion answer (inside SPI). */
extern bool number_congestion(int64 number_id, const char *cause, TimestampTz request_at,
							  char *why, size_t whylen);

#endif							/* ANTIBAN_ERROR_CONSEQUENCES_H */
