/*
 * admin_api.c — antiban-receiver: the admin listener's answers.
 *
 * Every answer is one prepared statement over a view or function of
 * src/sql/88_dashboard.sql, run as the --admin-conninfo role (a member of
 * antiban_dashboard: reads, and acknowledge_alert as its only write).  The
 * JSON the page reads is built by the database; this file passes it on.
 */
#include "admin_api.h"
#include "admin_http.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "strbuf.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

pool	   *admin_pool;

typedef enum admin_statement_id
{
	STMT_METRICS,
	STMT_HEALTH,
	STMT_DASHBOARD,
	STMT_PANEL,
	STMT_ACK,
	N_ADMIN_STATEMENTS
} admin_statement_id;

static const db_statement statements[N_ADMIN_STATEMENTS] = {
	[STMT_METRICS] = {
		"antiban.prometheus_metrics", "antiban_admin_metrics",
		"SELECT name, type, help, labels, value FROM antiban.prometheus_metrics ORDER BY name",
		0, {0}
	},
	[STMT_HEALTH] = {
		"health check", "antiban_admin_health",
		"SELECT antiban.now()",
		0, {0}
	},
	[STMT_DASHBOARD] = {
		"antiban.dashboard_json", "antiban_admin_dashboard",
		"SELECT antiban.dashboard_json()",
		0, {0}
	},
	[STMT_PANEL] = {
		"antiban.dashboard_panel", "antiban_admin_panel",
		"SELECT antiban.dashboard_panel($1)",
		1, {TEXTOID}
	},
	[STMT_ACK] = {
		"antiban.acknowledge_alert", "antiban_admin_ack",
		"SELECT antiban.acknowledge_alert($1)",
		1, {INT8OID}
	},
};

bool
admin_api_prepare(PGconn *conn)
{
	return db_prepare_statements(conn, statements, N_ADMIN_STATEMENTS);
}

static PGresult *
run(admin_statement_id id, const char *param)
{
	const char *values[1] = {param};

	return db_run(admin_pool, &statements[id], param ? values : NULL, NULL, NULL);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static enum MHD_Result
unavailable(struct MHD_Connection *conn, int *status)
{
	return admin_reply_json(conn, 503, "{\"error\":\"database unavailable or refused the query (see the receiver's log)\"}",
							status);
}

/* Always 200: without the database, the receiver's own metrics still tell. */
enum MHD_Result
admin_api_metrics(struct MHD_Connection *conn, int *status)
{
	double		start = now_s();
	PGresult   *res = run(STMT_METRICS, NULL);
	double		took = now_s() - start;
	strbuf		out = {0};

	if (res && PQnfields(res) != 5)
	{
		log_line("antiban.prometheus_metrics returned %d columns, not 5", PQnfields(res));
		PQclear(res);
		res = NULL;
	}
	metrics_render(&out, res, took, http_in_flight());
	PQclear(res);
	if (out.failed)
	{
		sb_free(&out);
		return MHD_NO;
	}
	return admin_reply_owned(conn, 200, "text/plain; version=0.0.4; charset=utf-8", &out, status);
}

enum MHD_Result
admin_api_health(struct MHD_Connection *conn, int *status)
{
	PGresult   *res = run(STMT_HEALTH, NULL);

	if (!res)
		return admin_reply_json(conn, 503, "{\"receiver\":\"up\",\"database\":\"unavailable\"}", status);
	PQclear(res);
	return admin_reply_json(conn, 200, "{\"receiver\":\"up\",\"database\":\"up\"}", status);
}

/* A one-row, one-column json result as the answer; NULL json is 404. */
static enum MHD_Result
reply_json_result(struct MHD_Connection *conn, PGresult *res, const char *if_null, int *status)
{
	enum MHD_Result ret;

	if (!res)
		return unavailable(conn, status);
	if (PQntuples(res) != 1 || PQnfields(res) != 1)
		ret = unavailable(conn, status);
	else if (PQgetisnull(res, 0, 0))
		ret = admin_reply_json(conn, 404, if_null, status);
	else
		ret = admin_reply_copy(conn, 200, "application/json", PQgetvalue(res, 0, 0),
							   (size_t) PQgetlength(res, 0, 0), status);
	PQclear(res);
	return ret;
}

enum MHD_Result
admin_api_dashboard(struct MHD_Connection *conn, int *status)
{
	return reply_json_result(conn, run(STMT_DASHBOARD, NULL), "{\"error\":\"no dashboard\"}", status);
}

static bool
panel_name_ok(const char *name)
{
	size_t		len = strlen(name);

	if (len == 0 || len > 40 || !(name[0] >= 'a' && name[0] <= 'z'))
		return false;
	for (const char *c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
			return false;
	return true;
}

enum MHD_Result
admin_api_panel(struct MHD_Connection *conn, const char *name, int *status)
{
	if (!panel_name_ok(name))
		return admin_reply_json(conn, 404, "{\"error\":\"no such panel\"}", status);
	return reply_json_result(conn, run(STMT_PANEL, name),
							 "{\"error\":\"not set up: its view antiban.dashboard_<panel> does not exist\"}", status);
}

/*
 * A cross-site page can make a browser POST here with the user's basic-auth
 * credentials attached, but it cannot add a custom header without a CORS
 * preflight, which this listener never approves; and a browser that says
 * where the request comes from must say it comes from this page.
 */
static bool
same_origin(struct MHD_Connection *conn)
{
	const char *marker = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Requested-With");
	const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
	const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	const char *site = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-Fetch-Site");

	if (!marker || strcmp(marker, "antiban-dashboard") != 0)
		return false;
	if (site && strcmp(site, "same-origin") != 0)
		return false;
	if (origin)
	{
		const char *rest = strncmp(origin, "http://", 7) == 0 ? origin + 7 :
			strncmp(origin, "https://", 8) == 0 ? origin + 8 : NULL;

		if (!rest || !host || strcmp(rest, host) != 0)
			return false;
	}
	return true;
}

static bool
alert_id_ok(const char *id)
{
	size_t		len = strlen(id);

	if (len == 0 || len > 18)
		return false;
	for (const char *c = id; *c; c++)
		if (*c < '0' || *c > '9')
			return false;
	return true;
}

enum MHD_Result
admin_api_ack(struct MHD_Connection *conn, const char *id, int *status)
{
	PGresult   *res;
	enum MHD_Result ret;

	if (!same_origin(conn))
		return admin_reply_json(conn, 403,
								"{\"error\":\"cross-site request refused: send X-Requested-With: antiban-dashboard from the dashboard's own origin\"}",
								status);
	if (!alert_id_ok(id))
		return admin_reply_json(conn, 404, "{\"error\":\"no such alert\"}", status);
	if (!(res = run(STMT_ACK, id)))
		return unavailable(conn, status);
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		ret = admin_reply_json(conn, 200, "{\"acknowledged\":true}", status);
	else
		ret = admin_reply_json(conn, 409, "{\"acknowledged\":false,\"error\":\"no such open alert (already acknowledged?)\"}",
							   status);
	PQclear(res);
	return ret;
}
