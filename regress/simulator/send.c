/*
 * send.c — POST /{phone-number-id}/messages.
 *
 * Parse and validate outside the lock; then, under it and in this order:
 * resolve the number (auto-register or --strict-numbers), resolve the
 * template (132001/132015/132016, and 132000/132012/132005/131008/131009
 * against its configured components), scripted failures (fail_next),
 * the four limits, and finally accept: ledger, webhook queue, wamid.
 * The answer is formatted after the lock is released.
 */
#include "errors.h"
#include "http.h"
#include "ledger.h"
#include "limits.h"
#include "sim.h"
#include "state.h"
#include "template_fit.h"
#include "validate.h"
#include "webhooks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The outcome of the locked part, copied out so the lock can go. */
typedef struct decision
{
	bool		accepted;
	bool		registered;		/* the number was auto-registered */
	char		wamid[64];
	meta_error	err;
	char		message[400];
	char		details[400];
} decision;

static void
decide_error(decision *d, int code, int http, const char *details)
{
	d->accepted = false;
	memset(&d->err, 0, sizeof(d->err));
	d->err.code = code;
	d->err.http = http;
	if (details)
	{
		snprintf(d->details, sizeof(d->details), "%s", details);
		d->err.details = d->details;
	}
}

static void
unknown_number(decision *d, const char *id)
{
	decide_error(d, 100, 400, NULL);
	snprintf(d->message, sizeof(d->message),
			 "Unsupported post request. Object with ID '%.64s' does not exist, cannot be loaded "
			 "due to missing permissions, or does not support this operation. Please read the "
			 "Graph API documentation at https://developers.facebook.com/docs/graph-api", id);
	snprintf(d->details, sizeof(d->details),
			 "Object with ID '%.64s' is not a phone number known to the simulator (--strict-numbers).", id);
	d->err.message = d->message;
	d->err.type = "GraphMethodException";
	d->err.subcode = 33;
	d->err.details = d->details;
}

static const char *
pricing_category(const char *category)
{
	if (strcmp(category, "MARKETING") == 0)
		return "marketing";
	if (strcmp(category, "AUTHENTICATION") == 0)
		return "authentication";
	return "utility";
}

/* Meta's verdict on a configured template: 0, or the error code with details. */
static int
template_check(const sim_template *t, const send_request *sr, char *details, size_t len)
{
	if (t && strcmp(t->status, "PAUSED") == 0)
	{
		snprintf(details, len, "Template %.200s is paused.", t->name);
		return 132015;
	}
	if (t && strcmp(t->status, "DISABLED") == 0)
	{
		snprintf(details, len, "Template %.200s is disabled.", t->name);
		return 132016;
	}
	if (!t || strcmp(t->status, "APPROVED") != 0)
	{
		snprintf(details, len, "template name (%.200s) does not exist in %.20s",
				 sr->template_name, sr->template_lang);
		return 132001;
	}
	if (t->params >= 0 && t->params != sr->body_params)
	{
		snprintf(details, len, "body: number of localizable_params (%d) does not match "
				 "the expected number of params (%d)", sr->body_params, t->params);
		return 132000;
	}
	if (t->shape)
		return template_fit(t->shape, sr->template_components, details, len);
	return 0;
}

/*
 * A WABA with no templates configured accepts any template as UTILITY, so
 * tests that do not care about templates need no setup.  Once templates
 * are configured, Meta's checks apply.
 */
static bool
resolve_template(const sim_number *n, const send_request *sr, const char **category,
				 decision *d)
{
	sim_waba   *w;
	sim_template *t;
	bool		known;
	char		details[400];
	int			code;

	*category = "service";
	if (sr->type != MT_TEMPLATE)
		return true;
	*category = "utility";
	w = strmap_get(&sim_wabas, n->waba_id);
	if (!w || w->ntemplates == 0)
		return true;
	t = template_find(w, sr->template_name, sr->template_lang, &known);
	if ((code = template_check(t, sr, details, sizeof(details))) != 0)
	{
		decide_error(d, code, 0, details);
		return false;
	}
	*category = pricing_category(t->category);
	return true;
}

/* Scripted synchronous failure (POST /_sim/script fail_next). */
static bool
scripted_failure(sim_number *n, decision *d)
{
	scripted_error *s = &n->fail_next;

	if (s->remaining <= 0)
		return false;
	s->remaining--;
	decide_error(d, s->code, s->http, s->details);
	n->errors_injected++;
	sim_ledger.errors_injected++;
	sim_ledger.scripted++;
	return true;
}

static void
accept_send(sim_number *n, const send_request *sr, const char *category, decision *d)
{
	int			fail_code = 0;
	sim_msg    *m;

	if (n->fail_async.remaining > 0)
	{
		n->fail_async.remaining--;
		fail_code = n->fail_async.code;
		n->async_failed++;
		sim_ledger.async_failed++;
	}
	m = ledger_accept(n, sr, category, fail_code, sim_wall_ms());
	n->accepted++;
	webhooks_enqueue(m);
	snprintf(d->wamid, sizeof(d->wamid), "%s", m->wamid);
	msg_release(m);
	d->accepted = true;
}

static void
decide(const char *number_id, const send_request *sr, decision *d)
{
	sim_number *n;
	const char *category;
	limit_kind	k;

	SIM_LOCK();
	if (!(n = number_find(number_id)))
	{
		if (sim_cfg.strict_numbers)
		{
			sim_ledger.rejected_invalid++;
			unknown_number(d, number_id);
			SIM_UNLOCK();
			return;
		}
		n = number_create(number_id);
		d->registered = true;
	}
	if (!resolve_template(n, sr, &category, d))
	{
		n->rejected++;
		sim_ledger.rejected_invalid++;
	}
	else if (!scripted_failure(n, d))
	{
		k = limits_admit(n, sr->recipient, sr->type == MT_TEMPLATE,
						 strcmp(category, "marketing") == 0, sim_mono_ms());
		if (k == LIM_NONE)
			accept_send(n, sr, category, d);
		else
		{
			n->violations[k]++;
			sim_ledger.violations[k]++;
			limits_error(k, &d->err);
			d->accepted = false;
		}
	}
	SIM_UNLOCK();
}

static void
reply_accepted(sim_reply *r, const send_request *sr, const char *wamid)
{
	sbuf		b;

	sbuf_init(&b, 256);
	sbuf_puts(&b, "{\"messaging_product\":\"whatsapp\",\"contacts\":[{\"input\":");
	sbuf_json_str(&b, sr->to);
	sbuf_puts(&b, ",\"wa_id\":");
	sbuf_json_str(&b, sr->wa_id);
	if (sr->is_bsuid)
	{
		sbuf_puts(&b, ",\"user_id\":");
		sbuf_json_str(&b, sr->recipient);
	}
	sbuf_printf(&b, "}],\"messages\":[{\"id\":\"%s\"%s}]}", wamid,
				sr->type == MT_TEMPLATE ? ",\"message_status\":\"accepted\"" : "");
	reply_sbuf(r, 200, &b);
}

static void
count_invalid(const char *number_id)
{
	sim_number *n;

	SIM_LOCK();
	sim_ledger.rejected_invalid++;
	if ((n = number_find(number_id)))
		n->rejected++;
	SIM_UNLOCK();
}

void
send_handle(const sim_request *req, const char *number_id, sim_reply *r)
{
	char		perr[160],
				details[200];
	json_object *root = json_parse_strict(req->body, req->body_len, perr, sizeof(perr));
	send_request sr;
	verr		ve;
	decision	d = {0};

	if (!root)
	{
		count_invalid(number_id);
		snprintf(details, sizeof(details), "Request body is not valid JSON: %s", perr);
		reply_code(r, 100, details);
		return;
	}
	if (!validate_send(root, &sr, &ve))
	{
		count_invalid(number_id);
		reply_code(r, ve.code, ve.details);
	}
	else if (sr.mark_read)
	{
		SIM_LOCK();
		sim_ledger.marked_read++;
		SIM_UNLOCK();
		reply_text(r, 200, "{\"success\":true}");
		r->content_type = "application/json";
	}
	else
	{
		decide(number_id, &sr, &d);
		if (d.accepted)
			reply_accepted(r, &sr, d.wamid);
		else
			reply_error(r, &d.err);
		if (d.registered)
			sim_log("auto-registered phone number id %s (throughput %lld mps, portfolio default)",
					number_id, (long long) sim_cfg.default_throughput);
	}
	json_object_put(root);
}
