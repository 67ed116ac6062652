/*
 * enqueue.h
 *		One outbox row as an enqueue builds it, and the steps the single
 *		(send.c) and the set (send_many.c) enqueue share: the payload's
 *		checks, the decision become the row's first state, a campaign's own
 *		caps from metadata.
 */
#ifndef ANTIBAN_ENQUEUE_H
#define ANTIBAN_ENQUEUE_H

#include "utils/jsonb.h"

typedef struct EnqueueRow
{
	const char *recipient;		/* NULL for read receipts */
	const char *person_key;		/* its canonical key; NULL when invalid */
	const char *message_type;
	Category	category;
	Priority	priority;
	Jsonb	   *payload;
	const char *state;
	TimestampTz not_before;
	TimestampTz valid_until;	/* TB_NEVER: none */
	const char *idempotency_key;
	Jsonb	   *metadata;
	const char *from_number;
	int64		number_id;
	const char *phone_number_id;
	int64		portfolio_id;
	const char *reason;
	const char *detail;
} EnqueueRow;

/* Meta's limits on a payload of this type and category: an error if not. */
extern void check_payload(const char *type, Category category, Jsonb *payload);

/* The decision as the row's first state (an error for free-form without a window). */
extern void apply_decision(EnqueueRow *r, NumbersCache *c, const Decision *d);

/* metadata.frequency_caps (a campaign's own caps) as text, or NULL. */
extern const char *metadata_caps(Jsonb *metadata);

#endif							/* ANTIBAN_ENQUEUE_H */
