/*
 * webhooks.c — see webhooks.h.
 *
 * Each accepted message waits in one of three FIFOs (for sent, delivered,
 * read).  Because the delay is the same for all, each FIFO is ordered by
 * due time.  The poster thread takes due statuses (earliest first) into a
 * batch, groups them by WABA and phone number the way Meta does
 * (entry[] per WABA, changes[] per number), signs the exact bytes and posts
 * them with curl multi.  A failed POST is retried with doubling backoff and
 * never dropped; later statuses keep flowing meanwhile, so the receiver
 * sees the reordering and duplicates-on-retry it must handle with Meta.
 */
#include "webhooks.h"
#include "errors.h"
#include "faults.h"
#include "sim.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BATCH 1000
#define POLL_MS 5

enum
{
	ST_SENT,
	ST_DELIVERED,
	ST_READ,
	ST__QUEUES
};

wh_settings sim_wh;

static ring queues[ST__QUEUES];	/* sim_msg *, waiting for their next status */
static uint64_t generation;		/* bumped by reset: older POSTs are forgotten */

static struct
{
	int64_t		posted;			/* POSTs answered 2xx */
	int64_t		failed;			/* attempts answered non-2xx or not at all */
	int64_t		statuses;		/* statuses in 2xx POSTs */
	int64_t		attempts;
	int64_t		queued;			/* statuses not yet in a POST */
	int64_t		in_posts;		/* statuses in POSTs not yet acknowledged */
}			stats;

typedef struct wh_item
{
	sim_msg    *m;
	const char *status;
} wh_item;

typedef struct wh_post
{
	struct wh_post *next;
	CURL	   *easy;
	struct curl_slist *headers;
	char	   *url;
	char	   *body;
	size_t		len;
	int			nstatuses;
	int			attempts;
	int64_t		next_ms;
	uint64_t	generation;
} wh_post;

/* Owned by the poster thread alone. */
static CURLM *multi;
static wh_post *inflight;
static wh_post *retries;
static int	ninflight;
static pthread_t thread;
static bool running;
static bool stop_flag;

/* ---- settings and queues (sim_lock held) ------------------------------- */

static void
settings_from_options(void)
{
	xset_str(&sim_wh.url, sim_opts.webhook_url && *sim_opts.webhook_url ? sim_opts.webhook_url : NULL);
	xset_str(&sim_wh.secret, sim_opts.app_secret ? sim_opts.app_secret : "");
	sim_wh.batch = sim_opts.webhook_batch;
	sim_wh.delay_ms = sim_opts.webhook_delay_ms;
	sim_wh.read_rate = sim_opts.read_rate;
	sim_wh.concurrency = sim_opts.webhook_concurrency;
	sim_wh.retry_ms = sim_opts.webhook_retry_ms;
	sim_wh.retry_max_ms = sim_opts.webhook_retry_max_ms;
}

void
webhooks_init(void)
{
	for (int q = 0; q < ST__QUEUES; q++)
		ring_init(&queues[q], sizeof(sim_msg *));
	settings_from_options();
	memset(&stats, 0, sizeof(stats));
}

/* Forget queued statuses and counters; settings go back to the options
 * (config re-applies its own on a full reset). */
void
webhooks_clear(void)
{
	for (int q = 0; q < ST__QUEUES; q++)
	{
		sim_msg   **pm;

		while ((pm = ring_front(&queues[q])))
		{
			msg_release(*pm);
			ring_pop(&queues[q]);
		}
		ring_free(&queues[q]);
	}
	memset(&stats, 0, sizeof(stats));
	generation++;
}

static void
push_stage(sim_msg *m, int stage, int64_t now)
{
	m->stage = stage;
	m->due_ms = now + sim_wh.delay_ms;
	ring_push(&queues[stage], &m);
	stats.queued++;
}

void
webhooks_enqueue(sim_msg *m)
{
	if (!sim_wh.url)
		return;
	m->refs++;
	push_stage(m, ST_SENT, sim_mono_ms());
}

void
webhooks_summary(sbuf *b)
{
	sbuf_printf(b, "{\"posted\":%lld,\"failed\":%lld,\"statuses\":%lld,\"attempts\":%lld,"
				"\"queued\":%lld,\"in_posts\":%lld,\"pending\":%lld,\"url\":",
				(long long) stats.posted, (long long) stats.failed, (long long) stats.statuses,
				(long long) stats.attempts, (long long) stats.queued, (long long) stats.in_posts,
				(long long) (stats.queued + stats.in_posts));
	if (sim_wh.url)
		sbuf_json_str(b, sim_wh.url);
	else
		sbuf_puts(b, "null");
	sbuf_putc(b, '}');
}

/* ---- batch building (sim_lock held) ------------------------------------ */

/* The queue whose head is due earliest, or -1 if nothing is due. */
static int
earliest_due(int64_t now)
{
	int			best = -1;
	int64_t		best_due = now;

	for (int q = 0; q < ST__QUEUES; q++)
	{
		sim_msg   **pm = ring_front(&queues[q]);

		if (pm && (*pm)->due_ms <= best_due)
		{
			best = q;
			best_due = (*pm)->due_ms;
		}
	}
	return best;
}

static int
collect(int64_t now, wh_item *items, int max)
{
	static const char *const names[ST__QUEUES] = {"sent", "delivered", "read"};
	int			n = 0,
				q;

	while (n < max && (q = earliest_due(now)) >= 0)
	{
		sim_msg    *m = *(sim_msg **) ring_front(&queues[q]);

		ring_pop(&queues[q]);
		stats.queued--;
		items[n].m = m;
		items[n].status = (q == ST_SENT && m->fail_code) ? "failed" : names[q];
		n++;
	}
	return n;
}

/* Move each message on to its next status, or let it go. */
static void
advance(wh_item *items, int n, int64_t now)
{
	for (int i = 0; i < n; i++)
	{
		sim_msg    *m = items[i].m;

		if (m->stage == ST_SENT && !m->fail_code)
			push_stage(m, ST_DELIVERED, now);
		else if (m->stage == ST_DELIVERED && faults_uniform() < sim_wh.read_rate)
			push_stage(m, ST_READ, now);
		else
			msg_release(m);
	}
}

/* Pricing rides on sent and delivered (PMP, cloud-api.md §7). */
static void
write_pricing(sbuf *b, const sim_msg *m)
{
	bool		service = strcmp(m->category, "service") == 0;

	sbuf_printf(b, ",\"pricing\":{\"billable\":%s,\"pricing_model\":\"PMP\",\"type\":\"%s\","
				"\"category\":\"%s\"}",
				service ? "false" : "true", service ? "free_customer_service" : "regular",
				m->category);
}

static void
write_errors(sbuf *b, int code)
{
	sbuf_printf(b, ",\"errors\":[{\"code\":%d,\"title\":", code);
	sbuf_json_str(b, meta_error_title(code));
	sbuf_puts(b, ",\"message\":");
	sbuf_json_str(b, meta_error_title(code));
	sbuf_puts(b, ",\"error_data\":{\"details\":");
	sbuf_json_str(b, meta_error_details(code));
	sbuf_puts(b, "},\"href\":\"https:\\/\\/developers.facebook.com\\/docs\\/whatsapp\\/cloud-api\\/support\\/error-codes\\/\"}]");
}

static void
write_status(sbuf *b, const wh_item *it, long long ts)
{
	const sim_msg *m = it->m;

	sbuf_puts(b, "{\"id\":");
	sbuf_json_str(b, m->wamid);
	sbuf_printf(b, ",\"status\":\"%s\",\"timestamp\":\"%lld\",\"recipient_id\":", it->status, ts);
	/* BSUID sends: no phone number to show (shape unverified in Meta's docs) */
	sbuf_json_str(b, m->is_bsuid ? "" : m->recipient);
	if (m->is_bsuid)
	{
		sbuf_puts(b, ",\"user_id\":");
		sbuf_json_str(b, m->recipient);
	}
	if (m->callback)
	{
		sbuf_puts(b, ",\"biz_opaque_callback_data\":");
		sbuf_json_str(b, m->callback);
	}
	if (strcmp(it->status, "failed") == 0)
		write_errors(b, m->fail_code);
	else if (strcmp(it->status, "read") != 0)
		write_pricing(b, m);
	sbuf_putc(b, '}');
}

static bool
same_number(const sim_msg *a, const sim_msg *b)
{
	return strcmp(a->waba_id, b->waba_id) == 0 && strcmp(a->number_id, b->number_id) == 0;
}

/* One change per phone number: value.metadata + its statuses. */
static void
write_change(sbuf *b, wh_item *items, int n, int j, bool *done, long long ts)
{
	int			first = 1;

	sbuf_puts(b, "{\"value\":{\"messaging_product\":\"whatsapp\",\"metadata\":{\"display_phone_number\":");
	sbuf_json_str(b, items[j].m->display);
	sbuf_puts(b, ",\"phone_number_id\":");
	sbuf_json_str(b, items[j].m->number_id);
	sbuf_puts(b, "},\"statuses\":[");
	for (int k = j; k < n; k++)
		if (!done[k] && same_number(items[j].m, items[k].m))
		{
			if (!first)
				sbuf_putc(b, ',');
			first = 0;
			write_status(b, &items[k], ts);
			done[k] = true;
		}
	sbuf_puts(b, "]},\"field\":\"messages\"}");
}

static void
write_body(sbuf *b, wh_item *items, int n, long long ts)
{
	bool		done[MAX_BATCH] = {false};
	int			first_entry = 1;

	sbuf_puts(b, "{\"object\":\"whatsapp_business_account\",\"entry\":[");
	for (int i = 0; i < n; i++)
	{
		int			first_change = 1;

		if (done[i])
			continue;
		if (!first_entry)
			sbuf_putc(b, ',');
		first_entry = 0;
		sbuf_puts(b, "{\"id\":");
		sbuf_json_str(b, items[i].m->waba_id);
		sbuf_puts(b, ",\"changes\":[");
		for (int j = i; j < n; j++)
			if (!done[j] && strcmp(items[j].m->waba_id, items[i].m->waba_id) == 0)
			{
				if (!first_change)
					sbuf_putc(b, ',');
				first_change = 0;
				write_change(b, items, n, j, done, ts);
			}
		sbuf_puts(b, "]}");
	}
	sbuf_puts(b, "]}");
}

/* ---- signing ----------------------------------------------------------- */

void
webhook_sign(const char *secret, const char *body, size_t len, char out[72])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	HMAC(EVP_sha256(), secret, (int) strlen(secret), (const unsigned char *) body, len,
		 md, &mdlen);
	for (unsigned int i = 0; i < mdlen && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[64] = '\0';
}

/* ---- posting (poster thread) ------------------------------------------- */

static size_t
discard(char *ptr, size_t size, size_t nmemb, void *arg)
{
	(void) ptr;
	(void) arg;
	return size * nmemb;
}

static wh_post *
post_new(char *body, size_t len, int nstatuses, const char *url, const char *secret,
		 uint64_t gen)
{
	wh_post    *p = xcalloc(1, sizeof(wh_post));
	char		sig[72],
				hdr[128];

	p->body = body;
	p->len = len;
	p->nstatuses = nstatuses;
	p->url = xstrdup(url);
	p->generation = gen;
	webhook_sign(secret, body, len, sig);
	snprintf(hdr, sizeof(hdr), "X-Hub-Signature-256: sha256=%s", sig);
	p->headers = curl_slist_append(NULL, "Content-Type: application/json");
	p->headers = curl_slist_append(p->headers, hdr);
	p->headers = curl_slist_append(p->headers, "Expect:");
	p->easy = curl_easy_init();
	if (!p->easy || !p->headers)
	{
		sim_log("webhooks: out of curl resources");
		abort();
	}
	curl_easy_setopt(p->easy, CURLOPT_URL, p->url);
	curl_easy_setopt(p->easy, CURLOPT_POSTFIELDS, p->body);
	curl_easy_setopt(p->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) p->len);
	curl_easy_setopt(p->easy, CURLOPT_HTTPHEADER, p->headers);
	curl_easy_setopt(p->easy, CURLOPT_USERAGENT, "facebookexternalua");
	curl_easy_setopt(p->easy, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(p->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(p->easy, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(p->easy, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
	curl_easy_setopt(p->easy, CURLOPT_PRIVATE, p);
	return p;
}

static void
post_free(wh_post *p)
{
	curl_easy_cleanup(p->easy);
	curl_slist_free_all(p->headers);
	free(p->url);
	free(p->body);
	free(p);
}

static void
post_start(wh_post *p)
{
	p->next = inflight;
	inflight = p;
	ninflight++;
	curl_multi_add_handle(multi, p->easy);
	SIM_LOCK();
	stats.attempts++;
	SIM_UNLOCK();
}

static void
unlink_inflight(wh_post *p)
{
	for (wh_post **pp = &inflight; *pp; pp = &(*pp)->next)
		if (*pp == p)
		{
			*pp = p->next;
			break;
		}
	ninflight--;
}

/* Backoff doubles per attempt, capped; it never gives up. */
static void
schedule_retry(wh_post *p, int64_t now)
{
	int64_t		backoff = sim_wh.retry_ms;

	for (int i = 1; i < p->attempts && backoff < sim_wh.retry_max_ms; i++)
		backoff *= 2;
	if (backoff > sim_wh.retry_max_ms)
		backoff = sim_wh.retry_max_ms;
	p->next_ms = now + backoff;
	p->next = retries;
	retries = p;
}

static void
post_done(wh_post *p, CURLcode rc)
{
	long		code = 0;
	bool		ok;

	curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &code);
	curl_multi_remove_handle(multi, p->easy);
	unlink_inflight(p);
	ok = rc == CURLE_OK && code >= 200 && code < 300;
	SIM_LOCK();
	if (p->generation != generation)
	{
		SIM_UNLOCK();
		post_free(p);
		return;
	}
	if (ok)
	{
		stats.posted++;
		stats.statuses += p->nstatuses;
		stats.in_posts -= p->nstatuses;
		SIM_UNLOCK();
		post_free(p);
		return;
	}
	stats.failed++;
	p->attempts++;
	schedule_retry(p, sim_mono_ms());
	SIM_UNLOCK();
	sim_debug("webhook POST failed (curl %d, HTTP %ld), attempt %d; will retry",
			  (int) rc, code, p->attempts);
}

static void
reap(void)
{
	CURLMsg    *msg;
	int			left;

	while ((msg = curl_multi_info_read(multi, &left)))
	{
		wh_post    *p = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &p);
		post_done(p, msg->data.result);
	}
}

static void
start_due_retries(int64_t now, int concurrency)
{
	wh_post   **pp = &retries;

	while (*pp && ninflight < concurrency)
	{
		wh_post    *p = *pp;
		bool		stale;

		if (p->next_ms > now)
		{
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		SIM_LOCK();
		stale = p->generation != generation;
		SIM_UNLOCK();
		if (stale)
			post_free(p);
		else
			post_start(p);
	}
}

/* Build and start POSTs for due statuses while there is room. */
static void
start_new_batches(int64_t now)
{
	static wh_item items[MAX_BATCH];

	for (;;)
	{
		sbuf		b;
		int			n;
		size_t		len;
		char	   *url,
				   *secret,
				   *body;
		uint64_t	gen;

		SIM_LOCK();
		if (!sim_wh.url || ninflight >= sim_wh.concurrency ||
			(n = collect(now, items, sim_wh.batch < MAX_BATCH ? sim_wh.batch : MAX_BATCH)) == 0)
		{
			SIM_UNLOCK();
			return;
		}
		sbuf_init(&b, 512 * (size_t) n);
		write_body(&b, items, n, (long long) (sim_wall_ms() / 1000));
		advance(items, n, now);
		stats.in_posts += n;
		url = xstrdup(sim_wh.url);
		secret = xstrdup(sim_wh.secret);
		gen = generation;
		SIM_UNLOCK();
		body = sbuf_steal(&b, &len);
		post_start(post_new(body, len, n, url, secret, gen));
		free(url);
		free(secret);
	}
}

static void *
poster_main(void *arg)
{
	(void) arg;
	while (!__atomic_load_n(&stop_flag, __ATOMIC_ACQUIRE))
	{
		int64_t		now = sim_mono_ms();
		int			running_handles,
					concurrency;

		SIM_LOCK();
		concurrency = sim_wh.concurrency;
		SIM_UNLOCK();
		start_due_retries(now, concurrency);
		start_new_batches(now);
		curl_multi_perform(multi, &running_handles);
		reap();
		curl_multi_poll(multi, NULL, 0, POLL_MS, NULL);
	}
	return NULL;
}

bool
webhooks_start(void)
{
	multi = curl_multi_init();
	if (!multi)
		return false;
	stop_flag = false;
	if (pthread_create(&thread, NULL, poster_main, NULL) != 0)
		return false;
	running = true;
	return true;
}

/* Stop posting; statuses not yet acknowledged are reported, then freed. */
void
webhooks_stop(void)
{
	int64_t		lost;

	if (running)
	{
		__atomic_store_n(&stop_flag, true, __ATOMIC_RELEASE);
		curl_multi_wakeup(multi);
		pthread_join(thread, NULL);
		running = false;
	}
	while (inflight)
	{
		wh_post    *p = inflight;

		curl_multi_remove_handle(multi, p->easy);
		unlink_inflight(p);
		post_free(p);
	}
	while (retries)
	{
		wh_post    *p = retries;

		retries = p->next;
		post_free(p);
	}
	if (multi)
		curl_multi_cleanup(multi);
	multi = NULL;
	SIM_LOCK();
	lost = stats.queued + stats.in_posts;
	webhooks_clear();
	xfree_str(&sim_wh.url);
	xfree_str(&sim_wh.secret);
	SIM_UNLOCK();
	if (lost)
		sim_log("webhooks: %lld statuses were never acknowledged", (long long) lost);
}

/* Settings back to the command line (full reset). */
void
webhooks_reset_settings(void)
{
	settings_from_options();
}
