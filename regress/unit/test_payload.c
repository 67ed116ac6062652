/*
 * test_payload.c
 *		Payload limits, over a fake JsonView: a list of (path, value) leaves.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "core/payload.h"

typedef struct Leaf
{
	const char *path;
	JsonKind	kind;
	const char *text;			/* strings */
	long		size;			/* arrays: element count */
	double		number;
} Leaf;

typedef struct Doc
{
	const Leaf *leaves;
	int			n;
} Doc;

static const Leaf *
find(const Doc *d, const char *path)
{
	for (int i = 0; i < d->n; i++)
		if (strcmp(d->leaves[i].path, path) == 0)
			return &d->leaves[i];
	return NULL;
}

static JsonKind
fake_kind(void *ctx, const char *path)
{
	const Doc  *d = ctx;
	const Leaf *l = find(d, path);
	size_t		len = strlen(path);

	if (l)
		return l->kind;
	/* an object: some leaf lies below it */
	for (int i = 0; i < d->n; i++)
		if (strncmp(d->leaves[i].path, path, len) == 0 && d->leaves[i].path[len] == '.')
			return JSON_OBJECT;
	return JSON_MISSING;
}

static long
fake_size(void *ctx, const char *path)
{
	const Leaf *l = find(ctx, path);

	if (!l)
		return 0;
	return l->kind == JSON_STRING ? (long) strlen(l->text) : l->size;
}

static bool
fake_text_is(void *ctx, const char *path, const char *value)
{
	const Leaf *l = find(ctx, path);

	return l && l->kind == JSON_STRING && strcmp(l->text, value) == 0;
}

static bool
fake_text_starts(void *ctx, const char *path, const char *prefix)
{
	const Leaf *l = find(ctx, path);

	return l && l->kind == JSON_STRING && strncmp(l->text, prefix, strlen(prefix)) == 0;
}

static double
fake_number(void *ctx, const char *path)
{
	const Leaf *l = find(ctx, path);

	return l ? l->number : 0;
}

static bool
fake_text(void *ctx, const char *path, const char **bytes, long *len)
{
	const Leaf *l = find(ctx, path);

	if (!l || l->kind != JSON_STRING)
		return false;
	*bytes = l->text;
	*len = (long) strlen(l->text);
	return true;
}

#define S(p, t) {p, JSON_STRING, t, 0, 0}
#define A(p, n) {p, JSON_ARRAY, NULL, n, 0}
#define N(p, x) {p, JSON_NUMBER, NULL, 0, x}
/* the payload itself, with this many keys */
#define ROOT(n) {"", JSON_OBJECT, NULL, n, 0}

static bool
validate(const char *type, const Leaf *leaves, int n, PayloadError *err)
{
	Doc			d = {leaves, n};
	JsonView	v = {&d, fake_kind, fake_size, fake_text_is, fake_text_starts, fake_number, fake_text};

	memset(err, 0, sizeof(*err));
	return payload_validate(type, &v, err);
}

#define VALIDATE(type, leaves, err) validate(type, leaves, sizeof(leaves) / sizeof(leaves[0]), err)

static void
text_limits(void **state)
{
	PayloadError e;
	char	   *long_body = malloc(4098);
	Leaf		ok[] = {S("text.body", "Olá! Tudo bem?")};
	Leaf		too_long[] = {S("text.body", long_body)};
	Leaf		empty[] = {S("text.body", "")};

	memset(long_body, 'a', 4097);
	long_body[4097] = '\0';
	assert_true(VALIDATE("text", ok, &e));
	assert_false(VALIDATE("text", too_long, &e));
	assert_string_equal(e.field, "text.body");
	assert_non_null(strstr(e.message, "4096"));
	assert_false(VALIDATE("text", empty, &e));
	free(long_body);
}

static void
media_needs_exactly_id_or_link(void **state)
{
	PayloadError e;
	Leaf		by_link[] = {S("image.link", "https://cdn.example.com/a.jpg"), S("image.caption", "Oferta")};
	Leaf		both[] = {S("image.link", "https://x/a.jpg"), S("image.id", "123")};
	Leaf		ftp[] = {S("document.link", "ftp://x/a.pdf")};
	Leaf		audio_caption[] = {S("audio.id", "1"), S("audio.caption", "no")};

	assert_true(VALIDATE("image", by_link, &e));
	assert_false(VALIDATE("image", both, &e));
	assert_string_equal(e.field, "image");
	assert_false(VALIDATE("document", ftp, &e));
	assert_string_equal(e.field, "document.link");
	assert_false(VALIDATE("audio", audio_caption, &e));
	assert_string_equal(e.field, "audio.caption");
}

static void
buttons_at_most_three_titles_at_most_twenty(void **state)
{
	PayloadError e;
	Leaf		four[] = {S("interactive.type", "button"), S("interactive.body.text", "Escolha"),
	A("interactive.action.buttons", 4)};
	Leaf		long_title[] = {S("interactive.type", "button"), S("interactive.body.text", "Escolha"),
		A("interactive.action.buttons", 1), S("interactive.action.buttons.0.type", "reply"),
		S("interactive.action.buttons.0.reply.id", "b1"),
	S("interactive.action.buttons.0.reply.title", "Quero investir agora mesmo")};
	Leaf		ok[] = {S("interactive.type", "button"), S("interactive.body.text", "Escolha"),
		A("interactive.action.buttons", 1), S("interactive.action.buttons.0.type", "reply"),
	S("interactive.action.buttons.0.reply.id", "b1"), S("interactive.action.buttons.0.reply.title", "Sim")};

	assert_false(VALIDATE("interactive", four, &e));
	assert_string_equal(e.field, "interactive.action.buttons");
	assert_false(VALIDATE("interactive", long_title, &e));
	assert_string_equal(e.field, "interactive.action.buttons.0.reply.title");
	assert_true(VALIDATE("interactive", ok, &e));
}

/* A list with rows_a + rows_b valid rows in two sections. */
static bool
validate_list(int rows_a, int rows_b, PayloadError *e)
{
	static char paths[64][96];
	static char ids[64][8];
	Leaf		leaves[64];
	int			n = 0;
	int			rows[2] = {rows_a, rows_b};

	leaves[n++] = (Leaf) S("interactive.type", "list");
	leaves[n++] = (Leaf) S("interactive.body.text", "Planos");
	leaves[n++] = (Leaf) S("interactive.action.button", "Ver");
	leaves[n++] = (Leaf) A("interactive.action.sections", 2);
	for (int s = 0; s < 2; s++)
	{
		snprintf(paths[n], sizeof(paths[n]), "interactive.action.sections.%d.title", s);
		leaves[n] = (Leaf) S(paths[n], "Seção");
		n++;
		snprintf(paths[n], sizeof(paths[n]), "interactive.action.sections.%d.rows", s);
		leaves[n] = (Leaf) A(paths[n], rows[s]);
		n++;
		for (int r = 0; r < rows[s]; r++)
		{
			snprintf(paths[n], sizeof(paths[n]), "interactive.action.sections.%d.rows.%d.id", s, r);
			snprintf(ids[n], sizeof(ids[n]), "r%d.%d", s, r);	/* unique, as Meta wants */
			leaves[n] = (Leaf) S(paths[n], ids[n]);
			n++;
			snprintf(paths[n], sizeof(paths[n]), "interactive.action.sections.%d.rows.%d.title", s, r);
			leaves[n] = (Leaf) S(paths[n], "Renda fixa");
			n++;
		}
	}
	return validate("interactive", leaves, n, e);
}

static void
lists_count_rows_across_sections(void **state)
{
	PayloadError e;

	assert_true(validate_list(6, 4, &e));
	assert_false(validate_list(6, 5, &e));
	assert_string_equal(e.field, "interactive.action.sections");
	assert_non_null(strstr(e.message, "11 rows"));
}

static void
unknown_type_and_template_fields(void **state)
{
	PayloadError e;
	Leaf		none[] = {S("x", "y")};
	Leaf		tmpl[] = {S("template.name", "boas_vindas"), S("template.language.code", "pt_BR"),
		A("template.components", 1), S("template.components.0.type", "button"),
	S("template.components.0.sub_type", "quick_reply")};
	Leaf		location[] = {N("location.latitude", -23.55), N("location.longitude", -246.6)};

	assert_false(VALIDATE("carousel", none, &e));
	assert_string_equal(e.field, "type");
	assert_false(VALIDATE("template", tmpl, &e));
	assert_string_equal(e.field, "template.components.0.index");
	assert_false(VALIDATE("location", location, &e));
	assert_string_equal(e.field, "location.longitude");
}

static void
envelope_keys_are_antibans(void **state)
{
	PayloadError e;
	Leaf		to[] = {S("image.link", "https://x/a.jpg"), S("to", "+5511900001111")};
	Leaf		callback[] = {S("text.body", "oi"), S("biz_opaque_callback_data", "1")};
	Leaf		type[] = {S("text.body", "oi"), S("type", "template")};

	assert_false(VALIDATE("image", to, &e));
	assert_string_equal(e.field, "to");
	assert_false(VALIDATE("text", callback, &e));
	assert_string_equal(e.field, "biz_opaque_callback_data");
	assert_false(VALIDATE("text", type, &e));
	assert_string_equal(e.field, "type");
}

static void
read_receipts_are_only_read_receipts(void **state)
{
	PayloadError e;
	Leaf		plain[] = {ROOT(2), S("status", "read"), S("message_id", "wamid.IN1")};
	Leaf		typing[] = {ROOT(3), S("status", "read"), S("message_id", "wamid.IN1"), S("typing_indicator.type", "text")};
	Leaf		a_message[] = {ROOT(3), S("status", "read"), S("message_id", "wamid.IN1"), S("text.body", "spam")};
	Leaf		not_read[] = {ROOT(2), S("status", "delivered"), S("message_id", "wamid.IN1")};
	Leaf		no_id[] = {ROOT(2), S("status", "read"), S("message_id", "")};

	assert_true(VALIDATE(PAYLOAD_READ_RECEIPT, plain, &e));
	assert_true(VALIDATE(PAYLOAD_READ_RECEIPT, typing, &e));
	assert_false(VALIDATE(PAYLOAD_READ_RECEIPT, a_message, &e));
	assert_string_equal(e.field, "read_receipt");
	assert_false(VALIDATE(PAYLOAD_READ_RECEIPT, not_read, &e));
	assert_string_equal(e.field, "status");
	assert_false(VALIDATE(PAYLOAD_READ_RECEIPT, no_id, &e));
	assert_string_equal(e.field, "message_id");
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(envelope_keys_are_antibans),
	cmocka_unit_test(read_receipts_are_only_read_receipts),
	cmocka_unit_test(text_limits),
	cmocka_unit_test(media_needs_exactly_id_or_link),
	cmocka_unit_test(buttons_at_most_three_titles_at_most_twenty),
	cmocka_unit_test(lists_count_rows_across_sections),
	cmocka_unit_test(unknown_type_and_template_fields),
};

UnitGroup
payload_tests(void)
{
	return (UnitGroup) UNIT_GROUP("payload", tests);
}
