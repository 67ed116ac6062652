/*
 * main.c — antiban-receiver: start-up, signals and shutdown.
 *
 * Signals are blocked in every thread and taken synchronously here with
 * sigwait(), so nothing ever runs in a signal handler: SIGTERM and SIGINT
 * stop the server gracefully, SIGHUP is ignored (nothing to reload).
 */
#include "admin_http.h"
#include "config.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "options.h"
#include "pool.h"
#include "queue.h"
#include "../core/open_files.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Checks the conninfo's syntax now (a typo should stop the start, an
 * unreachable server should not) and logs where it points, never the
 * password.
 */
static bool
describe_conninfo(const char *label, const char *flag, const char *conninfo)
{
	char	   *err = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &err);
	const char *host = NULL,
			   *port = NULL,
			   *dbname = NULL,
			   *user = NULL;

	if (!opts)
	{
		log_line("invalid %s: %s", flag, err ? err : "out of memory");
		PQfreemem(err);
		return false;
	}
	for (PQconninfoOption *o = opts; o->keyword; o++)
	{
		const char **slot = strcmp(o->keyword, "host") == 0 ? &host :
			strcmp(o->keyword, "port") == 0 ? &port :
			strcmp(o->keyword, "dbname") == 0 ? &dbname :
			strcmp(o->keyword, "user") == 0 ? &user : NULL;

		if (slot && o->val && *o->val)
			*slot = o->val;
	}
	log_line("%s database: host=%s port=%s dbname=%s user=%s (unset ones come from PG* variables)",
			 label, host ? host : "-", port ? port : "-", dbname ? dbname : "-", user ? user : "-");
	PQconninfoFree(opts);
	return true;
}

static bool
start_database(void)
{
	int			ready;

	if (receiver_opts.no_db)
	{
		log_line("BENCHMARK MODE (--no-db): no database, no verification, nothing stored; "
				 "every POST is answered 200 and every GET echoes its challenge. "
				 "Never expose this to Meta.");
		return true;
	}
	if (!describe_conninfo("webhook", "--conninfo", receiver_opts.conninfo))
		return false;
	webhook_pool = pool_create("webhook", receiver_opts.conninfo, receiver_opts.pool, db_prepare);
	ready = pool_warm(webhook_pool);
	if (ready < receiver_opts.pool)
		log_line("%d of %d database connections ready; requests get 503 until the "
				 "database can be reached", ready, receiver_opts.pool);
	/* one thread per connection takes the waiting requests to it */
	if (!queue_start(receiver_opts.pool, receiver_opts.batch, receiver_opts.queue))
	{
		pool_close(webhook_pool);
		return false;
	}
	return true;
}

/*
 * Every client connection is a file descriptor: raise the soft limit to
 * the hard one, and keep --max-connections within it.
 */
static void
fit_connections_to_fd_limit(void)
{
	struct rlimit lim;
	long		room;

	if (!open_files_raise_soft_limit(&lim))
		return;
	room = lim.rlim_cur == RLIM_INFINITY ? receiver_opts.max_connections : (long) lim.rlim_cur - FD_RESERVE;
	if (room < receiver_opts.max_connections)
	{
		log_line("--max-connections %d lowered to %ld: the file descriptor limit is %ld",
				 receiver_opts.max_connections, room < 16 ? 16 : room, (long) lim.rlim_cur);
		receiver_opts.max_connections = room < 16 ? 16 : (int) room;
	}
}

/* Written to a temporary name and renamed, so a reader never sees half. */
static void
write_port_file(const char *path, int port)
{
	char		tmp[4096];
	FILE	   *f;

	if (!path)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")))
	{
		bool		ok = fprintf(f, "%d\n", port) > 0;

		if (fclose(f) == 0 && ok && rename(tmp, path) == 0)
			return;
	}
	log_line("cannot write port file %s: %m", path);
}

/* Returns once SIGTERM or SIGINT arrives. */
static void
wait_for_stop(const sigset_t *set)
{
	for (;;)
	{
		int			sig;

		if (sigwait(set, &sig) != 0)
			continue;
		if (sig == SIGTERM || sig == SIGINT)
		{
			log_line("%s received: finishing requests in flight", strsignal(sig));
			return;
		}
		log_line("%s ignored", strsignal(sig));
	}
}

int
main(int argc, char **argv)
{
	sigset_t	set;
	char		err[512];

	options_parse(argc, argv);

	/* before any thread exists, so that every thread inherits the mask */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	metrics_start();
	fit_connections_to_fd_limit();
	if (!start_database())
		return 2;
	if (receiver_opts.admin_port >= 0 &&
		!describe_conninfo("admin", "--admin-conninfo", receiver_opts.admin_conninfo))
		return 2;
	if (!http_start(err, sizeof(err)))
	{
		log_line("%s", err);
		if (!receiver_opts.no_db)
		{
			queue_stop();
			pool_close(webhook_pool);
		}
		return 1;
	}
	if (receiver_opts.admin_port >= 0 && !admin_http_start(err, sizeof(err)))
	{
		log_line("%s", err);
		http_stop();
		if (!receiver_opts.no_db)
			pool_close(webhook_pool);
		return 1;
	}
	log_line(RECEIVER_NAME " " RECEIVER_VERSION " listening on %s port %d, path %s "
			 "(%d threads, %d database connections, up to %d POSTs per transaction, "
			 "bodies up to %ld bytes, %d connections, %d per address, headers within %d s, "
			 "bodies within %d s)",
			 receiver_opts.listen_addr, http_port(), receiver_opts.path, receiver_opts.threads,
			 receiver_opts.no_db ? 0 : receiver_opts.pool, receiver_opts.batch, receiver_opts.max_body,
			 receiver_opts.max_connections, receiver_opts.max_per_ip, receiver_opts.header_timeout,
			 receiver_opts.body_timeout);
	if (receiver_opts.admin_port >= 0)
	{
		log_line("admin listener (dashboard, /metrics, /health) on %s port %d%s",
				 receiver_opts.admin_listen, admin_http_port(),
				 receiver_opts.admin_auth_file ? ", basic auth required" : "");
		write_port_file(receiver_opts.admin_port_file, admin_http_port());
	}
	write_port_file(receiver_opts.port_file, http_port());

	wait_for_stop(&set);
	http_stop();
	if (receiver_opts.admin_port >= 0)
		admin_http_stop();
	if (!receiver_opts.no_db)
	{
		unsigned long calls,
					posts;

		pool_close(webhook_pool);
		metrics_ingest_totals(&calls, &posts);
		log_line("%lu POSTs sent to the database in %lu transactions", posts, calls);
	}
	log_line("stopped");
	return 0;
}
