/*
 * retry_plan.c
 *		From a classified error to the message's next state.  No tight loop
 *		is possible: every retry waits at least the backoff, and the number
 *		of attempts is bounded.
 */
#include "retry_plan.h"

static RetryPlan
final(MessageState state, const char *reason)
{
	RetryPlan	p = {.state = state, .reason = reason};

	return p;
}

/* Wait until 'at', unless the message's validity ends first. */
static RetryPlan
wait_until(const RetryInput *in, int64_t at, const char *reason)
{
	RetryPlan	p = {.state = MSG_RETRY_WAIT, .not_before = at, .reason = reason};

	if (at > in->valid_until)
		return final(MSG_EXPIRED, "the next attempt would come after the message's validity");
	return p;
}

static int64_t
delay(const RetryInput *in)
{
	int64_t		at_least = in->error.min_delay_us > in->retry_after_us ?
		in->error.min_delay_us : in->retry_after_us;

	return backoff_delay(&in->backoff, in->attempts, in->random01, at_least);
}

/* Wait the backoff, within the attempts allowed. */
static RetryPlan
retry(const RetryInput *in, int limit, const char *reason)
{
	if (in->attempts >= limit)
		return final(MSG_DEAD, "attempts exhausted");
	return wait_until(in, in->now + delay(in), reason);
}

RetryPlan
plan_retry(const RetryInput *in)
{
	const ErrorClass *e = &in->error;
	RetryPlan	p;

	if (e->kind == ERROR_PERMANENT)
		return final(MSG_FAILED, "permanent error");
	if (e->defer_marketing_us > 0)
		return wait_until(in, in->now + delay(in), "Meta did not deliver (per-user marketing cap); retry after 24 h");
	if (e->recipient_backoff)
	{
		p = wait_until(in, in->now + backoff_pair_delay(in->pair_hits), "pair rate limit: 4^X s for this recipient");
		p.pair_hit = true;
		return p;
	}
	/* the message did not go; another number may carry it later */
	if (e->pause != PAUSE_NONE)
		return retry(in, in->max_attempts, "the number was paused; waiting for another");
	return retry(in, e->max_attempts > 0 ? e->max_attempts : in->max_attempts,
				 "transient error; backing off");
}
