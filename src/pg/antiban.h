/*
 * antiban.h
 *		Declarations shared by antiban's PostgreSQL adapters and workers.
 */
#ifndef ANTIBAN_PG_H
#define ANTIBAN_PG_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "port/atomics.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/spin.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "core/decision.h"
#include "core/frequency_cap.h"
#include "core/health.h"
#include "core/recipient.h"
#include "core/recipient_match.h"
#include "core/recipient_state.h"
#include "core/slot_table.h"
#include "core/token_bucket.h"
#include "core/pacing.h"

/* GUCs (guc.c) */
extern char *antiban_database_name;
extern int	antiban_min_health;
extern double antiban_throughput_headroom;
extern double antiban_pair_headroom;
extern int	antiban_arrival_jitter_ms;
extern double antiban_pair_rate_per_minute;
extern int	antiban_pair_burst;
extern int	antiban_max_buckets;
extern int	antiban_max_recipients;
extern int	antiban_webhook_rejected_per_hour;
extern int	antiban_max_portfolios;
extern int	antiban_journal_size;
extern int	antiban_journal_flush_ms;
extern int	antiban_sticky_ttl_s;
extern char *antiban_graph_base_url;
extern char *antiban_graph_version;
extern int	antiban_sender_workers;
extern bool antiban_monitor_enabled;
extern int	antiban_max_inflight;
extern int	antiban_claim_batch;
extern int	antiban_http_timeout_ms;
extern int	antiban_max_attempts;
extern int	antiban_retry_base_ms;
extern int	antiban_retry_cap_ms;
extern int	antiban_unconfirmed_grace_s;
extern int	antiban_on_unconfirmed;
extern int	antiban_sender_tick_ms;

/* guc_protection.c */
extern bool antiban_protection;
extern int	antiban_monitor_interval_ms;
extern int	antiban_health_window_s;
extern int	antiban_recovery_half_life_s;
extern int	antiban_throttle_below;
extern int	antiban_pause_below;
extern int	antiban_resume_at;
extern double antiban_aimd_decrease;
extern double antiban_aimd_increase;
extern int	antiban_aimd_interval_s;
extern int	antiban_aimd_probe_interval_s;
extern int	antiban_pause_cooldown_s;
extern int	antiban_recovery_ramp_s;
extern int	antiban_poll_interval_ms;
extern int	antiban_mgmt_requests_per_hour;
extern char *antiban_alert_webhook_url;
extern int	antiban_template_hold_s;
extern char *antiban_health_weights;
extern int	antiban_warmup_start_daily;
extern double antiban_warmup_growth;
extern int	antiban_warmup_max_daily;
extern int	antiban_warmup_gate_health;
extern int	antiban_warmup_spread_s;
extern void antiban_define_protection_gucs(void);
extern HealthWeights antiban_health_weights_in_force(void);

#define ON_UNCONFIRMED_MARK_UNKNOWN 0
#define ON_UNCONFIRMED_RESEND 1

extern void antiban_define_gucs(void);

/* clock.c: the one source of "now", pinnable by antiban.pinned_now */
typedef enum ClockDomain
{
	CLOCK_REAL = 0,				/* real clock, or pinned server-wide */
	CLOCK_PINNED = 1			/* this session pinned the clock itself */
} ClockDomain;

extern char *antiban_pinned_now;
extern TimestampTz antiban_now(void);
extern ClockDomain antiban_clock_domain(void);
extern bool antiban_check_pinned_now(char **newval, void **extra, GucSource source);
extern void antiban_assign_pinned_now(const char *newval, void *extra);

/* secret_log.c: secrets never reach the server log or an error */
extern void antiban_install_secret_log_hook(void);

/* shmem.c */
#define ANTIBAN_MAX_SENDERS 16
#define ANTIBAN_MAX_APPLY_WORKERS 8

typedef struct AntibanShared
{
	TimestampTz started_at;		/* after a crash, new buckets were empty here */
	pg_atomic_uint32 previous_shutdown;	/* SHUTDOWN_UNKNOWN, _CLEAN or _CRASHED */
	pg_atomic_uint64 config_generation; /* bumped when numbers change */
	pg_atomic_uint64 templates_generation;	/* bumped when templates change */
	slock_t		mutex;			/* protects portfolio slots, worker latches, promises */
	int			nportfolios;
	Latch	   *sender_latch[ANTIBAN_MAX_SENDERS];	/* set to wake a sender */
	int64		claim_promised[ANTIBAN_MAX_SENDERS];	/* claim_share.c */
	Latch	   *webhook_apply_latch[ANTIBAN_MAX_APPLY_WORKERS];	/* set to wake a webhook apply worker */
	int32		page_kb;		/* kernel page size backing the segment (shmem_pages.c); -1 unknown */
	pg_atomic_uint32 page_advice_given; /* the log said so once for this segment */
} AntibanShared;

/* How the server went down before this start, as the journal recorded it. */
#define SHUTDOWN_UNKNOWN	0
#define SHUTDOWN_CLEAN		1
#define SHUTDOWN_CRASHED	2

extern AntibanShared *antiban_shared;
extern TimestampTz buckets_empty_since(TimestampTz last_known_send);
extern void antiban_install_shmem_hooks(void);
extern void antiban_require_loaded(void);
extern Size antiban_shmem_size(void);
extern int32 shmem_page_kb_now(void);
extern void antiban_shmem_page_advice(void);
extern void antiban_wake_senders_at_commit(void);
extern void antiban_wake_senders(void);
extern void antiban_register_sender_latch(int slot, Latch *latch);
extern void *antiban_shmem_region(const char *name, Size size, bool *found);

/* numbers_cache.c: this backend's copy of numbers, WABAs and portfolios */
typedef struct CachedNumber
{
	NumberView	view;			/* what the decision core sees */
	int64		portfolio_id;
	int			portfolio_index;	/* into NumbersCache.portfolios */
	TokenBucketParams throughput;
} CachedNumber;

typedef struct CachedPortfolio
{
	int64		id;
	char	   *business_id;
	int64		messaging_limit;	/* unique users per 24 h; -1: unlimited */
	NumberView *numbers;		/* its numbers, best health first */
	int			nnumbers;
} CachedPortfolio;

typedef struct NumbersCache
{
	Oid			instance;		/* the extension's OID: keys shared memory */
	CachedNumber *numbers;		/* best health first */
	NumberView *views;			/* same order, what decide() walks */
	int			nnumbers;
	CachedPortfolio *portfolios;
	int			nportfolios;
	struct RolePortfolio *grants;	/* antiban.role_portfolios */
	int			ngrants;
	struct HTAB *by_phone;		/* phone_number_id -> index in numbers */
} NumbersCache;

/* tenancy.c: which portfolios a role may use (antiban.role_portfolios) */
typedef struct RolePortfolio
{
	Oid			role;			/* a role that exists (the rows of dropped ones are skipped) */
	int			portfolio_index;
} RolePortfolio;

extern void tenancy_load(NumbersCache *c);
extern bool tenancy_scope(NumbersCache *c, Oid role, bool *allowed);
extern bool tenancy_scope_of(NumbersCache *c, Oid role, bool **allowed);
extern CachedPortfolio *tenancy_portfolio_by_id(NumbersCache *c, int64 id);
extern void tenancy_refuse(Oid role, const char *what, const char *name) pg_attribute_noreturn();
extern void tenancy_check_number(NumbersCache *c, Oid role, const CachedNumber *n);
extern char *tenancy_scope_text(NumbersCache *c, Oid role);
extern CachedNumber *tenancy_caller_number(NumbersCache *c, Oid role, const char *phone_number_id);
extern void tenancy_refuse_install_wide(const char *what);
extern Oid	tenancy_caller(void);
extern Oid	tenancy_enter_audience(Oid creator);
extern void tenancy_leave_audience(Oid previous);
extern bool tenancy_may_use_portfolio(int64 portfolio_id);

extern NumbersCache *numbers_cache_get(void);
extern CachedNumber *numbers_cache_find(NumbersCache *c, const char *phone_number_id);
extern CachedNumber *numbers_cache_by_id(NumbersCache *c, int64 id);
extern CachedPortfolio *numbers_cache_portfolio(NumbersCache *c, const char *business_id);
extern const char *numbers_cache_phone(NumbersCache *c, int64 id);
extern void antiban_config_changed(void);
extern bool antiban_templates_changing(void);

/* args.c: SQL arguments to core values, or a clear error */
extern CachedNumber *lookup_number_or_error(NumbersCache *c, const char *phone_number_id);
extern const char *normalize_recipient_or_error(const char *raw, char *out);
extern const char *recipient_key_or_error(const char *raw, char *normalized, char *key,
										  uint64 *key_hash);
extern Category category_or_error(const char *s);
extern Priority priority_or_error(const char *s);
extern CachedPortfolio *portfolio_or_error(NumbersCache *c, const char *business_id);
extern char *required_text_arg(FunctionCallInfo fcinfo, int arg, const char *name);

/* The longest idempotency key a send takes, in characters (README). */
#define IDEMPOTENCY_KEY_MAX_CHARS 255
extern const char *idempotency_key_or_error(const char *key, const char *argument, int element);
extern TupleDesc result_desc(FunctionCallInfo fcinfo);

/* buckets.c: throughput and pair-rate buckets in shared memory */
typedef struct BucketTake
{
	bool		allowed;
	bool		table_full;
	TokenBucketResult number;
	TokenBucketResult pair;		/* zeroed when no recipient was given */
} BucketTake;

extern Size buckets_shmem_size(void);
extern void buckets_shmem_init(void);
extern void buckets_request_locks(void);
extern TokenBucketParams pair_params(void);
extern BucketTake buckets_take(Oid instance, const CachedNumber *n,
							   const char *recipient, uint64 recipient_hash,
							   TimestampTz pair_last_send, int64 amount,
							   TimestampTz now, bool consume);
extern void buckets_give_back(Oid instance, const CachedNumber *n,
							  uint64 recipient_hash, int64 amount);
extern int64 buckets_available(NumbersCache *c, TimestampTz now, TimestampTz *next_token);
extern void buckets_drain(Oid instance, const CachedNumber *n, const char *recipient,
						  uint64 recipient_hash);

/* reach.c: people (sticky sender, service window, opt-out) and portfolio limits */

/* A change a transaction states about a person (recipient_facts.c). */
typedef enum FactKind
{
	FACT_OPT_OUT,
	FACT_WINDOW,
	FACT_MARKETING_DEFER,
	FACT_TIME_ZONE,				/* the person's own time zone (noted_at: when) */
	FACT_LINK					/* an identifier now names another anchor */
} FactKind;

typedef struct RecipientFact
{
	FactKind	kind;
	ClockDomain domain;
	Oid			instance;
	int64		portfolio_id;
	uint64		key_hash;		/* the identifier's canonical key */
	bool		opted_out;		/* FACT_OPT_OUT */
	TimestampTz consent_at;		/* FACT_OPT_OUT: when the person said it */
	bool		as_of_now;		/* FACT_OPT_OUT: stated now, not at an event time */
	bool		opt_in;			/* FACT_OPT_OUT: a marketing opt-in (opted_out false) */
	uint16		time_zone;		/* FACT_TIME_ZONE: person_zone_index(), 0: none */
	TimestampTz window_until;	/* FACT_WINDOW */
	int64		window_number_id;	/* FACT_WINDOW */
	TimestampTz marketing_not_before;	/* FACT_MARKETING_DEFER */
	uint64		anchor;			/* FACT_LINK: the person's anchor now */
	TimestampTz noted_at;		/* antiban.now() when stated */
} RecipientFact;

extern Size reach_shmem_size(void);
extern void reach_shmem_init(void);
extern void reach_request_locks(void);
extern void reach_ensure_loaded(NumbersCache *c, const CachedPortfolio *p, TimestampTz now);
extern bool reach_get(Oid instance, int64 portfolio_id, uint64 key_hash, RecipientState *out,
					  uint64 *anchor);
extern bool reach_peek(ClockDomain domain, Oid instance, int64 portfolio_id, uint64 anchor,
					   RecipientState *out);
extern bool reach_admits(Oid instance, const CachedPortfolio *p, const RecipientState *rs,
						 TimestampTz now, TimestampTz *ready_at);
extern bool reach_record(Oid instance, const CachedPortfolio *p, const char *key,
						 uint64 key_hash, int64 number_id, TimestampTz now, bool counts,
						 Category category);
extern void reach_open_window(Oid instance, int64 portfolio_id, const char *key,
							  uint64 key_hash, int64 number_id, TimestampTz until);
extern void reach_set_opt_out(Oid instance, int64 portfolio_id, const char *key,
							  uint64 key_hash, bool opted_out, TimestampTz at, bool as_of_now);
extern void reach_set_time_zone(Oid instance, int64 portfolio_id, const char *key,
								uint64 key_hash, uint16 time_zone);
extern void reach_note_opt_in(Oid instance, int64 portfolio_id, const char *key,
							  uint64 key_hash, TimestampTz at, bool as_of_now);
extern CachedNumber *reach_fact_args(FunctionCallInfo fcinfo, NumbersCache *c, char *key,
									 uint64 *key_hash);
extern void reach_defer_marketing(Oid instance, int64 portfolio_id, const char *key,
								  uint64 key_hash, TimestampTz until);
extern bool reach_consent_spilled(void);
extern void reach_consent_from_tables(int64 portfolio_id, const char *key, RecipientState *rs);
extern void reach_fact_apply_to(RecipientState *rs, const RecipientFact *f);
extern bool reach_apply_fact(const RecipientFact *f);
extern void reach_apply_link(const RecipientFact *f);

/* identity.c: canonical keys, and the links between a person's identifiers */
extern Size identity_shmem_size(void);
extern void identity_shmem_init(void);
extern void identity_request_locks(void);
extern bool identity_key(const char *recipient, char *key, uint64 *key_hash);
extern bool identity_lookup(ClockDomain domain, Oid instance, int64 portfolio_id,
							uint64 key_hash, uint64 *anchor);
extern uint64 identity_anchor(ClockDomain domain, Oid instance, int64 portfolio_id,
							  uint64 key_hash);
extern bool identity_set(ClockDomain domain, Oid instance, int64 portfolio_id,
						 uint64 key_hash, uint64 anchor);
extern void identity_load(ClockDomain domain, Oid instance, int64 portfolio_id);

/* recipient_facts.c: opt-outs, windows and links follow the caller's transaction */
extern void recipient_fact_note(const RecipientFact *f, const char *key);
extern void recipient_facts_overlay(ClockDomain domain, Oid instance, int64 portfolio_id,
									uint64 anchor, RecipientState *rs);
extern bool recipient_facts_pending_anchor(ClockDomain domain, Oid instance, int64 portfolio_id,
										   uint64 key_hash, uint64 *anchor);

/* decide.c: one decision, for SQL, the send functions and the sender */
typedef struct DecideArgs
{
	NumbersCache *cache;
	TimestampTz now;
	const char *recipient;		/* as given */
	Category	category;
	Priority	priority;
	TimestampTz valid_until;	/* TB_NEVER: none */
	const char *from_number;	/* NULL: any */
	const char *portfolio;		/* NULL: any */
	int64		portfolio_id;	/* the same by id (the outbox's); 0: none */
	Oid			role;			/* whose grants bound the choice; InvalidOid: a worker's */
	bool		consume;
	const FrequencyCaps *caps;	/* NULL: antiban.frequency_caps */
	bool		quiet;			/* a plan's dry run: not journalled */
	struct JournalDecision *journal_into;	/* non-NULL: the journal record goes
											 * here, for the caller to store */
} DecideArgs;

extern void antiban_decide_message(const DecideArgs *args, Decision *d, char *normalized);
extern int64 antiban_decide_portfolio(const DecideArgs *args);

/* contact_policy.c: opt-in required, frequency caps, quiet hours (GUCs and the check) */
extern void antiban_define_policy_gucs(void);
extern void frequency_caps_or_error(const char *text, FrequencyCaps *out);
extern int64 frequency_cap_horizon(void);
extern void contact_policy_check(const char *recipient, Category category,
								 const RecipientState *rs, const FrequencyCaps *caps,
								 TimestampTz now, TimestampTz *ready_at, Limiter *limiter);

/* person_time_zone.c: a person's own time zone, by index into a shared table of names */
extern Size person_zone_shmem_size(void);
extern void person_zone_shmem_init(void);
extern uint16 person_zone_index(const char *name);
extern const char *person_zone_name(uint16 index);

/* consent.c: the consent registry (history, current state, contacts) */
extern void consent_check_stated_at(TimestampTz at, const char *what);
extern int64 consent_register(int64 portfolio_id, const char *key, const char *action,
							  TimestampTz at, bool as_of_now, const char *channel,
							  const char *proof);

/* journal.c: decisions and recipient facts, written behind the hot path */
typedef struct JournalDecision
{
	TimestampTz decided_at;
	TimestampTz not_before;		/* 0: none */
	int64		number_id;		/* 0: none */
	uint8		category;
	uint8		priority;
	uint8		outcome;
	uint8		reason;
	uint8		limiter;
	bool		consumed;
	char		recipient[RECIPIENT_MAXLEN + 1];
	char		detail[DECISION_DETAIL_MAX];
} JournalDecision;

/* A send to a recipient (sticky sender, counted reach): never their facts. */
typedef struct JournalRecipient
{
	int64		portfolio_id;
	int64		last_number_id;
	TimestampTz last_sent;
	TimestampTz last_reach;		/* REACH_NEVER: none */
	char		recipient[RECIPIENT_MAXLEN + 1];
} JournalRecipient;

extern Size journal_shmem_size(void);
extern void journal_shmem_init(void);
extern void journal_request_locks(void);
extern void journal_log_decision(Oid instance, const JournalDecision *d);
extern void journal_log_recipient(Oid instance, const JournalRecipient *r);
extern void journal_store_decisions(const JournalDecision *d, int n);

/* decision_rows.c: the journal's fast store of decisions (false: use SQL) */
extern bool decision_rows_insert(const JournalDecision *d, int n);

/* reach_rows.c: the journal's sends, upserted without the executor */
extern bool reach_rows_upsert(const JournalRecipient *r, int n);
extern int64 journal_flush(bool writer, bool *done);
extern void journal_set_writer_latch(Latch *latch);
extern void journal_writer_committed(void);
extern void journal_mark_startup(void);
extern void journal_mark_clean_shutdown(void);

/* worker/journal_writer.c, worker/sender.c */
extern void antiban_register_journal_writer(void);
extern void antiban_register_senders(void);
extern void antiban_register_monitor(void);

#endif							/* ANTIBAN_PG_H */
