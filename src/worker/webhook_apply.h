/*
 * webhook_apply.h
 *		Applying stored webhook events: in the storing transaction, or by the
 *		webhook apply worker right after it commits.
 */
#ifndef ANTIBAN_WEBHOOK_APPLY_H
#define ANTIBAN_WEBHOOK_APPLY_H

#include "postgres.h"

/* antiban.webhook_apply */
typedef enum WebhookApply
{
	WEBHOOK_APPLY_WORKER,		/* stored pending; the worker applies after commit */
	WEBHOOK_APPLY_INLINE		/* applied in the storing transaction */
} WebhookApply;

extern int	antiban_webhook_apply;
extern int	antiban_webhook_apply_batch;
extern int	antiban_webhook_apply_gather_ms;
extern int	antiban_webhook_apply_workers;

extern void antiban_define_webhook_apply_gucs(void);
extern void antiban_register_webhook_apply(void);

/* The worker wakes when the calling transaction commits (not on abort). */
extern void webhook_apply_wake_at_commit(void);

#endif							/* ANTIBAN_WEBHOOK_APPLY_H */
