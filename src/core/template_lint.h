/*
 * template_lint.h
 *		Policy lint for a template (Meta's components, as created or as
 *		synced) or a free text, before a campaign starts: what Meta rejects
 *		at review (variables at the start or end, adjacent, malformed or out
 *		of sequence, too many for the text), what WhatsApp's Business Policy
 *		forbids (asking for card numbers, passwords, national id numbers),
 *		and what lowers quality (link shorteners, marketing without a way to
 *		opt out, all caps, emoji floods).  Findings, not verdicts: the caller
 *		decides what blocks a campaign (severity error) and what it shows.
 */
#ifndef ANTIBAN_TEMPLATE_LINT_H
#define ANTIBAN_TEMPLATE_LINT_H

#include "payload.h"

typedef enum LintSeverity
{
	LINT_ERROR,					/* Meta rejects it, or the policy forbids it */
	LINT_WARNING				/* likely rejection or low quality */
} LintSeverity;

typedef struct LintFinding
{
	LintSeverity severity;
	const char *rule;			/* a static name: variable_at_edge, link_shortener... */
	char		location[32];	/* header, body, footer, buttons.1, text */
	char		message[256];
} LintFinding;

#define LINT_MAX_FINDINGS 64

typedef struct LintReport
{
	LintFinding f[LINT_MAX_FINDINGS];
	int			n;
	bool		truncated;
} LintReport;

/*
 * components: Meta's components array at path "" ([{type: BODY, text}...]);
 * category: marketing, utility, authentication (lower case).
 */
extern void template_lint(const JsonView *components, const char *category, LintReport *out);

/* A free text (len bytes of UTF-8); category as above, or service. */
extern void text_lint(const char *text, long len, const char *category, LintReport *out);

extern const char *lint_severity_name(LintSeverity s);
extern bool lint_category_known(const char *category);

#endif							/* ANTIBAN_TEMPLATE_LINT_H */
