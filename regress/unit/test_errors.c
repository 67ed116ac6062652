/*
 * test_errors.c
 *		The code table (what each Cloud API error does) and retry delays.
 *
 * The expectations below are written from cloud-api.md section 2, not from
 * error_class.c: T (transient: retry), P (permanent for the message), A
 * (account or ban signal: pause the number and alert a person).
 */
#include "unit.h"

#include <string.h>

#include "core/backoff.h"
#include "core/error_class.h"

#define DAY_US (24LL * 3600 * 1000000)

typedef struct Documented
{
	int			code;
	int			http;
	char		action;			/* T, P or A */
} Documented;

/* cloud-api.md section 2: the table, then the less common codes. */
static const Documented documented[] = {
	{0, 401, 'A'}, {1, 400, 'T'}, {2, 503, 'T'}, {3, 500, 'A'}, {4, 400, 'T'},
	{10, 403, 'A'}, {33, 400, 'A'}, {100, 400, 'P'}, {190, 401, 'A'},
	{200, 403, 'A'}, {250, 403, 'A'}, {299, 403, 'A'}, {368, 403, 'A'},
	{80007, 400, 'T'}, {130429, 400, 'T'}, {130472, 400, 'P'}, {130497, 403, 'P'},
	{131000, 500, 'T'}, {131005, 403, 'A'}, {131008, 400, 'P'}, {131009, 400, 'P'},
	{131016, 500, 'T'}, {131021, 400, 'P'}, {131026, 400, 'P'}, {131030, 400, 'P'},
	{131031, 403, 'A'}, {131037, 400, 'A'}, {131042, 400, 'A'}, {131045, 500, 'A'},
	{131047, 400, 'P'}, {131048, 400, 'A'}, {131049, 400, 'P'}, {131050, 400, 'P'},
	{131051, 400, 'P'}, {131052, 400, 'P'}, {131053, 400, 'P'}, {131055, 400, 'P'},
	{131056, 400, 'T'}, {131057, 500, 'T'}, {132000, 400, 'P'}, {132001, 404, 'P'},
	{132005, 400, 'P'}, {132007, 400, 'P'}, {132012, 400, 'P'}, {132015, 400, 'P'},
	{132016, 400, 'P'}, {132068, 400, 'P'}, {132069, 400, 'T'}, {133000, 500, 'A'},
	{133004, 503, 'T'}, {133005, 400, 'A'}, {133006, 400, 'A'}, {133008, 400, 'T'},
	{133009, 400, 'T'}, {133010, 400, 'A'}, {133015, 400, 'T'}, {133016, 400, 'T'},
	{134011, 400, 'A'}, {135000, 400, 'P'},
	/* less common */
	{613, 400, 'T'}, {80008, 400, 'T'}, {131035, 400, 'P'}, {131036, 400, 'P'},
	{131043, 400, 'P'}, {131059, 400, 'T'}, {134100, 400, 'P'}, {134101, 400, 'P'},
	{134102, 400, 'P'}, {2494100, 400, 'T'}, {2388019, 400, 'P'}, {2388293, 400, 'P'},
	{2388299, 400, 'P'},
	/* the On-Premises API's spam rate limit: treated as 131048 */
	{471, 400, 'A'},
};

/*
 * 131049 is P for this message "now", retried only after 24 h: the table
 * keeps it transient with a 24 h floor, which is the same thing.
 */
static void
every_documented_code_does_what_the_docs_say(void **state)
{
	for (size_t i = 0; i < sizeof(documented) / sizeof(documented[0]); i++)
	{
		const Documented *d = &documented[i];
		ErrorClass	c = error_classify(d->code, d->http);

		assert_int_equal(c.code, d->code);
		assert_true(c.meaning != NULL && strcmp(c.meaning, "unknown error") != 0);
		if (d->action == 'A')
		{
			/* the message waits for another number; this one stops, a person is told */
			assert_int_equal(c.kind, ERROR_TRANSIENT);
			assert_int_not_equal(c.pause, PAUSE_NONE);
			assert_string_equal(c.alert_kind, "number_paused");
			assert_int_equal(c.severity, ALERT_CRITICAL);
		}
		else
		{
			assert_int_equal(c.pause, PAUSE_NONE);
			if (d->code == 131049)
				assert_true(c.kind == ERROR_TRANSIENT && c.min_delay_us >= DAY_US);
			else
				assert_int_equal(c.kind, d->action == 'T' ? ERROR_TRANSIENT : ERROR_PERMANENT);
		}
		/* a permanent error neither slows the number nor backs off a pair */
		if (c.kind == ERROR_PERMANENT)
			assert_true(!c.slow_number && !c.recipient_backoff && c.defer_marketing_us == 0);
	}
}

/* Every code of a consequence, scanned from the table itself. */
static int
codes_where(bool (*has) (const ErrorClass *), int *out, int max)
{
	int			n = 0;

	for (int i = 0; i < error_table_size(); i++)
	{
		const ErrorClass *r = error_table_row(i);

		if (has(r) && n < max)
			out[n++] = r->code;
	}
	return n;
}

static void
assert_codes(bool (*has) (const ErrorClass *), const int *expected, int nexpected)
{
	int			got[128];
	int			n = codes_where(has, got, 128);

	assert_int_equal(n, nexpected);
	for (int i = 0; i < n; i++)
		assert_int_equal(got[i], expected[i]);
}

static bool
soft(const ErrorClass *r)
{
	return r->pause == PAUSE_SOFT;
}
static bool
slows(const ErrorClass *r)
{
	return r->slow_number;
}
static bool
backs_off_pair(const ErrorClass *r)
{
	return r->recipient_backoff;
}
static bool
defers_marketing(const ErrorClass *r)
{
	return r->defer_marketing_us > 0;
}
static bool
opts_out(const ErrorClass *r)
{
	return r->opt_out;
}

static HealthCounter counter_wanted;
static bool
feeds_wanted(const ErrorClass *r)
{
	return r->counter == counter_wanted;
}

static void
consequences_belong_to_exactly_their_codes(void **state)
{
	const int	soft_codes[] = {471, 131048};
	const int	slow_codes[] = {130429};
	const int	pair_codes[] = {131056};
	const int	defer_codes[] = {131049};
	const int	opt_out_codes[] = {131050};
	const struct
	{
		HealthCounter counter;
		int			codes[2];
		int			n;
	}			feeds[] = {
		{HEALTH_COUNTER_SPAM, {471, 131048}, 2},
		{HEALTH_COUNTER_POLICY, {368, 131031}, 2},
		{HEALTH_COUNTER_THROUGHPUT, {130429}, 1},
		{HEALTH_COUNTER_PAIR, {131056}, 1},
		{HEALTH_COUNTER_MARKETING_CAP, {131049}, 1},
		{HEALTH_COUNTER_UNDELIVERABLE, {131026}, 1},
		{HEALTH_COUNTER_BLOCKS, {131050}, 1},
	};

	assert_codes(soft, soft_codes, 2);
	assert_codes(slows, slow_codes, 1);
	assert_codes(backs_off_pair, pair_codes, 1);
	assert_codes(defers_marketing, defer_codes, 1);
	assert_codes(opts_out, opt_out_codes, 1);
	for (size_t i = 0; i < sizeof(feeds) / sizeof(feeds[0]); i++)
	{
		counter_wanted = feeds[i].counter;
		assert_codes(feeds_wanted, feeds[i].codes, feeds[i].n);
	}
}

/* Sorted, ranges that do not overlap, a meaning and a coherent alert on every row. */
static void
table_is_well_formed(void **state)
{
	int			previous_last = -1;

	for (int i = 0; i < error_table_size(); i++)
	{
		const ErrorClass *r = error_table_row(i);
		int			last = r->last_code > r->code ? r->last_code : r->code;

		assert_true(r->code > previous_last);
		previous_last = last;
		assert_non_null(r->meaning);
		assert_true((r->alert_kind == NULL) == (r->severity == ALERT_NONE));
		assert_true(r->max_attempts >= 0 && r->min_delay_us >= 0);
		/* a code that costs health names its counter; one that does not, none */
		assert_true((unsigned) r->counter < HEALTH_COUNTERS);
	}
	assert_null(error_table_row(error_table_size()));
	assert_null(error_table_row(-1));
}

static void
spot_checks(void **state)
{
	ErrorClass	spam = error_classify(131048, 400);
	ErrorClass	legacy = error_classify(471, 400);
	ErrorClass	cap = error_classify(131049, 400);
	ErrorClass	stop = error_classify(131050, 400);
	ErrorClass	congestion = error_classify(130429, 400);
	ErrorClass	ban = error_classify(368, 403);

	/* 471 is 131048 in everything but its code and meaning */
	assert_int_equal(legacy.kind, spam.kind);
	assert_int_equal(legacy.max_attempts, spam.max_attempts);
	assert_int_equal(legacy.min_delay_us, spam.min_delay_us);
	assert_int_equal(legacy.pause, spam.pause);
	assert_int_equal(legacy.slow_number, spam.slow_number);
	assert_int_equal(legacy.recipient_backoff, spam.recipient_backoff);
	assert_int_equal(legacy.defer_marketing_us, spam.defer_marketing_us);
	assert_int_equal(legacy.opt_out, spam.opt_out);
	assert_int_equal(legacy.counter, spam.counter);
	assert_string_equal(legacy.alert_kind, spam.alert_kind);
	assert_int_equal(legacy.severity, spam.severity);
	assert_int_equal(spam.pause, PAUSE_SOFT);
	assert_int_equal(spam.counter, HEALTH_COUNTER_SPAM);

	assert_true(cap.defer_marketing_us >= DAY_US);
	assert_int_equal(cap.pause, PAUSE_NONE);
	assert_false(cap.opt_out);
	assert_string_equal(error_summary(&cap), "retry_next_day");

	assert_true(stop.opt_out);
	assert_int_equal(stop.kind, ERROR_PERMANENT);
	assert_int_equal(stop.counter, HEALTH_COUNTER_BLOCKS);
	assert_string_equal(error_summary(&stop), "permanent");

	assert_true(congestion.slow_number);
	assert_int_equal(congestion.pause, PAUSE_NONE);
	assert_string_equal(congestion.alert_kind, "number_throttled");
	assert_int_equal(congestion.severity, ALERT_WARNING);
	assert_string_equal(error_summary(&congestion), "slow_number");

	assert_int_equal(ban.pause, PAUSE_HARD);
	assert_int_equal(ban.counter, HEALTH_COUNTER_POLICY);
	assert_string_equal(error_summary(&ban), "pause_number");
	assert_string_equal(pause_kind_name(ban.pause), "hard");
	assert_string_equal(alert_severity_name(ban.severity), "critical");
	assert_string_equal(health_counter_name(ban.counter), "policy");

	assert_string_equal(error_summary(&(ErrorClass) {.kind = ERROR_TRANSIENT}), "transient");
	assert_true(error_classify(131000, 500).max_attempts == 3);
	assert_true(error_classify(1, 400).max_attempts == 2);
	/* a range row answers with the code asked about */
	assert_int_equal(error_classify(2388293, 400).code, 2388293);
	assert_int_equal(error_classify(2388293, 400).last_code, 0);
}

static void
recovery_restarts_on_the_number_s_own_signals(void **state)
{
	assert_true(health_counter_restarts_recovery(HEALTH_COUNTER_SPAM));
	assert_true(health_counter_restarts_recovery(HEALTH_COUNTER_POLICY));
	assert_true(health_counter_restarts_recovery(HEALTH_COUNTER_THROUGHPUT));
	assert_true(health_counter_restarts_recovery(HEALTH_COUNTER_UNDELIVERABLE));
	assert_true(health_counter_restarts_recovery(HEALTH_COUNTER_BLOCKS));
	assert_false(health_counter_restarts_recovery(HEALTH_COUNTER_PAIR));
	assert_false(health_counter_restarts_recovery(HEALTH_COUNTER_MARKETING_CAP));
	assert_false(health_counter_restarts_recovery(HEALTH_COUNTER_NONE));
	for (int c = 0; c < HEALTH_COUNTERS; c++)
	{
		HealthCounter back;

		assert_true(health_counter_parse(health_counter_name((HealthCounter) c), &back));
		assert_int_equal(back, c);
	}
}

static void
unknown_codes_follow_http_status(void **state)
{
	assert_int_equal(error_classify(999999, 502).kind, ERROR_TRANSIENT);
	assert_int_equal(error_classify(999999, 429).kind, ERROR_TRANSIENT);
	assert_int_equal(error_classify(999999, 400).kind, ERROR_PERMANENT);
	assert_int_equal(error_classify(999999, 0).kind, ERROR_TRANSIENT);
	assert_int_equal(error_classify(999999, 0).pause, PAUSE_NONE);
	assert_int_equal(error_classify(999999, 503).counter, HEALTH_COUNTER_NONE);
	assert_string_equal(error_classify(-1, 0).meaning, "no answer from the Cloud API");
	assert_string_equal(error_classify(999999, 400).meaning, "unknown error");
}

static void
backoff_grows_with_jitter_and_cap(void **state)
{
	BackoffPolicy p = {.base_us = 1000000, .cap_us = 60000000};

	assert_int_equal(backoff_delay(&p, 1, 0.0, 0), 500000);
	assert_int_equal(backoff_delay(&p, 1, 0.999999, 0) / 1000, 999);
	assert_int_equal(backoff_delay(&p, 3, 0.0, 0), 2000000);
	assert_int_equal(backoff_delay(&p, 30, 0.0, 0), 30000000);
	/* Retry-After wins when longer */
	assert_int_equal(backoff_delay(&p, 1, 0.0, 7000000), 7000000);
}

static void
pair_backoff_is_four_to_the_x(void **state)
{
	assert_int_equal(backoff_pair_delay(0), 1000000);
	assert_int_equal(backoff_pair_delay(1), 4000000);
	assert_int_equal(backoff_pair_delay(2), 16000000);
	assert_int_equal(backoff_pair_delay(50), 4096LL * 1000000);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(every_documented_code_does_what_the_docs_say),
	cmocka_unit_test(consequences_belong_to_exactly_their_codes),
	cmocka_unit_test(table_is_well_formed),
	cmocka_unit_test(spot_checks),
	cmocka_unit_test(recovery_restarts_on_the_number_s_own_signals),
	cmocka_unit_test(unknown_codes_follow_http_status),
	cmocka_unit_test(backoff_grows_with_jitter_and_cap),
	cmocka_unit_test(pair_backoff_is_four_to_the_x),
};

UnitGroup
error_tests(void)
{
	return (UnitGroup) UNIT_GROUP("errors", tests);
}
