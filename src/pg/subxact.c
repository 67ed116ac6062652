/*
 * subxact.c
 *		Run a step in a subtransaction of its own, so that its failure
 *		rolls back only what it did.
 *
 * The caller's transaction goes on either way: the journal writer keeps
 * the batch it could not store, the receiver stores bytes that are not
 * JSON, the sender keeps the answers it recorded when acting on an error
 * fails.  The step runs in the caller's memory context and resource owner,
 * as PL/pgSQL's exception blocks and PL/Python's subtransactions do.
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "pg/subxact.h"

/*
 * step(arg) in a subtransaction: NULL when it was released (committed into
 * the caller's transaction), else its error, copied into the caller's
 * memory context, the subtransaction rolled back and the error state
 * cleared.  The caller decides what an error means (a cancel, say, is
 * usually raised again with ReThrowError).
 */
ErrorData *
subxact_run(void (*step) (void *arg), void *arg)
{
	MemoryContext caller = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ErrorData  *volatile failed = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(caller);
	PG_TRY();
	{
		step(arg);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(caller);
		failed = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(caller);
	CurrentResourceOwner = owner;
	return failed;
}
