/*
 * webhook.c
 *		antiban.ingest_webhook() and antiban.ingest_webhooks(): the door for
 *		Meta's webhooks.
 *
 * The receiver passes the raw body bytes and the X-Hub-Signature-256
 * header of every POST that arrived while its previous call ran.  We check
 * the HMAC-SHA256 of exactly those bytes with the app secret (constant-time
 * compare), then store the events in one statement: Meta retries, and the
 * same body is stored once per verdict (the key of webhook_digests, ON
 * CONFLICT DO NOTHING).  Only events this call newly stored are applied, all together
 * (antiban.apply_webhooks): in the same transaction, or by the webhook apply
 * worker right after commit (antiban.webhook_apply).  Either way a retry of
 * the same bytes applies nothing twice, and one commit makes every body of
 * the call durable: what the receiver's 200 promises.
 *
 * A signed body is kept whole, whatever it holds.  When only some strings
 * in it are bad ("\u0000", a lone surrogate, bytes that are not UTF-8), the
 * bad parts are replaced (core/json_repair.c) so every other change is
 * still applied, and each repair is recorded against its change; broken or
 * absurdly nested JSON is stored 'malformed' and not applied.  An unsigned
 * body is nobody's word: only its size, hash and first kilobyte are kept.
 * Nothing in a body can make these functions fail.
 */
#include "pg/antiban.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "nodes/pg_list.h"
#include "utils/array.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
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
#include "pg/subxact.h"
#include "worker/webhook_apply.h"

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

typedef struct JsonParse
{
	const char *text;
	Jsonb	   *result;
} JsonParse;

static void
parse_step(void *arg)
{
	JsonParse  *p = arg;

	p->result = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(p->text)));
}

/*
 * jsonb_in in a subtransaction: a parse error becomes a reason, not an
 * error of ours (the caller's transaction must go on to store the bytes).
 */
static Jsonb *
parse_json(const char *text, const char **problem)
{
	JsonParse	p = {text, NULL};
	ErrorData  *e = subxact_run(parse_step, &p);

	if (e == NULL)
		return p.result;
	*problem = psprintf("not JSON: %s", e->message);
	return NULL;
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
judge(bytea *body, const char *header, const char *app_secret)
{
	Verdict		v = {false, NIL, NULL};
	const char *data = VARDATA_ANY(body);
	size_t		len = VARSIZE_ANY_EXHDR(body);

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

/* One POST of a call. */
typedef struct Post
{
	bytea	   *body;
	const char *header;			/* X-Hub-Signature-256; NULL: none */
	unsigned char sha[SHA256_DIGEST_LENGTH];
	Verdict		v;
	bool		keep;			/* goes to the table (refused: within the hour's cap) */
	int64		id;				/* new event; 0: stored already; -1: not kept */
} Post;

/*
 * All rows of the call in one statement.  The digest goes first into
 * webhook_digests, whose key keeps the same bytes once per verdict (also
 * twice within one call, across partitions of webhook_posts, and against
 * a concurrent call, which waits for ours); only the first POST of each new
 * digest is stored: the post as it arrived, and beside it its outcome (the
 * row the apply updates; see 70_webhooks.sql).  Identities follow the input
 * order, so the RETURNING rows do, sorted by id.
 */
static const char *const insert_sql =
"WITH u AS ("
"  SELECT * FROM unnest($1::bytea[], $2::int8[], $3::bytea[], $4::jsonb[], $5::bool[], $6::text[], $7::text[])"
"   WITH ORDINALITY AS u(r, s, h, j, v, t, p, ord)"
"), fresh AS ("
"  INSERT INTO antiban.webhook_digests (body_sha256, signature_valid)"
"  SELECT h, v FROM u ORDER BY ord ON CONFLICT DO NOTHING RETURNING body_sha256, signature_valid"
"), first_posts AS ("
"  SELECT DISTINCT ON (u.h, u.v) u.* FROM u JOIN fresh f ON f.body_sha256 = u.h AND f.signature_valid = u.v"
"  ORDER BY u.h, u.v, u.ord"
"), stored AS ("
"  INSERT INTO antiban.webhook_posts (body_raw, body_size, body_sha256, body, signature_valid)"
"  SELECT r, s, h, j, v FROM first_posts ORDER BY ord"
"  RETURNING id, received_at, body_sha256, signature_valid"
"), outcomes AS ("
"  INSERT INTO antiban.webhook_outcomes (id, received_at, status, problems)"
"  SELECT st.id, st.received_at, f.t::antiban.webhook_status, f.p::text[]"
"  FROM stored st JOIN first_posts f ON f.h = st.body_sha256 AND f.v = st.signature_valid"
") SELECT id, body_sha256, signature_valid FROM stored ORDER BY id";

/*
 * Count the call's unsigned POSTs in their hour; how many of them the hour
 * may still keep.  Anyone can post to the receiver: past the cap a flood
 * costs a counter update, not a row.
 */
static const char *const count_rejections_sql =
"INSERT INTO antiban.webhook_rejections AS r (hour, posts, bytes, kept)"
" VALUES (date_trunc('hour', clock_timestamp()), $1, $2, 0)"
" ON CONFLICT (hour) DO UPDATE SET posts = r.posts + excluded.posts, bytes = r.bytes + excluded.bytes"
" RETURNING greatest($3 - kept, 0)";
static const char *const kept_rejections_sql =
"UPDATE antiban.webhook_rejections SET kept = kept + $1 WHERE hour = date_trunc('hour', clock_timestamp())";

static int64
rejections_may_keep(int64 posts, int64 bytes)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[3] = {INT8OID, INT8OID, INT8OID};
	Datum		args[3] = {Int64GetDatum(posts), Int64GetDatum(bytes),
	Int64GetDatum(antiban_webhook_rejected_per_hour)};
	bool		isnull;

	if (plan == NULL)
		plan = privileged_prepare(count_rejections_sql, 3, types);
	if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
		elog(ERROR, "antiban: could not count refused webhooks");
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

static void
rejections_kept(int64 kept)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(kept)};

	if (plan == NULL)
		plan = privileged_prepare(kept_rejections_sql, 1, types);
	if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "antiban: could not count refused webhooks");
}

/* Count the refused POSTs whose start a new row now keeps. */
static void
note_refused_kept(const Post *posts, int n)
{
	int64		kept = 0;

	for (int i = 0; i < n; i++)
		kept += !posts[i].v.signature_valid && posts[i].id > 0;
	if (kept > 0)
		rejections_kept(kept);
}

/* The refused POSTs of the call that may keep their start (in order). */
static void
choose_kept(Post *posts, int n)
{
	int64		refused = 0,
				bytes = 0,
				room;

	for (int i = 0; i < n; i++)
	{
		posts[i].keep = posts[i].v.signature_valid;
		posts[i].id = -1;
		if (!posts[i].v.signature_valid)
		{
			refused++;
			bytes += (int64) VARSIZE_ANY_EXHDR(posts[i].body);
		}
	}
	room = refused > 0 ? rejections_may_keep(refused, bytes) : 0;
	for (int i = 0; i < n && room > 0; i++)
		if (!posts[i].v.signature_valid)
		{
			posts[i].keep = true;
			room--;
		}
}

static Datum
array_of(Datum *elems, bool *nulls, int n, Oid type)
{
	int16		len;
	bool		byval;
	char		align;
	int			dims[1] = {n};
	int			lbs[1] = {1};

	get_typlenbyvalalign(type, &len, &byval, &align);
	return PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs, type, len, byval, align));
}

static bytea *
digest_bytea(const unsigned char *sha)
{
	bytea	   *digest = palloc(VARHDRSZ + SHA256_DIGEST_LENGTH);

	SET_VARSIZE(digest, VARHDRSZ + SHA256_DIGEST_LENGTH);
	memcpy(VARDATA(digest), sha, SHA256_DIGEST_LENGTH);
	return digest;
}

/* Insert the kept POSTs; each gets its new id, or 0 when its bytes were there. */
static void
insert_kept(Post *posts, int n)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[7] = {BYTEAARRAYOID, INT8ARRAYOID, BYTEAARRAYOID, JSONBARRAYOID, BOOLARRAYOID,
	TEXTARRAYOID, TEXTARRAYOID};
	Datum	   *cols[7];
	bool	   *json_nulls = palloc0(sizeof(bool) * n);
	Datum		args[7];
	int			rows = 0,
				next = 0;

	for (int c = 0; c < 7; c++)
		cols[c] = palloc(sizeof(Datum) * n);
	for (int i = 0; i < n; i++)
	{
		const Verdict *v = &posts[i].v;

		if (!posts[i].keep)
			continue;
		cols[0][rows] = PointerGetDatum(kept_bytes(posts[i].body, v->signature_valid));
		cols[1][rows] = Int64GetDatum((int64) VARSIZE_ANY_EXHDR(posts[i].body));
		cols[2][rows] = PointerGetDatum(digest_bytea(posts[i].sha));
		cols[3][rows] = v->json ? JsonbPGetDatum(v->json) : (Datum) 0;
		json_nulls[rows] = v->json == NULL;
		cols[4][rows] = BoolGetDatum(v->signature_valid);
		cols[5][rows] = CStringGetTextDatum(v->json ? "pending" : (v->signature_valid ? "malformed" : "rejected"));
		cols[6][rows] = CStringGetTextDatum(v->problems == NIL ? "{}" :
											OidOutputFunctionCall(F_ARRAY_OUT, text_array(v->problems)));
		rows++;
	}
	if (rows == 0)
		return;
	args[0] = array_of(cols[0], NULL, rows, BYTEAOID);
	args[1] = array_of(cols[1], NULL, rows, INT8OID);
	args[2] = array_of(cols[2], NULL, rows, BYTEAOID);
	args[3] = array_of(cols[3], json_nulls, rows, JSONBOID);
	args[4] = array_of(cols[4], NULL, rows, BOOLOID);
	args[5] = array_of(cols[5], NULL, rows, TEXTOID);
	args[6] = array_of(cols[6], NULL, rows, TEXTOID);
	if (plan == NULL)
		plan = privileged_prepare(insert_sql, 7, types);
	if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not store the webhooks");

	/* the returned rows in input order: each is the first kept POST with its bytes and verdict */
	for (int i = 0; i < n; i++)
	{
		HeapTuple	t;
		bool		isnull;
		bytea	   *sha;

		if (!posts[i].keep)
			continue;
		posts[i].id = 0;
		if (next >= (int) SPI_processed)
			continue;
		t = SPI_tuptable->vals[next];
		sha = DatumGetByteaPP(SPI_getbinval(t, SPI_tuptable->tupdesc, 2, &isnull));
		if (memcmp(VARDATA_ANY(sha), posts[i].sha, SHA256_DIGEST_LENGTH) != 0 ||
			DatumGetBool(SPI_getbinval(t, SPI_tuptable->tupdesc, 3, &isnull)) != posts[i].v.signature_valid)
			continue;
		posts[i].id = DatumGetInt64(SPI_getbinval(t, SPI_tuptable->tupdesc, 1, &isnull));
		next++;
	}
	if (next != (int) SPI_processed)
		elog(ERROR, "antiban: stored webhooks came back out of order");
}

/* Apply the events this call stored, all at once, in this transaction. */
static void
apply_now(const Post *posts, int n)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[1] = {INT8ARRAYOID};
	Datum	   *ids = palloc(sizeof(Datum) * n);
	Datum		args[1];
	int			count = 0;

	for (int i = 0; i < n; i++)
		if (posts[i].id > 0 && posts[i].v.json != NULL)
			ids[count++] = Int64GetDatum(posts[i].id);
	if (count == 0)
		return;
	args[0] = array_of(ids, NULL, count, INT8OID);
	if (plan == NULL)
		plan = privileged_prepare("SELECT antiban.apply_webhooks($1)", 1, types);
	if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not apply webhook events");
}

static bool
any_pending(const Post *posts, int n)
{
	for (int i = 0; i < n; i++)
		if (posts[i].id > 0 && posts[i].v.json != NULL)
			return true;
	return false;
}

/*
 * Judge, store and apply (now, or by the worker after commit) a call's
 * POSTs; each gets its id.  As antiban itself, with JIT off: the set-based
 * statements over a batch are easily estimated past jit_above_cost, and
 * compiling them would cost far more than running them.
 */
static void
ingest(Post *posts, int n, bool inline_apply)
{
	Privileged	priv;
	char	   *app_secret;

	for (int i = 0; i < n; i++)
		SHA256((const unsigned char *) VARDATA_ANY(posts[i].body), VARSIZE_ANY_EXHDR(posts[i].body),
			   posts[i].sha);
	privileged_begin(&priv);
	(void) set_config_option("jit", "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	SPI_connect();
	app_secret = secret("app_secret");
	for (int i = 0; i < n; i++)
		posts[i].v = judge(posts[i].body, posts[i].header, app_secret);
	choose_kept(posts, n);
	insert_kept(posts, n);
	note_refused_kept(posts, n);
	if (inline_apply)
		apply_now(posts, n);
	else if (any_pending(posts, n))
		webhook_apply_wake_at_commit();
	SPI_finish();
	privileged_end(&priv);
}

PG_FUNCTION_INFO_V1(antiban_ingest_webhook);

/*
 * antiban.ingest_webhook(body bytea, signature text)
 *		-> (stored, signature_valid, duplicate, event_id)
 * One POST, applied in the caller's transaction.
 */
Datum
antiban_ingest_webhook(PG_FUNCTION_ARGS)
{
	Post		post = {0};
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("body must not be null")));
	post.body = PG_GETARG_BYTEA_PP(0);
	post.header = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	ingest(&post, 1, true);
	values[0] = BoolGetDatum(post.id >= 0);
	values[1] = BoolGetDatum(post.v.signature_valid);
	values[2] = BoolGetDatum(post.id == 0);
	values[3] = Int64GetDatum(post.id);
	nulls[3] = post.id <= 0;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(result_desc(fcinfo), values, nulls)));
}

/* The elements of a one-dimensional array argument (NULL elements flagged). */
static int
array_arg(FunctionCallInfo fcinfo, int arg, const char *name, Oid type, Datum **elems, bool **nulls)
{
	ArrayType  *a;
	int16		len;
	bool		byval;
	char		align;
	int			n;

	if (PG_ARGISNULL(arg))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s must not be null", name)));
	a = PG_GETARG_ARRAYTYPE_P(arg);
	if (ARR_NDIM(a) > 1)
		ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
						errmsg("%s must be a one-dimensional array", name)));
	get_typlenbyvalalign(type, &len, &byval, &align);
	deconstruct_array(a, type, len, byval, align, elems, nulls, &n);
	return n;
}

PG_FUNCTION_INFO_V1(antiban_ingest_webhooks);

/*
 * antiban.ingest_webhooks(bodies bytea[], signatures text[])
 *		-> SETOF (ord, stored, signature_valid, duplicate, event_id)
 */
Datum
antiban_ingest_webhooks(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum	   *bodies,
			   *signatures;
	bool	   *body_nulls,
			   *signature_nulls;
	int			n = array_arg(fcinfo, 0, "bodies", BYTEAOID, &bodies, &body_nulls);
	int			nsig = array_arg(fcinfo, 1, "signatures", TEXTOID, &signatures, &signature_nulls);
	Post	   *posts;

	if (nsig != n)
		ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
						errmsg("bodies and signatures must have the same length"),
						errdetail("%d bodies, %d signatures.", n, nsig),
						errhint("Pass NULL as the signature of a POST that had no X-Hub-Signature-256 header.")));
	posts = palloc0(sizeof(Post) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		if (body_nulls[i])
			ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
							errmsg("bodies must not contain null"),
							errdetail("Body %d is null.", i + 1)));
		posts[i].body = DatumGetByteaPP(bodies[i]);
		posts[i].header = signature_nulls[i] ? NULL : TextDatumGetCString(signatures[i]);
	}
	InitMaterializedSRF(fcinfo, 0);
	/* without shared memory there is no worker to wake: apply now */
	if (n > 0)
		ingest(posts, n, antiban_webhook_apply == WEBHOOK_APPLY_INLINE || antiban_shared == NULL);
	for (int i = 0; i < n; i++)
	{
		Datum		values[5] = {Int32GetDatum(i + 1), BoolGetDatum(posts[i].id >= 0),
			BoolGetDatum(posts[i].v.signature_valid), BoolGetDatum(posts[i].id == 0),
		Int64GetDatum(posts[i].id)};
		bool		nulls[5] = {false, false, false, false, posts[i].id <= 0};

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
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
