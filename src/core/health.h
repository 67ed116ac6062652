/*
 * health.h
 *		The health score (0-100) of a sending number, from what Meta says about
 *		it and what its recent sends did, with every point explained.
 *
 * The score is a sum of named terms so an audit row can say which signal
 * cost how many points; the weights are a struct so every number in the
 * formula can be configured.  The formula is documented in health.c.
 */
#ifndef ANTIBAN_HEALTH_H
#define ANTIBAN_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum QualityRating
{
	QUALITY_UNKNOWN,			/* NA or UNKNOWN: not rated yet */
	QUALITY_GREEN,
	QUALITY_YELLOW,
	QUALITY_RED
} QualityRating;

/* health_status.can_send_message */
typedef enum SendCapability
{
	CAN_SEND_AVAILABLE,
	CAN_SEND_LIMITED,
	CAN_SEND_BLOCKED
} SendCapability;

/*
 * The error counts of the score.  Which Meta code feeds which is a column of
 * the code table (error_class.c); what each costs is below.
 */
typedef enum HealthCounter
{
	HEALTH_COUNTER_NONE,
	HEALTH_COUNTER_SPAM,		/* spam_errors */
	HEALTH_COUNTER_POLICY,		/* policy_errors */
	HEALTH_COUNTER_THROUGHPUT,	/* throughput_errors */
	HEALTH_COUNTER_PAIR,		/* pair_errors */
	HEALTH_COUNTER_MARKETING_CAP,	/* marketing_cap_errors */
	HEALTH_COUNTER_UNDELIVERABLE,	/* undeliverable_errors */
	HEALTH_COUNTER_BLOCKS		/* blocks_day */
} HealthCounter;

#define HEALTH_COUNTERS (HEALTH_COUNTER_BLOCKS + 1)

typedef struct HealthSignals
{
	QualityRating quality;		/* now */
	QualityRating previous_quality; /* before the last change; == quality if none */
	const char *status;			/* Meta's phone status text; NULL = CONNECTED */
	SendCapability can_send;
	/* the recent window (last hour by default; the caller counts) */
	int64_t		sent_recent;
	int64_t		spam_errors;	/* 131048, 471 */
	int64_t		policy_errors;	/* 368, 131031 */
	int64_t		throughput_errors;	/* 130429 */
	int64_t		pair_errors;	/* 131056 */
	int64_t		marketing_cap_errors;	/* 131049 */
	int64_t		undeliverable_errors;	/* 131026 */
	/* the last day */
	int64_t		sent_day;
	int64_t		delivered_day;
	int64_t		read_day;
	int64_t		replied_day;
	int64_t		blocks_day;		/* opt-outs, blocks, 131050 stops */
	int64_t		seconds_since_bad_event;	/* -1: none known */
} HealthSignals;

/*
 * Every number of the formula.  Penalties and caps are positive magnitudes
 * (the term subtracts them); the reply bonus is added.
 */
typedef struct HealthWeights
{
	double		quality_yellow;		/* 20 */
	double		quality_red;		/* 50 */
	double		quality_unknown;	/* 5 */
	double		quality_fell;		/* 10 */
	double		status_flagged;		/* 30 */
	double		status_rate_limited;	/* 20 */
	double		status_restricted;	/* 60 */
	double		status_gone;		/* 100: BANNED, DISCONNECTED, DELETED */
	double		status_not_ready;	/* 10: PENDING, UNVERIFIED, MIGRATED, UNKNOWN, OFFLINE */
	double		status_unrecognised;	/* 10: any other status text */
	double		can_send_limited;	/* 25 */
	double		can_send_blocked;	/* 100 */
	int64_t		error_min_sample;	/* 20: rate = errors / max(sent_recent, this) */
	double		spam_slope;			/* 400 */
	double		spam_cap;			/* 40 */
	double		spam_floor;			/* 15: the least a 131048 costs */
	double		policy_each;		/* 60 */
	double		policy_cap;			/* 100 */
	double		throughput_slope;	/* 100 */
	double		throughput_cap;		/* 15 */
	double		pair_slope;			/* 50 */
	double		pair_cap;			/* 10 */
	double		marketing_cap_slope;	/* 50 */
	double		marketing_cap_cap;	/* 10 */
	double		undeliverable_slope;	/* 100 */
	double		undeliverable_cap;	/* 15 */
	double		recovery_half_life_s;	/* 1800 */
	int64_t		block_min_sample;	/* 50: rate = blocks / max(sent_day, this) */
	double		block_slope;		/* 1000 */
	double		block_cap;			/* 30 */
	int64_t		day_min_sample;		/* 50: delivery, read and reply rates */
	double		delivery_target;	/* 0.90 */
	double		delivery_slope;		/* 100 */
	double		delivery_cap;		/* 20 */
	double		read_target;		/* 0.30 */
	double		read_slope;			/* 50 */
	double		read_cap;			/* 10 */
	double		reply_target;		/* 0.10 */
	double		reply_bonus;		/* 5 */
} HealthWeights;

#define HEALTH_MAX_TERMS 16
#define HEALTH_WHY_MAX 128

typedef struct HealthTerm
{
	const char *signal;			/* stable machine name, e.g. "spam_errors" */
	int			points;			/* negative: penalty; positive: bonus */
	char		why[HEALTH_WHY_MAX];	/* one sentence for a person */
} HealthTerm;

typedef struct HealthScore
{
	int			score;			/* 0..100 */
	int			nterms;
	HealthTerm	terms[HEALTH_MAX_TERMS];
} HealthScore;

extern bool quality_rating_parse(const char *s, QualityRating *out);
extern const char *quality_rating_name(QualityRating q);
extern bool send_capability_parse(const char *s, SendCapability *out);
extern const char *send_capability_name(SendCapability c);
extern const char *health_counter_name(HealthCounter c);
extern bool health_counter_parse(const char *s, HealthCounter *out);
extern bool health_counter_restarts_recovery(HealthCounter c);
extern HealthWeights health_weights_default(void);
extern bool health_weights_apply(HealthWeights *w, const char *spec, char *err, size_t errlen);
extern void health_score(const HealthSignals *s, const HealthWeights *w,
						 HealthScore *out);

#endif							/* ANTIBAN_HEALTH_H */
