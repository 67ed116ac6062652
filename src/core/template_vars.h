/*
 * template_vars.h
 *		The variables of a template text, as Meta writes them: positional
 *		{{1}}, {{2}}... or named {{first_name}}.  Shared by the send check
 *		(template_check.c: how many, which names, how long once filled in)
 *		and the policy lint (template_lint.c: where they sit).
 */
#ifndef ANTIBAN_TEMPLATE_VARS_H
#define ANTIBAN_TEMPLATE_VARS_H

#include <stdbool.h>

/* Meta's body holds far fewer; a text with more is read up to here. */
#define TEMPLATE_MAX_VARS 64
#define TEMPLATE_VAR_NAME_MAX 64

typedef struct TemplateVar
{
	long		start;			/* byte offsets of "{{" and just past "}}" */
	long		end;
	char		name[TEMPLATE_VAR_NAME_MAX];	/* what is between the braces */
	bool		positional;		/* digits only: {{1}} */
	bool		well_formed;	/* digits, or a lower-case name: a-z, 0-9, _ */
} TemplateVar;

typedef struct TemplateVars
{
	TemplateVar v[TEMPLATE_MAX_VARS];
	int			n;
	bool		truncated;		/* more than TEMPLATE_MAX_VARS */
	int			distinct;		/* distinct names among v */
	bool		named;			/* some variable is not positional */
} TemplateVars;

/* Scans len bytes of text (need not be NUL-terminated). */
extern void template_vars_scan(const char *text, long len, TemplateVars *out);

/* Index of the first variable called name (len bytes), or -1. */
extern int	template_vars_find(const TemplateVars *vars, const char *name, long len);

/* Characters (UTF-8 code points) of len bytes, as utf8_at walks them: a bad byte is one. */
extern long utf8_chars(const char *s, long len);

/*
 * The code point at s[i] within len bytes (never reading past them) and
 * its length in bytes; a byte that starts no well-formed sequence is
 * returned alone as U+FFFD, length 1.
 */
extern int	utf8_at(const char *s, long i, long len, unsigned *cp);

#endif							/* ANTIBAN_TEMPLATE_VARS_H */
