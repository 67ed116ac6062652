/*
 * error_class.c
 *		Cloud API error codes (cloud-api.md section 2) and what each does, as
 *		one table.
 *
 * Transient codes retry the message with backoff; permanent ones fail it.
 * Account and ban signals (368, 131031, 131042, token and permission
 * codes...) pause the number for a person to look at, and the message waits
 * for another number; 131048 (and its legacy form 471) is Meta slowing a
 * spammy number, which may come back by itself: a soft pause.  130429 is
 * congestion: one AIMD decrease of the number's rate.  131056 backs off the
 * pair, 131049 defers the person's marketing by 24 h, 131050 opts them out.
 * Codes not listed fall back on the HTTP status: 5xx, 429 and no answer are
 * transient, anything else permanent.
 */
#include "error_class.h"

#include <stddef.h>

#define S(x) ((int64_t) (x) * 1000000)
#define DAY S(24 * 3600)

/* Row shapes, so that each row reads as what the code does. */
#define RETRY(tries, delay)	.kind = ERROR_TRANSIENT, .max_attempts = (tries), .min_delay_us = (delay)
#define FAIL				.kind = ERROR_PERMANENT
#define PAUSES(how)			.pause = (how), .alert_kind = "number_paused", .severity = ALERT_CRITICAL
#define FEEDS(counter_)		.counter = (counter_)
#define SLOWS				.slow_number = true, .alert_kind = "number_throttled", .severity = ALERT_WARNING

static const ErrorClass table[] = {
	{.code = 0, RETRY(0, 0), PAUSES(PAUSE_HARD), .meaning = "access token expired or revoked"},
	{.code = 1, RETRY(2, 0), .meaning = "API unknown error"},
	{.code = 2, RETRY(0, 0), .meaning = "API service temporarily unavailable"},
	{.code = 3, RETRY(0, 0), PAUSES(PAUSE_HARD), .meaning = "capability or permission missing"},
	{.code = 4, RETRY(0, S(60)), .meaning = "app-level Graph API rate limit"},
	{.code = 10, RETRY(0, 0), PAUSES(PAUSE_HARD), .meaning = "permission denied or removed"},
	{.code = 33, RETRY(0, 0), PAUSES(PAUSE_HARD), .meaning = "business phone number deleted"},
	{.code = 100, FAIL, .meaning = "invalid parameter"},
	{.code = 190, RETRY(0, 0), PAUSES(PAUSE_HARD), .meaning = "access token expired"},
	{.code = 200, .last_code = 299, RETRY(0, 0), PAUSES(PAUSE_HARD), .meaning = "API permission not granted or removed"},
	{.code = 368, RETRY(0, 0), PAUSES(PAUSE_HARD), FEEDS(HEALTH_COUNTER_POLICY), .meaning = "temporarily blocked for policy violations"},
	{.code = 471, RETRY(0, 0), PAUSES(PAUSE_SOFT), FEEDS(HEALTH_COUNTER_SPAM), .meaning = "spam rate limit hit (legacy code)"},
	{.code = 613, RETRY(0, S(60)), .meaning = "calls exceeded the rate limit"},
	{.code = 80007, RETRY(0, S(60)), .meaning = "WABA rate limit reached"},
	{.code = 80008, RETRY(0, S(60)), .meaning = "template endpoint rate limit"},
	{.code = 130429, RETRY(0, S(1)), SLOWS, FEEDS(HEALTH_COUNTER_THROUGHPUT), .meaning = "throughput rate limit hit"},
	{.code = 130472, FAIL, .meaning = "user in Meta's marketing experiment"},
	{.code = 130497, FAIL, .meaning = "business restricted from this country"},
	{.code = 131000, RETRY(3, 0), .meaning = "something went wrong"},
	{.code = 131005, RETRY(0, 0), PAUSES(PAUSE_HARD), .meaning = "access denied"},
	{.code = 131008, FAIL, .meaning = "required parameter missing"},
	{.code = 131009, FAIL, .meaning = "parameter value not valid"},
	{.code = 131016, RETRY(0, 0), .meaning = "service unavailable"},
	{.code = 131021, FAIL, .meaning = "recipient cannot be sender"},
	{.code = 131026, FAIL, FEEDS(HEALTH_COUNTER_UNDELIVERABLE), .meaning = "message undeliverable"},
	{.code = 131030, FAIL, .meaning = "recipient not in allowed list"},
	{.code = 131031, RETRY(0, 0), PAUSES(PAUSE_HARD), FEEDS(HEALTH_COUNTER_POLICY), .meaning = "business account locked"},
	{.code = 131035, FAIL, .meaning = "no-storage: not delivered within retention"},
	{.code = 131036, FAIL, .meaning = "no-storage: not delivered before TTL"},
	{.code = 131037, RETRY(0, 0), PAUSES(PAUSE_HARD), .meaning = "number has no approved display name"},
	{.code = 131042, RETRY(0, 0), PAUSES(PAUSE_HARD), .meaning = "business eligibility payment issue"},
	{.code = 131043, FAIL, .meaning = "message expired"},
	{.code = 131045, RETRY(0, 0), PAUSES(PAUSE_HARD), .meaning = "incorrect certificate"},
	{.code = 131047, FAIL, .meaning = "more than 24 h since the user last wrote"},
	{.code = 131048, RETRY(0, 0), PAUSES(PAUSE_SOFT), FEEDS(HEALTH_COUNTER_SPAM), .meaning = "spam rate limit hit"},
	{.code = 131049, RETRY(0, DAY), .defer_marketing_us = DAY, FEEDS(HEALTH_COUNTER_MARKETING_CAP), .meaning = "not delivered to maintain ecosystem engagement"},
	{.code = 131050, FAIL, .opt_out = true, FEEDS(HEALTH_COUNTER_BLOCKS), .meaning = "user stopped marketing messages"},
	{.code = 131051, FAIL, .meaning = "unsupported message type"},
	{.code = 131052, FAIL, .meaning = "media download error"},
	{.code = 131053, FAIL, .meaning = "media upload error"},
	{.code = 131055, FAIL, .meaning = "method not allowed"},
	{.code = 131056, RETRY(0, S(1)), .recipient_backoff = true, FEEDS(HEALTH_COUNTER_PAIR), .meaning = "pair rate limit hit"},
	{.code = 131057, RETRY(0, S(5)), .meaning = "account in maintenance mode"},
	{.code = 131059, RETRY(2, 0), .meaning = "invalid pagination cursor"},
	{.code = 132000, FAIL, .meaning = "template parameter count mismatch"},
	{.code = 132001, FAIL, .meaning = "template does not exist or is not approved"},
	{.code = 132005, FAIL, .meaning = "hydrated text too long"},
	{.code = 132007, FAIL, .meaning = "template format policy violated"},
	{.code = 132012, FAIL, .meaning = "parameter format mismatch"},
	{.code = 132015, FAIL, .meaning = "template paused or held message dropped"},
	{.code = 132016, FAIL, .meaning = "template disabled"},
	{.code = 132068, FAIL, .meaning = "flow blocked"},
	{.code = 132069, RETRY(0, S(3600)), .meaning = "flow throttled"},
	{.code = 133000, RETRY(0, 0), PAUSES(PAUSE_HARD), .meaning = "incomplete deregistration"},
	{.code = 133004, RETRY(0, 0), .meaning = "server temporarily unavailable"},
	{.code = 133005, RETRY(0, 0), PAUSES(PAUSE_HARD), .meaning = "two-step PIN mismatch"},
	{.code = 133006, RETRY(0, 0), PAUSES(PAUSE_HARD), .meaning = "number needs re-verification"},
	{.code = 133008, RETRY(0, S(60)), .meaning = "too many PIN guesses"},
	{.code = 133009, RETRY(0, S(60)), .meaning = "PIN entered too fast"},
	{.code = 133010, RETRY(0, 0), PAUSES(PAUSE_HARD), .meaning = "phone number not registered"},
	{.code = 133015, RETRY(0, S(300)), .meaning = "number recently deleted"},
	{.code = 133016, RETRY(0, S(3600)), .meaning = "register/deregister rate limit"},
	{.code = 134011, RETRY(0, 0), PAUSES(PAUSE_HARD), .meaning = "WhatsApp Payments terms not accepted"},
	{.code = 134100, FAIL, .meaning = "MM Lite API: marketing only"},
	{.code = 134101, FAIL, .meaning = "MM Lite API: template still syncing"},
	{.code = 134102, FAIL, .meaning = "MM Lite API: template unavailable"},
	{.code = 135000, FAIL, .meaning = "generic user error"},
	{.code = 2388000, .last_code = 2388999, FAIL, .meaning = "template creation or migration error"},
	{.code = 2494100, RETRY(0, S(60)), .meaning = "maintenance during migration"},
};

#define TABLE_SIZE ((int) (sizeof(table) / sizeof(table[0])))

/*
 * Codes the table does not know, by HTTP status: the server's trouble is
 * worth another try, a refusal is not.  Status 0 is no answer at all.
 */
typedef struct HttpFallback
{
	int			first;
	int			last;
	ErrorKind	kind;
	const char *meaning;
} HttpFallback;

static const HttpFallback by_http_status[] = {
	{0, 0, ERROR_TRANSIENT, "no answer from the Cloud API"},
	{429, 429, ERROR_TRANSIENT, "too many requests"},
	{500, 599, ERROR_TRANSIENT, "server error"},
};

static const char *const kind_names[] = {
	[ERROR_TRANSIENT] = "transient",
	[ERROR_PERMANENT] = "permanent",
};

static const char *const pause_names[] = {
	[PAUSE_NONE] = "none",
	[PAUSE_SOFT] = "soft",
	[PAUSE_HARD] = "hard",
};

static const char *const severity_names[] = {
	[ALERT_NONE] = "none",
	[ALERT_INFO] = "info",
	[ALERT_WARNING] = "warning",
	[ALERT_CRITICAL] = "critical",
};

static bool
row_covers(const ErrorClass *row, int code)
{
	return code == row->code ||
		(row->last_code > row->code && code > row->code && code <= row->last_code);
}

/* The row for 'code' (its own code set), or what its HTTP status implies. */
ErrorClass
error_classify(int code, int http_status)
{
	ErrorClass	c = {.code = code, FAIL, .meaning = "unknown error"};

	for (int i = 0; i < TABLE_SIZE; i++)
	{
		if (row_covers(&table[i], code))
		{
			c = table[i];
			c.code = code;
			c.last_code = 0;
			return c;
		}
	}
	for (size_t i = 0; i < sizeof(by_http_status) / sizeof(by_http_status[0]); i++)
	{
		if (http_status >= by_http_status[i].first && http_status <= by_http_status[i].last)
		{
			c.kind = by_http_status[i].kind;
			c.meaning = by_http_status[i].meaning;
		}
	}
	return c;
}

int
error_table_size(void)
{
	return TABLE_SIZE;
}

const ErrorClass *
error_table_row(int i)
{
	return i >= 0 && i < TABLE_SIZE ? &table[i] : NULL;
}

/* The consequence that matters most, in one word (the old "action"). */
const char *
error_summary(const ErrorClass *e)
{
	if (e->pause != PAUSE_NONE)
		return "pause_number";
	if (e->slow_number)
		return "slow_number";
	if (e->recipient_backoff)
		return "recipient_backoff";
	if (e->defer_marketing_us > 0)
		return "retry_next_day";
	return kind_names[e->kind];
}

const char *
error_kind_name(ErrorKind k)
{
	return kind_names[k];
}

const char *
pause_kind_name(PauseKind p)
{
	return pause_names[p];
}

const char *
alert_severity_name(AlertSeverity s)
{
	return severity_names[s];
}
