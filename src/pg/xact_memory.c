/*
 * xact_memory.c
 *		Memory a backend cache replaced, kept until the transaction ends.
 *
 * antiban's backend caches (the numbers, the lead models) hand out
 * pointers into their memory, and their callers hold them across calls
 * that may replace the cache: a decision, a SQL function, a trigger, any
 * catalog access that takes an invalidation.  A cache that frees what it
 * replaces at once leaves those callers reading freed memory (a portfolio
 * id that names nothing, a wild pointer).  So a replaced context is moved
 * here and freed when the top-level transaction commits, aborts or is
 * prepared; no caller keeps such a pointer across transactions.  A long
 * transaction keeps every copy it replaced (a numbers cache is a few hundred
 * bytes per number), which is the price of never freeing one under a caller.
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/memutils.h"

#include "pg/xact_memory.h"

static MemoryContext replaced_memory = NULL;
static bool callback_registered = false;

static void
free_replaced(XactEvent event, void *arg)
{
	if (replaced_memory == NULL)
		return;
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PREPARE ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)
		MemoryContextDeleteChildren(replaced_memory);
}

/* Keep 'replaced' (no longer the cache's own) until this transaction ends. */
void
free_at_transaction_end(MemoryContext replaced)
{
	/* between transactions (an invalidation taken at one's start) nobody holds it */
	if (!IsTransactionOrTransactionBlock())
	{
		MemoryContextDelete(replaced);
		return;
	}
	if (replaced_memory == NULL)
		replaced_memory = AllocSetContextCreate(TopMemoryContext, "antiban replaced cache memory",
												ALLOCSET_SMALL_SIZES);
	if (!callback_registered)
	{
		RegisterXactCallback(free_replaced, NULL);
		callback_registered = true;
	}
	MemoryContextSetParent(replaced, replaced_memory);
}
