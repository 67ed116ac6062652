/*
 * client.h
 *		The Cloud API client: many POSTs in flight over kept-alive
 *		connections (libcurl multi), results collected as they finish.
 *		No PostgreSQL headers: the sender worker drives it.
 */
#ifndef ANTIBAN_CLOUDAPI_CLIENT_H
#define ANTIBAN_CLOUDAPI_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error_class.h"
#include "core/transport_outcome.h"
#include "response.h"

typedef struct CloudApiClient CloudApiClient;

typedef struct CloudApiResult
{
	int64_t		id;				/* the caller's id (the outbox row) */
	TransportOutcome transport;
	TransportFacts facts;		/* without an answer: how far it got, and why
								 * it failed */
	long		http_status;	/* 0 when no answer */
	ApiAnswer	answer;
	int64_t		retry_after_us; /* from a Retry-After header, 0 if none */
	double		total_ms;
	char		transport_error[256];
} CloudApiResult;

extern CloudApiClient *cloudapi_create(long timeout_ms, long connect_timeout_ms);
extern void cloudapi_destroy(CloudApiClient *c);
extern bool cloudapi_submit(CloudApiClient *c, int64_t id, const char *url,
							const char *bearer_token, const char *body);
/* A GET (the circuit breaker's probe): its result comes back like a POST's. */
extern bool cloudapi_submit_get(CloudApiClient *c, int64_t id, const char *url,
								const char *bearer_token);
extern int	cloudapi_inflight(const CloudApiClient *c);
/* Run transfers for at most 'timeout_ms'; return up to 'max' finished ones. */
extern int	cloudapi_poll(CloudApiClient *c, int timeout_ms, CloudApiResult *out, int max);
extern void cloudapi_set_timeouts(CloudApiClient *c, long timeout_ms, long connect_timeout_ms);

#endif							/* ANTIBAN_CLOUDAPI_CLIENT_H */
