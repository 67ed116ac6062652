/*
 * lead_llm_guc.c
 *		antiban.lead_llm_* parameters: the endpoint, the model, the timeout,
 *		the daily budget and how often the worker looks for work.
 *
 * All are reloadable (SIGHUP): the worker reads them before each call.
 * The API key is not one of them: parameters can be read by anyone with
 * SHOW and are written to the server log on a change, so the key is an
 * antiban secret (antiban.set_secret('llm_api_key', ...)), and a URL that
 * carries credentials is refused.
 */
#include "pg/lead_llm.h"

#include "utils/guc.h"

char	   *antiban_lead_llm_url = NULL;
char	   *antiban_lead_llm_model = NULL;
int			antiban_lead_llm_timeout_ms = 20000;
int			antiban_lead_llm_daily_budget = 1000;
int			antiban_lead_llm_poll_ms = 5000;

/* Empty (off) or http(s)://host..., without user:password@. */
static bool
check_llm_url(char **newval, void **extra, GucSource source)
{
	const char *url = *newval;
	const char *authority;
	size_t		host_len;

	if (url == NULL || url[0] == '\0')
		return true;
	if (strncmp(url, "http://", 7) == 0)
		authority = url + 7;
	else if (strncmp(url, "https://", 8) == 0)
		authority = url + 8;
	else
	{
		GUC_check_errdetail("The LLM endpoint must be an http:// or https:// URL.");
		GUC_check_errhint("For example https://api.openai.com/v1/chat/completions; empty turns the LLM step off.");
		return false;
	}
	host_len = strcspn(authority, "/?#");
	if (host_len == 0)
	{
		GUC_check_errdetail("The URL names no host.");
		return false;
	}
	if (memchr(authority, '@', host_len) != NULL)
	{
		/* the value itself is not echoed: it may hold a password */
		GUC_check_errdetail("The URL carries credentials (user:password@), which anyone could read with SHOW.");
		GUC_check_errhint("Put the API key in antiban.set_secret('llm_api_key', ...) instead.");
		return false;
	}
	return true;
}

void
antiban_define_lead_llm_gucs(void)
{
	DefineCustomStringVariable("antiban.lead_llm_url",
							   "OpenAI-compatible chat-completions endpoint of the optional LLM step of lead qualification.",
							   "Empty (the default) turns the step off: the worker idles, nothing is noted or called.",
							   &antiban_lead_llm_url, "",
							   PGC_SIGHUP, 0, check_llm_url, NULL, NULL);
	DefineCustomStringVariable("antiban.lead_llm_model",
							   "Model named in each LLM request (for example gpt-4o-mini).",
							   NULL, &antiban_lead_llm_model, "",
							   PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.lead_llm_timeout",
							"Longest wait for one LLM answer; past it the call is recorded as a timeout.",
							NULL, &antiban_lead_llm_timeout_ms, 20000, 100, 600000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.lead_llm_daily_budget",
							"LLM calls per portfolio per UTC day; past it no call is made (recorded as over_budget).",
							NULL, &antiban_lead_llm_daily_budget, 1000, 0, 10000000,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.lead_llm_poll_interval",
							"How often the LLM worker looks for conversations with new messages when it found none.",
							NULL, &antiban_lead_llm_poll_ms, 5000, 10, 3600000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
}
