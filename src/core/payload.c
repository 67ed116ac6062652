/*
 * payload.c
 *		Payload shapes and limits from cloud-api.md section 1.
 */
#include "payload.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define PATH_MAX_LEN 128

typedef struct Check
{
	const JsonView *v;
	PayloadError *err;
	bool		ok;
} Check;

static bool fail(Check *c, const char *field, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));
static const char *at(char *buf, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));

static bool
fail(Check *c, const char *field, const char *fmt,...)
{
	va_list		ap;

	if (!c->ok)
		return false;
	c->ok = false;
	snprintf(c->err->field, sizeof(c->err->field), "%s", field);
	va_start(ap, fmt);
	vsnprintf(c->err->message, sizeof(c->err->message), fmt, ap);
	va_end(ap);
	return false;
}

static const char *
at(char *buf, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(buf, PATH_MAX_LEN, fmt, ap);
	va_end(ap);
	return buf;
}

static JsonKind
kind(Check *c, const char *path)
{
	return c->v->kind(c->v->ctx, path);
}

/* A string, required or not, of at most 'max' characters (0: no limit). */
static bool
string_field(Check *c, const char *path, bool required, long max)
{
	JsonKind	k = kind(c, path);
	long		n;

	if (k == JSON_MISSING || k == JSON_NULL)
		return required ? fail(c, path, "is required") : true;
	if (k != JSON_STRING)
		return fail(c, path, "must be a string");
	n = c->v->size(c->v->ctx, path);
	if (required && n == 0)
		return fail(c, path, "must not be empty");
	if (max > 0 && n > max)
		return fail(c, path, "has %ld characters; at most %ld are allowed", n, max);
	return true;
}

static bool
url_field(Check *c, const char *path, bool required)
{
	if (!string_field(c, path, required, 2000))
		return false;
	if (kind(c, path) == JSON_STRING &&
		!c->v->text_starts(c->v->ctx, path, "https://") &&
		!c->v->text_starts(c->v->ctx, path, "http://"))
		return fail(c, path, "must be an http(s) URL");
	return true;
}

/* An array of min..max elements (max 0: no limit); returns its size, or -1. */
static long
array_field(Check *c, const char *path, long min, long max)
{
	long		n;

	if (kind(c, path) != JSON_ARRAY)
	{
		fail(c, path, kind(c, path) == JSON_MISSING ? "is required" : "must be an array");
		return -1;
	}
	n = c->v->size(c->v->ctx, path);
	if (n < min)
	{
		fail(c, path, "needs at least %ld element%s", min, min == 1 ? "" : "s");
		return -1;
	}
	if (max > 0 && n > max)
	{
		fail(c, path, "has %ld elements; at most %ld are allowed", n, max);
		return -1;
	}
	return n;
}

static bool
object_field(Check *c, const char *path, bool required)
{
	JsonKind	k = kind(c, path);

	if (k == JSON_MISSING)
		return required ? fail(c, path, "is required") : true;
	return k == JSON_OBJECT ? true : fail(c, path, "must be an object");
}

static bool
number_field(Check *c, const char *path, double min, double max)
{
	double		x;

	if (kind(c, path) != JSON_NUMBER)
		return fail(c, path, kind(c, path) == JSON_MISSING ? "is required" : "must be a number");
	x = c->v->number(c->v->ctx, path);
	if (x < min || x > max)
		return fail(c, path, "must be between %g and %g", min, max);
	return true;
}

/* ---- types ---- */

static void
check_text(Check *c)
{
	string_field(c, "text.body", true, 4096);
	if (kind(c, "text.preview_url") != JSON_MISSING && kind(c, "text.preview_url") != JSON_BOOL)
		fail(c, "text.preview_url", "must be true or false");
}

static void
check_media(Check *c, const char *type)
{
	char		p[PATH_MAX_LEN];
	bool		has_id = kind(c, at(p, "%s.id", type)) != JSON_MISSING;
	bool		has_link = kind(c, at(p, "%s.link", type)) != JSON_MISSING;

	if (has_id == has_link)
	{
		fail(c, at(p, "%s", type), "needs exactly one of \"id\" (an uploaded media id) or \"link\"");
		return;
	}
	if (has_id)
		string_field(c, at(p, "%s.id", type), true, 256);
	else
		url_field(c, at(p, "%s.link", type), true);
	if (strcmp(type, "audio") == 0 || strcmp(type, "sticker") == 0)
	{
		if (kind(c, at(p, "%s.caption", type)) != JSON_MISSING)
			fail(c, at(p, "%s.caption", type), "is not allowed on %s messages", type);
	}
	else
		string_field(c, at(p, "%s.caption", type), false, 1024);
	if (strcmp(type, "document") == 0)
		string_field(c, "document.filename", false, 240);
}

static void
check_location(Check *c)
{
	number_field(c, "location.latitude", -90, 90);
	number_field(c, "location.longitude", -180, 180);
	string_field(c, "location.name", false, 1000);
	string_field(c, "location.address", false, 1000);
}

static void
check_contacts(Check *c)
{
	char		p[PATH_MAX_LEN];
	long		n = array_field(c, "contacts", 1, 257);

	for (long i = 0; i < n && c->ok; i++)
		string_field(c, at(p, "contacts.%ld.name.formatted_name", i), true, 0);
}

static void
check_reaction(Check *c)
{
	string_field(c, "reaction.message_id", true, 256);
	/* an empty emoji removes a reaction */
	if (kind(c, "reaction.emoji") != JSON_STRING)
		fail(c, "reaction.emoji", kind(c, "reaction.emoji") == JSON_MISSING ? "is required" : "must be a string");
}

static void
check_interactive_header(Check *c)
{
	if (!object_field(c, "interactive.header", false) || kind(c, "interactive.header") == JSON_MISSING)
		return;
	if (c->v->text_is(c->v->ctx, "interactive.header.type", "text"))
		string_field(c, "interactive.header.text", true, 60);
	else if (!c->v->text_is(c->v->ctx, "interactive.header.type", "image") &&
			 !c->v->text_is(c->v->ctx, "interactive.header.type", "video") &&
			 !c->v->text_is(c->v->ctx, "interactive.header.type", "document"))
		fail(c, "interactive.header.type", "must be text, image, video or document");
}

static void
check_buttons(Check *c)
{
	char		p[PATH_MAX_LEN];
	long		n = array_field(c, "interactive.action.buttons", 1, 3);

	for (long i = 0; i < n && c->ok; i++)
	{
		if (!c->v->text_is(c->v->ctx, at(p, "interactive.action.buttons.%ld.type", i), "reply"))
			fail(c, p, "must be \"reply\"");
		string_field(c, at(p, "interactive.action.buttons.%ld.reply.id", i), true, 256);
		string_field(c, at(p, "interactive.action.buttons.%ld.reply.title", i), true, 20);
	}
}

static void
check_list(Check *c)
{
	char		p[PATH_MAX_LEN];
	long		sections = array_field(c, "interactive.action.sections", 1, 10);
	long		rows = 0;

	string_field(c, "interactive.action.button", true, 20);
	for (long s = 0; s < sections && c->ok; s++)
	{
		long		n = array_field(c, at(p, "interactive.action.sections.%ld.rows", s), 1, 10);

		string_field(c, at(p, "interactive.action.sections.%ld.title", s), sections > 1, 24);
		for (long r = 0; r < n && c->ok; r++)
		{
			string_field(c, at(p, "interactive.action.sections.%ld.rows.%ld.id", s, r), true, 200);
			string_field(c, at(p, "interactive.action.sections.%ld.rows.%ld.title", s, r), true, 24);
			string_field(c, at(p, "interactive.action.sections.%ld.rows.%ld.description", s, r), false, 72);
		}
		rows += n > 0 ? n : 0;
	}
	if (c->ok && rows > 10)
		fail(c, "interactive.action.sections", "hold %ld rows in all; at most 10 are allowed", rows);
}

static void
check_cta_url(Check *c)
{
	if (!c->v->text_is(c->v->ctx, "interactive.action.name", "cta_url"))
		fail(c, "interactive.action.name", "must be \"cta_url\"");
	string_field(c, "interactive.action.parameters.display_text", true, 20);
	url_field(c, "interactive.action.parameters.url", true);
}

static void
check_flow(Check *c)
{
	if (!c->v->text_is(c->v->ctx, "interactive.action.name", "flow"))
		fail(c, "interactive.action.name", "must be \"flow\"");
	string_field(c, "interactive.action.parameters.flow_message_version", true, 8);
	if (kind(c, "interactive.action.parameters.flow_id") == JSON_MISSING &&
		kind(c, "interactive.action.parameters.flow_name") == JSON_MISSING)
		fail(c, "interactive.action.parameters", "needs flow_id or flow_name");
	string_field(c, "interactive.action.parameters.flow_cta", true, 20);
}

static void
check_interactive(Check *c)
{
	const JsonView *v = c->v;

	if (!object_field(c, "interactive", true))
		return;
	check_interactive_header(c);
	string_field(c, "interactive.body.text", true, 1024);
	string_field(c, "interactive.footer.text", false, 60);
	if (v->text_is(v->ctx, "interactive.type", "button"))
		check_buttons(c);
	else if (v->text_is(v->ctx, "interactive.type", "list"))
		check_list(c);
	else if (v->text_is(v->ctx, "interactive.type", "cta_url"))
		check_cta_url(c);
	else if (v->text_is(v->ctx, "interactive.type", "flow"))
		check_flow(c);
	else
		fail(c, "interactive.type", "must be button, list, cta_url or flow");
}

static void
check_template(Check *c)
{
	char		p[PATH_MAX_LEN];
	long		n;

	string_field(c, "template.name", true, 512);
	string_field(c, "template.language.code", true, 16);
	if (kind(c, "template.components") == JSON_MISSING)
		return;
	n = array_field(c, "template.components", 0, 0);
	for (long i = 0; i < n && c->ok; i++)
	{
		const char *type = at(p, "template.components.%ld.type", i);

		if (!c->v->text_is(c->v->ctx, type, "header") && !c->v->text_is(c->v->ctx, type, "body") &&
			!c->v->text_is(c->v->ctx, type, "button"))
			fail(c, type, "must be header, body or button");
		else if (c->v->text_is(c->v->ctx, type, "button"))
		{
			string_field(c, at(p, "template.components.%ld.sub_type", i), true, 0);
			if (kind(c, at(p, "template.components.%ld.index", i)) == JSON_MISSING)
				fail(c, p, "is required for a button component");
		}
		if (kind(c, at(p, "template.components.%ld.parameters", i)) != JSON_MISSING)
			array_field(c, p, 0, 0);
	}
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
		if (kind(c, envelope_keys[i]) != JSON_MISSING)
			return fail(c, envelope_keys[i], "is set by antiban from the call's arguments; remove it from the payload");
	return true;
}

/* {"status": "read", "message_id": ..., "typing_indicator": {"type": "text"}?}: nothing else. */
static void
check_read_receipt(Check *c)
{
	bool		typing = kind(c, "typing_indicator") != JSON_MISSING;

	if (!c->v->text_is(c->v->ctx, "status", "read"))
		fail(c, "status", "must be \"read\"");
	string_field(c, "message_id", true, 256);
	if (typing && !c->v->text_is(c->v->ctx, "typing_indicator.type", "text"))
		fail(c, "typing_indicator.type", "must be \"text\"");
	if (c->ok && c->v->size(c->v->ctx, "") != 2 + typing)
		fail(c, "read_receipt", "may hold only status, message_id and typing_indicator");
}

bool
payload_validate(const char *type, const JsonView *v, PayloadError *err)
{
	Check		c = {v, err, true};

	if (!check_envelope(&c))
		return false;
	if (strcmp(type, PAYLOAD_READ_RECEIPT) == 0)
	{
		check_read_receipt(&c);
		return c.ok;
	}
	if (!payload_type_known(type))
		return fail(&c, "type", "\"%s\" is not a Cloud API message type", type);
	if (strcmp(type, "contacts") != 0 && !object_field(&c, type, true))
		return false;
	if (strcmp(type, "text") == 0)
		check_text(&c);
	else if (is_media(type))
		check_media(&c, type);
	else if (strcmp(type, "location") == 0)
		check_location(&c);
	else if (strcmp(type, "contacts") == 0)
		check_contacts(&c);
	else if (strcmp(type, "reaction") == 0)
		check_reaction(&c);
	else if (strcmp(type, "interactive") == 0)
		check_interactive(&c);
	else
		check_template(&c);
	if (c.ok && kind(&c, "context") != JSON_MISSING)
		string_field(&c, "context.message_id", true, 256);
	return c.ok;
}
