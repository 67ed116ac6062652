/*
 * shmem.c
 *		Shared memory: requested at preload, built at postmaster start.
 *
 * PostgreSQL 15 wants space and LWLock tranches requested from
 * shmem_request_hook and structures built from shmem_startup_hook under
 * AddinShmemInitLock.  Each module (buckets, reach, journal, circuit breakers) sizes and
 * initialises its own region; this file only sequences them.
 */
#include "pg/antiban.h"
#include "pg/circuit_breakers.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/timestamp.h"

AntibanShared *antiban_shared = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* Every region antiban builds, in bytes (GUCs sized at preload). */
Size
antiban_shmem_size(void)
{
	return add_size(MAXALIGN(sizeof(AntibanShared)),
					add_size(buckets_shmem_size(),
							 add_size(reach_shmem_size(),
									  add_size(journal_shmem_size(),
											   add_size(breakers_shmem_size(),
														person_zone_shmem_size())))));
}

static void
antiban_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(antiban_shmem_size());
	buckets_request_locks();
	reach_request_locks();
	journal_request_locks();
	breakers_request_locks();
}

static void
antiban_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	antiban_shared = ShmemInitStruct("antiban", sizeof(AntibanShared), &found);
	if (!found)
	{
		memset(antiban_shared, 0, sizeof(AntibanShared));
		antiban_shared->started_at = GetCurrentTimestamp();
		pg_atomic_init_u32(&antiban_shared->previous_shutdown, SHUTDOWN_UNKNOWN);
		pg_atomic_init_u64(&antiban_shared->config_generation, 1);
		pg_atomic_init_u64(&antiban_shared->templates_generation, 1);
		SpinLockInit(&antiban_shared->mutex);
		antiban_shared->nportfolios = 0;
		/* a new segment (a start, or a restart after a crash): its pages */
		antiban_shared->page_kb = shmem_page_kb_now();
		pg_atomic_init_u32(&antiban_shared->page_advice_given, 0);
	}
	buckets_shmem_init();
	reach_shmem_init();
	journal_shmem_init();
	breakers_shmem_init();
	person_zone_shmem_init();
	LWLockRelease(AddinShmemInitLock);
}

void
antiban_install_shmem_hooks(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = antiban_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = antiban_shmem_startup;
}

/*
 * Where a bucket missing from shared memory is assumed empty.  A bucket is
 * missing because it was evicted when full, or because it was not used since
 * the server started.  After a crash (or before the journal writer has said
 * otherwise) the journal's last flush interval may be lost, so it counts as
 * empty at start.  After a clean shutdown the journal is complete: the last
 * send it knows before the start, if any, is when it could have been empty,
 * and a recipient it does not know starts full.
 */
TimestampTz
buckets_empty_since(TimestampTz last_known_send)
{
	if (pg_atomic_read_u32(&antiban_shared->previous_shutdown) == SHUTDOWN_CLEAN)
		return Min(last_known_send, antiban_shared->started_at);
	return antiban_shared->started_at;
}

/* Each module's region, found or created under AddinShmemInitLock. */
void *
antiban_shmem_region(const char *name, Size size, bool *found)
{
	return ShmemInitStruct(name, size, found);
}

/*
 * Every SQL entry point starts here: without preloading there is no shared
 * memory, and we say how to fix that instead of failing obscurely.
 */
void
antiban_require_loaded(void)
{
	if (antiban_shared == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("antiban is not loaded through shared_preload_libraries"),
				 errdetail("Token buckets, portfolio limits and the decision journal live in shared memory, which only a preloaded library can reserve."),
				 errhint("Add antiban to shared_preload_libraries in postgresql.conf and restart the server.")));
}
