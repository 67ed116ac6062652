/*
 * sender.h
 *		The sender background worker's shared pieces: what is in flight, and
 *		the claim / record / reconcile steps around the HTTP calls.
 */
#ifndef ANTIBAN_SENDER_H
#define ANTIBAN_SENDER_H

#include "pg/antiban.h"

#include "utils/hsearch.h"

#include "cloudapi/client.h"

/* A message on its way: what recording its result will need. */
typedef struct InFlight
{
	int64		id;				/* hash key */
	int64		number_id;
	int			attempts;
	int			pair_hits;
	bool		read_receipt;
	TimestampTz valid_until;
	char		recipient[RECIPIENT_MAXLEN + 1];
} InFlight;

/* A claimed message ready to go out once the claim has committed. */
typedef struct Outgoing
{
	int64		id;
	char	   *url;
	char	   *body;
	const char *token;
} Outgoing;

typedef struct SenderState
{
	int			slot;
	CloudApiClient *client;
	HTAB	   *inflight;
	MemoryContext batch_context;	/* reset every loop iteration */
	TimestampTz next_reconcile;
	TimestampTz last_claim;		/* when the last claim began */
	bool		token_bound;	/* it had fewer tokens than room */
} SenderState;

/* outbox_claim.c */
/* claim_share.c: tokens the claims in progress are about to take */
extern int64 claim_share_promise(int slot, int64 available, int64 wanted);
extern void claim_share_forget(int slot);

extern const char *const sender_due_sql;
extern int	sender_claim(SenderState *st, int limit, Outgoing **out, TimestampTz *next_due);

/* outbox_record.c */
extern void sender_record(SenderState *st, CloudApiResult *results, int n);

/* outbox_reconcile.c */
extern void sender_reconcile(SenderState *st);

/* sender_open_files.c: room for antiban.max_inflight connections */
extern void sender_fit_open_files(int max_inflight);

/* access_tokens.c */
extern const char *access_token_for(int64 number_id);

#endif							/* ANTIBAN_SENDER_H */
