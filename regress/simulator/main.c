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

enum
{
	OPT_LISTEN = 256, OPT_PORT, OPT_PORT_FILE, OPT_THREADS, OPT_VERSION_PREFIX, OPT_TOKEN,
	OPT_STRICT, OPT_DEFAULT_TP, OPT_PAIR_CAP, OPT_PAIR_REFILL, OPT_MARKETING_CAP,
	OPT_MGMT_LIMIT, OPT_CONFIG, OPT_FAIL_RATE, OPT_ERROR2_RATE, OPT_SLOW_RATE, OPT_SLOW_MS,
	OPT_DROP_RATE, OPT_LOST_RATE, OPT_SEED, OPT_WEBHOOK_URL, OPT_APP_SECRET, OPT_WH_BATCH,
	OPT_WH_DELAY, OPT_READ_RATE, OPT_WH_CONC, OPT_WH_RETRY, OPT_WH_RETRY_MAX,
	OPT_LEDGER_FILE, OPT_MAX_LEDGER, OPT_VERBOSE, OPT_HELP, OPT_VERSION
};

static const struct option long_options[] = {
	{"listen", required_argument, NULL, OPT_LISTEN},
	{"port", required_argument, NULL, OPT_PORT},
	{"port-file", required_argument, NULL, OPT_PORT_FILE},
	{"threads", required_argument, NULL, OPT_THREADS},
	{"version-prefix", required_argument, NULL, OPT_VERSION_PREFIX},
	{"token", required_argument, NULL, OPT_TOKEN},
	{"strict-numbers", no_argument, NULL, OPT_STRICT},
	{"default-throughput", required_argument, NULL, OPT_DEFAULT_TP},
	{"pair-capacity", required_argument, NULL, OPT_PAIR_CAP},
	{"pair-refill-seconds", required_argument, NULL, OPT_PAIR_REFILL},
	{"marketing-cap", required_argument, NULL, OPT_MARKETING_CAP},
	{"mgmt-limit", required_argument, NULL, OPT_MGMT_LIMIT},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"fail-rate", required_argument, NULL, OPT_FAIL_RATE},
	{"error-rate-2", required_argument, NULL, OPT_ERROR2_RATE},
	{"slow-rate", required_argument, NULL, OPT_SLOW_RATE},
	{"slow-ms", required_argument, NULL, OPT_SLOW_MS},
	{"drop-rate", required_argument, NULL, OPT_DROP_RATE},
	{"lost-reply-rate", required_argument, NULL, OPT_LOST_RATE},
	{"seed", required_argument, NULL, OPT_SEED},
	{"webhook-url", required_argument, NULL, OPT_WEBHOOK_URL},
	{"app-secret", required_argument, NULL, OPT_APP_SECRET},
	{"webhook-batch", required_argument, NULL, OPT_WH_BATCH},
	{"webhook-delay-ms", required_argument, NULL, OPT_WH_DELAY},
	{"read-rate", required_argument, NULL, OPT_READ_RATE},
	{"webhook-concurrency", required_argument, NULL, OPT_WH_CONC},
	{"webhook-retry-ms", required_argument, NULL, OPT_WH_RETRY},
	{"webhook-retry-max-ms", required_argument, NULL, OPT_WH_RETRY_MAX},
	{"ledger-file", required_argument, NULL, OPT_LEDGER_FILE},
	{"max-ledger", required_argument, NULL, OPT_MAX_LEDGER},
	{"verbose", no_argument, NULL, OPT_VERBOSE},
	{"help", no_argument, NULL, OPT_HELP},
	{"version", no_argument, NULL, OPT_VERSION},
	{NULL, 0, NULL, 0}
};

static void
die(const char *fmt, const char *arg)
{
	fprintf(stderr, "antiban-sim: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'antiban-sim --help'.\n");
	exit(2);
}

static int64_t
parse_int(const char *name, const char *s, int64_t min, int64_t max)
{
	char	   *end;
	long long	v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		die("invalid value for --%s", name);
	return v;
}

static double
parse_share(const char *name, const char *s, double max)
{
	char	   *end;
	double		v = strtod(s, &end);

	if (end == s || *end || !(v >= 0.0 && v <= max))
		die("invalid value for --%s", name);
	return v;
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

/* Options that take a share (0..1) or a positive count, by table. */
static void
set_option(int opt, const char *arg)
{
	sim_options *o = &sim_opts;
	const char *name = NULL;

	for (const struct option *lo = long_options; lo->name; lo++)
		if (lo->val == opt)
			name = lo->name;
	switch (opt)
	{
		case OPT_LISTEN: o->listen_addr = arg; break;
		case OPT_PORT: o->port = (int) parse_int(name, arg, 0, 65535); break;
		case OPT_PORT_FILE: o->port_file = arg; break;
		case OPT_THREADS: o->threads = (int) parse_int(name, arg, 1, 64); break;
		case OPT_VERSION_PREFIX: o->version_prefix = arg; break;
		case OPT_TOKEN: o->token = *arg ? arg : NULL; break;
		case OPT_STRICT: o->strict_numbers = true; break;
		case OPT_DEFAULT_TP: o->default_throughput = parse_int(name, arg, 1, (int64_t) 1e12); break;
		case OPT_PAIR_CAP: o->pair_capacity = parse_int(name, arg, 0, (int64_t) 1e9); break;
		case OPT_PAIR_REFILL: o->pair_refill_seconds = parse_share(name, arg, 86400); break;
		case OPT_MARKETING_CAP: o->marketing_cap = parse_int(name, arg, 0, (int64_t) 1e9); break;
		case OPT_MGMT_LIMIT: o->mgmt_limit = parse_int(name, arg, 0, (int64_t) 1e12); break;
		case OPT_CONFIG: o->config_file = arg; break;
		case OPT_FAIL_RATE: o->fail_rate = parse_share(name, arg, 1); break;
		case OPT_ERROR2_RATE: o->error2_rate = parse_share(name, arg, 1); break;
		case OPT_SLOW_RATE: o->slow_rate = parse_share(name, arg, 1); break;
		case OPT_SLOW_MS: o->slow_ms = (int) parse_int(name, arg, 0, 600000); break;
		case OPT_DROP_RATE: o->drop_rate = parse_share(name, arg, 1); break;
		case OPT_LOST_RATE: o->lost_reply_rate = parse_share(name, arg, 1); break;
		case OPT_SEED: o->seed = (uint64_t) parse_int(name, arg, 0, INT64_MAX); o->seed_given = true; break;
		case OPT_WEBHOOK_URL: o->webhook_url = arg; break;
		case OPT_APP_SECRET: o->app_secret = arg; break;
		case OPT_WH_BATCH: o->webhook_batch = (int) parse_int(name, arg, 1, 1000); break;
		case OPT_WH_DELAY: o->webhook_delay_ms = (int) parse_int(name, arg, 0, 3600000); break;
		case OPT_READ_RATE: o->read_rate = parse_share(name, arg, 1); break;
		case OPT_WH_CONC: o->webhook_concurrency = (int) parse_int(name, arg, 1, 64); break;
		case OPT_WH_RETRY: o->webhook_retry_ms = (int) parse_int(name, arg, 1, 3600000); break;
		case OPT_WH_RETRY_MAX: o->webhook_retry_max_ms = (int) parse_int(name, arg, 1, 86400000); break;
		case OPT_LEDGER_FILE: o->ledger_file = arg; break;
		case OPT_MAX_LEDGER: o->max_ledger = parse_int(name, arg, 0, INT64_MAX); break;
		case OPT_VERBOSE: o->verbose = true; break;
		case OPT_HELP: fputs(usage_text, stdout); exit(0);
		case OPT_VERSION: printf("antiban-sim %s\n", SIM_VERSION); exit(0);
		default: die("%s", "unknown option");
	}
}

static void
parse_options(int argc, char **argv)
{
	int			opt;

	while ((opt = getopt_long(argc, argv, "", long_options, NULL)) != -1)
		set_option(opt, optarg);
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
