/*
 * main.c — antiban-sim: command line, start-up, signals, shutdown.
 *
 * Signals are blocked in every thread and taken synchronously here with
 * sigwait(), so handlers never run inside the server's locks:
 * SIGUSR1 writes the ledger file, SIGTERM/SIGINT shut down cleanly.
 */
#include "config.h"
#include "delay.h"
#include "http.h"
#include "ledger.h"
#include "sim.h"
#include "webhooks.h"

#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

sim_options sim_opts = {
	.listen_addr = "127.0.0.1",
	.port = 8990,
	.threads = 2,
	.default_throughput = 80,
	.slow_ms = 1000,
	.webhook_batch = 50,
	.webhook_delay_ms = 50,
	.webhook_concurrency = 4,
	.webhook_retry_ms = 200,
	.webhook_retry_max_ms = 5000,
	.read_rate = 1.0,
	.mgmt_limit = 200,
	.pair_capacity = 45,
	.pair_refill_seconds = 6.0,
	.marketing_cap = 0,
	.max_ledger = 50000000,
};

static const char usage_text[] =
"Usage: antiban-sim [OPTION]...\n"
"A WhatsApp Cloud API (Graph) simulator for antiban's tests and benchmarks.\n"
"\n"
"Server:\n"
"  --listen ADDR             address to listen on (default 127.0.0.1)\n"
"  --port N                  TCP port (default 8990; 0 picks a free port)\n"
"  --port-file PATH          write the port actually used to PATH\n"
"  --threads N               HTTP worker threads (default 2)\n"
"  --version-prefix VER      only accept /VER/ paths (e.g. v24.0); default: any\n"
"                            /vNN.N/ prefix, or none\n"
"  --token TOKEN             require 'Authorization: Bearer TOKEN'; default: any\n"
"                            non-empty bearer token (401/190 otherwise)\n"
"  --strict-numbers          unknown phone-number ids are errors (code 100)\n"
"                            instead of being auto-registered\n"
"\n"
"Limits:\n"
"  --default-throughput N    mps for numbers not configured (default 80)\n"
"  --pair-capacity N         pair-rate bucket size (default 45; 0 = off)\n"
"  --pair-refill-seconds F   one pair token per F seconds (default 6)\n"
"  --marketing-cap N         marketing templates per recipient per 24 h\n"
"                            (default 0 = unlimited)\n"
"  --mgmt-limit N            management calls per WABA per rolling hour\n"
"                            (default 200; 0 = unlimited)\n"
"  --config FILE             JSON configuration applied at start and on reset\n"
"\n"
"Faults (shares are 0..1, drawn per Graph request):\n"
"  --fail-rate F             answer HTTP 500, code 131000\n"
"  --error-rate-2 F          answer HTTP 503, code 2\n"
"  --slow-rate F             answer --slow-ms late (other requests unaffected)\n"
"  --slow-ms N               delay for slow answers (default 1000)\n"
"  --drop-rate F             close the connection without processing/answering\n"
"  --lost-reply-rate F       process the request, then close without answering\n"
"  --seed N                  seed for the fault RNG (deterministic runs)\n"
"\n"
"Webhooks:\n"
"  --webhook-url URL         post status webhooks here (default: none)\n"
"  --app-secret S            key for X-Hub-Signature-256 (default: empty)\n"
"  --webhook-batch N         max statuses per POST (default 50, max 1000)\n"
"  --webhook-delay-ms N      delay before sent, delivered and read (default 50)\n"
"  --read-rate F             share of delivered messages also read (default 1.0)\n"
"  --webhook-concurrency N   POSTs in flight (default 4)\n"
"  --webhook-retry-ms N      first retry delay, doubled per attempt (default 200)\n"
"  --webhook-retry-max-ms N  retry delay cap (default 5000); never gives up\n"
"\n"
"Ledger:\n"
"  --ledger-file PATH        write the ledger as JSON lines at exit and on SIGUSR1\n"
"  --max-ledger N            keep at most N messages in memory (default 50000000;\n"
"                            later ones are still counted)\n"
"\n"
"  --verbose                 log more (webhook retries, MHD errors)\n"
"  --help                    this text\n"
"  --version                 print the version\n"
"\n"
"Control API: /_sim/health, /_sim/config, /_sim/script, /_sim/reset, /_sim/ledger,\n"
"/_sim/messages, /_sim/mgmt_calls, /_sim/sink; see README.md.\n";

/* How an option's argument is read into sim_opts. */
typedef enum
{
	K_STR,						/* const char * */
	K_INT,						/* int, in [min, max] */
	K_I64,						/* int64_t, in [min, max] */
	K_DBL,						/* double, in [min, max] */
	K_FLAG,						/* bool, no argument */
	K_SEED,						/* uint64_t + seed_given */
	K_HELP,
	K_VERSION
} opt_kind;

typedef struct opt_def
{
	const char *name;
	opt_kind	kind;
	void	   *ptr;
	double		min;
	double		max;
} opt_def;

static const opt_def opt_defs[] = {
	{"listen", K_STR, &sim_opts.listen_addr, 0, 0},
	{"port", K_INT, &sim_opts.port, 0, 65535},
	{"port-file", K_STR, &sim_opts.port_file, 0, 0},
	{"threads", K_INT, &sim_opts.threads, 1, 64},
	{"version-prefix", K_STR, &sim_opts.version_prefix, 0, 0},
	{"token", K_STR, &sim_opts.token, 0, 0},
	{"strict-numbers", K_FLAG, &sim_opts.strict_numbers, 0, 0},
	{"default-throughput", K_I64, &sim_opts.default_throughput, 1, 1e12},
	{"pair-capacity", K_I64, &sim_opts.pair_capacity, 0, 1e9},
	{"pair-refill-seconds", K_DBL, &sim_opts.pair_refill_seconds, 0.001, 86400},
	{"marketing-cap", K_I64, &sim_opts.marketing_cap, 0, 1e9},
	{"mgmt-limit", K_I64, &sim_opts.mgmt_limit, 0, 1e12},
	{"config", K_STR, &sim_opts.config_file, 0, 0},
	{"fail-rate", K_DBL, &sim_opts.fail_rate, 0, 1},
	{"error-rate-2", K_DBL, &sim_opts.error2_rate, 0, 1},
	{"slow-rate", K_DBL, &sim_opts.slow_rate, 0, 1},
	{"slow-ms", K_INT, &sim_opts.slow_ms, 0, 600000},
	{"drop-rate", K_DBL, &sim_opts.drop_rate, 0, 1},
	{"lost-reply-rate", K_DBL, &sim_opts.lost_reply_rate, 0, 1},
	{"seed", K_SEED, &sim_opts.seed, 0, 9.2e18},
	{"webhook-url", K_STR, &sim_opts.webhook_url, 0, 0},
	{"app-secret", K_STR, &sim_opts.app_secret, 0, 0},
	{"webhook-batch", K_INT, &sim_opts.webhook_batch, 1, 1000},
	{"webhook-delay-ms", K_INT, &sim_opts.webhook_delay_ms, 0, 3600000},
	{"read-rate", K_DBL, &sim_opts.read_rate, 0, 1},
	{"webhook-concurrency", K_INT, &sim_opts.webhook_concurrency, 1, 64},
	{"webhook-retry-ms", K_INT, &sim_opts.webhook_retry_ms, 1, 3600000},
	{"webhook-retry-max-ms", K_INT, &sim_opts.webhook_retry_max_ms, 1, 86400000},
	{"ledger-file", K_STR, &sim_opts.ledger_file, 0, 0},
	{"max-ledger", K_I64, &sim_opts.max_ledger, 0, 9.2e18},
	{"verbose", K_FLAG, &sim_opts.verbose, 0, 0},
	{"help", K_HELP, NULL, 0, 0},
	{"version", K_VERSION, NULL, 0, 0},
};

#define N_OPTS (sizeof(opt_defs) / sizeof(opt_defs[0]))

static void
die(const char *fmt, const char *arg)
{
	fprintf(stderr, "antiban-sim: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'antiban-sim --help'.\n");
	exit(2);
}

static int64_t
parse_int(const opt_def *d, const char *s)
{
	char	   *end;
	long long	v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < (long long) d->min || (double) v > d->max)
		die("invalid value for --%s", d->name);
	return v;
}

static double
parse_double(const opt_def *d, const char *s)
{
	char	   *end;
	double		v = strtod(s, &end);

	if (end == s || *end || !(v >= d->min && v <= d->max))
		die("invalid value for --%s", d->name);
	return v;
}

static void
set_option(const opt_def *d, const char *arg)
{
	switch (d->kind)
	{
		case K_STR:
			*(const char **) d->ptr = arg;
			break;
		case K_INT:
			*(int *) d->ptr = (int) parse_int(d, arg);
			break;
		case K_I64:
			*(int64_t *) d->ptr = parse_int(d, arg);
			break;
		case K_DBL:
			*(double *) d->ptr = parse_double(d, arg);
			break;
		case K_FLAG:
			*(bool *) d->ptr = true;
			break;
		case K_SEED:
			*(uint64_t *) d->ptr = (uint64_t) parse_int(d, arg);
			sim_opts.seed_given = true;
			break;
		case K_HELP:
			fputs(usage_text, stdout);
			exit(0);
		case K_VERSION:
			printf("antiban-sim %s\n", SIM_VERSION);
			exit(0);
	}
}

static char *
read_file(const char *path)
{
	FILE	   *f = fopen(path, "r");
	sbuf		b;
	char		chunk[4096];
	size_t		n;

	if (!f)
		die("cannot read --config file %s", path);
	sbuf_init(&b, 4096);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		sbuf_put(&b, chunk, n);
	fclose(f);
	return sbuf_steal(&b, NULL);
}

static void
parse_options(int argc, char **argv)
{
	struct option longopts[N_OPTS + 1];
	int			opt;

	/* getopt_long's table comes from ours: val is 256 + the index into
	 * opt_defs, so it can never be mistaken for '?' (unknown option). */
	for (size_t i = 0; i < N_OPTS; i++)
	{
		opt_kind	k = opt_defs[i].kind;

		longopts[i] = (struct option) {
			.name = opt_defs[i].name,
			.has_arg = (k == K_FLAG || k == K_HELP || k == K_VERSION) ? no_argument : required_argument,
			.val = 256 + (int) i
		};
	}
	longopts[N_OPTS] = (struct option) {0};
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1)
	{
		if (opt < 256 || (size_t) (opt - 256) >= N_OPTS)
			die("%s", "unknown option");
		set_option(&opt_defs[opt - 256], optarg);
	}
	if (sim_opts.token && !*sim_opts.token)
		sim_opts.token = NULL;
	if (optind < argc)
		die("unexpected argument %s", argv[optind]);
	if (sim_opts.webhook_url && *sim_opts.webhook_url &&
		strncmp(sim_opts.webhook_url, "http://", 7) && strncmp(sim_opts.webhook_url, "https://", 8))
		die("--webhook-url must be an http(s) URL: %s", sim_opts.webhook_url);
	if (sim_opts.pair_refill_seconds <= 0)
		die("%s", "--pair-refill-seconds must be positive");
	if (sim_opts.config_file)
		sim_opts.config_text = read_file(sim_opts.config_file);
}

static void
write_ledger(void)
{
	char		err[512];
	bool		ok;

	if (!sim_opts.ledger_file)
		return;
	SIM_LOCK();
	ok = ledger_write_file(sim_opts.ledger_file, err, sizeof(err));
	SIM_UNLOCK();
	if (ok)
		sim_log("ledger written to %s", sim_opts.ledger_file);
	else
		sim_log("%s", err);
}

/* Benchmarks open many connections; the soft fd limit (often 1024) would
 * cap them long before MHD's own connection limit. */
static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max)
	{
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void
announce(int port)
{
	FILE	   *f;

	printf("antiban-sim %s listening on %s:%d\n", SIM_VERSION, sim_opts.listen_addr, port);
	fflush(stdout);
	if (!sim_opts.port_file)
		return;
	if (!(f = fopen(sim_opts.port_file, "w")) || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0)
		sim_log("cannot write port file %s", sim_opts.port_file);
}

/* Wait for signals; returns when asked to stop. */
static void
signal_loop(const sigset_t *set)
{
	for (;;)
	{
		int			sig;

		if (sigwait(set, &sig) != 0)
			continue;
		if (sig == SIGUSR1)
			write_ledger();
		else if (sig == SIGTERM || sig == SIGINT)
			return;
	}
}

int
main(int argc, char **argv)
{
	sigset_t	set;
	char		err[512];

	parse_options(argc, argv);
	raise_fd_limit();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	SIM_LOCK();
	webhooks_init();
	if (!sim_state_setup(err, sizeof(err)))
	{
		SIM_UNLOCK();
		fprintf(stderr, "antiban-sim: bad --config %s: %s\n", sim_opts.config_file, err);
		return 2;
	}
	SIM_UNLOCK();
	if (!delay_start() || !webhooks_start() || !http_start(err, sizeof(err)))
	{
		fprintf(stderr, "antiban-sim: %s\n", *err ? err : "cannot start threads");
		return 1;
	}
	announce(http_port());
	signal_loop(&set);

	sim_log("shutting down");
	/* A clean shutdown takes milliseconds; never let a stuck peer keep the
	 * process alive (SIGALRM is not blocked: its default action ends us). */
	alarm(15);
	delay_stop();
	http_stop();
	webhooks_stop();
	write_ledger();
	SIM_LOCK();
	sim_state_teardown();
	SIM_UNLOCK();
	curl_global_cleanup();
	free(sim_opts.config_text);
	return 0;
}
