/*
 * fuzz_payload.c
 *		libFuzzer harness for src/core/payload.c: outgoing message payloads,
 *		which callers of antiban.send() write.
 *
 * In the extension the payload is a jsonb read through a JsonView
 * (src/pg/jsonb_view.c).  Here the fuzzed bytes are parsed by json-c with
 * the rules jsonb's input applies (strict JSON, valid UTF-8) and a JsonView
 * over json-c answers the same questions: a kind per dotted path, strings
 * measured in code points, arrays in elements, "https://" prefixes without
 * regard to case.  Each input is validated as its own "type" and as every
 * Cloud API type, so one seed exercises every checker.
 */
#include "core/payload.h"

#include <json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The value at 'path' ("interactive.action.buttons.0.type"); false: missing. */
static bool
value_at(struct json_object *root, const char *path, struct json_object **out)
{
	struct json_object *cur = root;
	char		buf[256];
	char	   *save = NULL;

	/* a JSON null is a NULL json_object: "present" is tracked apart */
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int) sizeof(buf))
		abort();				/* payload.c builds paths under 128 bytes */
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
view_kind(void *ctx, const char *path)
{
	struct json_object *v;

	if (!value_at(ctx, path, &v))
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
view_size(void *ctx, const char *path)
{
	struct json_object *v;
	long		n = 0;

	if (!value_at(ctx, path, &v))
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
view_text_is(void *ctx, const char *path, const char *value)
{
	struct json_object *v;

	return value_at(ctx, path, &v) && json_object_is_type(v, json_type_string) &&
		json_object_get_string_len(v) == (int) strlen(value) &&
		memcmp(json_object_get_string(v), value, strlen(value)) == 0;
}

static bool
view_text_starts(void *ctx, const char *path, const char *prefix)
{
	struct json_object *v;
	size_t		n = strlen(prefix);

	return value_at(ctx, path, &v) && json_object_is_type(v, json_type_string) &&
		(size_t) json_object_get_string_len(v) >= n &&
		strncasecmp(json_object_get_string(v), prefix, n) == 0;
}

static double
view_number(void *ctx, const char *path)
{
	struct json_object *v;

	if (!value_at(ctx, path, &v) ||
		!(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
		return 0;
	return json_object_get_double(v);
}

static const char *const types[] = {
	"text", "image", "video", "audio", "document", "sticker", "location",
	"contacts", "interactive", "template", "reaction", "read_receipt", "",
};

/* A failed check names a field and says why, within its buffers. */
static void
validate(const char *type, const JsonView *view)
{
	PayloadError err;

	memset(&err, 0x5a, sizeof(err));
	if (payload_validate(type, view, &err))
		return;
	if (memchr(err.field, '\0', sizeof(err.field)) == NULL ||
		memchr(err.message, '\0', sizeof(err.message)) == NULL ||
		err.field[0] == '\0' || err.message[0] == '\0')
	{
		fprintf(stderr, "payload_validate(\"%s\") failed without a field and a message\n", type);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_tokener *tok = json_tokener_new_ex(64);
	struct json_object *root,
			   *type;
	JsonView	view = {NULL, view_kind, view_size, view_text_is, view_text_starts, view_number};

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, (const char *) data, (int) size);
	/* jsonb takes one whole value: a prefix that parses is not enough */
	if (json_tokener_get_error(tok) == json_tokener_success &&
		json_tokener_get_parse_end(tok) == size)
	{
		view.ctx = root;
		if (json_object_object_get_ex(root, "type", &type) &&
			json_object_is_type(type, json_type_string))
			validate(json_object_get_string(type), &view);
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			validate(types[i], &view);
	}
	json_object_put(root);
	json_tokener_free(tok);
	return 0;
}
