/*
 * decision.h
 *		The send decision: SEND (with a number), QUEUE (with a time) or REJECT,
 *		always with a machine-readable reason and a sentence for people.
 *
 * The rules live here; what a number's buckets, the pair rate or the
 * portfolio limit say right now is asked through DecidePorts, so the rules
 * are unit-tested with fakes and the PostgreSQL adapter supplies shared
 * memory.
 */
#ifndef ANTIBAN_DECISION_H
#define ANTIBAN_DECISION_H

#include <stdbool.h>
#include <stdint.h>

#define DECISION_DETAIL_MAX 256

typedef enum Category
{
	CATEGORY_MARKETING,
	CATEGORY_UTILITY,
	CATEGORY_AUTHENTICATION,
	CATEGORY_SERVICE			/* free-form: only inside a service window */
} Category;

typedef enum Priority
{
	PRIORITY_LOW,
	PRIORITY_NORMAL,
	PRIORITY_HIGH,
	PRIORITY_CRITICAL
} Priority;

typedef enum NumberMode
{
	MODE_ACTIVE,
	MODE_THROTTLED,
	MODE_PAUSED,
	MODE_WARMING,
	MODE_RECOVERING				/* back from a pause, ramping up: eligible */
} NumberMode;

typedef enum Outcome
{
	OUTCOME_SEND,
	OUTCOME_QUEUE,
	OUTCOME_REJECT
} Outcome;

/* Which limit held a number back. */
typedef enum Limiter
{
	LIMITER_NONE,
	LIMITER_NUMBER,				/* the number's throughput bucket */
	LIMITER_PAIR,				/* the (number, recipient) pair rate */
	LIMITER_PORTFOLIO,			/* unique recipients per moving 24 h */
	LIMITER_WINDOW,				/* free-form needs an open service window */
	LIMITER_CAPACITY,			/* antiban's own tables are full */
	LIMITER_CONSENT,			/* the recipient stopped marketing */
	LIMITER_WARMUP,				/* a warming number sent its daily cap */
	LIMITER_RESTRICTION,			/* Meta restricted business-initiated messages */
	LIMITER_MARKETING_CAP,		/* Meta capped this person's marketing (131049) */
	LIMITER_NO_OPT_IN,			/* marketing needs a live opt-in (policy) */
	LIMITER_FREQUENCY_CAP,		/* our own cap on sends per person and category */
	LIMITER_QUIET_HOURS			/* the recipient's local quiet hours */
} Limiter;

typedef enum Reason
{
	REASON_STICKY_SENDER,
	REASON_HEALTHIEST,
	REASON_CRITICAL_HEALTHIEST,
	REASON_PINNED_NUMBER,
	REASON_NUMBER_THROUGHPUT,
	REASON_PAIR_RATE,
	REASON_PORTFOLIO_LIMIT,
	REASON_TABLE_FULL,
	REASON_INVALID_RECIPIENT,
	REASON_NO_ELIGIBLE_NUMBER,
	REASON_NO_SERVICE_WINDOW,
	REASON_VALIDITY_WOULD_PASS,
	REASON_EXPIRED,
	REASON_OPTED_OUT,
	REASON_WARMUP_CAP,
	REASON_ACCOUNT_RESTRICTED,
	REASON_MARKETING_CAP,
	REASON_NO_OPT_IN,
	REASON_FREQUENCY_CAP,
	REASON_QUIET_HOURS
} Reason;

typedef struct NumberView
{
	int64_t		id;
	const char *phone_number_id;
	int			health;			/* 0..100 */
	NumberMode	mode;
	bool		can_send;		/* Meta's status lets it send */
	const char *account_block;	/* non-NULL: its WABA is out of rotation, why */
	int64_t		restricted_until;	/* business-initiated messages held until
									 * then (INT64_MAX: until Meta lifts it); 0:
									 * none */
	int64_t		full_until;		/* warming: sent today's cap until then; 0: room */
	int			slot;			/* the adapter's own index for this number */
} NumberView;

typedef struct DecideRequest
{
	Category	category;
	Priority	priority;
	int64_t		now;
	int64_t		valid_until;	/* INT64_MAX: no validity limit */
	int64_t		sticky_number_id;	/* 0: none */
	bool		pinned;			/* caller named the number */
	int			min_health;
	uint64_t	recipient_hash; /* spreads new recipients over equal numbers */
	const char *invalid_recipient_why;	/* non-NULL: the recipient is invalid */
} DecideRequest;

typedef struct Admission
{
	bool		granted;
	int64_t		ready_at;		/* INT64_MAX: never on this number */
	Limiter		limiter;
} Admission;

typedef struct DecidePorts
{
	void	   *ctx;
	/* Can 'n' carry the message now?  Takes its tokens when granted. */
	Admission	(*admit) (void *ctx, const NumberView *n);
} DecidePorts;

typedef struct Decision
{
	Outcome		outcome;
	Reason		reason;
	Limiter		limiter;
	const NumberView *number;	/* SEND: the sender; QUEUE: the best bet */
	int64_t		not_before;		/* QUEUE: earliest admissible time */
	char		detail[DECISION_DETAIL_MAX];
} Decision;

extern void decide(const DecideRequest *req, const NumberView *numbers,
				   int nnumbers, const DecidePorts *ports, Decision *out);
extern const char *outcome_name(Outcome o);
extern const char *reason_name(Reason r);
extern const char *limiter_name(Limiter l);
extern bool category_parse(const char *s, Category *out);
extern const char *category_name(Category c);
extern bool priority_parse(const char *s, Priority *out);
extern const char *priority_name(Priority p);
extern bool number_mode_parse(const char *s, NumberMode *out);
extern const char *number_mode_name(NumberMode m);
extern bool number_is_eligible(const NumberView *n, int min_health);
extern bool number_is_full(const NumberView *n, int64_t now);
extern int64_t restriction_hold(const NumberView *n, bool in_window, int64_t now);

#endif							/* ANTIBAN_DECISION_H */
