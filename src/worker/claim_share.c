/*
 * claim_share.c
 *		Tokens a sender's claim in progress is about to take from the
 *		numbers' buckets.  Two senders claiming at once both read the
 *		buckets before either took from them, each claimed what they held,
 *		and what the second could not send went back to the queue: in a
 *		drain over 10 HIGH numbers, 8 to 30 % of the messages were locked,
 *		decided and written back once before they went (TAP 038).  A claim
 *		now takes only what the other claims in progress have not promised
 *		themselves.
 *
 * A promise lasts from the read of the buckets to the end of the claim's
 * decisions (which take the tokens), or the claim's error; a sender that
 * exits forgets its own, and a crash restart starts from none.
 */
#include "worker/sender.h"

#include "storage/spin.h"

/* How many of 'available' tokens this sender's claim may take (and promises). */
int64
claim_share_promise(int slot, int64 available, int64 wanted)
{
	int64		others = 0;
	int64		granted;

	SpinLockAcquire(&antiban_shared->mutex);
	for (int i = 0; i < ANTIBAN_MAX_SENDERS; i++)
		if (i != slot)
			others += antiban_shared->claim_promised[i];
	granted = Max(0, Min(wanted, available - others));
	antiban_shared->claim_promised[slot] = granted;
	SpinLockRelease(&antiban_shared->mutex);
	return granted;
}

void
claim_share_forget(int slot)
{
	SpinLockAcquire(&antiban_shared->mutex);
	antiban_shared->claim_promised[slot] = 0;
	SpinLockRelease(&antiban_shared->mutex);
}
