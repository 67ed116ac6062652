/*
 * options.c — antiban-receiver: command line and environment.
 *
 * Every option is one row of option_table: its flag, its environment
 * variable, its type and bounds, and its --help text.  The environment is
 * read first and flags override it, so a systemd unit can use either.
 */
#include "config.h"
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

receiver_options receiver_opts = {
	.listen_addr = DEFAULT_LISTEN,
	.port = DEFAULT_PORT,
	.pool = DEFAULT_POOL,
	.threads = DEFAULT_THREADS,
	.max_body = DEFAULT_MAX_BODY,
	.path = DEFAULT_PATH,
	.batch = DEFAULT_BATCH,
	.queue = DEFAULT_QUEUE,
	.max_connections = DEFAULT_MAX_CONNECTIONS,
	.max_per_ip = DEFAULT_MAX_PER_IP,
	.header_timeout = DEFAULT_HEADER_TIMEOUT_S,
	.body_timeout = DEFAULT_BODY_TIMEOUT_S,
	.admin_port = -1,
	.admin_listen = DEFAULT_LISTEN,
	.admin_assets = DEFAULT_ADMIN_ASSETS,
};

typedef enum option_kind
{
	OPT_STRING,
	OPT_INT,
	OPT_LONG,
	OPT_FLAG,
} option_kind;

typedef struct option_def
{
	const char *name;
	const char *env;
	option_kind kind;
	void	   *target;
	long		min;
	long		max;
	const char *arg;			/* placeholder in --help */
	const char *help;
} option_def;

static const option_def option_table[] = {
	{"conninfo", "ANTIBAN_RECEIVER_CONNINFO", OPT_STRING, &receiver_opts.conninfo, 0, 0, "STR",
	"libpq connection string (required unless --no-db);\n"
	"PG* environment variables fill in what it omits"},
	{"listen", "ANTIBAN_RECEIVER_LISTEN", OPT_STRING, &receiver_opts.listen_addr, 0, 0, "ADDR",
	"address to listen on, IPv4 or IPv6\n(default " DEFAULT_LISTEN "; :: is every address)"},
	{"port", "ANTIBAN_RECEIVER_PORT", OPT_INT, &receiver_opts.port, 0, 65535, "N",
	"TCP port (default 8080; 0 picks a free port)"},
	{"port-file", "ANTIBAN_RECEIVER_PORT_FILE", OPT_STRING, &receiver_opts.port_file, 0, 0, "PATH",
	"write the port actually bound to PATH (for tests)"},
	{"pool", "ANTIBAN_RECEIVER_POOL", OPT_INT, &receiver_opts.pool, 1, 1000, "N",
	"database connections (default 2), each with a\nthread that sends the POSTs waiting to\nantiban.ingest_webhooks, many per transaction"},
	{"threads", "ANTIBAN_RECEIVER_THREADS", OPT_INT, &receiver_opts.threads, 1, 1024, "N",
	"HTTP threads (default 4); they never wait for\nthe database"},
	{"batch", "ANTIBAN_RECEIVER_BATCH", OPT_INT, &receiver_opts.batch, 1, 100000, "N",
	"most POSTs in one transaction (default 500)"},
	{"queue", "ANTIBAN_RECEIVER_QUEUE", OPT_INT, &receiver_opts.queue, 1, 10000000, "N",
	"most requests waiting for the database\n(default 20000); past it they get 503"},
	{"max-connections", "ANTIBAN_RECEIVER_MAX_CONNECTIONS", OPT_INT, &receiver_opts.max_connections, 16, 1000000, "N",
	"open client connections at most (default 4096;\nlowered to what the file descriptor limit allows)"},
	{"max-connections-per-ip", "ANTIBAN_RECEIVER_MAX_CONNECTIONS_PER_IP", OPT_INT, &receiver_opts.max_per_ip, 0, 1000000, "N",
	"of them from one address (default 2048; 0: no\nlimit; behind a proxy every connection has the\nproxy's address)"},
	{"header-timeout", "ANTIBAN_RECEIVER_HEADER_TIMEOUT", OPT_INT, &receiver_opts.header_timeout, 1, 3600, "S",
	"seconds a client has to send its headers, from\nconnecting or from its previous answer\n(default 10); then it is cut"},
	{"body-timeout", "ANTIBAN_RECEIVER_BODY_TIMEOUT", OPT_INT, &receiver_opts.body_timeout, 1, 3600, "S",
	"seconds a client has to send its body once its\nheaders are in (default 30); then it is cut"},
	{"max-body", "ANTIBAN_RECEIVER_MAX_BODY", OPT_LONG, &receiver_opts.max_body, 1, 1L << 30, "BYTES",
	"largest POST body kept (default 3145728);\nlarger ones get 413"},
	{"path", "ANTIBAN_RECEIVER_PATH", OPT_STRING, &receiver_opts.path, 0, 0, "PATH",
	"webhook path (default " DEFAULT_PATH ");\nother paths get 404"},
	{"no-db", "ANTIBAN_RECEIVER_NO_DB", OPT_FLAG, &receiver_opts.no_db, 0, 0, NULL,
	"BENCHMARK ONLY: no database, no verification,\n"
	"nothing stored; every POST gets 200 and every\n"
	"GET echoes hub.challenge"},
	{"quiet", "ANTIBAN_RECEIVER_QUIET", OPT_FLAG, &receiver_opts.quiet, 0, 0, NULL,
	"no per-request log lines (start, stop and\nerrors are still logged)"},
	{"admin-port", "ANTIBAN_RECEIVER_ADMIN_PORT", OPT_INT, &receiver_opts.admin_port, 0, 65535, "N",
	"private admin listener (dashboard, /metrics,\n/health) on this port; 0 picks a free port;\nnot given: no admin listener"},
	{"admin-listen", "ANTIBAN_RECEIVER_ADMIN_LISTEN", OPT_STRING, &receiver_opts.admin_listen, 0, 0, "ADDR",
	"address of the admin listener (default " DEFAULT_LISTEN ");\nkeep it private: never the public address"},
	{"admin-port-file", "ANTIBAN_RECEIVER_ADMIN_PORT_FILE", OPT_STRING, &receiver_opts.admin_port_file, 0, 0, "PATH",
	"write the admin port actually bound to PATH"},
	{"admin-conninfo", "ANTIBAN_RECEIVER_ADMIN_CONNINFO", OPT_STRING, &receiver_opts.admin_conninfo, 0, 0, "STR",
	"libpq connection string of the admin listener,\nfor a login role granted antiban_dashboard\n(read-only but for acknowledging alerts);\nrequired with --admin-port; put a password in\n~/.pgpass or PGPASSFILE, not here"},
	{"admin-auth-file", "ANTIBAN_RECEIVER_ADMIN_AUTH_FILE", OPT_STRING, &receiver_opts.admin_auth_file, 0, 0, "PATH",
	"require HTTP basic auth on the admin listener:\nlines user:hash, hash a crypt(3) one ($2b$ bcrypt,\n$y$, $6$, $5$) or sha256:HEX; not given: no auth"},
	{"admin-assets", "ANTIBAN_RECEIVER_ADMIN_ASSETS", OPT_STRING, &receiver_opts.admin_assets, 0, 0, "DIR",
	"the built dashboard page\n(default " DEFAULT_ADMIN_ASSETS ")"},
};

#define N_OPTIONS (sizeof(option_table) / sizeof(option_table[0]))
#define OPT_HELP	'h'
#define OPT_VERSION	'V'

static void
usage(FILE *out)
{
	fprintf(out,
			"Usage: " RECEIVER_NAME " [OPTION]...\n"
			"Receives WhatsApp Cloud API webhooks and hands them to antiban in PostgreSQL:\n"
			"GET PATH answers Meta's verification challenge (antiban.webhook_verify),\n"
			"POST PATH stores the raw body with its X-Hub-Signature-256 header\n"
			"(antiban.ingest_webhooks, many POSTs per transaction), which checks the\n"
			"signature.\n\n"
			"Options (each also read from the environment variable shown):\n");
	for (size_t i = 0; i < N_OPTIONS; i++)
	{
		const option_def *o = &option_table[i];
		char		flag[48];
		const char *line = o->help;

		snprintf(flag, sizeof(flag), "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(out, "  %-20s ", flag);
		/* continuation lines of a help text are indented under the first */
		for (const char *nl; (nl = strchr(line, '\n')); line = nl + 1)
			fprintf(out, "%.*s\n  %-20s ", (int) (nl - line), line, "");
		fprintf(out, "%s\n  %-20s [%s%s]\n", line, "", o->env, o->kind == OPT_FLAG ? "=1" : "");
	}
	fprintf(out,
			"  %-20s show this help\n"
			"  %-20s show the version\n\n"
			"Answers: 200 stored (or challenge echoed), 400 two Content-Length headers\n"
			"(or one with Transfer-Encoding), 401 bad or missing signature, 403\n"
			"verification refused, 404 other path, 405 other method, 413 body too\n"
			"large, 503 database unavailable or too many requests waiting (Meta\n"
			"retries).  Logs go to stderr.\n"
			"With --admin-port, a second, private listener serves the dashboard (/),\n"
			"its JSON (/api/...), Prometheus metrics (/metrics) and /health.\n",
			"--help", "--version");
}

static void die(const char *fmt,...) __attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, RECEIVER_NAME ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '" RECEIVER_NAME " --help'.\n");
	exit(2);
}

static bool
parse_flag(const char *s, bool *out)
{
	static const char *const yes[] = {"1", "true", "yes", "on"};
	static const char *const no[] = {"", "0", "false", "no", "off"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (strcasecmp(s, yes[i]) == 0)
			return (*out = true);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (strcasecmp(s, no[i]) == 0)
			return !(*out = false);
	return false;
}

static void
apply(const option_def *o, const char *value, const char *source)
{
	char	   *end;
	long		v;

	switch (o->kind)
	{
		case OPT_STRING:
			*(const char **) o->target = value;
			return;
		case OPT_FLAG:
			if (!parse_flag(value ? value : "1", (bool *) o->target))
				die("invalid boolean '%s' for %s", value, source);
			return;
		case OPT_INT:
		case OPT_LONG:
			errno = 0;
			v = strtol(value, &end, 10);
			if (errno || end == value || *end || v < o->min || v > o->max)
				die("invalid value '%s' for %s", value, source);
			if (o->kind == OPT_INT)
				*(int *) o->target = (int) v;
			else
				*(long *) o->target = v;
			return;
	}
}

static void
read_environment(void)
{
	for (size_t i = 0; i < N_OPTIONS; i++)
	{
		const char *v = getenv(option_table[i].env);

		if (v)
			apply(&option_table[i], v, option_table[i].env);
	}
}

static void
read_arguments(int argc, char **argv)
{
	struct option longopts[N_OPTIONS + 3];
	int			c,
				index;
	char		source[48];

	for (size_t i = 0; i < N_OPTIONS; i++)
		longopts[i] = (struct option) {
			option_table[i].name,
				option_table[i].kind == OPT_FLAG ? no_argument : required_argument,
				NULL, 0
		};
	longopts[N_OPTIONS] = (struct option) {"help", no_argument, NULL, OPT_HELP};
	longopts[N_OPTIONS + 1] = (struct option) {"version", no_argument, NULL, OPT_VERSION};
	longopts[N_OPTIONS + 2] = (struct option) {0};

	while ((c = getopt_long(argc, argv, "hV", longopts, &index)) != -1)
	{
		if (c == OPT_HELP)
			usage(stdout), exit(0);
		if (c == OPT_VERSION)
			printf(RECEIVER_NAME " " RECEIVER_VERSION "\n"), exit(0);
		if (c != 0)
			exit(2);		/* getopt has said what is wrong */
		snprintf(source, sizeof(source), "--%s", option_table[index].name);
		apply(&option_table[index], optarg, source);
	}
	if (optind < argc)
		die("unexpected argument '%s'", argv[optind]);
}

static void
check_options(void)
{
	if (!receiver_opts.no_db && !receiver_opts.conninfo)
		die("--conninfo (or ANTIBAN_RECEIVER_CONNINFO) is required unless --no-db");
	if (receiver_opts.path[0] != '/')
		die("--path must start with '/', not '%s'", receiver_opts.path);
	if (!*receiver_opts.listen_addr)
		die("--listen must not be empty");
	if (receiver_opts.admin_port >= 0 && !receiver_opts.admin_conninfo)
		die("--admin-conninfo (or ANTIBAN_RECEIVER_ADMIN_CONNINFO) is required with --admin-port");
	if (receiver_opts.admin_port >= 0 && !*receiver_opts.admin_listen)
		die("--admin-listen must not be empty");
	if (receiver_opts.admin_port > 0 && receiver_opts.admin_port == receiver_opts.port)
		die("--admin-port must differ from --port: the admin listener is never the public one");
}

void
options_parse(int argc, char **argv)
{
	read_environment();
	read_arguments(argc, argv);
	check_options();
}
