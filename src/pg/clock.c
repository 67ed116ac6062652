/*
 * clock.c
 *		antiban's one clock.
 *
 * Every limit reads time here, never now() (which is frozen for a whole
 * transaction) nor the OS directly, so tests pin it with antiban.pinned_now
 * and step it forward instead of sleeping.
 */
#include "pg/antiban.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

static bool clock_pinned = false;
static TimestampTz clock_pinned_at = 0;

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

bool
antiban_check_pinned_now(char **newval, void **extra, GucSource source)
{
	TimestampTz parsed;

	if (*newval == NULL || (*newval)[0] == '\0')
		return true;
	if (!parse_timestamptz(*newval, &parsed))
	{
		GUC_check_errdetail("\"%s\" is not a timestamp with time zone.", *newval);
		GUC_check_errhint("Use a literal such as '2030-01-01 12:00:00+00', or '' for real time.");
		return false;
	}
	*extra = malloc(sizeof(TimestampTz));	/* GUC frees it with free() */
	if (*extra == NULL)
		return false;
	*(TimestampTz *) *extra = parsed;
	return true;
}

void
antiban_assign_pinned_now(const char *newval, void *extra)
{
	clock_pinned = extra != NULL;
	clock_pinned_at = extra ? *(TimestampTz *) extra : 0;
}

TimestampTz
antiban_now(void)
{
	return clock_pinned ? clock_pinned_at : GetCurrentTimestamp();
}

PG_FUNCTION_INFO_V1(antiban_sql_now);

/* antiban.now(): the time every antiban limit is computed against. */
Datum
antiban_sql_now(PG_FUNCTION_ARGS)
{
	PG_RETURN_TIMESTAMPTZ(antiban_now());
}
