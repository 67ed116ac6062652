/*
 * error_class.c
 *		Cloud API error codes (cloud-api.md section 2) as a table.
 *
 * Transient: retry with backoff.  Permanent: fail the message with its code.
 * Account signals: 130429 slows the number; ban and account codes (368,
 * 131031, 131048, 131042, 0, 190, permissions...) pause it and raise an
 * alert, and are never retried automatically.  Unknown codes fall back on
 * the HTTP status: 5xx transient, anything else permanent.
 */
#include "error_class.h"

#include <stddef.h>

#define S(x) ((int64_t) (x) * 1000000)

static const ErrorClass table[] = {
	{0, ERROR_PAUSE_NUMBER, 0, 0, "access token expired or revoked"},
	{1, ERROR_TRANSIENT, 2, 0, "API unknown error"},
	{2, ERROR_TRANSIENT, 0, 0, "API service temporarily unavailable"},
	{3, ERROR_PAUSE_NUMBER, 0, 0, "capability or permission missing"},
	{4, ERROR_TRANSIENT, 0, S(60), "app-level Graph API rate limit"},
	{10, ERROR_PAUSE_NUMBER, 0, 0, "permission denied or removed"},
	{33, ERROR_PAUSE_NUMBER, 0, 0, "business phone number deleted"},
	{100, ERROR_PERMANENT, 0, 0, "invalid parameter"},
	{190, ERROR_PAUSE_NUMBER, 0, 0, "access token expired"},
	{368, ERROR_PAUSE_NUMBER, 0, 0, "temporarily blocked for policy violations"},
	{613, ERROR_TRANSIENT, 0, S(60), "calls exceeded the rate limit"},
	{80007, ERROR_TRANSIENT, 0, S(60), "WABA rate limit reached"},
	{80008, ERROR_TRANSIENT, 0, S(60), "template endpoint rate limit"},
	{130429, ERROR_SLOW_NUMBER, 0, S(1), "throughput rate limit hit"},
	{130472, ERROR_PERMANENT, 0, 0, "user in Meta's marketing experiment"},
	{130497, ERROR_PERMANENT, 0, 0, "business restricted from this country"},
	{131000, ERROR_TRANSIENT, 3, 0, "something went wrong"},
	{131005, ERROR_PAUSE_NUMBER, 0, 0, "access denied"},
	{131008, ERROR_PERMANENT, 0, 0, "required parameter missing"},
	{131009, ERROR_PERMANENT, 0, 0, "parameter value not valid"},
	{131016, ERROR_TRANSIENT, 0, 0, "service unavailable"},
	{131021, ERROR_PERMANENT, 0, 0, "recipient cannot be sender"},
	{131026, ERROR_PERMANENT, 0, 0, "message undeliverable"},
	{131030, ERROR_PERMANENT, 0, 0, "recipient not in allowed list"},
	{131031, ERROR_PAUSE_NUMBER, 0, 0, "business account locked"},
	{131035, ERROR_PERMANENT, 0, 0, "no-storage: not delivered within retention"},
	{131036, ERROR_PERMANENT, 0, 0, "no-storage: not delivered before TTL"},
	{131037, ERROR_PAUSE_NUMBER, 0, 0, "number has no approved display name"},
	{131042, ERROR_PAUSE_NUMBER, 0, 0, "business eligibility payment issue"},
	{131043, ERROR_PERMANENT, 0, 0, "message expired"},
	{131045, ERROR_PAUSE_NUMBER, 0, 0, "incorrect certificate"},
	{131047, ERROR_PERMANENT, 0, 0, "more than 24 h since the user last wrote"},
	{131048, ERROR_PAUSE_NUMBER, 0, 0, "spam rate limit hit"},
	{131049, ERROR_RETRY_NEXT_DAY, 0, S(24 * 3600), "not delivered to maintain ecosystem engagement"},
	{131050, ERROR_PERMANENT, 0, 0, "user stopped marketing messages"},
	{131051, ERROR_PERMANENT, 0, 0, "unsupported message type"},
	{131052, ERROR_PERMANENT, 0, 0, "media download error"},
	{131053, ERROR_PERMANENT, 0, 0, "media upload error"},
	{131055, ERROR_PERMANENT, 0, 0, "method not allowed"},
	{131056, ERROR_RECIPIENT_BACKOFF, 0, S(1), "pair rate limit hit"},
	{131057, ERROR_TRANSIENT, 0, S(5), "account in maintenance mode"},
	{131059, ERROR_TRANSIENT, 2, 0, "invalid pagination cursor"},
	{132000, ERROR_PERMANENT, 0, 0, "template parameter count mismatch"},
	{132001, ERROR_PERMANENT, 0, 0, "template does not exist or is not approved"},
	{132005, ERROR_PERMANENT, 0, 0, "hydrated text too long"},
	{132007, ERROR_PERMANENT, 0, 0, "template format policy violated"},
	{132012, ERROR_PERMANENT, 0, 0, "parameter format mismatch"},
	{132015, ERROR_PERMANENT, 0, 0, "template paused or held message dropped"},
	{132016, ERROR_PERMANENT, 0, 0, "template disabled"},
	{132068, ERROR_PERMANENT, 0, 0, "flow blocked"},
	{132069, ERROR_TRANSIENT, 0, S(3600), "flow throttled"},
	{133000, ERROR_PAUSE_NUMBER, 0, 0, "incomplete deregistration"},
	{133004, ERROR_TRANSIENT, 0, 0, "server temporarily unavailable"},
	{133005, ERROR_PAUSE_NUMBER, 0, 0, "two-step PIN mismatch"},
	{133006, ERROR_PAUSE_NUMBER, 0, 0, "number needs re-verification"},
	{133008, ERROR_TRANSIENT, 0, S(60), "too many PIN guesses"},
	{133009, ERROR_TRANSIENT, 0, S(60), "PIN entered too fast"},
	{133010, ERROR_PAUSE_NUMBER, 0, 0, "phone number not registered"},
	{133015, ERROR_TRANSIENT, 0, S(300), "number recently deleted"},
	{133016, ERROR_TRANSIENT, 0, S(3600), "register/deregister rate limit"},
	{134011, ERROR_PAUSE_NUMBER, 0, 0, "WhatsApp Payments terms not accepted"},
	{134100, ERROR_PERMANENT, 0, 0, "MM Lite API: marketing only"},
	{134101, ERROR_PERMANENT, 0, 0, "MM Lite API: template still syncing"},
	{134102, ERROR_PERMANENT, 0, 0, "MM Lite API: template unavailable"},
	{135000, ERROR_PERMANENT, 0, 0, "generic user error"},
	{2494100, ERROR_TRANSIENT, 0, S(60), "maintenance during migration"},
};

static const char *const action_names[] = {
	[ERROR_TRANSIENT] = "transient",
	[ERROR_PERMANENT] = "permanent",
	[ERROR_RECIPIENT_BACKOFF] = "recipient_backoff",
	[ERROR_RETRY_NEXT_DAY] = "retry_next_day",
	[ERROR_SLOW_NUMBER] = "slow_number",
	[ERROR_PAUSE_NUMBER] = "pause_number",
};

const char *
error_action_name(ErrorAction a)
{
	return action_names[a];
}

bool
error_is_account_signal(ErrorAction a)
{
	return a == ERROR_SLOW_NUMBER || a == ERROR_PAUSE_NUMBER;
}

ErrorClass
error_classify(int code, int http_status)
{
	ErrorClass	c = {code, ERROR_PERMANENT, 0, 0, "unknown error"};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].code == code)
			return table[i];
	if (code >= 200 && code <= 299)
	{
		c.action = ERROR_PAUSE_NUMBER;
		c.meaning = "API permission not granted or removed";
	}
	else if (code >= 2388000 && code <= 2388999)
		c.meaning = "template creation or migration error";
	else if (http_status >= 500 || http_status == 429 || http_status == 0)
	{
		c.action = ERROR_TRANSIENT;
		c.meaning = http_status == 0 ? "no answer from the Cloud API" : "server error";
	}
	return c;
}
