/*
 * webhook.c
 *		antiban.ingest_webhook(): the one door for Meta's webhooks.
 *
 * The receiver passes the raw body bytes and the X-Hub-Signature-256
 * header.  We check the HMAC-SHA256 of exactly those bytes with the app
 * secret (constant-time compare), then store the event once: Meta retries,
 * and the same body is stored once (UNIQUE body_sha256, ON CONFLICT DO
 * NOTHING).  Only an event this call newly stored is applied, by
 * antiban.apply_webhook() in the same transaction, so a 200 from the
 * receiver means "stored and applied" and a retry of the same bytes
 * applies nothing twice.
 *
 * A signed body is kept whole, whatever it holds.  When only some strings
 * in it are bad ("\u0000", a lone surrogate, bytes that are not UTF-8), the
 * bad parts are replaced (core/json_repair.c) so every other change is
 * still applied, and each repair is recorded against its change; broken or
 * absurdly nested JSON is stored 'malformed' and not applied.  An unsigned
 * body is nobody's word: only its size, hash and first kilobyte are kept.
 * Nothing in the body can make this function fail.
 */
#include "pg/antiban.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "nodes/pg_list.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "core/hex.h"
#include "core/json_repair.h"
#include "core/opt_out.h"
#include "pg/privileged.h"

/* Meta nests about eight levels; anything this deep is an attack, not a webhook. */
#define MAX_JSON_DEPTH JSON_REPAIR_MAX_DEPTH

/* What an investigation of a refused POST needs of its body: its start. */
#define UNSIGNED_KEPT_BYTES 1024

/* Repairs named one by one; more are summed up in one line. */
#define MAX_REPAIRS_NAMED 16

typedef struct Verdict
{
	bool		signature_valid;
	List	   *problems;		/* why it is not (all) applied, as char * */
	Jsonb	   *json;			/* parsed body when applicable */
} Verdict;

/* The stored secret of a kind (and WABA), or NULL; read as antiban itself. */
static char *
secret(const char *kind)
{
	Oid			types[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(kind)};
	char	   *value = NULL;

	if (SPI_execute_with_args("SELECT value FROM antiban.secrets WHERE kind = $1::antiban.secret_kind"
							  " AND waba_id IS NULL", 1, types, args, NULL, true, 1) == SPI_OK_SELECT &&
		SPI_processed == 1)
		value = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	return value;
}

static bool
hex_to_bytes(const char *hex, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
	{
		int			hi = hex_value((unsigned char) hex[2 * i]);
		int			lo = hi < 0 ? -1 : hex_value((unsigned char) hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (unsigned char) (hi << 4 | lo);
	}
	return hex[2 * n] == '\0';
}

/* "sha256=<64 hex>" over the raw bytes, compared in constant time. */
static bool
signature_matches(const char *header, const char *app_secret, const char *body, size_t len)
{
	unsigned char expected[SHA256_DIGEST_LENGTH];
	unsigned char given[SHA256_DIGEST_LENGTH];
	unsigned int n = 0;

	if (header == NULL || app_secret == NULL || strncmp(header, "sha256=", 7) != 0 ||
		!hex_to_bytes(header + 7, given, sizeof(given)))
		return false;
	if (HMAC(EVP_sha256(), app_secret, (int) strlen(app_secret),
			 (const unsigned char *) body, len, expected, &n) == NULL || n != sizeof(expected))
		return false;
	return CRYPTO_memcmp(expected, given, sizeof(expected)) == 0;
}

/* Nesting depth outside strings; a cheap guard before the real parser. */
static int
json_depth(const char *s, size_t len)
{
	int			depth = 0,
				max = 0;
	bool		in_string = false;

	for (size_t i = 0; i < len; i++)
	{
		char		c = s[i];

		if (in_string)
		{
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
		}
		else if (c == '"')
			in_string = true;
		else if (c == '{' || c == '[')
		{
			depth++;
			max = Max(max, depth);	/* Max() evaluates its arguments twice */
		}
		else if (c == '}' || c == ']')
			depth--;
	}
	return max;
}

/*
 * jsonb_in in a subtransaction: a parse error becomes a reason, not an
 * error of ours (the caller's transaction must go on to store the bytes).
 */
static Jsonb *
parse_json(const char *text, const char **problem)
{
	MemoryContext caller = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	Jsonb	   *volatile result = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(caller);
	PG_TRY();
	{
		result = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(text)));
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		ErrorData  *e;

		MemoryContextSwitchTo(caller);
		e = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		*problem = psprintf("not JSON: %s", e->message);
		result = NULL;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(caller);
	CurrentResourceOwner = owner;
	return result;
}

/* UTF-8 without NUL bytes, the only text jsonb_in may be given. */
static bool
is_utf8_text(const char *data, size_t len)
{
	return len < MaxAllocSize && pg_verify_mbstr(PG_UTF8, data, (int) len, true);
}

/*
 * The body with its bad strings replaced, parsed; each repair named in
 * 'problems'.  NULL when nothing could be repaired or the repaired text is
 * still not JSON (then *why says why).
 */
static Jsonb *
repair_and_parse(const char *data, size_t len, const char **why, List **problems)
{
	JsonFix		fixes[MAX_REPAIRS_NAMED];
	JsonRepair	sized = json_repair(data, len, NULL, 0, fixes, MAX_REPAIRS_NAMED);
	char	   *text;
	Jsonb	   *json;

	if (sized.nfixes == 0 || sized.too_deep || sized.out_len >= MaxAllocSize)
		return NULL;
	text = palloc(sized.out_len + 1);
	json_repair(data, len, text, sized.out_len, NULL, 0);
	text[sized.out_len] = '\0';
	if (!is_utf8_text(text, sized.out_len))
		return NULL;			/* bad bytes outside strings: *why stands */
	json = parse_json(text, why);
	if (json == NULL)
		return NULL;
	for (int i = 0; i < Min(sized.nfixes, MAX_REPAIRS_NAMED); i++)
	{
		char		line[JSON_FIX_PATH_SIZE + 128];

		json_fix_describe(&fixes[i], line, sizeof(line));
		*problems = lappend(*problems, pstrdup(line));
	}
	if (sized.nfixes > MAX_REPAIRS_NAMED)
		*problems = lappend(*problems, psprintf("%d more strings repaired in the same way",
												sized.nfixes - MAX_REPAIRS_NAMED));
	pfree(text);
	return json;
}

static Jsonb *
parse_body(const char *data, size_t len, List **problems)
{
	const char *why = "body is not valid UTF-8";
	Jsonb	   *json = NULL;

	if (is_utf8_text(data, len))
		json = parse_json(pnstrdup(data, len), &why);
	if (json == NULL)
		json = repair_and_parse(data, len, &why, problems);
	if (json == NULL)
		*problems = lappend(*problems, pstrdup(why));
	return json;
}

static Verdict
judge(bytea *body, const char *header)
{
	Verdict		v = {false, NIL, NULL};
	const char *data = VARDATA_ANY(body);
	size_t		len = VARSIZE_ANY_EXHDR(body);
	char	   *app_secret = secret("app_secret");

	v.signature_valid = signature_matches(header, app_secret, data, len);
	if (app_secret == NULL)
		v.problems = list_make1(pstrdup("no app secret is configured (antiban.set_secret('app_secret', ...))"));
	else if (!v.signature_valid)
		v.problems = list_make1(pstrdup(header ? "X-Hub-Signature-256 does not match the body" : "no X-Hub-Signature-256 header"));
	else if (json_depth(data, len) > MAX_JSON_DEPTH)
		v.problems = list_make1(psprintf("JSON nested deeper than %d levels", MAX_JSON_DEPTH));
	else
		v.json = parse_body(data, len, &v.problems);
	return v;
}

static Datum
text_array(List *items)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(list_length(items), 1));
	int			n = 0;
	ListCell   *lc;

	foreach(lc, items)
		elems[n++] = CStringGetTextDatum((char *) lfirst(lc));
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/* The bytes kept: all of a signed body, the start of anything else. */
static bytea *
kept_bytes(bytea *body, bool signature_valid)
{
	size_t		len = VARSIZE_ANY_EXHDR(body);
	bytea	   *kept;

	if (signature_valid || len <= UNSIGNED_KEPT_BYTES)
		return body;
	kept = palloc(VARHDRSZ + UNSIGNED_KEPT_BYTES);
	SET_VARSIZE(kept, VARHDRSZ + UNSIGNED_KEPT_BYTES);
	memcpy(VARDATA(kept), VARDATA_ANY(body), UNSIGNED_KEPT_BYTES);
	return kept;
}

/* The same bytes are kept once per verdict (two partial unique indexes). */
static const char *const insert_signed_sql =
"INSERT INTO antiban.webhook_events (body_raw, body_size, body_sha256, body, signature_valid, status, problems)"
" VALUES ($1, $2, $3, $4, $5, $6::antiban.webhook_status, $7)"
" ON CONFLICT (body_sha256) WHERE signature_valid DO NOTHING RETURNING id";
static const char *const insert_unsigned_sql =
"INSERT INTO antiban.webhook_events (body_raw, body_size, body_sha256, body, signature_valid, status, problems)"
" VALUES ($1, $2, $3, $4, $5, $6::antiban.webhook_status, $7)"
" ON CONFLICT (body_sha256) WHERE NOT signature_valid DO NOTHING RETURNING id";

/*
 * Count an unsigned POST in its hour; true while the hour may still keep
 * its body.  Anyone can post to the receiver: past the cap a flood costs a
 * counter update, not a row.
 */
static const char *const count_rejection_sql =
"INSERT INTO antiban.webhook_rejections AS r (hour, posts, bytes, kept)"
" VALUES (date_trunc('hour', clock_timestamp()), 1, $1, 0)"
" ON CONFLICT (hour) DO UPDATE SET posts = r.posts + 1, bytes = r.bytes + excluded.bytes"
" RETURNING kept < $2";
static const char *const kept_rejection_sql =
"UPDATE antiban.webhook_rejections SET kept = kept + 1 WHERE hour = date_trunc('hour', clock_timestamp())";

static bool
rejection_may_be_kept(int64 size)
{
	static SPIPlanPtr count_plan = NULL;
	Oid			types[2] = {INT8OID, INT8OID};
	Datum		args[2] = {Int64GetDatum(size), Int64GetDatum(antiban_webhook_rejected_per_hour)};
	bool		isnull;

	if (count_plan == NULL)
		count_plan = privileged_prepare(count_rejection_sql, 2, types);
	if (SPI_execute_plan(count_plan, args, NULL, false, 0) != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
		elog(ERROR, "antiban: could not count a refused webhook");
	return DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

static void
rejection_kept(void)
{
	static SPIPlanPtr plan = NULL;

	if (plan == NULL)
		plan = privileged_prepare(kept_rejection_sql, 0, NULL);
	if (SPI_execute_plan(plan, NULL, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "antiban: could not count a refused webhook");
}

/* The new event's id; 0 when these bytes were stored already; -1 when not kept. */
static int64
store(bytea *body, const unsigned char *sha, const Verdict *v)
{
	static SPIPlanPtr signed_plan = NULL;
	static SPIPlanPtr unsigned_plan = NULL;
	SPIPlanPtr	plan;
	Oid			types[7] = {BYTEAOID, INT8OID, BYTEAOID, JSONBOID, BOOLOID, TEXTOID, TEXTARRAYOID};
	bytea	   *digest = palloc(VARHDRSZ + SHA256_DIGEST_LENGTH);
	Datum		args[7];
	char		nulls[7] = {' ', ' ', ' ', v->json ? ' ' : 'n', ' ', ' ', ' '};
	const char *status = v->json ? "pending" : (v->signature_valid ? "malformed" : "rejected");
	int64		size = (int64) VARSIZE_ANY_EXHDR(body);
	int64		id;
	bool		isnull;

	if (!v->signature_valid && !rejection_may_be_kept(size))
		return -1;
	SET_VARSIZE(digest, VARHDRSZ + SHA256_DIGEST_LENGTH);
	memcpy(VARDATA(digest), sha, SHA256_DIGEST_LENGTH);
	args[0] = PointerGetDatum(kept_bytes(body, v->signature_valid));
	args[1] = Int64GetDatum(size);
	args[2] = PointerGetDatum(digest);
	args[3] = v->json ? JsonbPGetDatum(v->json) : (Datum) 0;
	args[4] = BoolGetDatum(v->signature_valid);
	args[5] = CStringGetTextDatum(status);
	args[6] = text_array(v->problems);
	if (v->signature_valid)
	{
		if (signed_plan == NULL)
			signed_plan = privileged_prepare(insert_signed_sql, 7, types);
		plan = signed_plan;
	}
	else
	{
		if (unsigned_plan == NULL)
			unsigned_plan = privileged_prepare(insert_unsigned_sql, 7, types);
		plan = unsigned_plan;
	}
	if (SPI_execute_plan(plan, args, nulls, false, 0) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "antiban: could not store the webhook");
	if (SPI_processed == 0)
		return 0;				/* the same body was stored already */
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (!v->signature_valid)
		rejection_kept();		/* (replaces SPI_tuptable) */
	return id;
}

/* Apply an event this call stored: never one stored before (Meta's retry). */
static void
apply(int64 id, Jsonb *json)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[2] = {INT8OID, JSONBOID};
	Datum		args[2] = {Int64GetDatum(id), JsonbPGetDatum(json)};

	if (plan == NULL)
		plan = privileged_prepare("SELECT antiban.apply_webhook($1, $2)", 2, types);
	if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not apply webhook event " INT64_FORMAT, id);
}

PG_FUNCTION_INFO_V1(antiban_ingest_webhook);

/*
 * antiban.ingest_webhook(body bytea, signature text)
 *		-> (stored, signature_valid, duplicate, event_id)
 */
Datum
antiban_ingest_webhook(PG_FUNCTION_ARGS)
{
	bytea	   *body;
	const char *header = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	unsigned char sha[SHA256_DIGEST_LENGTH];
	Privileged	priv;
	Verdict		v;
	int64		id;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("body must not be null")));
	body = PG_GETARG_BYTEA_PP(0);
	SHA256((const unsigned char *) VARDATA_ANY(body), VARSIZE_ANY_EXHDR(body), sha);
	privileged_begin(&priv);
	SPI_connect();
	v = judge(body, header);
	id = store(body, sha, &v);
	if (id > 0 && v.json != NULL)
		apply(id, v.json);
	SPI_finish();
	privileged_end(&priv);
	values[0] = BoolGetDatum(id >= 0);
	values[1] = BoolGetDatum(v.signature_valid);
	values[2] = BoolGetDatum(id == 0);
	values[3] = Int64GetDatum(id);
	nulls[3] = id <= 0;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(result_desc(fcinfo), values, nulls)));
}

PG_FUNCTION_INFO_V1(antiban_webhook_verify);

/* antiban.webhook_verify(token): Meta's GET handshake, constant-time. */
Datum
antiban_webhook_verify(PG_FUNCTION_ARGS)
{
	char	   *given = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
	Privileged	priv;
	char	   *stored;
	bool		ok;

	privileged_begin(&priv);
	SPI_connect();
	stored = secret("webhook_verify_token");
	/* compare digests, so neither length nor content leaks through timing */
	ok = given && stored;
	if (ok)
	{
		SHA256((const unsigned char *) given, strlen(given), a);
		SHA256((const unsigned char *) stored, strlen(stored), b);
		ok = CRYPTO_memcmp(a, b, sizeof(a)) == 0;
	}
	SPI_finish();
	privileged_end(&priv);
	PG_RETURN_BOOL(ok);
}

PG_FUNCTION_INFO_V1(antiban_is_opt_out);

/* antiban.is_opt_out(text): a stop request in Portuguese, Spanish or English? */
Datum
antiban_is_opt_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(opt_out_text(text_to_cstring(PG_GETARG_TEXT_PP(0))));
}
