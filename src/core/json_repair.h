/*
 * json_repair.h
 *		Make a signed webhook body parseable when only some strings in it
 *		are bad, and say where each one was.
 *
 * PostgreSQL's jsonb refuses a whole document for one "\u0000", one lone
 * surrogate ("\ud83d") or a few bytes that are not UTF-8 inside a string.
 * A webhook body carries up to a thousand changes: one user's odd profile
 * name must not lose another user's opt-out.  This scanner rewrites only
 * the bad parts of strings (each becomes "\ufffd", U+REPLACEMENT
 * CHARACTER; a raw control character becomes its escape) and reports each
 * repair with the entry and change it sits in and its path below it.
 * Structure is never repaired: broken JSON stays broken.
 *
 * Pure C, bounded: it reads only in[0 .. len), writes only out[0 .. cap)
 * and fixes[0 .. max_fixes), and gives up beyond JSON_REPAIR_MAX_DEPTH.
 */
#ifndef ANTIBAN_JSON_REPAIR_H
#define ANTIBAN_JSON_REPAIR_H

#include <stdbool.h>
#include <stddef.h>

/* The ingest refuses deeper bodies before parsing; the scanner stops too. */
#define JSON_REPAIR_MAX_DEPTH 64
#define JSON_FIX_PATH_SIZE 160

typedef enum JsonFault
{
	JSON_FAULT_NUL,				/* "\u0000" or a raw NUL byte: text can not hold it */
	JSON_FAULT_LONE_SURROGATE,	/* "\ud800".."\udfff" without its other half */
	JSON_FAULT_BAD_UTF8,		/* bytes that are not UTF-8 */
	JSON_FAULT_BAD_ESCAPE,		/* a backslash escape JSON does not have */
	JSON_FAULT_CONTROL			/* a raw control character: escaped, nothing lost */
} JsonFault;

typedef struct JsonFix
{
	JsonFault	fault;
	int			entry;			/* index in entry[], or -1 outside entry[i].changes[j] */
	int			change;			/* index in that entry's changes[], or -1 */
	int			count;			/* occurrences of this fault in this one string */
	bool		in_key;			/* the string is an object's key */
	char		escape[7];		/* a lone surrogate as written ("\ud83d") */
	char		path[JSON_FIX_PATH_SIZE];	/* below the change ("value.messages[0].text.body"),
											 * else from the root */
} JsonFix;

typedef struct JsonRepair
{
	size_t		out_len;		/* length of the repaired text, written or not */
	int			nfixes;			/* repairs (grouped per string and fault); may exceed
								 * max_fixes */
	bool		too_deep;		/* nested beyond JSON_REPAIR_MAX_DEPTH: stopped there */
} JsonRepair;

/*
 * Scan in[0 .. len).  With out == NULL only counts (out_len, nfixes,
 * fixes); otherwise writes the repaired text while it fits in cap bytes
 * (no terminator): call once to size the buffer, then again to fill it.
 */
extern JsonRepair json_repair(const char *in, size_t len, char *out, size_t cap,
							  JsonFix *fixes, int max_fixes);

/* "entry 0 change 1: \u0000 in value.messages[0].text.body replaced by U+FFFD" */
extern void json_fix_describe(const JsonFix *fix, char *buf, size_t size);

#endif							/* ANTIBAN_JSON_REPAIR_H */
