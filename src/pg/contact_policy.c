/*
 * contact_policy.c
 *		The contact policy decide() applies to a person, beyond Meta's own
 *		limits: marketing only with a live opt-in (when required), at most
 *		so many sends per category in a sliding window, and none in the
 *		recipient's quiet hours.  The rules are in src/core
 *		(recipient_state.c, frequency_cap.c, quiet_hours.c,
 *		phone_time_zone.c); this file holds their settings and asks them.
 *
 * The settings are GUCs, not rows of antiban.settings, because decide()
 * reads them on every call from shared memory and a backend-local copy:
 * set them in postgresql.conf (or ALTER SYSTEM) so the sender workers,
 * which decide again at send time, apply the same policy.  A superuser's
 * SET changes only that session's decisions (dry runs, tests).
 */
#include "pg/antiban.h"

#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "core/phone_time_zone.h"
#include "core/quiet_hours.h"

#define WEEK_US (INT64CONST(7) * USECS_PER_DAY)

static bool require_marketing_opt_in = false;
static char *frequency_caps_text = NULL;
static char *quiet_hours_text = NULL;
static char *default_time_zone = NULL;

/* The parsed forms, set by the assign hooks. */
static FrequencyCaps frequency_caps;
static QuietHours quiet_hours;

static bool
check_frequency_caps(char **newval, void **extra, GucSource source)
{
	FrequencyCaps caps;
	const char *why = NULL;

	if (!frequency_caps_parse(*newval, &caps, &why))
	{
		GUC_check_errdetail("%s.", why);
		GUC_check_errhint("For example: marketing=2/7d, utility=4/1d (at most %d per window).",
						  FREQUENCY_LOG_SIZE);
		return false;
	}
	return true;
}

static void
assign_frequency_caps(const char *newval, void *extra)
{
	const char *why;

	if (!frequency_caps_parse(newval, &frequency_caps, &why))
		memset(&frequency_caps, 0, sizeof(frequency_caps));
}

static bool
check_quiet_hours(char **newval, void **extra, GucSource source)
{
	QuietHours	q;
	const char *why = NULL;

	if (!quiet_hours_parse(*newval, &q, &why))
	{
		GUC_check_errdetail("%s.", why);
		GUC_check_errhint("For example: 21:00-08:00 (the recipient's local time); empty for none.");
		return false;
	}
	return true;
}

static void
assign_quiet_hours(const char *newval, void *extra)
{
	const char *why;

	if (!quiet_hours_parse(newval, &quiet_hours, &why))
		memset(&quiet_hours, 0, sizeof(quiet_hours));
}

static bool
check_time_zone(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || (*newval)[0] == '\0' || pg_tzset(*newval) != NULL)
		return true;
	GUC_check_errdetail("\"%s\" is not a time zone PostgreSQL knows.", *newval);
	GUC_check_errhint("Use a name from pg_timezone_names, such as America/Sao_Paulo; empty: the server's TimeZone.");
	return false;
}

void
antiban_define_policy_gucs(void)
{
	DefineCustomBoolVariable("antiban.require_marketing_opt_in",
							 "Marketing only to people with a live opt-in (antiban.record_opt_in).",
							 "Without one decide() rejects marketing with reason no_opt_in. Utility and authentication follow Meta's rules and are not held.",
							 &require_marketing_opt_in, false,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("antiban.frequency_caps",
							   "Most sends per person and category in a sliding window, e.g. marketing=2/7d, utility=4/1d.",
							   "decide() queues a message over the cap (reason frequency_cap) until the oldest counted send leaves the window. Empty: no caps.",
							   &frequency_caps_text, "",
							   PGC_SUSET, 0, check_frequency_caps, assign_frequency_caps, NULL);
	DefineCustomStringVariable("antiban.quiet_hours",
							   "Local hours in which marketing waits, e.g. 21:00-08:00.",
							   "In the recipient's time zone, from their number (antiban.default_time_zone when it does not tell). decide() queues marketing then (reason quiet_hours) until the quiet hours end. Empty: none.",
							   &quiet_hours_text, "",
							   PGC_SUSET, 0, check_quiet_hours, assign_quiet_hours, NULL);
	DefineCustomStringVariable("antiban.default_time_zone",
							   "Time zone of a recipient whose number does not tell one (empty: the server's TimeZone).",
							   NULL, &default_time_zone, "",
							   PGC_SUSET, 0, check_time_zone, NULL, NULL);
}

PG_FUNCTION_INFO_V1(antiban_frequency_caps_check);

/*
 * antiban.frequency_caps_check(caps text) -> text: the caps as given if
 * they parse (the form of antiban.frequency_caps), else the error.
 */
Datum
antiban_frequency_caps_check(PG_FUNCTION_ARGS)
{
	FrequencyCaps caps;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	frequency_caps_or_error(text_to_cstring(PG_GETARG_TEXT_PP(0)), &caps);
	PG_RETURN_DATUM(PG_GETARG_DATUM(0));
}

/* Caps given as text (a campaign's own), or an error naming what is wrong. */
void
frequency_caps_or_error(const char *text, FrequencyCaps *out)
{
	const char *why = NULL;

	if (!frequency_caps_parse(text, out, &why))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid frequency caps \"%s\"", text),
				 errdetail("%s.", why),
				 errhint("For example: marketing=2/7d, utility=4/1d (at most %d per window).",
						 FREQUENCY_LOG_SIZE)));
}

/* How far back a restart must look in the outbox: the longest window, at least a week. */
int64
frequency_cap_horizon(void)
{
	int64		longest = WEEK_US;

	for (int c = 0; c < CAP_CATEGORIES; c++)
		longest = Max(longest, frequency_caps.cap[c].window);
	return longest;
}

/*
 * The recipient's UTC offset at 'now': their own zone when stated, else
 * their number's, else the default zone.
 */
static int
recipient_utc_offset(const char *recipient, const RecipientState *rs, TimestampTz now)
{
	const char *name = person_zone_name(rs->time_zone);
	pg_tz	   *zone;
	pg_time_t	t = timestamptz_to_time_t(now);
	struct pg_tm *tm;

	if (name == NULL && recipient)
		name = phone_time_zone(recipient);
	zone = name ? pg_tzset(name) : NULL;
	if (zone == NULL && default_time_zone && default_time_zone[0] != '\0')
		zone = pg_tzset(default_time_zone);
	if (zone == NULL)
		zone = session_timezone;
	tm = pg_localtime(&t, zone);
	return tm ? (int) tm->tm_gmtoff : 0;
}

static void
hold(TimestampTz at, Limiter why, TimestampTz now, TimestampTz *ready_at, Limiter *limiter)
{
	if (at > now && at > *ready_at)
	{
		*ready_at = at;
		*limiter = why;
	}
}

/*
 * What the policy says about this message to this person: *limiter
 * LIMITER_NONE and *ready_at 'now' when nothing holds it; TB_NEVER with
 * LIMITER_NO_OPT_IN when marketing needs an opt-in they never gave (or
 * withdrew); otherwise the latest of the frequency cap and quiet hours.
 * 'caps' overrides antiban.frequency_caps (a campaign's own), NULL: the GUC.
 */
void
contact_policy_check(const char *recipient, Category category, const RecipientState *rs,
					 const FrequencyCaps *caps, TimestampTz now,
					 TimestampTz *ready_at, Limiter *limiter)
{
	const FrequencyCaps *in_force = caps ? caps : &frequency_caps;

	*ready_at = now;
	*limiter = LIMITER_NONE;
	if (category == CATEGORY_MARKETING && require_marketing_opt_in && !recipient_state_opt_in_live(rs))
	{
		*ready_at = TB_NEVER;
		*limiter = LIMITER_NO_OPT_IN;
		return;
	}
	if (category == CATEGORY_MARKETING || category == CATEGORY_UTILITY)
	{
		CapCategory c = category == CATEGORY_MARKETING ? CAP_MARKETING : CAP_UTILITY;

		hold(frequency_cap_ready_at(&rs->sent[c], &in_force->cap[c], now),
			 LIMITER_FREQUENCY_CAP, now, ready_at, limiter);
	}
	/* quiet hours at the time the cap admits it: the answer is when both do */
	if (category == CATEGORY_MARKETING && quiet_hours.enabled)
		hold(quiet_hours_ready_at(&quiet_hours, *ready_at, recipient_utc_offset(recipient, rs, *ready_at)),
			 LIMITER_QUIET_HOURS, now, ready_at, limiter);
}
