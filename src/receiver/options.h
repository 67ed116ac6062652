/*
 * options.h — antiban-receiver: run-time options (command line and
 * ANTIBAN_RECEIVER_* environment variables).
 */
#ifndef RECEIVER_OPTIONS_H
#define RECEIVER_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct receiver_options
{
	const char *conninfo;		/* libpq conninfo; NULL when not given */
	const char *listen_addr;
	int			port;			/* 0 = any free port */
	const char *port_file;
	int			pool;			/* database connections */
	int			threads;		/* libmicrohttpd worker threads */
	long		max_body;		/* bytes */
	const char *path;			/* webhook path */
	bool		no_db;			/* benchmark ceiling mode */
	bool		quiet;			/* no per-request log lines */
	int			batch;			/* most POSTs in one database call */
	int			queue;			/* most requests waiting for the database */
	int			max_connections;	/* open client connections */
	int			max_per_ip;		/* of them from one address; 0: no limit */
	int			header_timeout; /* seconds to send the headers */
	int			body_timeout;	/* seconds to send the body */

	/* the private admin listener: dashboard, /metrics, /health */
	int			admin_port;		/* -1 = no admin listener; 0 = any free port */
	const char *admin_listen;
	const char *admin_port_file;
	const char *admin_conninfo; /* a login role in antiban_dashboard */
	const char *admin_auth_file;	/* user:hash lines; NULL = no auth */
	const char *admin_assets;	/* the built dashboard (index.html, app.js...) */
} receiver_options;

extern receiver_options receiver_opts;

/* Fills receiver_opts from the environment, then argv; exits on error. */
extern void options_parse(int argc, char **argv);

#endif							/* RECEIVER_OPTIONS_H */
