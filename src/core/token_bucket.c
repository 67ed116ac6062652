/*
 * token_bucket.c
 *		Continuous-refill token bucket over integer micro-tokens.
 *
 * The bucket stores only (tokens, stamp); capacity and rate are passed in on
 * every call, so a number's limits can change (throughput upgrade, throttling)
 * without touching stored state: tokens are simply clamped to the new
 * capacity on the next refill.
 */
#include "token_bucket.h"

#include <math.h>

static int64_t
clamp_scaled(double scaled)
{
	return scaled >= (double) INT64_MAX ? INT64_MAX : (int64_t) scaled;
}

/* An amount to take: rounded up, so it never costs less than asked. */
int64_t
token_bucket_amount(double tokens)
{
	return clamp_scaled(ceil(tokens * (double) TB_SCALE));
}

/* A capacity or rate: rounded down, so it never grants more than configured. */
int64_t
token_bucket_limit(double tokens)
{
	return clamp_scaled(floor(tokens * (double) TB_SCALE));
}

/*
 * A bucket seen for the first time is as full as it could have become since
 * 'empty_at' (server start): after a restart buckets start empty, so a crash
 * never hands out a fresh burst, while a bucket evicted because it was full
 * comes back full, which is exactly the state it was evicted in.
 */
void
token_bucket_init(TokenBucket *b, const TokenBucketParams *p,
				  int64_t now, int64_t empty_at)
{
	b->tokens = 0;
	b->carry = 0;
	b->stamp = empty_at < now ? empty_at : now;
	token_bucket_refill(b, p, now);
}

/*
 * Credit the time since 'stamp' exactly: whole micro-tokens go to 'tokens',
 * the fraction stays in 'carry', so a slow bucket polled every microsecond
 * fills at its rate instead of losing the fraction on every call.
 */
void
token_bucket_refill(TokenBucket *b, const TokenBucketParams *p, int64_t now)
{
	int64_t		elapsed = now - b->stamp;
	__int128	total;

	if (b->tokens >= p->capacity)
	{
		b->tokens = p->capacity;
		b->carry = 0;
	}
	/* A clock that moves backwards (a pinned test clock) refills nothing. */
	if (elapsed <= 0)
		return;
	b->stamp = now;
	if (b->tokens == p->capacity)
		return;
	total = (__int128) elapsed * p->rate + b->carry;
	if (total / TB_SCALE >= p->capacity - b->tokens)
	{
		b->tokens = p->capacity;
		b->carry = 0;
		return;
	}
	b->tokens += (int64_t) (total / TB_SCALE);
	b->carry = (int64_t) (total % TB_SCALE);
}

/*
 * Earliest time at which 'amount' micro-tokens are available, assuming the
 * bucket was refilled at 'now'.  TB_NEVER when the amount exceeds capacity or
 * the bucket never refills.
 */
int64_t
token_bucket_ready_at(const TokenBucket *b, const TokenBucketParams *p,
					  int64_t amount, int64_t now)
{
	__int128	wait;
	int64_t		deficit = amount - b->tokens;

	if (deficit <= 0)
		return now;
	if (amount > p->capacity || p->rate <= 0)
		return TB_NEVER;
	/* Round the wait up so the bucket really holds 'amount' at ready_at. */
	wait = ((__int128) deficit * TB_SCALE - b->carry + p->rate - 1) / p->rate;
	if (wait >= (__int128) (INT64_MAX - now))
		return TB_NEVER;
	return now + (int64_t) wait;
}

/*
 * Refill, then take 'amount' if it is there (or only look, when !consume).
 */
TokenBucketResult
token_bucket_take(TokenBucket *b, const TokenBucketParams *p,
				  int64_t amount, int64_t now, bool consume)
{
	TokenBucketResult r;

	token_bucket_refill(b, p, now);
	r.allowed = b->tokens >= amount;
	if (r.allowed && consume)
		b->tokens -= amount;
	r.remaining = b->tokens;
	r.ready_at = r.allowed ? now : token_bucket_ready_at(b, p, amount, now);
	return r;
}

/* Return tokens taken for a send that did not happen (never above capacity). */
void
token_bucket_give_back(TokenBucket *b, const TokenBucketParams *p, int64_t amount)
{
	b->tokens = (amount >= p->capacity - b->tokens) ? p->capacity : b->tokens + amount;
}

/* A full bucket holds no information: it may be forgotten. */
bool
token_bucket_is_full(const TokenBucket *b, const TokenBucketParams *p, int64_t now)
{
	int64_t		elapsed = now - b->stamp;

	if (b->tokens >= p->capacity)
		return true;
	if (elapsed <= 0)
		return false;
	/* refill >= missing, by multiplication: this runs for every eviction candidate */
	return (__int128) elapsed * p->rate + b->carry >= (__int128) (p->capacity - b->tokens) * TB_SCALE;
}
