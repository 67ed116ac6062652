/*
 * person_time_zone.c
 *		A person's own time zone, when someone knows it better than their
 *		number does (a form asked, they moved): quiet hours then follow it.
 *
 * A person's record in shared memory (reach.c) keeps a small index into
 * a table of zone names, shared by every backend: names are only ever
 * appended (under a spinlock), so an index, once read, names the same
 * zone until the server stops.  The table holds MAX_PERSON_ZONES names;
 * a zone that finds no room is refused when stated and ignored (the
 * number decides) when reloaded.  The statement itself is a recipient fact:
 * written to antiban.recipient_facts in the caller's transaction and
 * applied to shared memory at its commit, like an opt-out.
 */
#include "pg/antiban.h"

#include "pgtime.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/builtins.h"

#define MAX_PERSON_ZONES 512
#define ZONE_NAME_SIZE 64

typedef struct ZoneNames
{
	slock_t		mutex;
	int			nzones;			/* names[1..nzones] are set; 0 is "none" */
	char		names[MAX_PERSON_ZONES][ZONE_NAME_SIZE];
} ZoneNames;

static ZoneNames *zones = NULL;

Size
person_zone_shmem_size(void)
{
	return MAXALIGN(sizeof(ZoneNames));
}

void
person_zone_shmem_init(void)
{
	bool		found;

	zones = antiban_shmem_region("antiban person zones", sizeof(ZoneNames), &found);
	if (!found)
	{
		memset(zones, 0, sizeof(ZoneNames));
		SpinLockInit(&zones->mutex);
	}
}

/* The index of a zone name, added if new; 0 when the table is full or the name too long. */
uint16
person_zone_index(const char *name)
{
	uint16		found = 0;

	if (zones == NULL || name == NULL || strlen(name) >= ZONE_NAME_SIZE)
		return 0;
	SpinLockAcquire(&zones->mutex);
	for (int i = 1; i <= zones->nzones && found == 0; i++)
		if (strcmp(zones->names[i], name) == 0)
			found = (uint16) i;
	if (found == 0 && zones->nzones + 1 < MAX_PERSON_ZONES)
	{
		found = (uint16) (zones->nzones + 1);
		strlcpy(zones->names[found], name, ZONE_NAME_SIZE);
		zones->nzones = found;
	}
	SpinLockRelease(&zones->mutex);
	return found;
}

/* The name behind an index (NULL for 0): set once, never changed. */
const char *
person_zone_name(uint16 index)
{
	if (zones == NULL || index == 0 || index >= MAX_PERSON_ZONES)
		return NULL;
	return zones->names[index];
}

PG_FUNCTION_INFO_V1(antiban_set_person_time_zone);

/*
 * antiban.set_person_time_zone(recipient, phone_number_id, time_zone):
 * the person's own zone (NULL: none, go by their number again), from the
 * caller's commit on.  Returns the zone.
 */
Datum
antiban_set_person_time_zone(PG_FUNCTION_ARGS)
{
	NumbersCache *c = numbers_cache_get();
	char		key[RECIPIENT_KEY_SIZE];
	uint64		kh;
	CachedNumber *n = reach_fact_args(fcinfo, c, key, &kh);
	const char *name = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	uint16		index = 0;

	if (name != NULL && pg_tzset(name) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown time zone \"%s\"", name),
				 errhint("Use a name from pg_timezone_names, such as America/Manaus; NULL goes by the number again.")));
	if (name != NULL && (index = person_zone_index(name)) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("no room for another person time zone"),
				 errdetail("antiban keeps up to %d distinct zone names of %d bytes in shared memory.",
						   MAX_PERSON_ZONES - 1, ZONE_NAME_SIZE - 1)));
	reach_set_time_zone(c->instance, n->portfolio_id, key, kh, index);
	if (name == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(name));
}
