/*
 * guc.c
 *		antiban.* configuration parameters.
 *
 * Sizes of shared structures need a restart (PGC_POSTMASTER); tunables
 * reload on SIGHUP; the pinned clock is for tests and superusers only.
 */
#include "pg/antiban.h"
#include "pg/circuit_breakers.h"
#include "pg/lead_llm.h"
#include "pg/lead.h"

#include "miscadmin.h"
#include "utils/guc.h"

char	   *antiban_database_name = NULL;
int			antiban_min_health = 30;
double		antiban_throughput_headroom = 2.0;
double		antiban_pair_headroom = 10.0;
int			antiban_arrival_jitter_ms = 20;
double		antiban_pair_rate_per_minute = 10.0;
int			antiban_pair_burst = 45;
int			antiban_max_buckets = 262144;
int			antiban_max_recipients = 262144;
int			antiban_webhook_rejected_per_hour = 1000;
int			antiban_max_portfolios = 64;
int			antiban_journal_size = 16384;
int			antiban_journal_flush_ms = 200;
int			antiban_sticky_ttl_s = 7 * 24 * 3600;
char	   *antiban_pinned_now = NULL;
char	   *antiban_graph_base_url = NULL;
char	   *antiban_graph_version = NULL;
int			antiban_sender_workers = 1;
bool		antiban_monitor_enabled = true;
int			antiban_max_inflight = 64;
int			antiban_claim_batch = 200;
int			antiban_http_timeout_ms = 15000;
int			antiban_max_attempts = 8;
int			antiban_retry_base_ms = 2000;
int			antiban_retry_cap_ms = 600000;
int			antiban_unconfirmed_grace_s = 120;
int			antiban_on_unconfirmed = ON_UNCONFIRMED_MARK_UNKNOWN;
int			antiban_sender_tick_ms = 1000;

static const struct config_enum_entry on_unconfirmed_options[] = {
	{"mark_unknown", ON_UNCONFIRMED_MARK_UNKNOWN, false},
	{"resend", ON_UNCONFIRMED_RESEND, false},
	{NULL, 0, false}
};

/* Only while preloading: PGC_POSTMASTER variables can not be made later. */
static void
define_postmaster_settings(void)
{
	DefineCustomStringVariable("antiban.database_name",
							   "Database in which antiban's background workers run.",
							   NULL, &antiban_database_name, "postgres",
							   PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.sender_workers",
							"Sender background workers draining the outbox.",
							NULL, &antiban_sender_workers, 1, 0, ANTIBAN_MAX_SENDERS,
							PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("antiban.monitor",
							 "Run the monitor background worker (health, modes, polls, early warnings, alert delivery).",
							 NULL, &antiban_monitor_enabled, true,
							 PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.max_buckets",
							"Token buckets (numbers and recipient pairs) kept in shared memory.",
							"Full buckets are forgotten first when the table fills.",
							&antiban_max_buckets, 262144, 1024, 16 * 1024 * 1024,
							PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.max_recipients",
							"Recipients whose sticky sender, service window and 24 h reach are kept in shared memory.",
							NULL, &antiban_max_recipients, 262144, 1024, 64 * 1024 * 1024,
							PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.max_portfolios",
							"Business portfolios whose messaging limit is tracked in shared memory.",
							NULL, &antiban_max_portfolios, 64, 1, 65536,
							PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.webhook_rejected_per_hour",
							"Refused (unsigned or wrongly signed) webhook bodies kept per hour for investigation.",
							"Beyond it a refused POST is only counted in antiban.webhook_rejections: anyone can post to the receiver.",
							&antiban_webhook_rejected_per_hour, 1000, 0, 1000000, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.journal_size",
							"Decision-log entries buffered in shared memory before the journal writer stores them.",
							NULL, &antiban_journal_size, 16384, 64, 1024 * 1024,
							PGC_POSTMASTER, 0, NULL, NULL, NULL);
}

static void
define_sender_settings(void)
{
	DefineCustomStringVariable("antiban.graph_base_url",
							   "Base URL of the Graph API (the local simulator in tests and the demo).",
							   NULL, &antiban_graph_base_url, "https://graph.facebook.com",
							   PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("antiban.graph_version",
							   "Graph API version in request paths.",
							   NULL, &antiban_graph_version, "v24.0",
							   PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.max_inflight",
							"Requests each sender keeps in flight at once.",
							NULL, &antiban_max_inflight, 64, 1, 4096,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.claim_batch",
							"Messages a sender claims in one short transaction.",
							NULL, &antiban_claim_batch, 200, 1, 10000,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.http_timeout",
							"Timeout of one Cloud API request.",
							NULL, &antiban_http_timeout_ms, 15000, 100, 600000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.max_attempts",
							"Send attempts before a message is dead.",
							NULL, &antiban_max_attempts, 8, 1, 100,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.retry_base",
							"First retry delay after a transient error (doubled each attempt, with jitter).",
							NULL, &antiban_retry_base_ms, 2000, 10, 3600000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.retry_cap",
							"Longest delay between retries.",
							NULL, &antiban_retry_cap_ms, 600000, 100, 86400000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.unconfirmed_grace",
							"How long a message left in 'sending' (crash, ambiguous timeout) waits for evidence before antiban.on_unconfirmed applies.",
							NULL, &antiban_unconfirmed_grace_s, 120, 1, 7 * 86400,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomEnumVariable("antiban.on_unconfirmed",
							 "What to do with a message still unconfirmed after the grace period.",
							 "mark_unknown never duplicates (an operator decides); resend never loses (but may duplicate).",
							 &antiban_on_unconfirmed, ON_UNCONFIRMED_MARK_UNKNOWN, on_unconfirmed_options,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.sender_tick",
							"Longest a sender sleeps without being woken (for leases, retries and expiry).",
							NULL, &antiban_sender_tick_ms, 1000, 10, 60000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
}

static void
define_tunables(void)
{
	DefineCustomIntVariable("antiban.min_health",
							"Numbers at or below this health (0-100) are out of rotation.",
							NULL, &antiban_min_health, 30, 0, 100,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("antiban.throughput_headroom",
							 "Percent of a number's throughput level kept unused, so network jitter never makes one second at Meta exceed it.",
							 "Applies to numbers without rate_override.",
							 &antiban_throughput_headroom, 2.0, 0.0, 50.0,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("antiban.pair_headroom",
							 "Percent of Meta's pair rate kept unused, so network jitter never brings two arrivals at Meta closer than it allows.",
							 "Meta judges the pair rate when a request arrives: a slow request followed by a fast one arrive closer than they left. 10 % spaces messages 6.67 s apart instead of 6 s, which absorbs 0.67 s of latency spread.",
							 &antiban_pair_headroom, 10.0, 0.0, 90.0,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.arrival_jitter_ms",
							"Spread of request latency to the Cloud API (slowest minus fastest) that the buckets must absorb.",
							"Both buckets are shaped so that requests claimed at their pace still respect Meta's limits when they arrive this much closer together. The default is what the 2 % throughput headroom already covers.",
							&antiban_arrival_jitter_ms, 20, 0, 60000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomRealVariable("antiban.pair_rate_per_minute",
							 "Messages per minute one number may send to one recipient, sustained.",
							 "Meta allows about one message every 6 seconds per pair.",
							 &antiban_pair_rate_per_minute, 10.0, 0.01, 600.0,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.pair_burst",
							"Messages one number may send to one recipient in a burst.",
							"Meta tolerates bursts of up to 45 that borrow future quota.",
							&antiban_pair_burst, 45, 1, 1000,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.journal_flush_interval",
							"How often the journal writer stores buffered decisions.",
							NULL, &antiban_journal_flush_ms, 200, 10, 60000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.sticky_ttl",
							"How long a recipient stays with the number they last talked to.",
							NULL, &antiban_sticky_ttl_s, 7 * 24 * 3600, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomStringVariable("antiban.pinned_now",
							   "Test only: pin antiban's clock to this timestamp (empty: real time).",
							   "Refill, windows and backoff then move only when the test moves the clock. Set in postgresql.conf, every session and worker shares it; set by a session (SET, PGOPTIONS, per role or database), that session works on its own copy of buckets, recipients and portfolio windows, which real-clock sessions never see, and stores no recipient rows.",
							   &antiban_pinned_now, "",
							   PGC_SUSET, GUC_NOT_IN_SAMPLE,
							   antiban_check_pinned_now, antiban_assign_pinned_now, NULL);
}

void
antiban_define_gucs(void)
{
	if (process_shared_preload_libraries_in_progress)
		define_postmaster_settings();
	define_tunables();
	define_sender_settings();
	antiban_define_protection_gucs();
	antiban_define_lead_gucs();
	antiban_define_breaker_gucs();
	antiban_define_policy_gucs();
	antiban_define_lead_llm_gucs();
	MarkGUCPrefixReserved("antiban");
}
