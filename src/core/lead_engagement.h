/*
 * lead_engagement.h
 *		How engaged a lead is: replies, reads and button taps that fade with
 *		a half-life, how fast they answer, how long we have waited for an
 *		answer, and the negatives (opt-out, blocks, 131049/131026 failures).
 *
 * A conversation keeps one small state, never its events: each decaying
 * count is stored as its value at as_of and brought forward when an event
 * arrives or a score is taken, value(t) = value(as_of) * 2^-(t - as_of)/h.
 * An event older than as_of (webhooks arrive out of order) is added
 * already decayed, so the counts do not depend on arrival order.  The
 * half-life is the state's own (set when it starts): counts made with one
 * half-life cannot be converted to another.
 */
#ifndef ANTIBAN_LEAD_ENGAGEMENT_H
#define ANTIBAN_LEAD_ENGAGEMENT_H

#include <stdbool.h>
#include <stdint.h>

#include "lead_vector.h"

/* Microseconds on any fixed epoch (the adapters use PostgreSQL's). */
typedef int64_t LeadTime;

#define LEAD_TIME_NEVER INT64_MIN
#define LEAD_SECOND INT64_C(1000000)
#define LEAD_DAY (INT64_C(86400) * LEAD_SECOND)
/* a reply within this long after our message is a quick one */
#define LEAD_QUICK_REPLY (INT64_C(3600) * LEAD_SECOND)
/* at most this many engagement features in a presented vector */
#define LEAD_ENGAGEMENT_MAX 12

typedef enum LeadEventKind
{
	LEAD_EVENT_INBOUND,			/* the lead wrote (text, media, reaction) */
	LEAD_EVENT_TAP,				/* the lead tapped a button or list row */
	LEAD_EVENT_OUTBOUND,		/* we wrote */
	LEAD_EVENT_READ,			/* the lead read one of our messages */
	LEAD_EVENT_FAILURE,			/* one of our messages failed (with its code) */
	LEAD_EVENT_OPT_OUT,			/* the lead asked to stop marketing */
	LEAD_EVENT_OPT_IN,			/* ... and asked to hear from us again */
	LEAD_EVENT_BLOCK			/* the lead blocked or reported the number */
} LeadEventKind;

typedef struct LeadEngagement
{
	LeadTime	as_of;			/* the decaying counts are as of this time */
	double		half_life_s;
	double		replies;
	double		quick_replies;	/* within LEAD_QUICK_REPLY of our message */
	double		reads;
	double		taps;
	double		failures;		/* 131049 (marketing cap) and 131026 (undeliverable) */
	LeadTime	first_at;
	LeadTime	last_inbound_at;
	LeadTime	last_outbound_at;
	bool		opted_out;
	bool		blocked;
} LeadEngagement;

/* value after dt_s seconds: exp(-dt * ln 2 / half_life); never grows. */
extern double lead_decay(double value, double dt_s, double half_life_s);

extern void lead_engagement_init(LeadEngagement *e, double half_life_s);

/* "inbound", "tap", "outbound", "read", "failure", "opt_out", "opt_in", "block" */
extern bool lead_event_kind_parse(const char *s, LeadEventKind *out);
extern const char *lead_event_kind_name(LeadEventKind k);

/* Do failures with this Cloud API code tell us about the lead? */
extern bool lead_failure_counts(int code);

/* A message at `at` answers our last message (the first one since it). */
extern bool lead_is_reply(LeadTime last_outbound_at, LeadTime last_inbound_at, LeadTime at);

extern void lead_engagement_note(LeadEngagement *e, LeadEventKind kind, LeadTime at, int code);

/*
 * The engagement features at now, sorted by index; out has room for
 * LEAD_ENGAGEMENT_MAX.  Returns how many.
 */
extern int	lead_engagement_features(const LeadEngagement *e, LeadTime now, LeadEntry *out);

#endif							/* ANTIBAN_LEAD_ENGAGEMENT_H */
