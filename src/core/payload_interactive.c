/*
 * payload_interactive.c
 *		Interactive messages (cloud-api.md section 1): reply buttons, lists,
 *		call-to-action URLs, flows, and single- and multi-product messages.
 *		A media header carries its media object; ids that the reply webhook
 *		will echo back must be unique within the message, or the answer could
 *		not be told apart.
 */
#include "payload_check.h"

#include <string.h>

#define MAX_LIST_ROWS 10
#define MAX_PRODUCT_ITEMS 30

static void
check_header(Check *c, bool required_text)
{
	static const char *const media[] = {"image", "video", "document"};
	char		p[PATH_MAX_LEN];

	if (!pc_object(c, "interactive.header", required_text) ||
		pc_kind(c, "interactive.header") == JSON_MISSING)
		return;
	if (pc_is(c, "interactive.header.type", "text"))
	{
		pc_string(c, "interactive.header.text", true, 60);
		return;
	}
	if (required_text)
	{
		pc_fail(c, "interactive.header.type", "must be \"text\" for a product_list message");
		return;
	}
	for (size_t i = 0; i < sizeof(media) / sizeof(media[0]); i++)
		if (pc_is(c, "interactive.header.type", media[i]))
		{
			pc_media(c, pc_at(p, "interactive.header.%s", media[i]), media[i]);
			return;
		}
	pc_fail(c, "interactive.header.type", "must be text, image, video or document");
}

/* The id at 'path' repeats none of the 'n' earlier ones. */
static bool
unique_id(Check *c, const char *path, char (*seen)[PATH_MAX_LEN], int n, const char *what)
{
	for (int i = 0; i < n; i++)
		if (pc_same_text(c, seen[i], path))
			return pc_fail(c, path, "repeats the id of %s %d (%s); ids must be unique within a message",
						   what, i, seen[i]);
	return true;
}

static void
check_buttons(Check *c)
{
	char		p[PATH_MAX_LEN];
	char		ids[3][PATH_MAX_LEN];
	long		n = pc_array(c, "interactive.action.buttons", 1, 3);

	for (long i = 0; i < n && c->ok; i++)
	{
		if (!pc_is(c, pc_at(p, "interactive.action.buttons.%ld.type", i), "reply"))
			pc_fail(c, p, "must be \"reply\"");
		pc_id(c, pc_at(ids[i], "interactive.action.buttons.%ld.reply.id", i), 256);
		pc_string(c, pc_at(p, "interactive.action.buttons.%ld.reply.title", i), true, 20);
		if (c->ok)
			unique_id(c, ids[i], ids, (int) i, "button");
	}
}

static void
check_list(Check *c)
{
	char		p[PATH_MAX_LEN];
	char		ids[MAX_LIST_ROWS][PATH_MAX_LEN];
	long		sections = pc_array(c, "interactive.action.sections", 1, 10);
	long		rows = 0;

	pc_string(c, "interactive.action.button", true, 20);
	for (long s = 0; s < sections && c->ok; s++)
	{
		long		n = pc_array(c, pc_at(p, "interactive.action.sections.%ld.rows", s), 1, 10);

		pc_string(c, pc_at(p, "interactive.action.sections.%ld.title", s), sections > 1, 24);
		for (long r = 0; r < n && c->ok; r++, rows++)
		{
			char		id[PATH_MAX_LEN];

			pc_id(c, pc_at(id, "interactive.action.sections.%ld.rows.%ld.id", s, r), 200);
			pc_string(c, pc_at(p, "interactive.action.sections.%ld.rows.%ld.title", s, r), true, 24);
			pc_string(c, pc_at(p, "interactive.action.sections.%ld.rows.%ld.description", s, r), false, 72);
			if (rows >= MAX_LIST_ROWS)
				continue;		/* too many: said below */
			if (c->ok && unique_id(c, id, ids, (int) rows, "row"))
				memcpy(ids[rows], id, sizeof(id));
		}
	}
	if (c->ok && rows > MAX_LIST_ROWS)
		pc_fail(c, "interactive.action.sections", "hold %ld rows in all; at most %d are allowed",
				rows, MAX_LIST_ROWS);
}

static void
check_cta_url(Check *c)
{
	if (!pc_is(c, "interactive.action.name", "cta_url"))
		pc_fail(c, "interactive.action.name", "must be \"cta_url\"");
	pc_string(c, "interactive.action.parameters.display_text", true, 20);
	pc_url(c, "interactive.action.parameters.url", true);
}

static void
check_flow(Check *c)
{
	if (!pc_is(c, "interactive.action.name", "flow"))
		pc_fail(c, "interactive.action.name", "must be \"flow\"");
	pc_string(c, "interactive.action.parameters.flow_message_version", true, 8);
	if (pc_kind(c, "interactive.action.parameters.flow_id") == JSON_MISSING &&
		pc_kind(c, "interactive.action.parameters.flow_name") == JSON_MISSING)
		pc_fail(c, "interactive.action.parameters", "needs flow_id or flow_name");
	pc_string(c, "interactive.action.parameters.flow_cta", true, 20);
}

/* One product of a catalog: the catalog and the product's retailer id. */
static void
check_product(Check *c)
{
	pc_id(c, "interactive.action.catalog_id", 0);
	pc_id(c, "interactive.action.product_retailer_id", 0);
}

/* Up to 10 sections of products, at most 30 in all, from one catalog. */
static void
check_product_list(Check *c)
{
	char		p[PATH_MAX_LEN];
	long		sections;
	long		items = 0;

	pc_id(c, "interactive.action.catalog_id", 0);
	sections = pc_array(c, "interactive.action.sections", 1, 10);
	for (long s = 0; s < sections && c->ok; s++)
	{
		long		n = pc_array(c, pc_at(p, "interactive.action.sections.%ld.product_items", s),
								 1, MAX_PRODUCT_ITEMS);

		pc_string(c, pc_at(p, "interactive.action.sections.%ld.title", s), sections > 1, 24);
		for (long i = 0; i < n && c->ok; i++)
			pc_id(c, pc_at(p, "interactive.action.sections.%ld.product_items.%ld.product_retailer_id",
						   s, i), 0);
		items += n > 0 ? n : 0;
	}
	if (c->ok && items > MAX_PRODUCT_ITEMS)
		pc_fail(c, "interactive.action.sections", "hold %ld products in all; at most %d are allowed",
				items, MAX_PRODUCT_ITEMS);
}

static const struct
{
	const char *type;
	bool		body_required;
	bool		header_required;	/* and then a text one */
	void		(*check) (Check *c);
}			interactive_types[] = {
	{"button", true, false, check_buttons},
	{"list", true, false, check_list},
	{"cta_url", true, false, check_cta_url},
	{"flow", true, false, check_flow},
	{"product", false, false, check_product},
	{"product_list", true, true, check_product_list},
};

void
payload_check_interactive(Check *c)
{
	for (size_t i = 0; i < sizeof(interactive_types) / sizeof(interactive_types[0]); i++)
	{
		if (!pc_is(c, "interactive.type", interactive_types[i].type))
			continue;
		check_header(c, interactive_types[i].header_required);
		if (interactive_types[i].body_required || pc_kind(c, "interactive.body") != JSON_MISSING)
			pc_string(c, "interactive.body.text", true, 1024);
		pc_string(c, "interactive.footer.text", false, 60);
		if (pc_object(c, "interactive.action", true))
			interactive_types[i].check(c);
		return;
	}
	pc_fail(c, "interactive.type", "must be button, list, cta_url, flow, product or product_list");
}
