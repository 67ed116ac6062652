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

#include "funcapi.h"
#include "miscadmin.h"
#include "lib/stringinfo.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/timestamp.h"

#include "core/smaps.h"

AntibanShared *antiban_shared = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void shmem_page_advice(void);

/* Every region antiban builds, in bytes (GUCs sized at preload). */
static Size
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
	}
	buckets_shmem_init();
	reach_shmem_init();
	journal_shmem_init();
	breakers_shmem_init();
	person_zone_shmem_init();
	LWLockRelease(AddinShmemInitLock);
	/* the postmaster, once the memory is mapped: say what pages it got */
	if (!IsUnderPostmaster)
		shmem_page_advice();
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

/*
 * The kernel page size, in kB, backing PostgreSQL's shared memory (where
 * antiban's regions are): 4 on small pages, 2048 on huge pages; -1 when
 * this system has no /proc/self/smaps.  It is fixed for the postmaster's
 * life: read once per process.
 */
long
antiban_shmem_page_kb(void)
{
	static long page_kb = 0;
	FILE	   *f;
	StringInfoData text;
	char		buf[8192];
	size_t		n;

	if (page_kb != 0 || antiban_shared == NULL)
		return antiban_shared == NULL ? -1 : page_kb;
	f = AllocateFile("/proc/self/smaps", "r");
	if (f == NULL)
		return page_kb = -1;
	initStringInfo(&text);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		appendBinaryStringInfo(&text, buf, (int) n);
	FreeFile(f);
	page_kb = smaps_page_kb(text.data, (uintptr_t) antiban_shared);
	pfree(text.data);
	return page_kb;
}

/* At server start: small pages cost every decision TLB misses. */
static void
shmem_page_advice(void)
{
	long		kb = antiban_shmem_page_kb();

	if (kb > 0 && kb < 2048)
		ereport(LOG,
				(errmsg("antiban: shared memory is on %ld kB pages", kb),
				 errdetail("Every decision reads token buckets, people and the journal at random places of antiban's %zu MB there, and every query PostgreSQL's buffers; on small pages many of those reads miss the TLB, which a virtual machine pays dearly.",
						   antiban_shmem_size() / (1024 * 1024)),
				 errhint("Reserve huge pages for PostgreSQL (vm.nr_hugepages at least what \"postgres -C shared_memory_size_in_huge_pages\" prints, with huge_pages = try or on) and restart; see antiban's README, \"Huge pages\".")));
}

PG_FUNCTION_INFO_V1(antiban_shared_memory);

/* antiban.shared_memory(): antiban's bytes and the page size backing them. */
Datum
antiban_shared_memory(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	long		kb;

	antiban_require_loaded();
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "antiban.shared_memory: return type must be a row type");
	kb = antiban_shmem_page_kb();
	values[0] = Int64GetDatum((int64) antiban_shmem_size());
	values[1] = Int64GetDatum((int64) kb * 1024);
	values[2] = BoolGetDatum(kb >= 2048);
	nulls[1] = nulls[2] = kb < 0;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}
