/*
 * event_time.h
 *		When did a webhook's event happen?  Meta's word, within reason.
 *
 * Meta writes event times as unix seconds in a string ("1750030073").  A
 * signed body is Meta's, but its clock is not ours and its fields are
 * data: "999999999999" would open a service window until the year 33658.
 * An event can not be newer than its receipt (plus a little clock skew),
 * nor older than Meta's longest retry of a webhook.
 */
#ifndef ANTIBAN_EVENT_TIME_H
#define ANTIBAN_EVENT_TIME_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Meta retries an unanswered webhook for up to 7 days (its docs also say
 * 36 hours: the longer bound keeps every genuine retry's time).
 */
#define META_RETRY_HORIZON_SECONDS (7 * 24 * 60 * 60)
/* Meta's clock may run a little ahead of ours. */
#define EVENT_CLOCK_SKEW_SECONDS (5 * 60)

typedef enum EventTimeVerdict
{
	EVENT_TIME_OK,				/* Meta's time, as given */
	EVENT_TIME_MISSING,			/* no timestamp: the receipt time */
	EVENT_TIME_UNREADABLE,		/* not unix seconds: the receipt time */
	EVENT_TIME_TOO_OLD,			/* before the retry horizon: clamped to it */
	EVENT_TIME_TOO_NEW			/* after receipt + skew: clamped to it */
} EventTimeVerdict;

/*
 * Meta's unix seconds ("1750030073", optionally with a fraction) received
 * at 'receipt_us' (microseconds since the Unix epoch), as microseconds since
 * the Unix epoch in *out_us, always within [receipt - horizon, receipt +
 * skew].  NULL or "" is MISSING.
 */
extern EventTimeVerdict event_time_from_text(const char *seconds, int64_t receipt_us,
											 int64_t *out_us);

/*
 * Is a time someone states ("the person opted in at ...") later than now
 * plus the clock skew?  Consent is decided by "the later statement wins":
 * an opt-in or a resume dated in the future (a local time read as UTC, a
 * typo in the year) would outlive every stop said before that date, so
 * such a statement is refused, not clamped (the caller's data is wrong).
 */
extern bool stated_time_in_future(int64_t at_us, int64_t now_us);

#endif							/* ANTIBAN_EVENT_TIME_H */
