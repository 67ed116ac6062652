/*
 * shmem_pages.c
 *		Which pages back antiban's shared memory, and saying so.
 *
 * Every decision reads a few entries of antiban's tables at random places
 * (the person, their identity link, the number's and the pair's buckets).
 * On base-size pages each such read is likely a TLB miss, which a virtual
 * machine pays with a two-level page walk; on huge pages most are not
 * (README, "Huge pages").  PostgreSQL 15 does not report what huge_pages =
 * try got, so the postmaster reads it from the kernel when it builds the
 * segment (shmem.c), the journal writer, which always runs on a primary,
 * logs advice once per segment as it starts (after the logging collector
 * has, so its files have it too), and antiban.shared_memory() returns it.
 */
#include "pg/antiban.h"

#include <unistd.h>

#include "funcapi.h"
#include "lib/stringinfo.h"
#include "storage/fd.h"
#include "storage/pg_shmem.h"

#include "core/smaps.h"

/* The page size, in kB, of the mapping holding antiban_shared; -1 unknown. */
int32
shmem_page_kb_now(void)
{
	FILE	   *f = AllocateFile("/proc/self/smaps", "r");
	StringInfoData text;
	char		buf[8192];
	size_t		n;
	long		kb;

	if (f == NULL)
		return -1;
	initStringInfo(&text);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		appendBinaryStringInfo(&text, buf, (int) n);
	FreeFile(f);
	kb = smaps_page_kb(text.data, (uintptr_t) antiban_shared);
	pfree(text.data);
	return kb > 0 ? (int32) kb : -1;
}

/* Larger than the base page: 2 MB (or 1 GB) on x86-64, 64 kB and up on arm64 with 4 kB base. */
static bool
huge(int32 kb)
{
	return kb > 0 && (long) kb * 1024 > sysconf(_SC_PAGESIZE);
}

/* Once per segment, from the journal writer: small pages cost every decision. */
void
antiban_shmem_page_advice(void)
{
	int32		kb = antiban_shared->page_kb;

	if (kb <= 0 || huge(kb) || pg_atomic_exchange_u32(&antiban_shared->page_advice_given, 1) != 0)
		return;
	ereport(LOG,
			(errmsg("antiban: shared memory is on %d kB pages", (int) kb),
			 errdetail("Every decision reads token buckets, people and the journal at random places of antiban's %zu MB there, and every query reads PostgreSQL's buffers; on small pages many of those reads miss the TLB, which a virtual machine pays dearly.",
					   antiban_shmem_size() / (1024 * 1024)),
			 shared_memory_type == SHMEM_TYPE_MMAP ?
			 errhint("Reserve huge pages for PostgreSQL (vm.nr_hugepages at least what \"postgres -C shared_memory_size_in_huge_pages\" prints, with huge_pages = try or on) and restart; see antiban's README, \"Huge pages\".") :
			 errhint("PostgreSQL maps huge pages only with shared_memory_type = mmap (the default); set it back, reserve huge pages (vm.nr_hugepages) and restart; see antiban's README, \"Huge pages\".")));
}

PG_FUNCTION_INFO_V1(antiban_shared_memory);

/* antiban.shared_memory(): antiban's bytes and the page size backing them. */
Datum
antiban_shared_memory(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	int32		kb;

	antiban_require_loaded();
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "antiban.shared_memory: return type must be a row type");
	kb = antiban_shared->page_kb;
	values[0] = Int64GetDatum((int64) antiban_shmem_size());
	values[1] = Int64GetDatum((int64) kb * 1024);
	values[2] = BoolGetDatum(huge(kb));
	nulls[1] = nulls[2] = kb <= 0;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}
