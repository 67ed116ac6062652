/*
 * control.c — the simulator's own API under /_sim/ (no auth):
 *
 *   GET  /_sim/health            "ok"
 *   POST /_sim/config            merge configuration (JSON)
 *   GET  /_sim/config            current configuration (JSON)
 *   POST /_sim/script            scripted errors, state changes, faults
 *   POST /_sim/reset[?keep_config=1]
 *   GET  /_sim/ledger            summary (JSON)
 *   POST /_sim/ledger/write      write --ledger-file now
 *   GET  /_sim/messages[?from=N&limit=M]   accepted messages (TSV)
 *   GET  /_sim/mgmt_calls        management calls (TSV)
 *   *    /_sim/sink...           built-in webhook receiver (sink.c)
 */
#include "config.h"
#include "http.h"
#include "ledger.h"
#include "mgmt.h"
#include "sim.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
reply_ok(sim_reply *r)
{
	reply_text(r, 200, "{\"ok\":true}\n");
	r->content_type = "application/json";
}

typedef bool (*json_apply_fn) (json_object *doc, char *err, size_t errlen);

/* Parse the body and hand it to config_apply/script_apply under the lock. */
static void
post_json(const sim_request *req, json_apply_fn apply, sim_reply *r)
{
	char		err[512];
	json_object *doc = json_parse_strict(req->body, req->body_len, err, sizeof(err));
	bool		ok;

	if (!doc)
	{
		reply_sim_error(r, 400, err);
		return;
	}
	SIM_LOCK();
	ok = apply(doc, err, sizeof(err));
	SIM_UNLOCK();
	json_object_put(doc);
	if (ok)
		reply_ok(r);
	else
		reply_sim_error(r, 400, err);
}

typedef void (*dump_fn) (sbuf *b);

static void
get_locked(dump_fn fn, const char *ctype, sim_reply *r)
{
	sbuf		b;

	sbuf_init(&b, 4096);
	SIM_LOCK();
	fn(&b);
	SIM_UNLOCK();
	reply_sbuf(r, 200, &b);
	r->content_type = ctype;
}

static void
get_messages(const sim_request *req, sim_reply *r)
{
	const char *from = req_arg(req, "from"),
			   *limit = req_arg(req, "limit");
	sbuf		b;

	sbuf_init(&b, 1 << 16);
	SIM_LOCK();
	ledger_messages_tsv(&b, from ? strtoull(from, NULL, 10) : 0,
						limit ? strtoull(limit, NULL, 10) : SIZE_MAX);
	SIM_UNLOCK();
	reply_sbuf(r, 200, &b);
	r->content_type = "text/tab-separated-values; charset=utf-8";
}

static void
post_reset(const sim_request *req, sim_reply *r)
{
	const char *keep = req_arg(req, "keep_config");
	char		err[512];

	if (sim_reset(keep && strcmp(keep, "0") != 0, err, sizeof(err)))
		reply_ok(r);
	else
		reply_sim_error(r, 500, err);
}

static void
post_ledger_write(sim_reply *r)
{
	char		err[512];
	bool		ok;

	if (!sim_opts.ledger_file)
	{
		reply_sim_error(r, 400, "no --ledger-file given");
		return;
	}
	SIM_LOCK();
	ok = ledger_write_file(sim_opts.ledger_file, err, sizeof(err));
	SIM_UNLOCK();
	if (ok)
		reply_ok(r);
	else
		reply_sim_error(r, 500, err);
}

void
control_handle(const sim_request *req, const char *path, sim_reply *r)
{
	bool		get = strcmp(req->method, "GET") == 0,
				post = strcmp(req->method, "POST") == 0;

	if (strncmp(path, "sink", 4) == 0 && (path[4] == '\0' || path[4] == '/'))
		sink_handle(req, path + 4, r);
	else if (get && strcmp(path, "health") == 0)
		reply_text(r, 200, "ok\n");
	else if (post && strcmp(path, "config") == 0)
		post_json(req, config_apply, r);
	else if (get && strcmp(path, "config") == 0)
		get_locked(config_dump, "application/json", r);
	else if (post && strcmp(path, "script") == 0)
		post_json(req, script_apply, r);
	else if (post && strcmp(path, "reset") == 0)
		post_reset(req, r);
	else if (get && strcmp(path, "ledger") == 0)
		get_locked(ledger_summary, "application/json", r);
	else if (post && strcmp(path, "ledger/write") == 0)
		post_ledger_write(r);
	else if (get && strcmp(path, "messages") == 0)
		get_messages(req, r);
	else if (get && strcmp(path, "mgmt_calls") == 0)
		get_locked(mgmt_calls_tsv, "text/tab-separated-values; charset=utf-8", r);
	else
		reply_sim_error(r, 404, "unknown control endpoint or method");
}
