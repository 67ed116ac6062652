/*
 * payload_check.h
 *		What the payload checkers (payload.c, payload_interactive.c,
 *		payload_template.c) share: the first failure, named by its dotted
 *		path, and the field readers that produce it.  Internal to src/core.
 */
#ifndef ANTIBAN_PAYLOAD_CHECK_H
#define ANTIBAN_PAYLOAD_CHECK_H

#include "payload.h"

#define PATH_MAX_LEN 128

typedef struct Check
{
	const JsonView *v;
	PayloadError *err;
	bool		ok;
} Check;

/* Records the first failure only; always returns false. */
extern bool pc_fail(Check *c, const char *field, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));
/* Formats a path into buf (PATH_MAX_LEN bytes) and returns buf. */
extern const char *pc_at(char *buf, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));

extern JsonKind pc_kind(Check *c, const char *path);
extern bool pc_is(Check *c, const char *path, const char *value);
/* A string, required or not, of at most 'max' characters (0: no limit). */
extern bool pc_string(Check *c, const char *path, bool required, long max);
/* A required id (a wamid, a button id): a string with something but blanks in it. */
extern bool pc_id(Check *c, const char *path, long max);
extern bool pc_url(Check *c, const char *path, bool required);
/* An array of min..max elements (max 0: no limit); returns its size, or -1. */
extern long pc_array(Check *c, const char *path, long min, long max);
extern bool pc_object(Check *c, const char *path, bool required);
extern bool pc_number(Check *c, const char *path, double min, double max);
/* {"id": ...} or {"link": "https://..."} at path, for a media of this kind. */
extern void pc_media(Check *c, const char *path, const char *kind);
extern void pc_location(Check *c, const char *path);
/* Both paths hold the same string (ids that must be unique). */
extern bool pc_same_text(Check *c, const char *a, const char *b);

extern void payload_check_interactive(Check *c);
extern void payload_check_template(Check *c);

#endif							/* ANTIBAN_PAYLOAD_CHECK_H */
