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
 * Cloud API type, so one seed exercises every checker.  An input with an
 * "approved" array (Meta's components of a template) is also checked
 * against it (core/template_check.c) and linted (core/template_lint.c); a
 * "text.body" is linted as free text.  The raw input is linted as free text
 * too, unterminated and unvalidated: a database that is not UTF-8 stores
 * any bytes in a text.
 */
#include "core/payload.h"
#include "core/template_check.h"
#include "core/template_lint.h"

#include <json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/json_c_view.h"

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

static void
findings_are_whole(const LintReport *r)
{
	for (int i = 0; i < r->n; i++)
		if (memchr(r->f[i].message, '\0', sizeof(r->f[i].message)) == NULL ||
			memchr(r->f[i].location, '\0', sizeof(r->f[i].location)) == NULL ||
			r->f[i].rule == NULL || r->f[i].message[0] == '\0')
		{
			fprintf(stderr, "a lint finding without a rule, a location and a message\n");
			abort();
		}
}

/* The send against the input's "approved" template, which is linted too. */
static void
check_against_approved(struct json_object *root, const JsonView *send)
{
	static const char *const categories[] = {"marketing", "utility", "authentication"};
	struct json_object *approved;
	JsonView	a;
	TemplateSpec t = {"fuzz_template", "pt_BR", "MARKETING", NULL};
	PayloadError err;
	LintReport	r;

	if (!json_object_object_get_ex(root, "approved", &approved))
		return;
	a = json_c_view(approved);
	t.components = &a;
	if (payload_validate("template", send, &err))
		for (size_t i = 0; i < sizeof(categories) / sizeof(categories[0]); i++)
		{
			memset(&err, 0x5a, sizeof(err));
			if (!template_check(&t, send, categories[i], &err) &&
				(memchr(err.field, '\0', sizeof(err.field)) == NULL ||
				 memchr(err.message, '\0', sizeof(err.message)) == NULL ||
				 memchr(err.hint, '\0', sizeof(err.hint)) == NULL || err.message[0] == '\0'))
			{
				fprintf(stderr, "template_check(\"%s\") failed without a field and a message\n", categories[i]);
				abort();
			}
			template_lint(&a, categories[i], &r);
			findings_are_whole(&r);
		}
}

static void
lint_free_text(const JsonView *view)
{
	const char *body;
	long		len;
	LintReport	r;

	if (view->text(view->ctx, "text.body", &body, &len))
	{
		text_lint(body, len, "marketing", &r);
		findings_are_whole(&r);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_tokener *tok = json_tokener_new_ex(64);
	struct json_object *root,
			   *type;
	JsonView	view;
	LintReport	raw;

	text_lint((const char *) data, (long) size, "marketing", &raw);
	findings_are_whole(&raw);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, (const char *) data, (int) size);
	/* jsonb takes one whole value: a prefix that parses is not enough */
	if (json_tokener_get_error(tok) == json_tokener_success &&
		json_tokener_get_parse_end(tok) == size)
	{
		view = json_c_view(root);
		if (json_object_object_get_ex(root, "type", &type) &&
			json_object_is_type(type, json_type_string))
			validate(json_object_get_string(type), &view);
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			validate(types[i], &view);
		check_against_approved(root, &view);
		lint_free_text(&view);
	}
	json_object_put(root);
	json_tokener_free(tok);
	return 0;
}
