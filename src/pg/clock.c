/*
 * clock.c
 *		antiban's one clock.
 *
 * Every limit reads time here, never now() (which is frozen for a whole
 * transaction) nor the OS directly, so tests pin it with antiban.pinned_now
 * and step it forward instead of sleeping.
 *
 * Where the pin comes from matters.  Pinned server-wide (postgresql.conf,
 * ALTER SYSTEM, the postmaster's command line), every session and worker
 * shares the pinned clock: that is how TAP tests drive the workers.  Pinned
 * by one session (SET, set_config, PGOPTIONS, ALTER ROLE/DATABASE ... SET),
 * the clock is that session's alone, so what it does to time-keyed shared
 * state (buckets, recipients, portfolio windows) must not reach sessions on
 * the real clock: such sessions work in the CLOCK_PINNED domain, a separate
 * copy of that state shared only by sessions pinned the same way.
 */
#include "pg/antiban.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

/* What the check hook hands the assign hook (GUC frees it with free()). */
typedef struct PinnedClock
{
	TimestampTz at;
	bool		session;		/* pinned by the session, not server-wide */
} PinnedClock;

static bool clock_pinned = false;
static TimestampTz clock_pinned_at = 0;
static ClockDomain clock_domain = CLOCK_REAL;

/* Parse without throwing: a GUC check hook must report, not raise. */
static bool
parse_timestamptz(const char *str, TimestampTz *out)
{
	char		workbuf[MAXDATELEN + MAXDATEFIELDS];
	char	   *field[MAXDATEFIELDS];
	int			ftype[MAXDATEFIELDS];
	int			nf;
	int			dtype;
	int			tz = 0;
	fsec_t		fsec;
	struct pg_tm tt;

	if (ParseDateTime(str, workbuf, sizeof(workbuf), field, ftype, MAXDATEFIELDS, &nf) != 0 ||
		DecodeDateTime(field, ftype, nf, &dtype, &tt, &fsec, &tz) != 0 ||
		dtype != DTK_DATE)
		return false;
	return tm2timestamp(&tt, fsec, &tz, out) == 0;
}

/*
 * Sources up to PGC_S_ARGV are the server's own configuration: every
 * backend and worker reads the same value.  Anything later (per database or
 * role, the client's options, SET) is one session's choice.
 */
bool
antiban_check_pinned_now(char **newval, void **extra, GucSource source)
{
	TimestampTz parsed;
	PinnedClock *pin;

	if (*newval == NULL || (*newval)[0] == '\0')
		return true;
	if (!parse_timestamptz(*newval, &parsed))
	{
		GUC_check_errdetail("\"%s\" is not a timestamp with time zone.", *newval);
		GUC_check_errhint("Use a literal such as '2030-01-01 12:00:00+00', or '' for real time.");
		return false;
	}
	pin = malloc(sizeof(PinnedClock));
	if (pin == NULL)
		return false;
	pin->at = parsed;
	pin->session = source > PGC_S_ARGV;
	*extra = pin;
	return true;
}

/* Also called when a SET LOCAL or a savepoint unwinds: 'extra' is then the restored value's. */
void
antiban_assign_pinned_now(const char *newval, void *extra)
{
	const PinnedClock *pin = extra;

	clock_pinned = pin != NULL;
	clock_pinned_at = pin ? pin->at : 0;
	clock_domain = pin && pin->session ? CLOCK_PINNED : CLOCK_REAL;
}

TimestampTz
antiban_now(void)
{
	return clock_pinned ? clock_pinned_at : GetCurrentTimestamp();
}

/*
 * Which copy of the time-keyed shared state this session works on: its own
 * pin sends it to CLOCK_PINNED; the real clock and a server-wide pin share
 * CLOCK_REAL, the state the workers use.
 */
ClockDomain
antiban_clock_domain(void)
{
	return clock_domain;
}

PG_FUNCTION_INFO_V1(antiban_sql_now);

/* antiban.now(): the time every antiban limit is computed against. */
Datum
antiban_sql_now(PG_FUNCTION_ARGS)
{
	PG_RETURN_TIMESTAMPTZ(antiban_now());
}
