/*
 * redact.h
 *		Mask what may be a secret in a message about a statement that
 *		carried one.
 *
 * A server-log line or an error about "SELECT antiban.set_secret('access_token',
 * 'EAAG...')" can show the value in three ways: the statement itself
 * (log_statement, log_min_duration_statement, STATEMENT: lines), a value
 * quoted by an error (invalid input syntax for type integer: "EAAG..."), or
 * a value copied unquoted (Failing row contains (..., EAAG..., ...)).
 * redact_text() masks all three: every quoted run, and every occurrence of
 * a literal of the statement.  It errs on the side of masking too much.
 */
#ifndef ANTIBAN_REDACT_H
#define ANTIBAN_REDACT_H

#include <stdbool.h>
#include <stddef.h>

#define REDACT_MASK "***"
/* Literals shorter than this are not searched for unquoted (they would mask "a", "1"). */
#define REDACT_MIN_LITERAL 4

/* Might this statement carry a secret (set_secret, clear_secret, webhook_verify...)? */
extern bool redact_statement_has_secret(const char *statement);

/*
 * 'text' with every '...' and "..." run masked (unless its content is one of
 * 'keep'), and every literal of 'statement' found elsewhere masked too.
 * Returns a malloc'd string (NULL only when out of memory).
 */
extern char *redact_text(const char *text, const char *statement,
						 const char *const *keep, int nkeep);

#endif							/* ANTIBAN_REDACT_H */
