/*
 * wake.c
 *		Wake the sender workers when messages are committed (as pg_net does):
 *		one latch set per committing transaction, none for a rollback, and
 *		no polling while the outbox is quiet.
 */
#include "pg/antiban.h"

#include "access/xact.h"
#include "storage/latch.h"
#include "storage/spin.h"

static bool wake_pending = false;
static bool callback_registered = false;

void
antiban_register_sender_latch(int slot, Latch *latch)
{
	SpinLockAcquire(&antiban_shared->mutex);
	antiban_shared->sender_latch[slot] = latch;
	SpinLockRelease(&antiban_shared->mutex);
}

void
antiban_wake_senders(void)
{
	Latch	   *latches[ANTIBAN_MAX_SENDERS];

	SpinLockAcquire(&antiban_shared->mutex);
	memcpy(latches, antiban_shared->sender_latch, sizeof(latches));
	SpinLockRelease(&antiban_shared->mutex);
	for (int i = 0; i < ANTIBAN_MAX_SENDERS; i++)
		if (latches[i])
			SetLatch(latches[i]);
}

static void
wake_at_commit(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT && wake_pending && antiban_shared)
		antiban_wake_senders();
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)
		wake_pending = false;
}

void
antiban_wake_senders_at_commit(void)
{
	if (!callback_registered)
	{
		RegisterXactCallback(wake_at_commit, NULL);
		callback_registered = true;
	}
	wake_pending = true;
}
