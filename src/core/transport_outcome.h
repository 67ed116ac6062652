/*
 * transport_outcome.h
 *		Did a request that got no HTTP answer leave this machine?  Only a
 *		failure proven to come before sending may be retried at once; any
 *		other may have reached Meta, and sending again could send twice.
 */
#ifndef ANTIBAN_TRANSPORT_OUTCOME_H
#define ANTIBAN_TRANSPORT_OUTCOME_H

#include <stdbool.h>

/* How a request ended before any Cloud API answer was read. */
typedef enum TransportOutcome
{
	TRANSPORT_OK,				/* an HTTP answer arrived */
	TRANSPORT_NOT_SENT,			/* proven: nothing of it could have reached Meta */
	TRANSPORT_AMBIGUOUS			/* maybe accepted: wait for evidence, never resend blindly */
} TransportOutcome;

/* What the HTTP library said went wrong (the adapter maps its codes). */
typedef enum TransportFailure
{
	TRANSPORT_FAILED_RESOLVE,	/* the host name did not resolve */
	TRANSPORT_FAILED_CONNECT,	/* no TCP connection: refused, unreachable */
	TRANSPORT_FAILED_TLS,		/* the TLS handshake failed */
	TRANSPORT_FAILED_TIMEOUT,	/* time ran out, at whatever stage */
	TRANSPORT_FAILED_LOCAL,		/* refused here: bad URL, out of memory, bad option */
	TRANSPORT_FAILED_SEND,		/* writing the request failed, or it could not be rewound */
	TRANSPORT_FAILED_RECEIVE,	/* the answer broke off, or never came */
	TRANSPORT_FAILED_OTHER
} TransportFailure;

/* What the adapter saw of the failed request. */
typedef struct TransportFacts
{
	TransportFailure failure;
	bool		request_started;	/* a ready connection was handed the request */
	bool		connection_reused;	/* that connection was a kept-alive one */
	bool		body_withheld;	/* the request has a body, and no connection
								 * was ever handed it */
} TransportFacts;

extern TransportOutcome transport_failure_outcome(const TransportFacts *facts);

#endif							/* ANTIBAN_TRANSPORT_OUTCOME_H */
