/*
 * test_pacing.c
 *		Buckets judged by arrival: a sender that claims every token the
 *		instant it is ready, requests whose latency varies by J, and Meta's
 *		own limits checked on the arrival times.
 */
#include "unit.h"

#include <stdlib.h>

#include "core/pacing.h"
#include "core/throughput.h"

#define SEC INT64_C(1000000)
#define CLAIMS 200

/* Latency patterns over [0, J]: the worst (earlier slow, later fast) and others. */
typedef enum
{
	SLOW_THEN_FAST, ALTERNATING, PSEUDO_RANDOM
} LatencyPattern;

static int64_t
latency(LatencyPattern pattern, int i, int slow_count, int64_t jitter)
{
	switch (pattern)
	{
		case SLOW_THEN_FAST:
			return i < slow_count ? jitter : 0;
		case ALTERNATING:
			return (i % 2) ? 0 : jitter;
		default:
			return (int64_t) (((uint64_t) i * 2654435761u) % 1000) * jitter / 999;
	}
}

/* Claim 'n' tokens as soon as each is ready; arrival = claim + latency. */
static void
claim_and_arrive(const TokenBucketParams *p, int n, LatencyPattern pattern, int slow_count,
				 int64_t jitter, int64_t *arrivals)
{
	TokenBucket b;
	int64_t		now = 0;

	/* idle long enough before: as full as Meta's bucket */
	token_bucket_init(&b, p, 0, -1000 * SEC);
	for (int i = 0; i < n; i++)
	{
		TokenBucketResult r = token_bucket_take(&b, p, TB_SCALE, now, true);

		if (!r.allowed)
		{
			now = r.ready_at;
			r = token_bucket_take(&b, p, TB_SCALE, now, true);
			assert_true(r.allowed);
		}
		arrivals[i] = now + latency(pattern, i, slow_count, jitter);
	}
}

static int
by_time(const void *a, const void *b)
{
	int64_t		x = *(const int64_t *) a, y = *(const int64_t *) b;

	return (x > y) - (x < y);
}

/* Meta's pair bucket, by arrival: burst B, one token per 'period' us; refusals. */
static int
pair_refusals(int64_t *arrivals, int n, int burst, int64_t period)
{
	double		tokens = burst;
	int64_t		last = arrivals[0];
	int			refused = 0;

	qsort(arrivals, n, sizeof(int64_t), by_time);
	for (int i = 0; i < n; i++)
	{
		tokens += (double) (arrivals[i] - last) / (double) period;
		if (tokens > burst)
			tokens = burst;
		last = arrivals[i];
		if (tokens >= 1.0 - 1e-9)
			tokens -= 1.0;
		else
			refused++;
	}
	return refused;
}

/* Meta's throughput, by arrival: the most requests in any (t - 1 s, t]. */
static int
busiest_second(int64_t *arrivals, int n)
{
	int			most = 0;
	int			first = 0;

	qsort(arrivals, n, sizeof(int64_t), by_time);
	for (int i = 0; i < n; i++)
	{
		while (arrivals[first] <= arrivals[i] - SEC)
			first++;
		if (i - first + 1 > most)
			most = i - first + 1;
	}
	return most;
}

static int
pair_run(double headroom, double jitter_margin_s, int64_t real_jitter, LatencyPattern pattern)
{
	TokenBucketParams p;
	int64_t		arrivals[CLAIMS];

	assert_true(pair_rate_params(45, 10.0, headroom, jitter_margin_s, &p));
	claim_and_arrive(&p, CLAIMS, pattern, 45, real_jitter, arrivals);
	return pair_refusals(arrivals, CLAIMS, 45, 6 * SEC);
}

static void
pair_shape(void **state)
{
	TokenBucketParams p;

	assert_true(pair_rate_params(45, 10.0, 0.1, 0.02, &p));
	assert_int_equal(p.capacity, 45 * TB_SCALE);
	assert_int_equal(p.rate, 150000);	/* 0.9 / 6 s */
	/* 10 % absorbs two thirds of a second of latency spread */
	assert_true(pair_jitter_absorbed(&p, 10.0) > 0.66 && pair_jitter_absorbed(&p, 10.0) < 0.67);
	/* a wider spread than the headroom covers spaces the messages by 6 s + J */
	assert_true(pair_rate_params(45, 10.0, 0.1, 1.5, &p));
	assert_int_equal(p.rate, token_bucket_limit(1.0 / 7.5));
	assert_false(pair_rate_params(45, 10.0, 1.0, 0, &p));
	assert_false(pair_rate_params(0, 10.0, 0.1, 0, &p));
}

/* The case: 470 ms then 150 ms, a spread of 320 ms. */
static void
pair_holds_at_arrival(void **state)
{
	int64_t		spread = 320 * 1000;

	/* Meta's numbers exactly, as before: the first message after the burst is refused */
	assert_true(pair_run(0.0, 0.0, spread, SLOW_THEN_FAST) > 0);
	/* the default headroom: none, whatever the pattern */
	assert_int_equal(pair_run(0.1, 0.02, spread, SLOW_THEN_FAST), 0);
	assert_int_equal(pair_run(0.1, 0.02, spread, ALTERNATING), 0);
	assert_int_equal(pair_run(0.1, 0.02, spread, PSEUDO_RANDOM), 0);
	/* no headroom, but the spread configured: none either */
	assert_int_equal(pair_run(0.0, 0.32, spread, SLOW_THEN_FAST), 0);
	/* a spread beyond what 10 % absorbs needs antiban.arrival_jitter_ms */
	assert_true(pair_run(0.1, 0.0, 2 * SEC, SLOW_THEN_FAST) > 0);
	assert_int_equal(pair_run(0.1, 2.0, 2 * SEC, SLOW_THEN_FAST), 0);
	assert_int_equal(pair_run(0.1, 2.0, 2 * SEC, PSEUDO_RANDOM), 0);
}

static int
throughput_run(const char *level, double headroom, double jitter_margin_s, int64_t real_jitter,
			   LatencyPattern pattern, int n)
{
	TokenBucketParams p;
	int64_t    *arrivals = malloc(sizeof(int64_t) * n);
	int			most;

	assert_true(throughput_params(level, 0, 0, 1.0, headroom, jitter_margin_s, &p));
	claim_and_arrive(&p, n, pattern, n / 2, real_jitter, arrivals);
	most = busiest_second(arrivals, n);
	free(arrivals);
	return most;
}

static void
throughput_holds_at_arrival(void **state)
{
	TokenBucketParams p;

	/* the default jitter margin is what the 2 % headroom covers: rates unchanged */
	assert_true(throughput_params("STANDARD", 0, 0, 1.0, 0.02, 0.02, &p));
	assert_int_equal(p.rate, 76400000);
	assert_true(throughput_params("HIGH", 0, 0, 1.0, 0.02, 0.02, &p));
	assert_int_equal(p.rate, 970 * TB_SCALE);
	/* 20 ms of spread: never more than 80 in a second at Meta */
	assert_true(throughput_run("STANDARD", 0.02, 0.02, 20000, SLOW_THEN_FAST, 400) <= 80);
	assert_true(throughput_run("STANDARD", 0.02, 0.02, 20000, PSEUDO_RANDOM, 400) <= 80);
	/* 300 ms of spread overflows a second unless the margin says so */
	assert_true(throughput_run("STANDARD", 0.02, 0.02, 300000, SLOW_THEN_FAST, 400) > 80);
	assert_true(throughput_run("STANDARD", 0.02, 0.3, 300000, SLOW_THEN_FAST, 400) <= 80);
	assert_true(throughput_run("HIGH", 0.02, 0.3, 300000, PSEUDO_RANDOM, 5000) <= 1000);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(pair_shape),
	cmocka_unit_test(pair_holds_at_arrival),
	cmocka_unit_test(throughput_holds_at_arrival),
};

UnitGroup
pacing_tests(void)
{
	return (UnitGroup) UNIT_GROUP("pacing", tests);
}
