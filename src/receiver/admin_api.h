/*
 * admin_api.h — antiban-receiver: what the admin listener answers, each
 * from one prepared statement on the admin pool (--admin-conninfo).
 */
#ifndef RECEIVER_ADMIN_API_H
#define RECEIVER_ADMIN_API_H

#include "pool.h"

#include <microhttpd.h>
#include <stdbool.h>

/* The admin pool (set by admin_http_start). */
extern pool *admin_pool;

/* Prepares the admin statements on a new connection (a pool_setup_fn). */
extern bool admin_api_prepare(PGconn *conn);

/* GET /metrics: Prometheus text. */
extern enum MHD_Result admin_api_metrics(struct MHD_Connection *conn, int *status);

/* GET /health: 200 when the admin database connection answers, else 503. */
extern enum MHD_Result admin_api_health(struct MHD_Connection *conn, int *status);

/* GET /api/dashboard: antiban.dashboard_json(). */
extern enum MHD_Result admin_api_dashboard(struct MHD_Connection *conn, int *status);

/* GET /api/panels/NAME: antiban.dashboard_panel(NAME). */
extern enum MHD_Result admin_api_panel(struct MHD_Connection *conn, const char *name, int *status);

/* POST /api/alerts/ID/ack: antiban.acknowledge_alert(ID), after the CSRF checks. */
extern enum MHD_Result admin_api_ack(struct MHD_Connection *conn, const char *id, int *status);

#endif							/* RECEIVER_ADMIN_API_H */
