/*
 * config.h — antiban-receiver: compile-time constants.
 *
 * Everything a deployment may want to change is a command-line option
 * (options.h); what stays here are safety bounds that only a code change
 * should move.
 */
#ifndef RECEIVER_CONFIG_H
#define RECEIVER_CONFIG_H

#ifndef RECEIVER_VERSION
#define RECEIVER_VERSION "0.2.0"
#endif

#define RECEIVER_NAME "antiban-receiver"

/* Option defaults (see --help). */
#define DEFAULT_LISTEN		"127.0.0.1"
#define DEFAULT_PORT		8080
#define DEFAULT_POOL		2
#define DEFAULT_THREADS		4
#define DEFAULT_MAX_BODY	(3 * 1024 * 1024)	/* Meta sends up to 3 MB */
#define DEFAULT_PATH		"/webhook"
#define DEFAULT_BATCH		500
#define DEFAULT_QUEUE		20000
#define DEFAULT_MAX_CONNECTIONS	4096
#define DEFAULT_MAX_PER_IP	2048
#define DEFAULT_HEADER_TIMEOUT_S	10
#define DEFAULT_BODY_TIMEOUT_S	30

/* Where `make install` puts the dashboard page (the Makefile passes it). */
#ifndef DEFAULT_ADMIN_ASSETS
#define DEFAULT_ADMIN_ASSETS "/usr/local/share/antiban/dashboard"
#endif

/* Admin listener: a few people and a Prometheus, never Meta. */
#define ADMIN_THREADS		2
#define ADMIN_POOL			2
#define ADMIN_CONNECTION_LIMIT	64
/* Largest static file served, and most files in the assets folder. */
#define ADMIN_ASSET_MAX		(4 * 1024 * 1024)
#define ADMIN_ASSETS_MAX	32
/* Successful basic-auth logins remembered, so bcrypt runs once per login. */
#define ADMIN_AUTH_CACHE	16

/*
 * A connection that sends nothing for this many seconds is dropped
 * (libmicrohttpd's own timeout, which a byte now and then resets: the
 * header and body deadlines of deadline.c are what cut a trickle).
 */
#define CONNECTION_TIMEOUT_S	30

/*
 * Under pressure: from this share of --max-connections open, a client
 * gets PRESSURE_HEADER_MS for its headers (from its accept, or from its
 * previous answer on a kept-alive connection) and PRESSURE_BODY_MS for
 * its body, instead of --header-timeout and --body-timeout (deadline.c).
 * A proxy in front sends a whole request at once: these only cut clients
 * that hold connections others are queued for.
 */
#define PRESSURE_PERCENT	75
#define PRESSURE_HEADER_MS	1000
#define PRESSURE_BODY_MS	2000

/*
 * File descriptors kept for everything but client connections (database
 * connections, logs, the listening sockets): --max-connections is lowered
 * to fit the process's limit minus this.
 */
#define FD_RESERVE			64

/* How often deadlines are checked and overdue queued requests answered. */
#define HOUSEKEEPING_MS		200

/*
 * Bodies waiting for the database, in bytes, before new POSTs get 503
 * (besides --queue): a flood of 3 MB bodies must not take the memory.
 */
#define QUEUE_MAX_BYTES		((size_t) 256 * 1024 * 1024)

/* Most body bytes in one call of antiban.ingest_webhooks (one body may pass it). */
#define BATCH_MAX_BYTES		((size_t) 16 * 1024 * 1024)

/*
 * Per-connection memory for the request line and headers (and read
 * buffering).  Meta's headers are well under 2 KB; a larger header block
 * is refused by libmicrohttpd itself with 431.
 */
#define CONNECTION_MEMORY	(16 * 1024)

/* How long a request waits for a free database connection before 503. */
#define POOL_WAIT_MS		5000

/* How long a request may wait in the queue for the database before 503. */
#define QUEUE_WAIT_MS		5000

/*
 * After a failed connection attempt, a pool slot is not retried for this
 * long: while the database is down, requests get their 503 at once
 * instead of each one paying for a connect attempt.
 */
#define RECONNECT_BACKOFF_MS	1000

/*
 * libpq connect_timeout (seconds) used unless the conninfo sets one: an
 * unreachable host must not hold a server thread for minutes.
 */
#define CONNECT_TIMEOUT_S	"5"

/* On SIGTERM, requests already being served get this long to finish. */
#define SHUTDOWN_GRACE_MS	10000

/*
 * Text parameters (verify token, signature header) longer than this are
 * refused without asking the database.  A sha256= header is 71 bytes.
 */
#define MAX_TEXT_PARAM		512

/* Longest path and method kept for the request log line. */
#define LOG_PATH_MAX		128
#define LOG_METHOD_MAX		16

#endif							/* RECEIVER_CONFIG_H */
