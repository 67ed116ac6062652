/*
 * message_state.h
 *		The outbox state machine.
 *
 *	queued -> sending -> sent -> delivered -> read
 *	retry_wait after a transient error; unknown when a crash or timeout left
 *	no evidence; failed, dead, rejected, expired, cancelled and read are final
 *	(a late "sent" never downgrades a "read"), except that an operator may
 *	requeue a dead, failed or unknown message (antiban.requeue).
 */
#ifndef ANTIBAN_MESSAGE_STATE_H
#define ANTIBAN_MESSAGE_STATE_H

#include <stdbool.h>

typedef enum MessageState
{
	MSG_QUEUED,
	MSG_SENDING,
	MSG_SENT,
	MSG_DELIVERED,
	MSG_READ,
	MSG_RETRY_WAIT,
	MSG_FAILED,
	MSG_DEAD,
	MSG_REJECTED,
	MSG_EXPIRED,
	MSG_CANCELLED,
	MSG_UNKNOWN,
	MSG_NSTATES
} MessageState;

extern bool message_state_parse(const char *s, MessageState *out);
extern const char *message_state_name(MessageState s);
extern bool message_transition_allowed(MessageState from, MessageState to);
extern bool message_state_is_final(MessageState s);
extern bool message_state_implies_sent(MessageState s);
extern bool message_requeue_allowed(MessageState from);

#endif							/* ANTIBAN_MESSAGE_STATE_H */
