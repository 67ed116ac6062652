/*
 * admin_http.c — antiban-receiver: the private admin listener.
 *
 * A second libmicrohttpd server, bound to 127.0.0.1 unless told otherwise,
 * never on the public webhook port, with its own database pool as a
 * read-only role.  Routes:
 *
 *   GET  /health                 no auth: 200 when the admin database answers
 *   GET  /metrics                Prometheus text
 *   GET  /api/dashboard          every panel, one JSON object
 *   GET  /api/panels/NAME        one panel
 *   POST /api/alerts/ID/ack      acknowledge an alert (CSRF-checked)
 *   GET  /, /FILE                the dashboard page (--admin-assets)
 *
 * With --admin-auth-file every route but /health needs HTTP basic auth.
 */
#include "admin_api.h"
#include "admin_auth.h"
#include "admin_http.h"
#include "assets.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "options.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ADMIN_MAX_BODY	4096	/* the one POST carries nothing */

/*
 * No inline script or style, no eval, nothing from elsewhere: the page is
 * index.html, app.js, style.css and the chart library, all from here.
 */
#define ADMIN_CSP "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " \
	"connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

typedef enum admin_route
{
	ROUTE_ANSWERED,				/* answered on the first call */
	ROUTE_ACK,					/* POST: answered once the body is in */
} admin_route;

typedef struct admin_request
{
	struct timespec started;
	char		method[LOG_METHOD_MAX];
	char		path[LOG_PATH_MAX];
	char		alert_id[24];
	int			status;
	admin_route route;
	size_t		received;
} admin_request;

static struct MHD_Daemon *admin_daemon;
static atomic_bool stopping;

bool
admin_http_headers(struct MHD_Response *r, const char *type, const char *cache)
{
	return MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) == MHD_YES &&
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, cache) == MHD_YES &&
		MHD_add_response_header(r, "Content-Security-Policy", ADMIN_CSP) == MHD_YES &&
		MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") == MHD_YES &&
		MHD_add_response_header(r, "X-Frame-Options", "DENY") == MHD_YES &&
		MHD_add_response_header(r, "Referrer-Policy", "no-referrer") == MHD_YES &&
		MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin") == MHD_YES;
}

static enum MHD_Result
queue(struct MHD_Connection *conn, unsigned int code, struct MHD_Response *r, const char *type,
	  int *status)
{
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	if (!admin_http_headers(r, type, "no-store"))
	{
		MHD_destroy_response(r);
		return MHD_NO;
	}
	*status = (int) code;
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result
admin_reply_json(struct MHD_Connection *conn, unsigned int code, const char *json, int *status)
{
	return queue(conn, code, MHD_create_response_from_buffer(strlen(json), (void *) json,
															 MHD_RESPMEM_PERSISTENT),
				 "application/json", status);
}

enum MHD_Result
admin_reply_copy(struct MHD_Connection *conn, unsigned int code, const char *type,
				 const char *body, size_t len, int *status)
{
	return queue(conn, code, MHD_create_response_from_buffer(len, (void *) body, MHD_RESPMEM_MUST_COPY),
				 type, status);
}

enum MHD_Result
admin_reply_owned(struct MHD_Connection *conn, unsigned int code, const char *type, strbuf *sb,
				  int *status)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(sb->len, sb->data ? sb->data : "",
															 sb->data ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);

	if (!r)
	{
		sb_free(sb);
		return MHD_NO;
	}
	memset(sb, 0, sizeof(*sb));
	return queue(conn, code, r, type, status);
}

/* 401 with WWW-Authenticate, so a browser asks for the user and password. */
static enum MHD_Result
ask_for_credentials(struct MHD_Connection *conn, admin_request *req)
{
	static const char body[] = "{\"error\":\"authentication required\"}";
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *) body,
															 MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r || !admin_http_headers(r, "application/json", "no-store"))
	{
		if (r)
			MHD_destroy_response(r);
		return MHD_NO;
	}
	req->status = MHD_HTTP_UNAUTHORIZED;
	ret = MHD_queue_basic_auth_fail_response(conn, "antiban dashboard", r);
	MHD_destroy_response(r);
	return ret;
}

static bool
authorized(struct MHD_Connection *conn)
{
	char	   *password = NULL;
	char	   *user;
	bool		ok;

	if (!admin_auth_enabled())
		return true;
	user = MHD_basic_auth_get_username_password(conn, &password);
	ok = admin_auth_check(user, password);
	if (password)
	{
		explicit_bzero(password, strlen(password));
		MHD_free(password);
	}
	if (user)
		MHD_free(user);
	return ok;
}

/* "/api/alerts/ID/ack" -> ID into out; false for any other path. */
static bool
match_ack(const char *url, char *out, size_t outlen)
{
	static const char prefix[] = "/api/alerts/";
	const char *id = url + sizeof(prefix) - 1;
	const char *slash;

	if (strncmp(url, prefix, sizeof(prefix) - 1) != 0 || !(slash = strchr(id, '/')) ||
		strcmp(slash, "/ack") != 0 || (size_t) (slash - id) >= outlen)
		return false;
	memcpy(out, id, slash - id);
	out[slash - id] = '\0';
	return true;
}

static enum MHD_Result
route_get(struct MHD_Connection *conn, admin_request *req, const char *url)
{
	static const char panels[] = "/api/panels/";
	struct MHD_Response *asset;

	if (strcmp(url, "/metrics") == 0)
		return admin_api_metrics(conn, &req->status);
	if (strcmp(url, "/api/dashboard") == 0)
		return admin_api_dashboard(conn, &req->status);
	if (strncmp(url, panels, sizeof(panels) - 1) == 0)
		return admin_api_panel(conn, url + sizeof(panels) - 1, &req->status);
	if ((asset = assets_find(url)))
	{
		req->status = MHD_HTTP_OK;
		return MHD_queue_response(conn, MHD_HTTP_OK, asset);
	}
	if (strcmp(url, "/") == 0)
		return admin_reply_json(conn, 503, "{\"error\":\"the dashboard page is not installed (see --admin-assets); /metrics and /api/dashboard work\"}",
								&req->status);
	return admin_reply_json(conn, 404, "{\"error\":\"not found\"}", &req->status);
}

static enum MHD_Result
route(struct MHD_Connection *conn, admin_request *req, const char *url, const char *method)
{
	bool		is_get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;

	if (atomic_load(&stopping))
		return admin_reply_json(conn, 503, "{\"error\":\"shutting down\"}", &req->status);
	if (is_get && strcmp(url, "/health") == 0)
		return admin_api_health(conn, &req->status);
	if (!authorized(conn))
		return ask_for_credentials(conn, req);
	if (is_get)
		return route_get(conn, req, url);
	if (strcmp(method, MHD_HTTP_METHOD_POST) == 0 &&
		match_ack(url, req->alert_id, sizeof(req->alert_id)))
	{
		req->route = ROUTE_ACK;
		return MHD_YES;
	}
	return admin_reply_json(conn, 405, "{\"error\":\"method not allowed\"}", &req->status);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
		   const char *version, const char *upload_data, size_t *upload_data_size,
		   void **con_cls)
{
	admin_request *req = *con_cls;

	(void) cls;
	(void) version;
	(void) upload_data;
	if (!req)
	{
		if (!(req = calloc(1, sizeof(admin_request))))
			return MHD_NO;
		clock_gettime(CLOCK_MONOTONIC, &req->started);
		log_sanitize(req->method, sizeof(req->method), method);
		log_sanitize(req->path, sizeof(req->path), url);
		req->path[strcspn(req->path, "?")] = '\0';
		*con_cls = req;
		return route(conn, req, url, method);
	}
	if (req->status)
	{
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size)
	{
		req->received += *upload_data_size;
		*upload_data_size = 0;
		return MHD_YES;			/* the body means nothing: dropped */
	}
	if (req->received > ADMIN_MAX_BODY)
		return admin_reply_json(conn, 413, "{\"error\":\"body too large\"}", &req->status);
	return admin_api_ack(conn, req->alert_id, &req->status);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	admin_request *req = *con_cls;
	struct timespec now;

	(void) cls;
	(void) conn;
	if (!req)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!receiver_opts.quiet || toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		log_line("admin %s %s %d %.2f ms%s", req->method, req->path, req->status,
				 (now.tv_sec - req->started.tv_sec) * 1e3 + (now.tv_nsec - req->started.tv_nsec) / 1e6,
				 toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " not completed");
	free(req);
	*con_cls = NULL;
}

static void
mhd_logger(void *cls, const char *fmt, va_list ap)
{
	char		msg[512];

	(void) cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_line("admin libmicrohttpd: %s", msg);
}

static bool
resolve(struct sockaddr_storage *addr, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
	.ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *ai;
	char		port[8];
	int			rc;

	snprintf(port, sizeof(port), "%d", receiver_opts.admin_port);
	if ((rc = getaddrinfo(receiver_opts.admin_listen, port, &hints, &ai)) != 0)
	{
		snprintf(err, errlen, "cannot resolve --admin-listen %s: %s", receiver_opts.admin_listen,
				 gai_strerror(rc));
		return false;
	}
	memcpy(addr, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	return true;
}

static bool
start_daemon(char *err, size_t errlen)
{
	struct sockaddr_storage addr;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC |
		MHD_USE_ERROR_LOG;

	if (!resolve(&addr, err, errlen))
		return false;
	if (addr.ss_family == AF_INET6)
		flags |= IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *) &addr)->sin6_addr) ?
			MHD_USE_DUAL_STACK : MHD_USE_IPv6;
	admin_daemon = MHD_start_daemon(flags, (uint16_t) receiver_opts.admin_port, NULL, NULL, on_request, NULL,
									MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL,
									MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr,
									MHD_OPTION_THREAD_POOL_SIZE, (unsigned int) ADMIN_THREADS,
									MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) CONNECTION_TIMEOUT_S,
									MHD_OPTION_CONNECTION_LIMIT, (unsigned int) ADMIN_CONNECTION_LIMIT,
									MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) CONNECTION_MEMORY,
									MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
									MHD_OPTION_END);
	if (!admin_daemon)
	{
		snprintf(err, errlen, "cannot listen on %s port %d (admin): %s", receiver_opts.admin_listen,
				 receiver_opts.admin_port, errno ? strerror(errno) : "libmicrohttpd failed to start");
		return false;
	}
	return true;
}

bool
admin_http_start(char *err, size_t errlen)
{
	int			n;

	if (receiver_opts.admin_auth_file && !admin_auth_load(receiver_opts.admin_auth_file, err, errlen))
		return false;
	if (!receiver_opts.admin_auth_file)
		log_line("admin listener without --admin-auth-file: anyone who reaches %s can read the dashboard "
				 "and acknowledge alerts", receiver_opts.admin_listen);
	n = assets_load(receiver_opts.admin_assets);
	if (n < 0)
		log_line("dashboard page not found in %s (--admin-assets): only /metrics, /health and /api/ are served",
				 receiver_opts.admin_assets);
	else
		log_line("dashboard page: %d files from %s", n, receiver_opts.admin_assets);
	admin_pool = pool_create("admin", receiver_opts.admin_conninfo, ADMIN_POOL, admin_api_prepare);
	if (pool_warm(admin_pool) < 1)
		log_line("admin database connection not ready: the dashboard and the database's metrics "
				 "answer 503 / are absent until it can be made");
	if (!start_daemon(err, errlen))
	{
		pool_close(admin_pool);
		assets_free();
		admin_auth_free();
		return false;
	}
	return true;
}

int
admin_http_port(void)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(admin_daemon, MHD_DAEMON_INFO_BIND_PORT);

	return info ? info->port : receiver_opts.admin_port;
}

/* Admin requests are short reads: they are not drained, only cut. */
void
admin_http_stop(void)
{
	atomic_store(&stopping, true);
	MHD_stop_daemon(admin_daemon);
	admin_daemon = NULL;
	pool_close(admin_pool);
	assets_free();
	admin_auth_free();
}
