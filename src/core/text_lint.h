/*
 * text_lint.h
 *		The lint rules that read any text, a template's parts or a free
 *		text alike (text_lint.c), and how findings are added.  Internal to
 *		src/core: template_lint.h is the interface.
 */
#ifndef ANTIBAN_TEXT_LINT_H
#define ANTIBAN_TEXT_LINT_H

#include "template_lint.h"

extern void lint_add(LintReport *r, LintSeverity s, const char *rule, const char *location,
					 const char *fmt,...) __attribute__((format(printf, 5, 6)));

/* Shorteners, sensitive requests, all caps, emoji floods in one text. */
extern void lint_text_part(const char *text, long len, const char *category,
						   const char *location, LintReport *r);

/* Does the text tell people how to stop (SAIR, PARAR, STOP, unsubscribe...)? */
extern bool lint_has_opt_out(const char *text, long len);

#endif							/* ANTIBAN_TEXT_LINT_H */
