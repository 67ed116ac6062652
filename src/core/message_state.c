/*
 * message_state.c
 *		Which outbox transitions are allowed, as a table.
 */
#include "message_state.h"

#include <string.h>

static const char *const names[MSG_NSTATES] = {
	"queued", "sending", "sent", "delivered", "read", "retry_wait",
	"failed", "dead", "rejected", "expired", "cancelled", "unknown",
};

#define B(s) (1u << (s))

/* allowed[from] = the states 'from' may move to */
/* Meta's status webhooks are evidence: they may settle a message whose send was unconfirmed. */
#define EVIDENCE (B(MSG_SENT) | B(MSG_DELIVERED) | B(MSG_READ) | B(MSG_FAILED))

static const unsigned allowed[MSG_NSTATES] = {
	/* a message queued again after an unconfirmed send may turn out sent */
	[MSG_QUEUED] = B(MSG_QUEUED) | B(MSG_SENDING) | B(MSG_REJECTED) | B(MSG_EXPIRED) |
	B(MSG_CANCELLED) | EVIDENCE,
	[MSG_RETRY_WAIT] = B(MSG_RETRY_WAIT) | B(MSG_QUEUED) | B(MSG_SENDING) | B(MSG_EXPIRED) |
	B(MSG_CANCELLED) | B(MSG_DEAD) | EVIDENCE,
	/* a status webhook may arrive before the send is recorded */
	[MSG_SENDING] = B(MSG_SENT) | B(MSG_DELIVERED) | B(MSG_READ) | B(MSG_RETRY_WAIT) |
	B(MSG_QUEUED) | B(MSG_FAILED) | B(MSG_DEAD) | B(MSG_EXPIRED) | B(MSG_UNKNOWN),
	[MSG_SENT] = B(MSG_DELIVERED) | B(MSG_READ) | B(MSG_FAILED),
	[MSG_DELIVERED] = B(MSG_READ) | B(MSG_FAILED),
	/* evidence may still come, or an operator may decide to send again */
	[MSG_UNKNOWN] = B(MSG_SENT) | B(MSG_DELIVERED) | B(MSG_READ) | B(MSG_FAILED) | B(MSG_QUEUED),
};

bool
message_state_parse(const char *s, MessageState *out)
{
	for (int i = 0; i < MSG_NSTATES; i++)
	{
		if (strcmp(s, names[i]) == 0)
		{
			*out = (MessageState) i;
			return true;
		}
	}
	return false;
}

const char *
message_state_name(MessageState s)
{
	return names[s];
}

bool
message_transition_allowed(MessageState from, MessageState to)
{
	return (allowed[from] & B(to)) != 0;
}

bool
message_state_is_final(MessageState s)
{
	return allowed[s] == 0;
}

/*
 * Meta reports delivered or read only for a message that left: reaching them
 * means it was sent, even when its "sent" status was folded into a later one
 * or arrived before the sender recorded its own answer.
 */
bool
message_state_implies_sent(MessageState s)
{
	return s == MSG_DELIVERED || s == MSG_READ;
}

/*
 * An operator may give a message that ended without reaching anyone a new
 * life (antiban.requeue): dead (retries ran out), failed (a permanent error)
 * and unknown (no evidence either way; the caller must insist, it may have
 * been delivered).  Only a write that counts the requeue does it: no sender
 * or webhook ever moves these rows back to queued on its own.
 */
bool
message_requeue_allowed(MessageState from)
{
	return from == MSG_DEAD || from == MSG_FAILED || from == MSG_UNKNOWN;
}
