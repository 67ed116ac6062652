/*
 * transport.h
 *		What libcurl shows of a request in flight, and what a failure means
 *		(core/transport_outcome.c decides).  Shared by the sender's client and
 *		the monitor's one-shot calls.  No PostgreSQL headers.
 */
#ifndef ANTIBAN_CLOUDAPI_TRANSPORT_H
#define ANTIBAN_CLOUDAPI_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "core/transport_outcome.h"

/*
 * One request's body and what became of it.  When a kept-alive connection
 * dies before any answer, libcurl would silently send the request again on
 * a fresh one: the callback that sees each attempt start refuses the
 * second (the transfer fails with CURLE_ABORTED_BY_CALLBACK, an ambiguous
 * outcome).
 */
typedef struct TransportWatch
{
	CURL	   *easy;
	const char *body;			/* NULL: no body (GET) */
	size_t		body_len;
	bool		request_started;	/* libcurl had a ready connection for it */
	bool		connection_reused;	/* ... and it was a kept-alive one */
} TransportWatch;

/*
 * Set the body (POST) or none (GET), the callbacks that watch it, and
 * HTTP/1.1 (never HTTP/2: see transport.c).
 */
extern void transport_watch(CURL *easy, TransportWatch *w, const char *body, size_t body_len);
extern TransportOutcome transport_outcome(const TransportWatch *w, CURLcode rc);
/* What the failure was and how far the request got (for the circuit breaker). */
extern void transport_facts(const TransportWatch *w, CURLcode rc, TransportFacts *out);

#endif							/* ANTIBAN_CLOUDAPI_TRANSPORT_H */
