/*
 * sink.c — see sink.h.
 *
 * POST /_sim/sink            receive (verifies X-Hub-Signature-256 with the
 *                            current app secret, in constant time)
 * GET  /_sim/sink            counters as "name value" lines
 * GET  /_sim/sink/statuses   one TSV line per status received
 * GET  /_sim/sink/body?i=N   raw body of the N-th POST (0-based; the last 1000 kept)
 * GET  /_sim/sink/sig?i=N    its X-Hub-Signature-256 header
 */
#include "http.h"
#include "sim.h"
#include "sink.h"
#include "validate.h"
#include "webhooks.h"

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SINK_KEEP 1000
/* The sink is for tests, not load: cap the status listing at ~32 MB. */
#define SINK_LISTING_MAX (32u << 20)

typedef struct sink_post
{
	char	   *body;
	size_t		len;
	char	   *sig;
} sink_post;

static sink_post posts[SINK_KEEP];	/* the last SINK_KEEP POSTs, by index % KEEP */
static int64_t nposts;
static int64_t fail_next;
static sbuf statuses;
static struct
{
	int64_t		statuses;
	int64_t		sent;
	int64_t		delivered;
	int64_t		read;
	int64_t		failed;
	int64_t		sig_ok;
	int64_t		sig_bad;
	int64_t		rejected;
	int64_t		bad_content_type;
	int64_t		bad_json;
	int64_t		unlisted;		/* statuses beyond SINK_LISTING_MAX */
}			counts;

void
sink_init(void)
{
	nposts = 0;
	fail_next = 0;
	memset(&counts, 0, sizeof(counts));
	sbuf_init(&statuses, 4096);
}

void
sink_clear(void)
{
	for (int i = 0; i < SINK_KEEP; i++)
	{
		free(posts[i].body);
		free(posts[i].sig);
		posts[i].body = posts[i].sig = NULL;
	}
	sbuf_free(&statuses);
}

void
sink_fail_next(int64_t n)
{
	fail_next = n;
}

static bool
signature_ok(const char *header, const char *body, size_t len)
{
	char		want[72];

	if (!header || strncmp(header, "sha256=", 7) != 0 || strlen(header + 7) != 64)
		return false;
	webhook_sign(sim_wh.secret ? sim_wh.secret : "", body, len, want);
	return CRYPTO_memcmp(want, header + 7, 64) == 0;
}

static const char *
jstr(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static json_object *
jget(json_object *o, const char *key)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v;
}

static void
count_status(const char *status)
{
	counts.statuses++;
	if (strcmp(status, "sent") == 0)
		counts.sent++;
	else if (strcmp(status, "delivered") == 0)
		counts.delivered++;
	else if (strcmp(status, "read") == 0)
		counts.read++;
	else if (strcmp(status, "failed") == 0)
		counts.failed++;
}

/* waba, number, wamid, status, timestamp, recipient, callback,
 * pricing category, billable, pricing type, error code */
static void
record_status(const char *waba, const char *number, json_object *st)
{
	json_object *pricing = jget(st, "pricing"),
			   *errors = jget(st, "errors");
	const char *status = jstr(st, "status");
	char		code[16] = "";

	if (errors && json_object_is_type(errors, json_type_array) && json_object_array_length(errors))
		snprintf(code, sizeof(code), "%s", jstr(json_object_array_get_idx(errors, 0), "code") ?: "");
	count_status(status ? status : "");
	if (statuses.len > SINK_LISTING_MAX)
	{
		counts.unlisted++;
		return;
	}
	const char *fields[] = {
		waba, number, jstr(st, "id"), status, jstr(st, "timestamp"),
		jstr(st, "recipient_id"), jstr(st, "biz_opaque_callback_data"),
		pricing ? jstr(pricing, "category") : NULL,
		pricing ? jstr(pricing, "billable") : NULL,
		pricing ? jstr(pricing, "type") : NULL, code
	};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
	{
		if (i)
			sbuf_putc(&statuses, '\t');
		sbuf_tsv_field(&statuses, fields[i]);
	}
	sbuf_putc(&statuses, '\n');
}

static void
record_statuses(json_object *root)
{
	json_object *entries = jget(root, "entry");

	for (size_t i = 0; entries && i < json_object_array_length(entries); i++)
	{
		json_object *entry = json_object_array_get_idx(entries, i),
				   *changes = jget(entry, "changes");

		for (size_t j = 0; changes && j < json_object_array_length(changes); j++)
		{
			json_object *value = jget(json_object_array_get_idx(changes, j), "value"),
					   *sts = jget(value, "statuses");
			const char *number = jstr(jget(value, "metadata"), "phone_number_id");

			for (size_t k = 0; sts && k < json_object_array_length(sts); k++)
				record_status(jstr(entry, "id"), number, json_object_array_get_idx(sts, k));
		}
	}
}

static void
sink_receive(const sim_request *req, sim_reply *r)
{
	const char *sig = req_header(req, "X-Hub-Signature-256");
	const char *ctype = req_header(req, "Content-Type");
	char		err[128];
	json_object *root = json_parse_strict(req->body, req->body_len, err, sizeof(err));
	sink_post  *slot;

	SIM_LOCK();
	if (fail_next > 0)
	{
		fail_next--;
		counts.rejected++;
		SIM_UNLOCK();
		json_object_put(root);
		reply_text(r, 500, "sink: scripted failure\n");
		return;
	}
	slot = &posts[nposts++ % SINK_KEEP];
	free(slot->body);
	free(slot->sig);
	slot->body = xstrdup(req->body);
	slot->len = req->body_len;
	slot->sig = xstrdup(sig ? sig : "");
	if (signature_ok(sig, req->body, req->body_len))
		counts.sig_ok++;
	else
		counts.sig_bad++;
	if (!ctype || strcmp(ctype, "application/json") != 0)
		counts.bad_content_type++;
	if (root)
		record_statuses(root);
	else
		counts.bad_json++;
	SIM_UNLOCK();
	json_object_put(root);
	reply_text(r, 200, "EVENT_RECEIVED\n");
}

static void
sink_summary(sim_reply *r)
{
	sbuf		b;

	sbuf_init(&b, 256);
	SIM_LOCK();
	sbuf_printf(&b, "posts %lld\nstatuses %lld\nsent %lld\ndelivered %lld\nread %lld\nfailed %lld\n"
				"sig_ok %lld\nsig_bad %lld\nrejected %lld\nbad_content_type %lld\nbad_json %lld\n"
				"unlisted %lld\n",
				(long long) nposts, (long long) counts.statuses, (long long) counts.sent,
				(long long) counts.delivered, (long long) counts.read, (long long) counts.failed,
				(long long) counts.sig_ok, (long long) counts.sig_bad, (long long) counts.rejected,
				(long long) counts.bad_content_type, (long long) counts.bad_json,
				(long long) counts.unlisted);
	SIM_UNLOCK();
	reply_sbuf(r, 200, &b);
	r->content_type = "text/plain; charset=utf-8";
}

/* Body or signature of POST number ?i=N (negative counts from the end). */
static void
sink_item(const sim_request *req, bool want_sig, sim_reply *r)
{
	const char *is = req_arg(req, "i");
	long long	i = is ? atoll(is) : -1;

	SIM_LOCK();
	if (i < 0)
		i += nposts;
	if (i < 0 || i >= nposts || i < nposts - SINK_KEEP)
	{
		SIM_UNLOCK();
		reply_sim_error(r, 404, "no such sink post");
		return;
	}
	if (want_sig)
		reply_text(r, 200, posts[i % SINK_KEEP].sig);
	else
	{
		reply_text(r, 200, posts[i % SINK_KEEP].body);
		r->content_type = "application/json";
	}
	SIM_UNLOCK();
}

void
sink_handle(const sim_request *req, const char *path, sim_reply *r)
{
	bool		get = strcmp(req->method, "GET") == 0;

	if (strcmp(path, "") == 0 && strcmp(req->method, "POST") == 0)
		sink_receive(req, r);
	else if (strcmp(path, "") == 0 && get)
		sink_summary(r);
	else if (strcmp(path, "/statuses") == 0 && get)
	{
		SIM_LOCK();
		reply_text(r, 200, statuses.data);
		SIM_UNLOCK();
	}
	else if (strcmp(path, "/body") == 0 && get)
		sink_item(req, false, r);
	else if (strcmp(path, "/sig") == 0 && get)
		sink_item(req, true, r);
	else
		reply_sim_error(r, 404, "unknown sink endpoint");
}
