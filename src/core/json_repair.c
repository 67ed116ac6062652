/*
 * json_repair.c
 *		A JSON scanner that replaces what jsonb can not hold inside strings.
 *
 * Outside strings it only follows the nesting (objects, arrays, member
 * keys, element indexes) to name where a repair happened; everything else
 * is copied byte for byte, so a structural error survives for the parser
 * to refuse.  Inside strings it checks each escape and each UTF-8 sequence
 * the way PostgreSQL does (strictly: no overlong forms, no encoded
 * surrogates, nothing above U+10FFFF).
 */
#include "json_repair.h"

#include "hex.h"
#include "utf8_fold.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define REPLACEMENT "\\ufffd"
#define ESCAPE_LEN 6			/* \uXXXX */
#define KEY_SHOWN 40			/* longest key written into a path */

typedef struct Level
{
	bool		is_object;
	bool		expect_key;		/* objects: the next string is a member key */
	int			index;			/* arrays: the current element */
	size_t		key_start;		/* objects: the current member's key, raw */
	size_t		key_len;
} Level;

typedef struct Scan
{
	const unsigned char *in;
	size_t		len;
	size_t		pos;
	char	   *out;
	size_t		cap;
	size_t		out_len;
	Level		stack[JSON_REPAIR_MAX_DEPTH];
	int			depth;
	bool		in_key;			/* the string being read is a key */
	size_t		string_start;
	JsonFix    *fixes;
	int			max_fixes;
	int			nfixes;
	/* the last repair, to group repeats within one string */
	bool		have_last;
	size_t		last_string;
	JsonFault	last_fault;
	int			last_index;
} Scan;

static void
emit(Scan *s, const void *bytes, size_t n)
{
	if (s->out != NULL && n <= s->cap && s->out_len <= s->cap - n)
		memcpy(s->out + s->out_len, bytes, n);
	s->out_len += n;
}

static Level *
top(Scan *s)
{
	return s->depth > 0 ? &s->stack[s->depth - 1] : NULL;
}

/* ---- where: "value.messages[0].text.body" ---- */

typedef struct PathBuf
{
	char	   *buf;
	size_t		size;
	size_t		len;
	bool		truncated;
} PathBuf;

static void
path_put(PathBuf *p, char c)
{
	if (p->len + 1 < p->size)
		p->buf[p->len++] = c;
	else
		p->truncated = true;
	p->buf[p->len] = '\0';
}

static void
path_puts(PathBuf *p, const char *text)
{
	while (*text)
		path_put(p, *text++);
}

/* Keys are shown raw, printable ASCII only, and not too long. */
static void
path_key(PathBuf *p, const unsigned char *key, size_t len)
{
	for (size_t i = 0; i < len && i < KEY_SHOWN; i++)
		path_put(p, key[i] >= 0x20 && key[i] < 0x7f ? (char) key[i] : '?');
	if (len > KEY_SHOWN)
		path_puts(p, "...");
}

static bool
level_is_member(const Scan *s, int i, const char *key)
{
	const Level *l = &s->stack[i];
	size_t		n = strlen(key);

	return l->is_object && l->key_len == n && memcmp(s->in + l->key_start, key, n) == 0;
}

static bool
level_is_array(const Scan *s, int i)
{
	return !s->stack[i].is_object;
}

/* entry[i].changes[j] is the change; the path starts below it. */
static void
locate(const Scan *s, JsonFix *fix)
{
	PathBuf		p = {fix->path, sizeof(fix->path), 0, false};
	int			from = 0;
	int			last = s->in_key ? s->depth - 1 : s->depth;

	fix->entry = fix->change = -1;
	fix->path[0] = '\0';
	if (s->depth >= 5 && level_is_member(s, 0, "entry") && level_is_array(s, 1) &&
		level_is_member(s, 2, "changes") && level_is_array(s, 3) && s->stack[4].is_object)
	{
		fix->entry = s->stack[1].index;
		fix->change = s->stack[3].index;
		from = 4;
	}
	for (int i = from; i < last; i++)
	{
		const Level *l = &s->stack[i];
		char		index[16];

		if (l->is_object)
		{
			if (i > from)
				path_put(&p, '.');
			path_key(&p, s->in + l->key_start, l->key_len);
		}
		else
		{
			snprintf(index, sizeof(index), "[%d]", l->index);
			path_puts(&p, index);
		}
	}
	if (p.truncated && p.size > 4)
		memcpy(p.buf + p.size - 4, "...", 4);
}

static void
record(Scan *s, JsonFault fault, const unsigned char *escape)
{
	JsonFix    *fix;

	if (s->have_last && s->last_string == s->string_start && s->last_fault == fault)
	{
		if (s->last_index < s->max_fixes)
			s->fixes[s->last_index].count++;
		return;
	}
	s->have_last = true;
	s->last_string = s->string_start;
	s->last_fault = fault;
	s->last_index = s->nfixes++;
	if (s->last_index >= s->max_fixes)
		return;
	fix = &s->fixes[s->last_index];
	memset(fix, 0, sizeof(*fix));
	fix->fault = fault;
	fix->count = 1;
	fix->in_key = s->in_key;
	if (escape != NULL)
		memcpy(fix->escape, escape, ESCAPE_LEN);
	locate(s, fix);
}

static void
replace(Scan *s, JsonFault fault, const unsigned char *escape, size_t consumed)
{
	record(s, fault, escape);
	emit(s, REPLACEMENT, ESCAPE_LEN);
	s->pos += consumed;
}

/* ---- inside strings ---- */

/* Hex digits of a \u escape at 'at' (up to four, within the input). */
static int
hex_digits(const Scan *s, size_t at, unsigned *value)
{
	int			n = 0;

	*value = 0;
	while (n < 4 && at + n < s->len && hex_value(s->in[at + n]) >= 0)
	{
		*value = *value << 4 | (unsigned) hex_value(s->in[at + n]);
		n++;
	}
	return n;
}

static bool
is_low_surrogate_escape(const Scan *s, size_t at)
{
	unsigned	v;

	return at + ESCAPE_LEN <= s->len && s->in[at] == '\\' && s->in[at + 1] == 'u' &&
		hex_digits(s, at + 2, &v) == 4 && v >= 0xDC00 && v <= 0xDFFF;
}

/* \uXXXX at s->pos: NUL and unpaired surrogates are replaced. */
static void
unicode_escape(Scan *s)
{
	const unsigned char *at = s->in + s->pos;
	unsigned	v;
	int			n = hex_digits(s, s->pos + 2, &v);

	if (n < 4)
		replace(s, JSON_FAULT_BAD_ESCAPE, NULL, 2 + n);
	else if (v == 0)
		replace(s, JSON_FAULT_NUL, NULL, ESCAPE_LEN);
	else if (v >= 0xD800 && v <= 0xDBFF && is_low_surrogate_escape(s, s->pos + ESCAPE_LEN))
	{
		emit(s, at, 2 * ESCAPE_LEN);
		s->pos += 2 * ESCAPE_LEN;
	}
	else if (v >= 0xD800 && v <= 0xDFFF)
		replace(s, JSON_FAULT_LONE_SURROGATE, at, ESCAPE_LEN);
	else
	{
		emit(s, at, ESCAPE_LEN);
		s->pos += ESCAPE_LEN;
	}
}

static void
escape(Scan *s)
{
	unsigned char e;

	if (s->pos + 1 >= s->len)
	{
		/* a body cut after a backslash: broken, left for the parser */
		emit(s, s->in + s->pos, 1);
		s->pos++;
		return;
	}
	e = s->in[s->pos + 1];
	if (e == 'u')
		unicode_escape(s);
	else if (e != '\0' && strchr("\"\\/bfnrt", e) != NULL)
	{
		emit(s, s->in + s->pos, 2);
		s->pos += 2;
	}
	else
		replace(s, JSON_FAULT_BAD_ESCAPE, NULL, 2);
}

static void
control_character(Scan *s, unsigned char c)
{
	char		esc[ESCAPE_LEN + 1];

	if (c == 0)
	{
		replace(s, JSON_FAULT_NUL, NULL, 1);
		return;
	}
	record(s, JSON_FAULT_CONTROL, NULL);
	snprintf(esc, sizeof(esc), "\\u%04x", c);
	emit(s, esc, ESCAPE_LEN);
	s->pos++;
}

static void
string(Scan *s)
{
	Level	   *l = top(s);

	s->in_key = l != NULL && l->is_object && l->expect_key;
	s->string_start = s->pos;
	if (s->in_key)
	{
		l->expect_key = false;
		l->key_start = s->pos + 1;
		l->key_len = 0;
	}
	emit(s, "\"", 1);
	s->pos++;
	while (s->pos < s->len && s->in[s->pos] != '"')
	{
		unsigned char c = s->in[s->pos];
		unsigned	cp;
		int			n;

		if (c == '\\')
			escape(s);
		else if (c < 0x20)
			control_character(s, c);
		else if (c < 0x80)
		{
			emit(s, &c, 1);
			s->pos++;
		}
		else if ((n = utf8_decode(s->in + s->pos, s->len - s->pos, &cp)) > 0)
		{
			emit(s, s->in + s->pos, n);
			s->pos += n;
		}
		else
			replace(s, JSON_FAULT_BAD_UTF8, NULL, 1);
	}
	if (s->in_key)
		l->key_len = s->pos - l->key_start;
	if (s->pos < s->len)
	{
		emit(s, "\"", 1);
		s->pos++;
	}
	s->in_key = false;
}

/* ---- outside strings: follow the nesting ---- */

static bool
structure(Scan *s, unsigned char c)
{
	Level	   *l = top(s);

	emit(s, &c, 1);
	s->pos++;
	if (c == '{' || c == '[')
	{
		if (s->depth == JSON_REPAIR_MAX_DEPTH)
			return false;
		s->stack[s->depth++] = (Level) {.is_object = c == '{', .expect_key = c == '{'};
	}
	else if ((c == '}' || c == ']') && s->depth > 0)
		s->depth--;
	else if (c == ',' && l != NULL)
	{
		if (l->is_object)
			l->expect_key = true;
		else
			l->index++;
	}
	return true;
}

JsonRepair
json_repair(const char *in, size_t len, char *out, size_t cap, JsonFix *fixes, int max_fixes)
{
	Scan		s = {.in = (const unsigned char *) in, .len = len, .out = out, .cap = cap,
	.fixes = fixes, .max_fixes = fixes != NULL && max_fixes > 0 ? max_fixes : 0};
	JsonRepair	result = {0, 0, false};

	while (s.pos < s.len)
	{
		if (s.in[s.pos] == '"')
			string(&s);
		else if (!structure(&s, s.in[s.pos]))
		{
			result.too_deep = true;
			break;
		}
	}
	result.out_len = s.out_len;
	result.nfixes = s.nfixes;
	return result;
}

/* ---- in words ---- */

void
json_fix_describe(const JsonFix *fix, char *buf, size_t size)
{
	char		what[48];
	char		times[24] = "";
	char		change[40] = "";
	char		where[JSON_FIX_PATH_SIZE + 16];

	switch (fix->fault)
	{
		case JSON_FAULT_NUL:
			snprintf(what, sizeof(what), "\\u0000");
			break;
		case JSON_FAULT_LONE_SURROGATE:
			snprintf(what, sizeof(what), "a lone surrogate %.6s", fix->escape);
			break;
		case JSON_FAULT_BAD_UTF8:
			snprintf(what, sizeof(what), "invalid UTF-8");
			break;
		case JSON_FAULT_BAD_ESCAPE:
			snprintf(what, sizeof(what), "an invalid escape");
			break;
		case JSON_FAULT_CONTROL:
			snprintf(what, sizeof(what), "an unescaped control character");
			break;
	}
	if (fix->count > 1)
		snprintf(times, sizeof(times), " (%d times)", fix->count);
	if (fix->entry >= 0)
		snprintf(change, sizeof(change), "entry %d change %d: ", fix->entry, fix->change);
	if (fix->path[0])
		snprintf(where, sizeof(where), "%s%s", fix->in_key ? "in a key of " : "in ", fix->path);
	else if (fix->entry >= 0)
		snprintf(where, sizeof(where), "in a key of the change");
	else
		snprintf(where, sizeof(where), "%sat the top level", fix->in_key ? "in a key " : "");
	snprintf(buf, size, "%s%s%s %s %s", change, what, times, where,
			 fix->fault == JSON_FAULT_CONTROL ? "escaped" : "replaced by U+FFFD");
}
