/*
 * mgmt.c — GET /{phone-number-id}, GET /{waba-id}, GET /{waba-id}/phone_numbers
 * and GET /{waba-id}/message_templates, with `fields` selection, cursor
 * paging and Meta's per-WABA management rate limit (80007).
 *
 * Every call is logged with its time so a test can check the busiest
 * rolling hour; calls rejected with 80007 count too, as they do at Meta.
 */
#include "http.h"
#include "mgmt.h"
#include "pricing.h"
#include "sim.h"
#include "state.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOUR_MS (3600LL * 1000)
#define MAX_FIELDS 32
#define DEFAULT_PAGE 25

typedef struct mgmt_call
{
	char	   *waba;
	char	   *path;
	int64_t		wall_ms;
	int			status;
} mgmt_call;

static mgmt_call *calls;
static size_t ncalls;
static size_t calls_cap;

void
mgmt_init(void)
{
	calls = NULL;
	ncalls = calls_cap = 0;
}

void
mgmt_clear(void)
{
	for (size_t i = 0; i < ncalls; i++)
	{
		free(calls[i].waba);
		free(calls[i].path);
	}
	free(calls);
	mgmt_init();
}

static void
log_call(const char *waba, const char *path, int status)
{
	if (ncalls == calls_cap)
	{
		calls_cap = calls_cap ? calls_cap * 2 : 256;
		calls = xrealloc(calls, calls_cap * sizeof(mgmt_call));
	}
	calls[ncalls].waba = xstrdup(waba);
	calls[ncalls].path = xstrdup(path);
	calls[ncalls].wall_ms = sim_wall_ms();
	calls[ncalls].status = status;
	ncalls++;
}

/* ---- fields=a,b{c},d.limit(1) ------------------------------------------ */

typedef struct field_list
{
	int			n;
	char		names[MAX_FIELDS][64];
} field_list;

/* Split at top-level commas; keep only each field's name (sub-selections
 * and modifiers are accepted and ignored: whole objects come back). */
static void
parse_fields(const char *s, field_list *fl)
{
	int			depth = 0;
	size_t		len = 0;
	bool		in_name = true;

	fl->n = 0;
	for (; s && fl->n < MAX_FIELDS; s++)
	{
		char		c = *s;

		if (c == '\0' || (c == ',' && depth == 0))
		{
			fl->names[fl->n][len] = '\0';
			if (len)
				fl->n++;
			len = 0;
			in_name = true;
			if (c == '\0')
				break;
			continue;
		}
		if (c == '{' || c == '(')
			depth++;
		else if ((c == '}' || c == ')') && depth > 0)
			depth--;
		if (c == '{' || c == '(' || c == '.')
			in_name = false;
		if (in_name && c != ' ' && len + 1 < sizeof(fl->names[0]))
			fl->names[fl->n][len++] = c;
	}
}

typedef void (*field_fn) (sbuf *b, const void *obj);

typedef struct field_def
{
	const char *name;
	field_fn	fn;
} field_def;

static const field_def *
find_field(const field_def *table, const char *name)
{
	for (; table->name; table++)
		if (strcmp(table->name, name) == 0)
			return table;
	return NULL;
}

static bool
wants_field(const field_list *want, const char *name)
{
	for (int i = 0; i < want->n; i++)
		if (strcmp(want->names[i], name) == 0)
			return true;
	return false;
}

/* First requested field the node does not have, or NULL. */
static const char *
unknown_field(const field_def *table, const field_list *want)
{
	for (int i = 0; i < want->n; i++)
		if (!find_field(table, want->names[i]))
			return want->names[i];
	return NULL;
}

/* The requested fields (or the defaults), plus id, which Graph always adds. */
static void
write_node(sbuf *b, const field_def *table, const void *obj, const field_list *want,
		   const char *const *defaults)
{
	int			first = 1;
	bool		has_id = false;
	const char *name;

	sbuf_putc(b, '{');
	for (int i = 0; want->n ? i < want->n : defaults[i] != NULL; i++)
	{
		name = want->n ? want->names[i] : defaults[i];
		has_id |= strcmp(name, "id") == 0;
		sbuf_json_key(b, name, &first);
		find_field(table, name)->fn(b, obj);
	}
	if (!has_id)
	{
		sbuf_json_key(b, "id", &first);
		find_field(table, "id")->fn(b, obj);
	}
	sbuf_putc(b, '}');
}

/* ---- phone number node ------------------------------------------------- */

#define NUM(o) ((const sim_number *) (o))

static void
pf_id(sbuf *b, const void *o)
{
	sbuf_json_str(b, NUM(o)->id);
}

static void
pf_display(sbuf *b, const void *o)
{
	sbuf_json_str(b, NUM(o)->display);
}

static void
pf_verified_name(sbuf *b, const void *o)
{
	sbuf_json_str(b, NUM(o)->verified_name);
}

static void
pf_quality(sbuf *b, const void *o)
{
	sbuf_json_str(b, NUM(o)->quality);
}

static void
pf_quality_score(sbuf *b, const void *o)
{
	sbuf_printf(b, "{\"score\":\"%s\",\"date\":%lld}", NUM(o)->quality,
				(long long) (sim_wall_ms() / 1000));
}

static void
pf_status(sbuf *b, const void *o)
{
	sbuf_json_str(b, NUM(o)->status);
}

static void
pf_throughput(sbuf *b, const void *o)
{
	sbuf_printf(b, "{\"level\":\"%s\"}", number_throughput_level(NUM(o)));
}

static void
pf_tier(sbuf *b, const void *o)
{
	sbuf_json_str(b, portfolio_tier(strmap_get(&sim_portfolios, NUM(o)->portfolio_id)));
}

static int
health_rank(const char *h)
{
	return strcmp(h, "BLOCKED") == 0 ? 2 : strcmp(h, "LIMITED") == 0 ? 1 : 0;
}

static void
health_entity(sbuf *b, const char *type, const char *id, const char *health)
{
	sbuf_printf(b, "{\"entity_type\":\"%s\",\"id\":", type);
	sbuf_json_str(b, id);
	sbuf_printf(b, ",\"can_send_message\":\"%s\"", health);
	if (strcmp(health, "BLOCKED") == 0)
		sbuf_puts(b, ",\"errors\":[{\"error_code\":141010,\"error_description\":"
				  "\"The phone number is blocked from sending messages (simulated).\","
				  "\"possible_solution\":\"Review the account's policy violations in WhatsApp Manager.\"}]");
	else if (strcmp(health, "LIMITED") == 0)
		sbuf_puts(b, ",\"additional_info\":[\"The phone number can send messages with limitations (simulated).\"]");
	sbuf_putc(b, '}');
}

static void
pf_health(sbuf *b, const void *o)
{
	const sim_number *n = o;

	sbuf_printf(b, "{\"can_send_message\":\"%s\",\"entities\":[", n->health);
	health_entity(b, "PHONE_NUMBER", n->id, n->health);
	sbuf_putc(b, ',');
	health_entity(b, "WABA", n->waba_id, "AVAILABLE");
	sbuf_putc(b, ',');
	health_entity(b, "BUSINESS", n->portfolio_id, "AVAILABLE");
	sbuf_puts(b, ",{\"entity_type\":\"APP\",\"id\":\"antiban-sim\",\"can_send_message\":\"AVAILABLE\"}]}");
}

static void
pf_verified(sbuf *b, const void *o)
{
	(void) o;
	sbuf_puts(b, "\"VERIFIED\"");
}

static void
pf_cloud_api(sbuf *b, const void *o)
{
	(void) o;
	sbuf_puts(b, "\"CLOUD_API\"");
}

static void
pf_live(sbuf *b, const void *o)
{
	(void) o;
	sbuf_puts(b, "\"LIVE\"");
}

static void
pf_approved(sbuf *b, const void *o)
{
	(void) o;
	sbuf_puts(b, "\"APPROVED\"");
}

static void
pf_false(sbuf *b, const void *o)
{
	(void) o;
	sbuf_puts(b, "false");
}

static const field_def phone_fields[] = {
	{"id", pf_id},
	{"display_phone_number", pf_display},
	{"verified_name", pf_verified_name},
	{"quality_rating", pf_quality},
	{"quality_score", pf_quality_score},
	{"status", pf_status},
	{"throughput", pf_throughput},
	{"whatsapp_business_manager_messaging_limit", pf_tier},
	{"messaging_limit_tier", pf_tier},
	{"health_status", pf_health},
	{"code_verification_status", pf_verified},
	{"platform_type", pf_cloud_api},
	{"account_mode", pf_live},
	{"name_status", pf_approved},
	{"is_official_business_account", pf_false},
	{"is_pin_enabled", pf_false},
	{NULL, NULL}
};

static const char *const phone_defaults[] = {
	"verified_name", "display_phone_number", "quality_rating", NULL
};

static const char *const phone_list_defaults[] = {
	"verified_name", "code_verification_status", "display_phone_number",
	"quality_rating", "platform_type", "throughput", NULL
};

/* ---- WABA node --------------------------------------------------------- */

#define WABA(o) ((const sim_waba *) (o))

static void
wf_id(sbuf *b, const void *o)
{
	sbuf_json_str(b, WABA(o)->id);
}

static void
wf_name(sbuf *b, const void *o)
{
	sbuf_json_str(b, WABA(o)->name);
}

static void
wf_namespace(sbuf *b, const void *o)
{
	sbuf_printf(b, "\"sim_%.40s\"", WABA(o)->id);
}

static void
wf_usd(sbuf *b, const void *o)
{
	(void) o;
	sbuf_puts(b, "\"USD\"");
}

static void
wf_timezone(sbuf *b, const void *o)
{
	(void) o;
	sbuf_puts(b, "\"1\"");
}

/* The first number of the WABA (by id) stands for its portfolio. */
static const sim_number *
waba_first_number(const sim_waba *w)
{
	const char **keys = strmap_sorted_keys(&sim_numbers);
	const sim_number *found = NULL;

	for (size_t i = 0; keys[i] && !found; i++)
	{
		const sim_number *n = strmap_get(&sim_numbers, keys[i]);

		if (strcmp(n->waba_id, w->id) == 0)
			found = n;
	}
	free(keys);
	return found;
}

static void
wf_tier(sbuf *b, const void *o)
{
	const sim_number *n = waba_first_number(o);

	sbuf_json_str(b, portfolio_tier(n ? strmap_get(&sim_portfolios, n->portfolio_id) : NULL));
}

/* A WABA is as healthy as its sickest number. */
static void
wf_health(sbuf *b, const void *o)
{
	const sim_waba *w = o;
	const char *worst = "AVAILABLE";

	for (size_t i = 0; i < sim_numbers.cap; i++)
	{
		const sim_number *n = sim_numbers.slots[i].value;

		if (sim_numbers.slots[i].key && strcmp(n->waba_id, w->id) == 0 &&
			health_rank(n->health) > health_rank(worst))
			worst = n->health;
	}
	sbuf_printf(b, "{\"can_send_message\":\"%s\",\"entities\":[", worst);
	health_entity(b, "WABA", w->id, worst);
	sbuf_puts(b, "]}");
}

/* pricing_analytics needs the request's modifiers: mgmt_answer computes
 * it first (under sim_lock) and the field writer copies it. */
static const char *analytics_json;

static void
wf_pricing(sbuf *b, const void *o)
{
	(void) o;
	sbuf_puts(b, analytics_json ? analytics_json : "{\"data\":[]}");
}

static const field_def waba_fields[] = {
	{"pricing_analytics", wf_pricing},
	{"id", wf_id},
	{"name", wf_name},
	{"currency", wf_usd},
	{"timezone_id", wf_timezone},
	{"message_template_namespace", wf_namespace},
	{"account_review_status", pf_approved},
	{"health_status", wf_health},
	{"whatsapp_business_manager_messaging_limit", wf_tier},
	{NULL, NULL}
};

static const char *const waba_defaults[] = {"name", "timezone_id", "message_template_namespace", NULL};

/* ---- template node ----------------------------------------------------- */

#define TPL(o) ((const sim_template *) (o))

static void
tf_id(sbuf *b, const void *o)
{
	sbuf_json_str(b, TPL(o)->id);
}

static void
tf_name(sbuf *b, const void *o)
{
	sbuf_json_str(b, TPL(o)->name);
}

static void
tf_language(sbuf *b, const void *o)
{
	sbuf_json_str(b, TPL(o)->language);
}

static void
tf_status(sbuf *b, const void *o)
{
	sbuf_json_str(b, TPL(o)->status);
}

static void
tf_category(sbuf *b, const void *o)
{
	sbuf_json_str(b, TPL(o)->category);
}

static void
tf_components(sbuf *b, const void *o)
{
	sbuf_puts(b, TPL(o)->components);
}

static void
tf_quality(sbuf *b, const void *o)
{
	sbuf_printf(b, "{\"score\":\"%s\",\"date\":%lld}", TPL(o)->quality,
				(long long) (sim_wall_ms() / 1000));
}

static void
tf_format(sbuf *b, const void *o)
{
	(void) o;
	sbuf_puts(b, "\"POSITIONAL\"");
}

static const field_def template_fields[] = {
	{"id", tf_id},
	{"name", tf_name},
	{"language", tf_language},
	{"status", tf_status},
	{"category", tf_category},
	{"components", tf_components},
	{"quality_score", tf_quality},
	{"parameter_format", tf_format},
	{NULL, NULL}
};

static const char *const template_defaults[] = {
	"name", "parameter_format", "components", "language", "status", "category",
	"quality_score", NULL
};

/* ---- paging ------------------------------------------------------------ */

static void
cursor_encode(char *out, size_t idx)
{
	char		dec[24];
	int			n = snprintf(dec, sizeof(dec), "%zu", idx);

	EVP_EncodeBlock((unsigned char *) out, (const unsigned char *) dec, n);
}

/* Returns the index after the cursor, or -1 when it is not ours. */
static long
cursor_decode(const char *cursor)
{
	unsigned char dec[64];
	size_t		len = strlen(cursor);
	char	   *end;
	long		v;

	if (len == 0 || len > 40 || len % 4)
		return -1;
	if (EVP_DecodeBlock(dec, (const unsigned char *) cursor, (int) len) < 0)
		return -1;
	dec[sizeof(dec) - 1] = '\0';
	v = strtol((char *) dec, &end, 10);
	return (end == (char *) dec || v < 0) ? -1 : v + 1;
}

typedef struct page
{
	size_t		from;
	size_t		limit;
} page;

static bool
page_parse(const sim_request *req, page *p)
{
	const char *limit = req_arg(req, "limit");
	const char *after = req_arg(req, "after");
	long		from = 0;

	p->limit = DEFAULT_PAGE;
	if (limit && (atol(limit) <= 0 || atol(limit) > 1000))
		return false;
	if (limit)
		p->limit = (size_t) atol(limit);
	if (after && (from = cursor_decode(after)) < 0)
		return false;
	p->from = (size_t) from;
	return true;
}

/* "paging":{"cursors":{..},"next":".."} for items [p->from, last]. */
static void
write_paging(sbuf *b, const sim_request *req, const char *version, const char *id,
			 const char *edge, const page *p, size_t shown, bool more)
{
	char		before[64],
				after[64];
	const char *host = req_header(req, "Host");

	sbuf_puts(b, ",\"paging\":{\"cursors\":{");
	if (shown)
	{
		cursor_encode(before, p->from);
		cursor_encode(after, p->from + shown - 1);
		sbuf_printf(b, "\"before\":\"%s\",\"after\":\"%s\"", before, after);
	}
	sbuf_putc(b, '}');
	if (more)
	{
		char		url[1024];

		snprintf(url, sizeof(url), "http://%s%s%s/%s/%s?limit=%zu&after=%s",
				 host ? host : "localhost", version ? "/" : "", version ? version : "",
				 id, edge, p->limit, after);
		sbuf_puts(b, ",\"next\":");
		sbuf_json_str(b, url);
	}
	sbuf_puts(b, "}}");
}

/* ---- list edges -------------------------------------------------------- */

static bool
template_matches(const sim_request *req, const sim_template *t)
{
	const char *v;

	return (!(v = req_arg(req, "name")) || strcmp(v, t->name) == 0) &&
		(!(v = req_arg(req, "status")) || ascii_upper_eq(v, t->status)) &&
		(!(v = req_arg(req, "category")) || ascii_upper_eq(v, t->category)) &&
		(!(v = req_arg(req, "language")) || strcmp(v, t->language) == 0);
}

static void
list_templates(sbuf *b, const sim_request *req, const char *version, const sim_waba *w,
			   const field_list *want, const page *p)
{
	size_t		seen = 0,
				shown = 0;
	bool		more = false;

	sbuf_puts(b, "{\"data\":[");
	for (size_t i = 0; i < w->ntemplates; i++)
	{
		if (!template_matches(req, w->templates[i]) || seen++ < p->from)
			continue;
		if (shown == p->limit)
		{
			more = true;
			break;
		}
		if (shown++)
			sbuf_putc(b, ',');
		write_node(b, template_fields, w->templates[i], want, template_defaults);
	}
	sbuf_putc(b, ']');
	write_paging(b, req, version, w->id, "message_templates", p, shown, more);
}

static void
list_numbers(sbuf *b, const sim_request *req, const char *version, const sim_waba *w,
			 const field_list *want, const page *p)
{
	const char **keys = strmap_sorted_keys(&sim_numbers);
	size_t		seen = 0,
				shown = 0;
	bool		more = false;

	sbuf_puts(b, "{\"data\":[");
	for (size_t i = 0; keys[i]; i++)
	{
		const sim_number *n = strmap_get(&sim_numbers, keys[i]);

		if (strcmp(n->waba_id, w->id) != 0 || seen++ < p->from)
			continue;
		if (shown == p->limit)
		{
			more = true;
			break;
		}
		if (shown++)
			sbuf_putc(b, ',');
		write_node(b, phone_fields, n, want, phone_list_defaults);
	}
	free(keys);
	sbuf_putc(b, ']');
	write_paging(b, req, version, w->id, "phone_numbers", p, shown, more);
}

/* ---- rate limit -------------------------------------------------------- */

/* Counts the call; false when the WABA already made mgmt_limit calls in
 * the last hour. */
static bool
mgmt_admit(sim_waba *w, int64_t now)
{
	size_t		recent = ring_expire_ts(&w->mgmt_window, now - HOUR_MS);
	bool		ok = sim_cfg.mgmt_limit <= 0 || (int64_t) recent < sim_cfg.mgmt_limit;

	ring_push_ts(&w->mgmt_window, now);
	w->mgmt_total++;
	if ((int64_t) w->mgmt_window.len > w->mgmt_max_hour)
		w->mgmt_max_hour = (int64_t) w->mgmt_window.len;
	if (!ok)
		w->mgmt_rejected++;
	return ok;
}

/* X-Business-Use-Case-Usage, the header Graph uses to show how close a
 * WABA is to its limit (call_count in percent). */
static char *
usage_header(const sim_waba *w, int64_t now)
{
	sbuf		b;
	int64_t		pct = 0,
				regain = 0;

	if (sim_cfg.mgmt_limit > 0)
	{
		pct = (int64_t) w->mgmt_window.len * 100 / sim_cfg.mgmt_limit;
		if ((int64_t) w->mgmt_window.len > sim_cfg.mgmt_limit)
			regain = (*(int64_t *) ring_front(&w->mgmt_window) + HOUR_MS - now) / 60000 + 1;
	}
	sbuf_init(&b, 160);
	sbuf_puts(&b, "{");
	sbuf_json_str(&b, w->id);
	sbuf_printf(&b, ":[{\"type\":\"whatsapp_business_management\",\"call_count\":%lld,"
				"\"total_cputime\":1,\"total_time\":1,\"estimated_time_to_regain_access\":%lld}]}",
				(long long) pct, (long long) regain);
	return sbuf_steal(&b, NULL);
}

/* ---- entry point ------------------------------------------------------- */

static void
unknown_object(sim_reply *r, const char *id)
{
	char		msg[400],
				details[200];
	meta_error	e = {.code = 100, .message = msg, .type = "GraphMethodException",
	.details = details, .subcode = 33};

	snprintf(msg, sizeof(msg), "Unsupported get request. Object with ID '%.64s' does not exist, "
			 "cannot be loaded due to missing permissions, or does not support this operation. "
			 "Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api", id);
	snprintf(details, sizeof(details), "Object with ID '%.64s' is not known to the simulator (--strict-numbers).", id);
	reply_error(r, &e);
}

static void
bad_field(sim_reply *r, const char *field, const char *node)
{
	char		msg[256];
	meta_error	e = {.code = 100, .message = msg, .details = ""};

	snprintf(msg, sizeof(msg), "(#100) Tried accessing nonexisting field (%.64s) on node type (%s)",
			 field, node);
	reply_error(r, &e);
}

/* Build the answer for an admitted call. */
static void
mgmt_answer(const sim_request *req, const char *version, sim_number *n, sim_waba *w,
			const char *edge, sim_reply *r)
{
	field_list	want;
	const field_def *table = edge && strcmp(edge, "message_templates") == 0 ? template_fields :
		(n || edge) ? phone_fields : waba_fields;
	const char *bad;
	page		p;
	sbuf		b;

	parse_fields(req_arg(req, "fields"), &want);
	if ((bad = unknown_field(table, &want)))
	{
		bad_field(r, bad, table == template_fields ? "WhatsAppBusinessHSM" :
						 table == phone_fields ? "WhatsAppBusinessPhoneNumber" :
						 "WhatsAppBusinessAccount");
		return;
	}
	if (edge && !page_parse(req, &p))
	{
		reply_code(r, strcmp(edge, "message_templates") == 0 ? 131059 : 100,
						  "Invalid paging cursor or limit.");
		return;
	}
	if (table == waba_fields && wants_field(&want, "pricing_analytics"))
	{
		sbuf		pa;
		const char *why;

		sbuf_init(&pa, 256);
		if (!pricing_analytics(&pa, w->id, req_arg(req, "fields"), &why))
		{
			sbuf_free(&pa);
			reply_code(r, 100, why);
			return;
		}
		analytics_json = sbuf_steal(&pa, NULL);
	}
	sbuf_init(&b, 1024);
	if (!edge)
		write_node(&b, table, n ? (const void *) n : (const void *) w, &want,
				   n ? phone_defaults : waba_defaults);
	else if (table == template_fields)
		list_templates(&b, req, version, w, &want, &p);
	else
		list_numbers(&b, req, version, w, &want, &p);
	free((char *) analytics_json);
	analytics_json = NULL;
	reply_sbuf(r, 200, &b);
}

void
mgmt_handle(const sim_request *req, const char *version, const char *id, const char *edge,
			sim_reply *r)
{
	sim_number *n = NULL;
	sim_waba   *w = NULL,
			   *acct;
	bool		registered = false;
	int64_t		now = sim_mono_ms();

	SIM_LOCK();
	if (!edge && !(n = number_find(id)))
		w = strmap_get(&sim_wabas, id);
	else if (edge)
		w = strmap_get(&sim_wabas, id);
	if (!n && !w && sim_cfg.strict_numbers)
	{
		SIM_UNLOCK();
		unknown_object(r, id);
		return;
	}
	if (!n && !w)
	{
		registered = !edge;
		if (edge)
			w = waba_get(id);
		else
			n = number_create(id);
	}
	acct = w ? w : waba_get(n->waba_id);
	if (!mgmt_admit(acct, now))
		reply_code(r, 80007, NULL);
	else
		mgmt_answer(req, version, n, w, edge, r);
	r->usage_header = usage_header(acct, now);
	log_call(acct->id, req->url, r->status);
	SIM_UNLOCK();
	if (registered)
		sim_log("auto-registered phone number id %s (GET)", id);
}

/* ---- ledger views ------------------------------------------------------ */

void
mgmt_summary(sbuf *b)
{
	const char **keys = strmap_sorted_keys(&sim_wabas);
	int			first = 1;

	sbuf_putc(b, '{');
	for (size_t i = 0; keys[i]; i++)
	{
		const sim_waba *w = strmap_get(&sim_wabas, keys[i]);

		if (w->mgmt_total == 0)
			continue;
		sbuf_json_key(b, w->id, &first);
		sbuf_printf(b, "{\"total\":%lld,\"max_per_hour\":%lld,\"rejected\":%lld}",
					(long long) w->mgmt_total, (long long) w->mgmt_max_hour,
					(long long) w->mgmt_rejected);
	}
	sbuf_putc(b, '}');
	free(keys);
}

/* waba, path, time (s.ms), HTTP status */
void
mgmt_calls_tsv(sbuf *b)
{
	for (size_t i = 0; i < ncalls; i++)
	{
		sbuf_tsv_field(b, calls[i].waba);
		sbuf_putc(b, '\t');
		sbuf_tsv_field(b, calls[i].path);
		sbuf_printf(b, "\t%lld.%03lld\t%d\n", (long long) (calls[i].wall_ms / 1000),
					(long long) (calls[i].wall_ms % 1000), calls[i].status);
	}
}

void
mgmt_calls_jsonl(sbuf *b)
{
	for (size_t i = 0; i < ncalls; i++)
	{
		sbuf_puts(b, "{\"mgmt_call\":{\"waba\":");
		sbuf_json_str(b, calls[i].waba);
		sbuf_puts(b, ",\"path\":");
		sbuf_json_str(b, calls[i].path);
		sbuf_printf(b, ",\"ts_ms\":%lld,\"status\":%d}}\n", (long long) calls[i].wall_ms,
					calls[i].status);
	}
}
