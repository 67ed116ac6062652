/*
 * test_redact.c
 *		Secrets masked out of messages about the statements that carried them.
 */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include "core/redact.h"

static const char *const kinds[] = {"access_token", "app_secret", "webhook_verify_token"};

static void
assert_redacted(const char *text, const char *statement, const char *expected)
{
	char	   *got = redact_text(text, statement, kinds, 3);

	assert_non_null(got);
	assert_string_equal(got, expected);
	free(got);
}

static void
which_statements(void **state)
{
	assert_true(redact_statement_has_secret("SELECT antiban.set_secret('app_secret', 'x')"));
	assert_true(redact_statement_has_secret("select ANTIBAN.SET_SECRET($1, $2)"));
	assert_true(redact_statement_has_secret("SELECT antiban.webhook_verify($1)"));
	assert_true(redact_statement_has_secret("SELECT antiban.clear_secret('access_token', $1)"));
	assert_false(redact_statement_has_secret("SELECT antiban.decide('+5511987654321', 'marketing')"));
	assert_false(redact_statement_has_secret(NULL));
	/* a URL setting: PostgreSQL's own "invalid value" error quotes what was given */
	assert_true(redact_statement_has_secret("ALTER SYSTEM SET antiban.lead_llm_url = 'https://u:p@llm.example'"));
	assert_true(redact_statement_has_secret("SET antiban.alert_webhook_url TO 'https://hooks.example/T0/B0/x'"));
}

static void
statement_logging(void **state)
{
	const char *stmt = "SELECT antiban.set_secret('access_token', 'EAAG-secret-1', '200')";

	/* log_statement / log_min_duration_statement print the statement itself */
	assert_redacted("statement: SELECT antiban.set_secret('access_token', 'EAAG-secret-1', '200')", stmt,
					"statement: SELECT antiban.set_secret('access_token', '***', '***')");
	/* the extended protocol's parameters in DETAIL */
	assert_redacted("parameters: $1 = 'app_secret', $2 = 'it''s a secret'", "SELECT antiban.set_secret($1, $2)",
					"parameters: $1 = 'app_secret', $2 = '***'");
}

static void
errors_that_quote_or_copy(void **state)
{
	const char *stmt = "SELECT antiban.set_secret('app_secret', 'hunter2-hunter2'::int)";

	assert_redacted("invalid input syntax for type integer: \"hunter2-hunter2\"", stmt,
					"invalid input syntax for type integer: \"***\"");
	/* unquoted copies of a literal (a failing row) */
	assert_redacted("Failing row contains (null, null, hunter2-hunter2, 2030-01-01).", stmt,
					"Failing row contains (null, null, ***, 2030-01-01).");
	/* a DO block: literals inside the dollar-quoted body are literals too */
	assert_redacted("Failing row contains (EAAG-in-a-do-block).",
					"DO $$ BEGIN PERFORM antiban.set_secret('app_secret', 'EAAG-in-a-do-block'); END $$",
					"Failing row contains (***).");
	/* kind names stay readable; short literals are not hunted unquoted */
	assert_redacted("invalid input value for enum antiban.secret_kind: \"access_token\"",
					"SELECT antiban.set_secret('acces_token', 'x')",
					"invalid input value for enum antiban.secret_kind: \"access_token\"");
	assert_redacted("a x b", "SELECT antiban.set_secret('app_secret', 'x')", "a x b");
}

static void
dollar_quotes_and_unicode_names(void **state)
{
	const char *stmt = "SELECT antiban.set_secret($$app_secret$$, $x$DOLLARSECRET111$x$)";

	assert_redacted("statement: SELECT antiban.set_secret($$app_secret$$, $x$DOLLARSECRET111$x$)", stmt,
					"statement: SELECT antiban.set_secret($$app_secret$$, $x$***$x$)");
	/* a parameter is not a dollar quote */
	assert_redacted("parameters: $1 = 'x'", "SELECT antiban.set_secret($1, $2)", "parameters: $1 = '***'");
	/* a DO block's body is masked whole, and its literals wherever they reappear */
	assert_redacted("Failing row contains (DOBLOCKSECRET).",
					"DO $do$ BEGIN PERFORM antiban.set_secret('app_secret', 'DOBLOCKSECRET'); END $do$",
					"Failing row contains (***).");
	assert_true(redact_statement_has_secret("SELECT antiban.U&\"set_\\0073ecret\"('access_token', 'x')"));
}

static void
never_less_than_masked(void **state)
{
	/* an unterminated quote masks to the end; a backslash never ends a run early */
	assert_redacted("value 'EAAG-no-end", NULL, "value '***");
	assert_redacted("E'abc\\'def' and more", NULL, "E'***' and more");
	assert_redacted("", "SELECT antiban.set_secret('app_secret', 'abcdefgh')", "");
	assert_redacted(NULL, NULL, "");
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(which_statements),
	cmocka_unit_test(statement_logging),
	cmocka_unit_test(errors_that_quote_or_copy),
	cmocka_unit_test(dollar_quotes_and_unicode_names),
	cmocka_unit_test(never_less_than_masked),
};

UnitGroup
redact_tests(void)
{
	return (UnitGroup) UNIT_GROUP("redact", tests);
}
