/*
 * secret_log.c
 *		Keep secrets out of the server log and out of errors.
 *
 * While the statement being run calls a function whose arguments are
 * secrets (antiban.set_secret, antiban.webhook_verify), every message it
 * produces is passed through core/redact.c before PostgreSQL writes it to
 * the server log or sends it to the client: quoted values and the
 * statement's literals are masked, and the STATEMENT: line is left out.
 * This covers errors raised before set_secret even starts (a bad kind, a
 * wrong number of arguments, a bad cast), log_statement,
 * log_min_duration_statement and auto_explain lines.  It needs antiban in
 * shared_preload_libraries (the hook must be in every backend before the
 * statement arrives).  What it cannot cover is listed in the README.
 */
#include "pg/antiban.h"

#include "tcop/tcopprot.h"
#include "utils/elog.h"

#include "core/redact.h"

static emit_log_hook_type previous_emit_log_hook = NULL;

/* Secret kinds and setting names are names, not secrets: messages may keep them. */
static const char *const kind_names[] = {"access_token", "app_secret", "webhook_verify_token",
	"llm_api_key", "antiban.graph_base_url", "antiban.alert_webhook_url", "antiban.lead_llm_url"};

/* Replace *field by its redacted copy (in ErrorContext, like the original). */
static void
redact_field(char **field, const char *statement)
{
	char	   *masked;

	if (*field == NULL)
		return;
	masked = redact_text(*field, statement, kind_names, lengthof(kind_names));
	/* out of memory while reporting: drop the field rather than risk it */
	*field = masked ? pstrdup(masked) : NULL;
	free(masked);
}

/*
 * The statement being run, or any text of the message itself: a deadlock
 * report quotes the other process's statement in its detail, and the
 * postmaster's crash report quotes the statement a backend was running.
 */
static bool
mentions_secret_function(const ErrorData *edata)
{
	return redact_statement_has_secret(debug_query_string) ||
		redact_statement_has_secret(edata->message) ||
		redact_statement_has_secret(edata->detail) ||
		redact_statement_has_secret(edata->detail_log) ||
		redact_statement_has_secret(edata->context) ||
		redact_statement_has_secret(edata->internalquery);
}

static void
antiban_emit_log(ErrorData *edata)
{
	if (previous_emit_log_hook)
		previous_emit_log_hook(edata);
	if (!mentions_secret_function(edata))
		return;
	edata->hide_stmt = true;
	/* without a position, clients such as psql do not echo the statement back */
	edata->cursorpos = 0;
	edata->internalpos = 0;
	redact_field(&edata->message, debug_query_string);
	if (edata->message == NULL)
		edata->message = "(message withheld: it may contain a secret)";
	redact_field(&edata->detail, debug_query_string);
	redact_field(&edata->detail_log, debug_query_string);
	redact_field(&edata->hint, debug_query_string);
	redact_field(&edata->context, debug_query_string);
	redact_field(&edata->internalquery, debug_query_string);
}

void
antiban_install_secret_log_hook(void)
{
	previous_emit_log_hook = emit_log_hook;
	emit_log_hook = antiban_emit_log;
}
