/*
 * breaker_sender.h
 *		The sender's side of the endpoint's circuit breaker: whether to
 *		claim, the probe, holding messages the endpoint never saw, and the
 *		history of phase changes.
 */
#ifndef ANTIBAN_BREAKER_SENDER_H
#define ANTIBAN_BREAKER_SENDER_H

#include "worker/sender.h"

/* breaker_sender.c */
extern int	sender_breaker_admit(SenderState *st, int room, TimestampTz *next_due);
extern void sender_breaker_claimed(const Outgoing *out, int n);
extern int	sender_breaker_sort(SenderState *st, CloudApiResult *results, int n,
								CloudApiResult *held, int *nheld);
extern void sender_breaker_flush(void);

/* breaker_hold.c */
extern void sender_breaker_hold(SenderState *st, const CloudApiResult *held, int n);

#endif							/* ANTIBAN_BREAKER_SENDER_H */
