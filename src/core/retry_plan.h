/*
 * retry_plan.h
 *		What happens to a message after a failed send: which state and when to
 *		try again.  What the number and the recipient suffer is the code's
 *		row in error_class.c, acted on by src/pg/error_consequences.c.
 */
#ifndef ANTIBAN_RETRY_PLAN_H
#define ANTIBAN_RETRY_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "backoff.h"
#include "error_class.h"
#include "message_state.h"

typedef struct RetryInput
{
	ErrorClass	error;
	int			attempts;		/* sends tried so far, this one included */
	int			max_attempts;	/* the global limit (antiban.max_attempts) */
	int			pair_hits;		/* earlier 131056 answers for this message */
	int64_t		now;
	int64_t		valid_until;	/* INT64_MAX: none */
	int64_t		retry_after_us; /* Retry-After, 0 if none */
	double		random01;		/* jitter */
	BackoffPolicy backoff;
} RetryInput;

typedef struct RetryPlan
{
	MessageState state;			/* retry_wait, failed, dead or expired */
	int64_t		not_before;		/* retry_wait: when */
	bool		pair_hit;		/* 131056: one more hit for this pair's 4^X */
	const char *reason;
} RetryPlan;

extern RetryPlan plan_retry(const RetryInput *in);

#endif							/* ANTIBAN_RETRY_PLAN_H */
