/*
 * token_bucket.h
 *		Token bucket arithmetic in integers: micro-tokens and microseconds.
 *
 * Integers keep the math exact and make "never over-grant" a property we can
 * prove in unit tests instead of hoping floating point rounds our way.  Every
 * rounding here goes against the caller: refills round down, waits round up.
 */
#ifndef ANTIBAN_TOKEN_BUCKET_H
#define ANTIBAN_TOKEN_BUCKET_H

#include <stdbool.h>
#include <stdint.h>

/* One token is a million micro-tokens; one second is a million microseconds. */
#define TB_SCALE		INT64_C(1000000)
/* "Never": the answer when an amount can not be granted at any time. */
#define TB_NEVER		INT64_MAX

typedef struct TokenBucketParams
{
	int64_t		capacity;		/* micro-tokens; the largest burst */
	int64_t		rate;			/* micro-tokens added per second */
} TokenBucketParams;

typedef struct TokenBucket
{
	int64_t		tokens;			/* micro-tokens available at 'stamp' */
	int64_t		stamp;			/* time of the last refill, in microseconds */
	int64_t		carry;			/* refill below one micro-token, in millionths */
} TokenBucket;

typedef struct TokenBucketResult
{
	bool		allowed;
	int64_t		remaining;		/* micro-tokens left after the call */
	int64_t		ready_at;		/* earliest time the amount fits (now if allowed) */
} TokenBucketResult;

extern int64_t token_bucket_amount(double tokens);
extern int64_t token_bucket_limit(double tokens);
extern void token_bucket_init(TokenBucket *b, const TokenBucketParams *p,
							  int64_t now, int64_t empty_at);
extern void token_bucket_refill(TokenBucket *b, const TokenBucketParams *p,
								int64_t now);
extern int64_t token_bucket_ready_at(const TokenBucket *b,
									 const TokenBucketParams *p,
									 int64_t amount, int64_t now);
extern TokenBucketResult token_bucket_take(TokenBucket *b,
										   const TokenBucketParams *p,
										   int64_t amount, int64_t now,
										   bool consume);
extern void token_bucket_give_back(TokenBucket *b, const TokenBucketParams *p,
								   int64_t amount);
extern bool token_bucket_is_full(const TokenBucket *b,
								 const TokenBucketParams *p, int64_t now);

#endif							/* ANTIBAN_TOKEN_BUCKET_H */
