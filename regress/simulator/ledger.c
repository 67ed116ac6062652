/*
 * ledger.c — see ledger.h.
 */
#include "ledger.h"
#include "mgmt.h"
#include "sim.h"
#include "webhooks.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DUP_EXAMPLES 20

ledger_counters sim_ledger;

static sim_msg **msgs;
static size_t nmsgs;
static size_t msgs_cap;
static strmap callbacks;		/* callback data seen on accepted sends */
static char *dup_examples[DUP_EXAMPLES];
static int	ndup_examples;

/* wamids must never repeat, not even across resets or restarts: a process
 * nonce plus a sequence that reset does not rewind. */
static uint64_t wamid_nonce;
static uint64_t wamid_seq;

void
ledger_init(void)
{
	if (wamid_nonce == 0)
		wamid_nonce = ((uint64_t) time(NULL) << 20) ^ (uint64_t) getpid();
	memset(&sim_ledger, 0, sizeof(sim_ledger));
	strmap_init(&callbacks);
	msgs = NULL;
	nmsgs = msgs_cap = 0;
	ndup_examples = 0;
}

void
msg_release(sim_msg *m)
{
	if (--m->refs == 0)
		free(m);
}

void
ledger_clear(void)
{
	for (size_t i = 0; i < nmsgs; i++)
		msg_release(msgs[i]);
	free(msgs);
	strmap_free(&callbacks, NULL);
	for (int i = 0; i < ndup_examples; i++)
		free(dup_examples[i]);
}

/* Copy s into the record's trailing buffer; NULL stays NULL. */
static const char *
pack(char **cursor, const char *s)
{
	char	   *dst = *cursor;
	size_t		n;

	if (!s)
		return NULL;
	n = strlen(s) + 1;
	memcpy(dst, s, n);
	*cursor += n;
	return dst;
}

static size_t
slen(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

static sim_msg *
msg_new(const sim_number *n, const send_request *req, const char *category)
{
	char		wamid[64],
				display[32];
	sim_msg    *m;
	char	   *cur;

	snprintf(wamid, sizeof(wamid), "wamid.HBgL%016" PRIX64 "%012" PRIX64,
			 wamid_nonce, ++wamid_seq);
	digits_only(display, n->display, sizeof(display));
	m = xmalloc(sizeof(sim_msg) + slen(wamid) + slen(n->id) + slen(req->to) +
				slen(req->recipient) + slen(req->template_name) +
				slen(req->callback) + slen(n->waba_id) + slen(display));
	cur = m->data;
	m->wamid = pack(&cur, wamid);
	m->number_id = pack(&cur, n->id);
	m->to = pack(&cur, req->to);
	m->recipient = pack(&cur, req->recipient);
	m->template_name = pack(&cur, req->template_name);
	m->callback = pack(&cur, req->callback);
	m->waba_id = pack(&cur, n->waba_id);
	m->display = pack(&cur, display);
	m->category = category;
	m->type = req->type;
	m->is_bsuid = req->is_bsuid;
	m->refs = 1;
	m->stage = 0;
	return m;
}

static bool
listed_duplicate(const char *cb)
{
	for (int i = 0; i < ndup_examples; i++)
		if (strcmp(dup_examples[i], cb) == 0)
			return true;
	return false;
}

/* The client marks its outbox row with biz_opaque_callback_data; a second
 * accepted send with the same value means it sent a row twice. */
static void
note_callback(const char *cb)
{
	bool		created;

	if (!cb || !*cb)
		return;
	strmap_put(&callbacks, cb, &created);
	if (created)
	{
		sim_ledger.unique_callback++;
		return;
	}
	sim_ledger.duplicates++;
	if (ndup_examples < DUP_EXAMPLES && !listed_duplicate(cb))
		dup_examples[ndup_examples++] = xstrdup(cb);
}

sim_msg *
ledger_accept(const sim_number *n, const send_request *req, const char *category,
			  int fail_code, int64_t wall_ms)
{
	sim_msg    *m = msg_new(n, req, category);

	m->accepted_ms = wall_ms;
	m->fail_code = fail_code;
	sim_ledger.accepted++;
	note_callback(req->callback);
	if ((int64_t) nmsgs >= sim_opts.max_ledger)
	{
		sim_ledger.not_stored++;
		return m;

	}
	if (nmsgs == msgs_cap)
	{
		msgs_cap = msgs_cap ? msgs_cap * 2 : 4096;
		msgs = xrealloc(msgs, msgs_cap * sizeof(sim_msg *));
	}
	msgs[nmsgs++] = m;
	m->refs++;				/* the ledger's reference */
	return m;
}

/* ---- output ------------------------------------------------------------ */

static void
json_kinds(sbuf *b, const int64_t *v)
{
	sbuf_putc(b, '{');
	for (int k = 0; k < LIM__COUNT; k++)
		sbuf_printf(b, "%s\"%s\":%lld", k ? "," : "", limit_kind_names[k], (long long) v[k]);
	sbuf_putc(b, '}');
}

static void
json_number(sbuf *b, const sim_number *n)
{
	sbuf_printf(b, "{\"accepted\":%lld,\"max_in_1s\":%lld,\"throughput\":%lld,\"violations\":",
				(long long) n->accepted, (long long) n->max_in_1s, (long long) n->throughput);
	json_kinds(b, n->violations);
	sbuf_printf(b, ",\"errors_injected\":%lld,\"rejected\":%lld,\"async_failed\":%lld,\"portfolio\":",
				(long long) n->errors_injected, (long long) n->rejected, (long long) n->async_failed);
	sbuf_json_str(b, n->portfolio_id);
	sbuf_puts(b, ",\"waba\":");
	sbuf_json_str(b, n->waba_id);
	sbuf_putc(b, '}');
}

static void
json_per_number(sbuf *b)
{
	const char **keys = strmap_sorted_keys(&sim_numbers);

	sbuf_puts(b, "{");
	for (size_t i = 0; keys[i]; i++)
	{
		if (i)
			sbuf_putc(b, ',');
		sbuf_json_str(b, keys[i]);
		sbuf_putc(b, ':');
		json_number(b, strmap_get(&sim_numbers, keys[i]));
	}
	sbuf_puts(b, "}");
	free(keys);
}

static void
json_faults(sbuf *b)
{
	sbuf_printf(b, "{\"failed_500\":%lld,\"error_2\":%lld,\"scripted\":%lld,\"dropped\":%lld,"
				"\"lost_replies\":%lld,\"slowed\":%lld}",
				(long long) sim_ledger.fault_fail, (long long) sim_ledger.fault_error2,
				(long long) sim_ledger.scripted, (long long) sim_ledger.dropped,
				(long long) sim_ledger.lost_replies, (long long) sim_ledger.slowed);
}

void
ledger_each(void (*fn) (const sim_msg *m, void *arg), void *arg)
{
	for (size_t i = 0; i < nmsgs; i++)
		fn(msgs[i], arg);
}

void
ledger_summary(sbuf *b)
{
	sbuf_printf(b, "{\"accepted\":%lld,\"unique_callback_data\":%lld,\"duplicates\":%lld,"
				"\"duplicate_callbacks\":[",
				(long long) sim_ledger.accepted, (long long) sim_ledger.unique_callback,
				(long long) sim_ledger.duplicates);
	for (int i = 0; i < ndup_examples; i++)
	{
		if (i)
			sbuf_putc(b, ',');
		sbuf_json_str(b, dup_examples[i]);
	}
	sbuf_puts(b, "],\"violations\":");
	json_kinds(b, sim_ledger.violations);
	sbuf_printf(b, ",\"errors_injected\":%lld,\"faults\":", (long long) sim_ledger.errors_injected);
	json_faults(b);
	sbuf_printf(b, ",\"rejected_invalid\":%lld,\"marked_read\":%lld,\"async_failed\":%lld,"
				"\"stored\":%zu,\"not_stored\":%lld,\"clock_offset_ms\":%lld,\"per_number\":",
				(long long) sim_ledger.rejected_invalid, (long long) sim_ledger.marked_read,
				(long long) sim_ledger.async_failed, nmsgs, (long long) sim_ledger.not_stored,
				(long long) sim_clock_offset());
	json_per_number(b);
	sbuf_puts(b, ",\"mgmt_calls\":");
	mgmt_summary(b);
	sbuf_puts(b, ",\"webhooks\":");
	webhooks_summary(b);
	sbuf_puts(b, "}\n");
}

/* wamid, phone_number_id, to, type, template, callback, accepted s.ms */
void
ledger_messages_tsv(sbuf *b, size_t from, size_t limit)
{
	for (size_t i = from; i < nmsgs && i - from < limit; i++)
	{
		const sim_msg *m = msgs[i];

		sbuf_puts(b, m->wamid);
		sbuf_putc(b, '\t');
		sbuf_tsv_field(b, m->number_id);
		sbuf_putc(b, '\t');
		sbuf_tsv_field(b, m->to);
		sbuf_putc(b, '\t');
		sbuf_puts(b, msg_type_names[m->type]);
		sbuf_putc(b, '\t');
		sbuf_tsv_field(b, m->template_name);
		sbuf_putc(b, '\t');
		sbuf_tsv_field(b, m->callback);
		sbuf_printf(b, "\t%lld.%03lld\n", (long long) (m->accepted_ms / 1000),
					(long long) (m->accepted_ms % 1000));
	}
}

static void
json_msg_line(sbuf *b, const sim_msg *m)
{
	sbuf_puts(b, "{\"wamid\":");
	sbuf_json_str(b, m->wamid);
	sbuf_puts(b, ",\"phone_number_id\":");
	sbuf_json_str(b, m->number_id);
	sbuf_puts(b, ",\"to\":");
	sbuf_json_str(b, m->to);
	sbuf_puts(b, ",\"recipient\":");
	sbuf_json_str(b, m->recipient);
	sbuf_printf(b, ",\"type\":\"%s\",\"template\":", msg_type_names[m->type]);
	if (m->template_name)
		sbuf_json_str(b, m->template_name);
	else
		sbuf_puts(b, "null");
	sbuf_puts(b, ",\"biz_opaque_callback_data\":");
	if (m->callback)
		sbuf_json_str(b, m->callback);
	else
		sbuf_puts(b, "null");
	sbuf_printf(b, ",\"accepted_ms\":%lld}\n", (long long) m->accepted_ms);
}

static bool
flush_chunk(FILE *f, sbuf *b)
{
	bool		ok = fwrite(b->data, 1, b->len, f) == b->len;

	b->len = 0;
	b->data[0] = '\0';
	return ok;
}

/*
 * JSON lines: one {"wamid":..} per accepted message, one {"mgmt_call":..}
 * per management call, then {"summary":..}.  Written to PATH.tmp and
 * renamed, so a reader never sees half a ledger.  Runs under sim_lock: it
 * is only done on request.
 */
bool
ledger_write_file(const char *path, char *err, size_t errlen)
{
	char		tmp[4096];
	FILE	   *f;
	sbuf		b;
	bool		ok = true;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (!(f = fopen(tmp, "w")))
	{
		snprintf(err, errlen, "cannot open %s: %s", tmp, strerror(errno));
		return false;
	}
	sbuf_init(&b, 1 << 16);
	for (size_t i = 0; i < nmsgs && ok; i++)
	{
		json_msg_line(&b, msgs[i]);
		if (b.len > 60000)
			ok = flush_chunk(f, &b);
	}
	mgmt_calls_jsonl(&b);
	sbuf_puts(&b, "{\"summary\":");
	ledger_summary(&b);
	b.data[--b.len] = '\0';		/* drop the summary's newline */
	sbuf_puts(&b, "}\n");
	ok = flush_chunk(f, &b) && ok;
	sbuf_free(&b);
	if (fclose(f) != 0 || !ok || rename(tmp, path) != 0)
	{
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
		return false;
	}
	return true;
}
