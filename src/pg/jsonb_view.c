/*
 * jsonb_view.c
 *		core/payload.h's JsonView over a jsonb value: paths such as
 *		"interactive.action.buttons.0.reply.title" walked without copying.
 */
#include "pg/antiban.h"

#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "pg/jsonb_view.h"

/* The value at 'path', or false when some step is missing. */
static bool
value_at(Jsonb *root, const char *path, JsonbValue *out)
{
	JsonbContainer *c = &root->root;
	char		buf[256];
	char	   *save = NULL;

	if (path[0] == '\0')
	{
		/* the payload itself */
		out->type = jbvBinary;
		out->val.binary.data = c;
		out->val.binary.len = VARSIZE(root);
		return true;
	}

	strlcpy(buf, path, sizeof(buf));
	for (char *seg = strtok_r(buf, ".", &save); seg; seg = strtok_r(NULL, ".", &save))
	{
		JsonbValue *found;

		if (c == NULL)
			return false;
		if (JsonContainerIsArray(c))
		{
			char	   *end;
			long		i = strtol(seg, &end, 10);

			if (*end != '\0' || i < 0)
				return false;
			found = getIthJsonbValueFromContainer(c, (uint32) i);
		}
		else
		{
			JsonbValue	key = {.type = jbvString, .val.string = {(int) strlen(seg), seg}};

			found = findJsonbValueFromContainer(c, JB_FOBJECT, &key);
		}
		if (found == NULL)
			return false;
		*out = *found;
		c = found->type == jbvBinary ? found->val.binary.data : NULL;
	}
	return true;
}

static JsonKind
view_kind(void *ctx, const char *path)
{
	JsonbValue	v;

	if (!value_at(ctx, path, &v))
		return JSON_MISSING;
	switch (v.type)
	{
		case jbvNull:
			return JSON_NULL;
		case jbvString:
			return JSON_STRING;
		case jbvNumeric:
			return JSON_NUMBER;
		case jbvBool:
			return JSON_BOOL;
		case jbvBinary:
			return JsonContainerIsArray(v.val.binary.data) ? JSON_ARRAY : JSON_OBJECT;
		default:
			return JSON_OBJECT;
	}
}

/* Characters, not bytes: Meta's limits count what people read. */
static long
view_size(void *ctx, const char *path)
{
	JsonbValue	v;

	if (!value_at(ctx, path, &v))
		return 0;
	if (v.type == jbvString)
		return pg_mbstrlen_with_len(v.val.string.val, v.val.string.len);
	if (v.type == jbvBinary)
		return JsonContainerSize(v.val.binary.data);
	return 0;
}

static bool
view_text_is(void *ctx, const char *path, const char *value)
{
	JsonbValue	v;

	return value_at(ctx, path, &v) && v.type == jbvString &&
		v.val.string.len == (int) strlen(value) &&
		memcmp(v.val.string.val, value, v.val.string.len) == 0;
}

static bool
view_text_starts(void *ctx, const char *path, const char *prefix)
{
	JsonbValue	v;
	int			n = (int) strlen(prefix);

	return value_at(ctx, path, &v) && v.type == jbvString &&
		v.val.string.len >= n && pg_strncasecmp(v.val.string.val, prefix, n) == 0;
}

static double
view_number(void *ctx, const char *path)
{
	JsonbValue	v;

	if (!value_at(ctx, path, &v) || v.type != jbvNumeric)
		return 0;
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(v.val.numeric)));
}

/* Points into the jsonb itself: valid as long as the value is. */
static bool
view_text(void *ctx, const char *path, const char **bytes, long *len)
{
	JsonbValue	v;

	if (!value_at(ctx, path, &v) || v.type != jbvString)
		return false;
	*bytes = v.val.string.val;
	*len = v.val.string.len;
	return true;
}

JsonView
jsonb_view(Jsonb *root)
{
	JsonView	v = {root, view_kind, view_size, view_text_is, view_text_starts, view_number, view_text};

	return v;
}
