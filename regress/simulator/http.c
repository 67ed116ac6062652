/*
 * http.c — libmicrohttpd glue: request body accumulation, routing to the
 * Graph and control handlers, auth, request-level faults and responses.
 *
 * MHD runs with its own epoll loop on a pool of --threads threads.  Slow
 * answers suspend the connection (delay.c resumes it), so no thread ever
 * sleeps on behalf of a request.
 */
#include "delay.h"
#include "faults.h"
#include "http.h"
#include "sim.h"

#include <microhttpd.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define MAX_SEGS 4
/* MHD zeroes this per-connection pool between keep-alive requests (a
 * measurable cost at 50k requests/s).  Headers are small and bodies are
 * streamed to us in chunks, so 8 KB (not the default 32 KB) is enough. */
#define CONN_MEMORY (8 * 1024)

static struct MHD_Daemon *daemon_handle;

/* Per-connection request state, from first header to completion. */
typedef struct req_ctx
{
	sbuf		body;
	bool		too_large;
	bool		answer_ready;	/* resumed after a delay: reply is stored */
	sim_reply	reply;
} req_ctx;

const char *
req_arg(const sim_request *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *
req_header(const sim_request *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

/* ---- Graph routing ----------------------------------------------------- */

typedef struct graph_path
{
	const char *version;		/* "v24.0", or NULL when absent */
	const char *seg[MAX_SEGS];
	int			nseg;
	char		buf[512];
} graph_path;

/* v24, v24.0 ... */
static bool
is_version(const char *s)
{
	const char *p = s + 1;

	if (s[0] != 'v' || !(*p >= '0' && *p <= '9'))
		return false;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	return *p == '\0';
}

static bool
split_path(const char *url, graph_path *p)
{
	char	   *save = NULL,
			   *tok;

	p->version = NULL;
	p->nseg = 0;
	if (strlen(url) >= sizeof(p->buf))
		return false;
	strcpy(p->buf, url);
	for (tok = strtok_r(p->buf, "/", &save); tok; tok = strtok_r(NULL, "/", &save))
	{
		if (p->nseg == 0 && !p->version && is_version(tok))
			p->version = tok;
		else if (p->nseg == MAX_SEGS)
			return false;
		else
			p->seg[p->nseg++] = tok;
	}
	return p->nseg > 0;
}

/* Without --version-prefix any /vNN.N/ (or none) is fine, as the Graph
 * API falls back to the app's default version. */
static bool
version_ok(const graph_path *p)
{
	const char *want = sim_opts.version_prefix;

	if (!want)
		return true;
	if (!p->version)
		return false;
	return strcmp(p->version, want) == 0 || (want[0] != 'v' && strcmp(p->version + 1, want) == 0);
}

static bool
authorized(const sim_request *req)
{
	const char *h = req_header(req, "Authorization");
	const char *tok = NULL;

	if (h && strncasecmp(h, "Bearer ", 7) == 0)
		for (tok = h + 7; *tok == ' '; tok++)
			;
	else
		tok = req_arg(req, "access_token");
	if (!tok || !*tok)
		return false;
	if (!sim_opts.token)
		return true;
	return strlen(tok) == strlen(sim_opts.token) &&
		CRYPTO_memcmp(tok, sim_opts.token, strlen(tok)) == 0;
}

static void
reply_unknown_path(sim_reply *r, const char *url)
{
	char		msg[600];
	meta_error	e = {.code = 2500, .message = msg, .details = ""};

	snprintf(msg, sizeof(msg), "Unknown path components: %.500s", url);
	reply_error(r, &e);
}

static void
reply_unsupported(sim_reply *r, const char *method, const char *id)
{
	char		msg[600],
				lower[16];
	meta_error	e = {.code = 100, .message = msg, .type = "GraphMethodException",
	.details = "", .subcode = 33};

	str_lower(lower, method, sizeof(lower));
	snprintf(msg, sizeof(msg), "Unsupported %s request. Object with ID '%.64s' does not exist, "
			 "cannot be loaded due to missing permissions, or does not support this operation. "
			 "Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
			 lower, id);
	reply_error(r, &e);
}

static void
reply_bad_token(sim_reply *r)
{
	meta_error	e = {.code = 190, .http = 401,
		.message = "Invalid OAuth access token - Cannot parse access token", .details = ""};

	reply_error(r, &e);
}

static bool
fault_answer(const fault_draw *f, sim_reply *r)
{
	meta_error	e = {.code = 2, .transient = true, .details = ""};

	switch (f->kind)
	{
		case FAULT_DROP:
			r->drop = true;
			return true;
		case FAULT_FAIL:
			reply_code(r, 131000, NULL);
			return true;
		case FAULT_ERROR2:
			reply_error(r, &e);
			return true;
		default:
			return false;
	}
}

static void
graph_dispatch(const sim_request *req, const graph_path *p, sim_reply *r)
{
	bool		get = strcmp(req->method, "GET") == 0,
				post = strcmp(req->method, "POST") == 0;
	const char *edge = p->nseg == 2 ? p->seg[1] : NULL;

	if (p->nseg > 2 || (edge && strcmp(edge, "messages") && strcmp(edge, "message_templates") &&
						strcmp(edge, "phone_numbers")))
		reply_unknown_path(r, req->url);
	else if (edge && strcmp(edge, "messages") == 0 && post)
		send_handle(req, p->seg[0], r);
	else if (get && !(edge && strcmp(edge, "messages") == 0))
		mgmt_handle(req, p->version, p->seg[0], edge, r);
	else
		reply_unsupported(r, req->method, p->seg[0]);
}

static void
graph_route(const sim_request *req, sim_reply *r)
{
	graph_path	p;
	fault_draw	f;

	if (!split_path(req->url, &p) || !version_ok(&p))
	{
		reply_unknown_path(r, req->url);
		return;
	}
	if (!authorized(req))
	{
		reply_bad_token(r);
		return;
	}
	memset(&f, 0, sizeof(f));
	if (faults_active())
	{
		SIM_LOCK();
		faults_draw(&f);
		SIM_UNLOCK();
	}
	if (!fault_answer(&f, r))
		graph_dispatch(req, &p, r);
	r->delay_ms = f.delay_ms;
	r->lost_reply = f.lost_reply;
}

static void
route(const sim_request *req, sim_reply *r)
{
	if (strncmp(req->url, "/_sim/", 6) == 0)
		control_handle(req, req->url + 6, r);
	else
		graph_route(req, r);
}

/* ---- MHD callbacks ----------------------------------------------------- */

static enum MHD_Result
queue_reply(struct MHD_Connection *c, sim_reply *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (r->lost_reply)
		return MHD_NO;
	resp = MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE);
	if (!resp)
		return MHD_NO;
	r->body = NULL;				/* MHD frees it now */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
							r->content_type ? r->content_type : "application/json");
	if (r->usage_header)
		MHD_add_response_header(resp, "X-Business-Use-Case-Usage", r->usage_header);
	ret = MHD_queue_response(c, (unsigned) r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void
reply_too_large(sim_reply *r)
{
	meta_error	e = {.code = 100, .http = 413, .message = "(#100) Request body is too large",
	.details = "The request body exceeds 3 MB."};

	reply_error(r, &e);
}

static bool
content_length_too_big(struct MHD_Connection *c)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
												 MHD_HTTP_HEADER_CONTENT_LENGTH);

	return cl && strtoull(cl, NULL, 10) > SIM_MAX_BODY;
}

/* Keep at most SIM_MAX_BODY bytes; beyond that, only remember it was too big. */
static void
accumulate(req_ctx *ctx, const char *data, size_t n)
{
	if (ctx->too_large)
		return;
	if (ctx->body.len + n > SIM_MAX_BODY)
	{
		ctx->too_large = true;
		sbuf_free(&ctx->body);
		sbuf_init(&ctx->body, 64);
		return;
	}
	sbuf_put(&ctx->body, data, n);
}

static enum MHD_Result
answer(struct MHD_Connection *c, const char *url, const char *method, req_ctx *ctx)
{
	sim_request req = {.conn = c, .method = method, .url = url,
	.body = ctx->body.data, .body_len = ctx->body.len};

	if (ctx->too_large)
		reply_too_large(&ctx->reply);
	else
		route(&req, &ctx->reply);
	if (ctx->reply.drop)
		return MHD_NO;
	if (ctx->reply.delay_ms > 0)
	{
		ctx->answer_ready = true;
		MHD_suspend_connection(c);
		delay_add(c, ctx->reply.delay_ms);
		return MHD_YES;
	}
	return queue_reply(c, &ctx->reply);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
		   const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	req_ctx    *ctx = *con_cls;

	(void) cls;
	(void) version;
	if (!ctx)
	{
		ctx = xcalloc(1, sizeof(req_ctx));
		sbuf_init(&ctx->body, 512);
		*con_cls = ctx;
		/* Refuse a declared huge body before reading it. */
		if (content_length_too_big(c))
		{
			ctx->too_large = true;
			reply_too_large(&ctx->reply);
			return queue_reply(c, &ctx->reply);
		}
		return MHD_YES;
	}
	if (ctx->answer_ready)
		return queue_reply(c, &ctx->reply);
	if (*upload_size)
	{
		accumulate(ctx, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	return answer(c, url, method, ctx);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	req_ctx    *ctx = *con_cls;

	(void) cls;
	(void) c;
	(void) toe;
	if (!ctx)
		return;
	sbuf_free(&ctx->body);
	reply_free(&ctx->reply);
	free(ctx);
	*con_cls = NULL;
}

/* ---- start/stop -------------------------------------------------------- */

static bool
resolve_listen(struct sockaddr_storage *ss, socklen_t *len, bool *v6, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
	.ai_flags = AI_PASSIVE};
	struct addrinfo *res = NULL;
	char		port[16];
	int			rc;

	snprintf(port, sizeof(port), "%d", sim_opts.port);
	if ((rc = getaddrinfo(sim_opts.listen_addr, port, &hints, &res)) != 0)
	{
		snprintf(err, errlen, "cannot resolve %s: %s", sim_opts.listen_addr, gai_strerror(rc));
		return false;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	*v6 = res->ai_family == AF_INET6;
	freeaddrinfo(res);
	return true;
}

bool
http_start(char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t	sslen;
	bool		v6;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
		MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO;

	if (!resolve_listen(&ss, &sslen, &v6, err, errlen))
		return false;
	if (v6)
		flags |= MHD_USE_IPv6;
	if (sim_opts.verbose)
		flags |= MHD_USE_ERROR_LOG;
	daemon_handle = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL,
									 MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &ss,
									 MHD_OPTION_THREAD_POOL_SIZE, (unsigned int) sim_opts.threads,
									 MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
									 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 120,
									 MHD_OPTION_CONNECTION_LIMIT, (unsigned int) 20000,
									 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) CONN_MEMORY,
									 MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int) 1,
									 MHD_OPTION_END);
	if (!daemon_handle)
	{
		snprintf(err, errlen, "cannot listen on %s port %d", sim_opts.listen_addr, sim_opts.port);
		return false;
	}
	return true;
}

int
http_port(void)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon_handle, MHD_DAEMON_INFO_BIND_PORT);

	return info ? (int) info->port : sim_opts.port;
}

void
http_stop(void)
{
	if (daemon_handle)
		MHD_stop_daemon(daemon_handle);
	daemon_handle = NULL;
}
