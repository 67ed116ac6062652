/*
 * transport_outcome.c
 *		Which transport failures prove that nothing left.
 *
 * A lost answer is the dangerous case: Meta may have accepted the message
 * and the connection died before it said so.  Retrying then sends it twice.
 * So the burden of proof is on "not sent": a failure counts as not sent only
 * when the facts show the request could not have been complete at Meta's
 * end.  Everything else is ambiguous, and the sender waits for a status
 * webhook (or antiban.unconfirmed_grace) instead of sending again.
 */
#include "transport_outcome.h"

/* Failures that, on a connection never handed the request, came first. */
static bool
fails_before_sending(TransportFailure failure)
{
	switch (failure)
	{
		case TRANSPORT_FAILED_RESOLVE:
		case TRANSPORT_FAILED_CONNECT:
		case TRANSPORT_FAILED_TLS:
		case TRANSPORT_FAILED_TIMEOUT:	/* ran out while setting up */
		case TRANSPORT_FAILED_LOCAL:
			return true;
		case TRANSPORT_FAILED_SEND:
		case TRANSPORT_FAILED_RECEIVE:
		case TRANSPORT_FAILED_OTHER:
			return false;
	}
	return false;
}

TransportOutcome
transport_failure_outcome(const TransportFacts *facts)
{
	/* a request without its body is incomplete: no server acts on it */
	if (facts->body_withheld)
		return TRANSPORT_NOT_SENT;
	/*
	 * A kept-alive connection takes the request at once: whatever broke
	 * (a send error, a refused second attempt, a reply that never came)
	 * broke after the request may have left.  The connect time of such a
	 * transfer is 0, which once made these look "not sent".
	 */
	if (facts->connection_reused || facts->request_started)
		return TRANSPORT_AMBIGUOUS;
	/*
	 * The request never started: a set-up failure proves nothing left.  A
	 * send or receive failure here contradicts that; trust neither fact.
	 */
	return fails_before_sending(facts->failure) ? TRANSPORT_NOT_SENT : TRANSPORT_AMBIGUOUS;
}
