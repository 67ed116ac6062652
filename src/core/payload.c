/*
 * payload.c
 *		Payload shapes and limits from cloud-api.md section 1: the envelope,
 *		read receipts and the simple types here; interactive messages in
 *		payload_interactive.c, templates in payload_template.c.
 */
#include "payload_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

bool
pc_fail(Check *c, const char *field, const char *fmt,...)
{
	va_list		ap;

	if (!c->ok)
		return false;
	c->ok = false;
	snprintf(c->err->field, sizeof(c->err->field), "%s", field);
	va_start(ap, fmt);
	vsnprintf(c->err->message, sizeof(c->err->message), fmt, ap);
	va_end(ap);
	c->err->hint[0] = '\0';
	return false;
}

const char *
pc_at(char *buf, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(buf, PATH_MAX_LEN, fmt, ap);
	va_end(ap);
	return buf;
}

JsonKind
pc_kind(Check *c, const char *path)
{
	return c->v->kind(c->v->ctx, path);
}

bool
pc_is(Check *c, const char *path, const char *value)
{
	return c->v->text_is(c->v->ctx, path, value);
}

bool
pc_string(Check *c, const char *path, bool required, long max)
{
	JsonKind	k = pc_kind(c, path);
	long		n;

	if (k == JSON_MISSING || k == JSON_NULL)
		return required ? pc_fail(c, path, "is required") : true;
	if (k != JSON_STRING)
		return pc_fail(c, path, "must be a string");
	n = c->v->size(c->v->ctx, path);
	if (required && n == 0)
		return pc_fail(c, path, "must not be empty");
	if (max > 0 && n > max)
		return pc_fail(c, path, "has %ld characters; at most %ld are allowed", n, max);
	return true;
}

bool
pc_id(Check *c, const char *path, long max)
{
	const char *s;
	long		len;

	if (!pc_string(c, path, true, max))
		return false;
	if (c->v->text(c->v->ctx, path, &s, &len))
		for (long i = 0; i < len; i++)
			if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
				return true;
	return pc_fail(c, path, "must not be blank");
}

bool
pc_url(Check *c, const char *path, bool required)
{
	if (!pc_string(c, path, required, 2000))
		return false;
	if (pc_kind(c, path) == JSON_STRING &&
		!c->v->text_starts(c->v->ctx, path, "https://") &&
		!c->v->text_starts(c->v->ctx, path, "http://"))
		return pc_fail(c, path, "must be an http(s) URL");
	return true;
}

long
pc_array(Check *c, const char *path, long min, long max)
{
	long		n;

	if (pc_kind(c, path) != JSON_ARRAY)
	{
		pc_fail(c, path, pc_kind(c, path) == JSON_MISSING ? "is required" : "must be an array");
		return -1;
	}
	n = c->v->size(c->v->ctx, path);
	if (n < min)
	{
		pc_fail(c, path, "needs at least %ld element%s", min, min == 1 ? "" : "s");
		return -1;
	}
	if (max > 0 && n > max)
	{
		pc_fail(c, path, "has %ld elements; at most %ld are allowed", n, max);
		return -1;
	}
	return n;
}

bool
pc_object(Check *c, const char *path, bool required)
{
	JsonKind	k = pc_kind(c, path);

	if (k == JSON_MISSING)
		return required ? pc_fail(c, path, "is required") : true;
	return k == JSON_OBJECT ? true : pc_fail(c, path, "must be an object");
}

bool
pc_number(Check *c, const char *path, double min, double max)
{
	double		x;

	if (pc_kind(c, path) != JSON_NUMBER)
		return pc_fail(c, path, pc_kind(c, path) == JSON_MISSING ? "is required" : "must be a number");
	x = c->v->number(c->v->ctx, path);
	if (x < min || x > max)
		return pc_fail(c, path, "must be between %g and %g", min, max);
	return true;
}

bool
pc_same_text(Check *c, const char *a, const char *b)
{
	const char *x,
			   *y;
	long		nx,
				ny;

	return c->v->text(c->v->ctx, a, &x, &nx) && c->v->text(c->v->ctx, b, &y, &ny) &&
		nx == ny && memcmp(x, y, (size_t) nx) == 0;
}

/*
 * A media object at path: exactly one of an uploaded media id or a link.
 * 'kind' says which extras it may carry (caption, filename).
 */
void
pc_media(Check *c, const char *path, const char *kind)
{
	char		p[PATH_MAX_LEN];
	bool		has_id,
				has_link;

	if (!pc_object(c, path, true))
		return;
	has_id = pc_kind(c, pc_at(p, "%s.id", path)) != JSON_MISSING;
	has_link = pc_kind(c, pc_at(p, "%s.link", path)) != JSON_MISSING;
	if (has_id == has_link)
	{
		pc_fail(c, path, "needs exactly one of \"id\" (an uploaded media id) or \"link\"");
		return;
	}
	if (has_id)
		pc_id(c, pc_at(p, "%s.id", path), 256);
	else
		pc_url(c, pc_at(p, "%s.link", path), true);
	if (strcmp(kind, "audio") == 0 || strcmp(kind, "sticker") == 0)
	{
		if (pc_kind(c, pc_at(p, "%s.caption", path)) != JSON_MISSING)
			pc_fail(c, p, "is not allowed on %s messages", kind);
	}
	else
		pc_string(c, pc_at(p, "%s.caption", path), false, 1024);
	if (strcmp(kind, "document") == 0)
		pc_string(c, pc_at(p, "%s.filename", path), false, 240);
}

void
pc_location(Check *c, const char *path)
{
	char		p[PATH_MAX_LEN];

	if (!pc_object(c, path, true))
		return;
	pc_number(c, pc_at(p, "%s.latitude", path), -90, 90);
	pc_number(c, pc_at(p, "%s.longitude", path), -180, 180);
	pc_string(c, pc_at(p, "%s.name", path), false, 1000);
	pc_string(c, pc_at(p, "%s.address", path), false, 1000);
}

/* ---- simple types ---- */

static void
check_text(Check *c)
{
	pc_string(c, "text.body", true, 4096);
	if (pc_kind(c, "text.preview_url") != JSON_MISSING && pc_kind(c, "text.preview_url") != JSON_BOOL)
		pc_fail(c, "text.preview_url", "must be true or false");
}

static void
check_contacts(Check *c)
{
	char		p[PATH_MAX_LEN];
	long		n = pc_array(c, "contacts", 1, 257);

	for (long i = 0; i < n && c->ok; i++)
		pc_string(c, pc_at(p, "contacts.%ld.name.formatted_name", i), true, 0);
}

static void
check_reaction(Check *c)
{
	pc_id(c, "reaction.message_id", 256);
	/* an empty emoji removes a reaction */
	if (pc_kind(c, "reaction.emoji") != JSON_STRING)
		pc_fail(c, "reaction.emoji", pc_kind(c, "reaction.emoji") == JSON_MISSING ? "is required" : "must be a string");
}

static const char *const media_types[] = {"image", "video", "audio", "document", "sticker"};
static const char *const other_types[] = {"text", "location", "contacts", "interactive", "template", "reaction"};

static bool
is_media(const char *type)
{
	for (size_t i = 0; i < sizeof(media_types) / sizeof(media_types[0]); i++)
		if (strcmp(type, media_types[i]) == 0)
			return true;
	return false;
}

bool
payload_type_known(const char *type)
{
	for (size_t i = 0; i < sizeof(other_types) / sizeof(other_types[0]); i++)
		if (strcmp(type, other_types[i]) == 0)
			return true;
	return is_media(type);
}

bool
payload_type_is_template(const char *type)
{
	return strcmp(type, "template") == 0;
}

/*
 * Keys the sender writes into every request from the call's own arguments
 * (the recipient the decision was made for, our outbox id): a payload that
 * set them would send to someone nobody decided about, or settle another row.
 */
static const char *const envelope_keys[] = {
	"messaging_product", "recipient_type", "to", "type", "biz_opaque_callback_data"
};

static bool
check_envelope(Check *c)
{
	for (size_t i = 0; i < sizeof(envelope_keys) / sizeof(envelope_keys[0]); i++)
		if (pc_kind(c, envelope_keys[i]) != JSON_MISSING)
			return pc_fail(c, envelope_keys[i], "is set by antiban from the call's arguments; remove it from the payload");
	return true;
}

/* {"status": "read", "message_id": ..., "typing_indicator": {"type": "text"}?}: nothing else. */
static void
check_read_receipt(Check *c)
{
	bool		typing = pc_kind(c, "typing_indicator") != JSON_MISSING;

	if (!pc_is(c, "status", "read"))
		pc_fail(c, "status", "must be \"read\"");
	pc_id(c, "message_id", 256);
	if (typing && !pc_is(c, "typing_indicator.type", "text"))
		pc_fail(c, "typing_indicator.type", "must be \"text\"");
	if (c->ok && c->v->size(c->v->ctx, "") != 2 + typing)
		pc_fail(c, "read_receipt", "may hold only status, message_id and typing_indicator");
}

bool
payload_validate(const char *type, const JsonView *v, PayloadError *err)
{
	Check		c = {v, err, true};

	err->hint[0] = '\0';
	if (!check_envelope(&c))
		return false;
	if (strcmp(type, PAYLOAD_READ_RECEIPT) == 0)
	{
		check_read_receipt(&c);
		return c.ok;
	}
	if (!payload_type_known(type))
		return pc_fail(&c, "type", "\"%s\" is not a Cloud API message type", type);
	if (strcmp(type, "contacts") != 0 && !pc_object(&c, type, true))
		return false;
	if (strcmp(type, "text") == 0)
		check_text(&c);
	else if (is_media(type))
		pc_media(&c, type, type);
	else if (strcmp(type, "location") == 0)
		pc_location(&c, "location");
	else if (strcmp(type, "contacts") == 0)
		check_contacts(&c);
	else if (strcmp(type, "reaction") == 0)
		check_reaction(&c);
	else if (strcmp(type, "interactive") == 0)
		payload_check_interactive(&c);
	else
		payload_check_template(&c);
	if (c.ok && pc_kind(&c, "context") != JSON_MISSING)
		pc_id(&c, "context.message_id", 256);
	return c.ok;
}
