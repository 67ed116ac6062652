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

RetryPlan
plan_retry(const RetryInput *in)
{
	RetryPlan	p;
	int			limit = in->error.max_attempts > 0 ? in->error.max_attempts : in->max_attempts;

	switch (in->error.action)
	{
		case ERROR_PERMANENT:
			return final(MSG_FAILED, "permanent error");
		case ERROR_RETRY_NEXT_DAY:
			return wait_until(in, in->now + delay(in), "Meta did not deliver (per-user marketing cap); retry after 24 h");
		case ERROR_RECIPIENT_BACKOFF:
			p = wait_until(in, in->now + backoff_pair_delay(in->pair_hits), "pair rate limit: 4^X s for this recipient");
			p.drain_pair = true;
			return p;
		case ERROR_PAUSE_NUMBER:
			/* the message did not go; another number may carry it later */
			if (in->attempts >= in->max_attempts)
				p = final(MSG_DEAD, "attempts exhausted");
			else
				p = wait_until(in, in->now + delay(in), "the number was paused; waiting for another");
			p.pause_number = true;
			return p;
		case ERROR_SLOW_NUMBER:
		case ERROR_TRANSIENT:
			break;
	}
	if (in->attempts >= limit)
		p = final(MSG_DEAD, "attempts exhausted");
	else
		p = wait_until(in, in->now + delay(in), "transient error; backing off");
	p.slow_number = in->error.action == ERROR_SLOW_NUMBER;
	return p;
}
