/*
 * json_c_view.h
 *		A JsonView (core/payload.h) over json-c, for the unit tests and the
 *		fuzz harnesses: the same answers src/pg/jsonb_view.c gives over jsonb
 *		(a kind per dotted path, strings measured in code points, arrays in
 *		elements, "https://" prefixes without regard to case).  Static
 *		functions in a header: each test program includes it once.
 */
#ifndef ANTIBAN_JSON_C_VIEW_H
#define ANTIBAN_JSON_C_VIEW_H

#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/payload.h"

/* The value at 'path' ("interactive.action.buttons.0.type"); false: missing. */
static bool
jcv_value_at(struct json_object *root, const char *path, struct json_object **out)
{
	struct json_object *cur = root;
	char		buf[256];
	char	   *save = NULL;

	/* a JSON null is a NULL json_object: "present" is tracked apart */
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int) sizeof(buf))
		abort();				/* the core builds paths under 128 bytes */
	for (char *seg = strtok_r(buf, ".", &save); seg; seg = strtok_r(NULL, ".", &save))
	{
		if (json_object_is_type(cur, json_type_array))
		{
			char	   *end;
			long		i = strtol(seg, &end, 10);

			if (*end != '\0' || i < 0 || (size_t) i >= json_object_array_length(cur))
				return false;
			cur = json_object_array_get_idx(cur, (size_t) i);
		}
		else if (json_object_is_type(cur, json_type_object))
		{
			if (!json_object_object_get_ex(cur, seg, &cur))
				return false;
		}
		else
			return false;
	}
	*out = cur;
	return true;
}

static JsonKind
jcv_kind(void *ctx, const char *path)
{
	struct json_object *v;

	if (!jcv_value_at(ctx, path, &v))
		return JSON_MISSING;
	switch (json_object_get_type(v))
	{
		case json_type_null:
			return JSON_NULL;
		case json_type_string:
			return JSON_STRING;
		case json_type_int:
		case json_type_double:
			return JSON_NUMBER;
		case json_type_boolean:
			return JSON_BOOL;
		case json_type_array:
			return JSON_ARRAY;
		default:
			return JSON_OBJECT;
	}
}

/* Code points, as pg_mbstrlen_with_len counts them in a UTF-8 database. */
static long
jcv_size(void *ctx, const char *path)
{
	struct json_object *v;
	long		n = 0;

	if (!jcv_value_at(ctx, path, &v))
		return 0;
	if (json_object_is_type(v, json_type_string))
	{
		const unsigned char *s = (const unsigned char *) json_object_get_string(v);
		int			len = json_object_get_string_len(v);

		for (int i = 0; i < len; i++)
			n += (s[i] & 0xc0) != 0x80;
		return n;
	}
	if (json_object_is_type(v, json_type_array))
		return (long) json_object_array_length(v);
	if (json_object_is_type(v, json_type_object))
		return json_object_object_length(v);
	return 0;
}

static bool
jcv_text_is(void *ctx, const char *path, const char *value)
{
	struct json_object *v;

	return jcv_value_at(ctx, path, &v) && json_object_is_type(v, json_type_string) &&
		json_object_get_string_len(v) == (int) strlen(value) &&
		memcmp(json_object_get_string(v), value, strlen(value)) == 0;
}

static bool
jcv_text_starts(void *ctx, const char *path, const char *prefix)
{
	struct json_object *v;
	size_t		n = strlen(prefix);

	return jcv_value_at(ctx, path, &v) && json_object_is_type(v, json_type_string) &&
		(size_t) json_object_get_string_len(v) >= n &&
		strncasecmp(json_object_get_string(v), prefix, n) == 0;
}

static double
jcv_number(void *ctx, const char *path)
{
	struct json_object *v;

	if (!jcv_value_at(ctx, path, &v) ||
		!(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
		return 0;
	return json_object_get_double(v);
}

static bool
jcv_text(void *ctx, const char *path, const char **bytes, long *len)
{
	struct json_object *v;

	if (!jcv_value_at(ctx, path, &v) || !json_object_is_type(v, json_type_string))
		return false;
	*bytes = json_object_get_string(v);
	*len = json_object_get_string_len(v);
	return true;
}

static inline JsonView
json_c_view(struct json_object *root)
{
	JsonView	v = {root, jcv_kind, jcv_size, jcv_text_is, jcv_text_starts, jcv_number, jcv_text};

	return v;
}

#endif							/* ANTIBAN_JSON_C_VIEW_H */
