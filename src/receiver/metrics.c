/*
 * metrics.c — antiban-receiver: Prometheus text exposition (format 0.0.4).
 *
 * The webhook path's counters are atomics bumped when a request finishes:
 * no lock on the hot path.  Everything else comes from one query over
 * antiban.prometheus_metrics per scrape; this file only checks and prints
 * it, so a metric is added in SQL alone.
 */
#include "metrics.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* The statuses the webhook path answers (reply.c), plus libmicrohttpd's own. */
static const int known_status[] = {0, 200, 400, 401, 403, 404, 405, 413, 414, 431, 500, 503};
#define N_STATUS (sizeof(known_status) / sizeof(known_status[0]))

/* Upper bounds of the POST latency histogram, in milliseconds. */
static const double le_ms[] = {1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000};
#define N_BUCKETS (sizeof(le_ms) / sizeof(le_ms[0]))

static struct
{
	atomic_uint_fast64_t by_status[N_STATUS + 1];	/* last: any other status */
	atomic_uint_fast64_t body_bytes;
	atomic_uint_fast64_t post_buckets[N_BUCKETS];	/* not cumulative here */
	atomic_uint_fast64_t post_count;
	atomic_uint_fast64_t post_us;	/* sum of POST latencies, microseconds */
	atomic_int	queued;			/* waiting for the database now */
	atomic_uint_fast64_t batches;	/* calls of antiban.ingest_webhooks */
	atomic_uint_fast64_t batched;	/* POSTs in them */
	atomic_uint_fast64_t cut;	/* connections cut at their deadline */
	atomic_uint_fast64_t cut_pressed;	/* of them, at the shorter one */
	double		started;		/* unix time */
} counters;

void
metrics_queue_length(int n)
{
	atomic_store(&counters.queued, n);
}

void
metrics_batch(int n)
{
	atomic_fetch_add(&counters.batches, 1);
	atomic_fetch_add(&counters.batched, (uint_fast64_t) n);
}

void
metrics_ingest_totals(unsigned long *calls, unsigned long *posts)
{
	*calls = (unsigned long) atomic_load(&counters.batches);
	*posts = (unsigned long) atomic_load(&counters.batched);
}

void
metrics_connections_cut(int n, bool under_pressure)
{
	atomic_fetch_add(&counters.cut, (uint_fast64_t) n);
	if (under_pressure)
		atomic_fetch_add(&counters.cut_pressed, (uint_fast64_t) n);
}

void
metrics_start(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	counters.started = ts.tv_sec + ts.tv_nsec / 1e9;
}

void
metrics_webhook_done(int status, bool is_post, size_t body_bytes, double ms)
{
	size_t		i = 0;

	while (i < N_STATUS && known_status[i] != status)
		i++;
	atomic_fetch_add(&counters.by_status[i], 1);
	atomic_fetch_add(&counters.body_bytes, body_bytes);
	if (!is_post)
		return;
	for (size_t b = 0; b < N_BUCKETS; b++)
		if (ms <= le_ms[b])
		{
			atomic_fetch_add(&counters.post_buckets[b], 1);
			break;
		}
	atomic_fetch_add(&counters.post_count, 1);
	atomic_fetch_add(&counters.post_us, (uint_fast64_t) (ms * 1000.0));
}

bool
metrics_name_ok(const char *name)
{
	if (!name || !*name || (*name >= '0' && *name <= '9'))
		return false;
	for (const char *c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
			  *c == '_' || *c == ':'))
			return false;
	return true;
}

static void
header(strbuf *out, const char *name, const char *type, const char *help)
{
	sb_printf(out, "# HELP %s ", name);
	/* HELP escapes backslash and newline only */
	for (const char *c = help; *c; c++)
		if (*c == '\\')
			sb_puts(out, "\\\\");
		else if (*c == '\n')
			sb_puts(out, "\\n");
		else
			sb_append(out, c, 1);
	sb_printf(out, "\n# TYPE %s %s\n", name, type);
}

static void
render_receiver(strbuf *out, bool db_up, double query_seconds, int in_flight)
{
	uint_fast64_t cumulative = 0;

	header(out, "antiban_receiver_webhook_requests_total", "counter",
		   "Webhook requests answered by this receiver, by HTTP status (0: no answer sent).");
	for (size_t i = 0; i <= N_STATUS; i++)
	{
		uint_fast64_t n = atomic_load(&counters.by_status[i]);

		if (i == N_STATUS)
			sb_printf(out, "antiban_receiver_webhook_requests_total{code=\"other\"} %lu\n", (unsigned long) n);
		else
			sb_printf(out, "antiban_receiver_webhook_requests_total{code=\"%d\"} %lu\n",
					  known_status[i], (unsigned long) n);
	}
	header(out, "antiban_receiver_webhook_received_bytes_total", "counter",
		   "Webhook body bytes received, kept or not.");
	sb_printf(out, "antiban_receiver_webhook_received_bytes_total %lu\n",
			  (unsigned long) atomic_load(&counters.body_bytes));
	header(out, "antiban_receiver_webhook_post_seconds", "histogram",
		   "Time from a webhook POST's headers to its answer (body upload and antiban.ingest_webhook).");
	for (size_t b = 0; b < N_BUCKETS; b++)
	{
		cumulative += atomic_load(&counters.post_buckets[b]);
		sb_printf(out, "antiban_receiver_webhook_post_seconds_bucket{le=\"%g\"} %lu\n",
				  le_ms[b] / 1000.0, (unsigned long) cumulative);
	}
	sb_printf(out, "antiban_receiver_webhook_post_seconds_bucket{le=\"+Inf\"} %lu\n",
			  (unsigned long) atomic_load(&counters.post_count));
	sb_printf(out, "antiban_receiver_webhook_post_seconds_sum %.6f\n",
			  atomic_load(&counters.post_us) / 1e6);
	sb_printf(out, "antiban_receiver_webhook_post_seconds_count %lu\n",
			  (unsigned long) atomic_load(&counters.post_count));
	header(out, "antiban_receiver_webhook_in_flight", "gauge", "Webhook requests being served now.");
	sb_printf(out, "antiban_receiver_webhook_in_flight %d\n", in_flight);
	header(out, "antiban_receiver_webhook_queued", "gauge",
		   "Webhook requests waiting for the database now (past --queue they get 503).");
	sb_printf(out, "antiban_receiver_webhook_queued %d\n", atomic_load(&counters.queued));
	header(out, "antiban_receiver_ingest_calls_total", "counter",
		   "Calls of antiban.ingest_webhooks (one transaction, one durable commit each).");
	sb_printf(out, "antiban_receiver_ingest_calls_total %lu\n", (unsigned long) atomic_load(&counters.batches));
	header(out, "antiban_receiver_ingest_posts_total", "counter",
		   "POSTs sent in those calls: divided by the calls, the POSTs that shared a commit.");
	sb_printf(out, "antiban_receiver_ingest_posts_total %lu\n", (unsigned long) atomic_load(&counters.batched));
	header(out, "antiban_receiver_connections_cut_total", "counter",
		   "Client connections cut for not sending their headers (or body) within the deadline.");
	sb_printf(out, "antiban_receiver_connections_cut_total %lu\n", (unsigned long) atomic_load(&counters.cut));
	header(out, "antiban_receiver_connections_cut_under_pressure_total", "counter",
		   "Of those, connections cut at the shorter deadlines that apply near --max-connections.");
	sb_printf(out, "antiban_receiver_connections_cut_under_pressure_total %lu\n",
			  (unsigned long) atomic_load(&counters.cut_pressed));
	header(out, "antiban_receiver_start_time_seconds", "gauge", "When this receiver started, unix time.");
	sb_printf(out, "antiban_receiver_start_time_seconds %.3f\n", counters.started);
	header(out, "antiban_receiver_database_up", "gauge",
		   "1 when this scrape read antiban.prometheus_metrics through --admin-conninfo, else 0 (the database's metrics are then absent).");
	sb_printf(out, "antiban_receiver_database_up %d\n", db_up ? 1 : 0);
	if (db_up)
	{
		header(out, "antiban_receiver_metrics_query_seconds", "gauge",
			   "How long this scrape's query over antiban.prometheus_metrics took.");
		sb_printf(out, "antiban_receiver_metrics_query_seconds %.6f\n", query_seconds);
	}
}

/* PostgreSQL's float8 text, in the exposition format's spelling. */
static const char *
sample_value(const char *v)
{
	if (strcmp(v, "Infinity") == 0)
		return "+Inf";
	if (strcmp(v, "-Infinity") == 0)
		return "-Inf";
	return v;
}

static void
render_database(strbuf *out, const PGresult *db)
{
	const char *current = NULL;

	for (int r = 0; r < PQntuples(db); r++)
	{
		const char *name = PQgetvalue(db, r, 0);
		const char *type = PQgetvalue(db, r, 1);
		const char *labels = PQgetvalue(db, r, 3);

		if (!metrics_name_ok(name) || PQgetisnull(db, r, 4) ||
			(strcmp(type, "gauge") != 0 && strcmp(type, "counter") != 0) ||
			strchr(labels, '\n'))
			continue;
		if (!current || strcmp(current, name) != 0)
			header(out, name, type, PQgetvalue(db, r, 2));
		current = name;
		sb_printf(out, *labels ? "%s{%s} %s\n" : "%s%s %s\n", name, labels,
				  sample_value(PQgetvalue(db, r, 4)));
	}
}

void
metrics_render(strbuf *out, const PGresult *db, double query_seconds, int in_flight)
{
	render_receiver(out, db != NULL, query_seconds, in_flight);
	if (db)
		render_database(out, db);
}
