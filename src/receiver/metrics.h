/*
 * metrics.h — antiban-receiver: Prometheus exposition of the receiver's own
 * counters (kept in memory, updated by every webhook request) and of the
 * samples the database gives (antiban.prometheus_metrics).
 */
#ifndef RECEIVER_METRICS_H
#define RECEIVER_METRICS_H

#include "strbuf.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

/* Called once per finished webhook request (http.c); status 0 = no answer. */
extern void metrics_webhook_done(int status, bool is_post, size_t body_bytes, double ms);

/* POSTs waiting for the database now (queue.c). */
extern void metrics_queue_length(int n);

/* One call of antiban.ingest_webhooks for n POSTs (queue.c). */
extern void metrics_batch(int n);

/* Calls of antiban.ingest_webhooks so far, and the POSTs in them. */
extern void metrics_ingest_totals(unsigned long *calls, unsigned long *posts);

/*
 * Connections cut for missing their header or body deadline (deadline.c);
 * under_pressure: the shorter deadlines near --max-connections.
 */
extern void metrics_connections_cut(int n, bool under_pressure);

/* Process start, for antiban_receiver_start_time_seconds. */
extern void metrics_start(void);

/*
 * The whole /metrics text: the receiver's counters, then the database's rows
 * (name, type, help, labels, value; grouped by name), or none of them when
 * db is NULL (antiban_receiver_database_up then says 0).
 */
extern void metrics_render(strbuf *out, const PGresult *db, double query_seconds, int in_flight);

/* Whether a text is a valid Prometheus metric name (the database's rows are checked). */
extern bool metrics_name_ok(const char *name);

#endif							/* RECEIVER_METRICS_H */
