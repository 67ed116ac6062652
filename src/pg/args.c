/*
 * args.c
 *		Turning SQL arguments into core values, with errors people can act on.
 */
#include "pg/antiban.h"

#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "parser/scansup.h"
#include "utils/builtins.h"

CachedNumber *
lookup_number_or_error(NumbersCache *c, const char *phone_number_id)
{
	CachedNumber *n = numbers_cache_find(c, phone_number_id);

	if (n == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("unknown phone number \"%.64s\"", phone_number_id),
				 errdetail("No row of antiban.numbers has this phone_number_id."),
				 errhint("Register the number with INSERT INTO antiban.numbers, using Meta's phone-number id.")));
	return n;
}

const char *
normalize_recipient_or_error(const char *raw, char *out)
{
	const char *why;

	if (recipient_normalize(raw, out, &why) == RECIPIENT_INVALID)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid recipient \"%.64s\"", raw),
				 errdetail("%s.", why),
				 errhint("Write phones in E.164 with the country code, e.g. +5511987654321, or pass a business-scoped user id such as BR.1234567890.")));
	return out;
}

/*
 * A recipient as the person rules key it: normalised (into 'normalized'),
 * then its canonical key (Brazil's ninth digit...) and the key's hash.
 */
const char *
recipient_key_or_error(const char *raw, char *normalized, char *key, uint64 *key_hash)
{
	normalize_recipient_or_error(raw, normalized);
	if (!identity_key(normalized, key, key_hash))
		elog(ERROR, "antiban: a normalised recipient \"%s\" has no key", normalized);
	return key;
}

Category
category_or_error(const char *s)
{
	Category	c;

	if (!category_parse(s, &c))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown message category \"%.64s\"", s),
				 errhint("Use marketing, utility or authentication for templates, or service for free-form messages inside a service window.")));
	return c;
}

Priority
priority_or_error(const char *s)
{
	Priority	p;

	if (!priority_parse(s, &p))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown priority \"%.64s\"", s),
				 errhint("Use low, normal, high or critical.")));
	return p;
}

CachedPortfolio *
portfolio_or_error(NumbersCache *c, const char *business_id)
{
	CachedPortfolio *p = numbers_cache_portfolio(c, business_id);

	if (p == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("unknown business portfolio \"%.64s\"", business_id),
				 errdetail("No row of antiban.portfolios has this business_id."),
				 errhint("Register it with INSERT INTO antiban.portfolios (business_id, messaging_limit).")));
	return p;
}

/*
 * The blessed result descriptor of a function returning a record, looked up
 * once per call site (fn_extra) instead of on every call: decide() and
 * try_consume() run tens of thousands of times a second.
 */
TupleDesc
result_desc(FunctionCallInfo fcinfo)
{
	TupleDesc	desc;
	MemoryContext old;

	if (fcinfo->flinfo->fn_extra)
		return (TupleDesc) fcinfo->flinfo->fn_extra;
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "antiban: function must return a record");
	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	desc = BlessTupleDesc(CreateTupleDescCopy(desc));
	MemoryContextSwitchTo(old);
	fcinfo->flinfo->fn_extra = desc;
	return desc;
}

/* A text argument that must be given. */
char *
required_text_arg(FunctionCallInfo fcinfo, int arg, const char *name)
{
	if (PG_ARGISNULL(arg))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
	return text_to_cstring(PG_GETARG_TEXT_PP(arg));
}

/*
 * An idempotency key as the outbox can hold it.  An empty or blank key is
 * refused rather than kept: it would be one key like any other, so every
 * later message given it (an app writing coalesce(key, '')) would return
 * the first message and never be queued.  A key longer than
 * IDEMPOTENCY_KEY_MAX_CHARS is refused before the outbox's unique index
 * fails on it with its own error (a btree row holds about 2,700 bytes).
 * 'element' > 0: the key of that element of the caller's array 'argument'.
 */
const char *
idempotency_key_or_error(const char *key, const char *argument, int element)
{
	const char *name = element > 0 ? psprintf("%s[%d]", argument, element) : argument;
	bool		blank = true;
	int			chars;

	if (key == NULL)
		return NULL;
	for (const char *p = key; *p && blank; p++)
		blank = scanner_isspace(*p);
	if (blank)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be empty", name),
				 errdetail("An empty or blank idempotency key would be one key shared by every message given it: each would return the first message and never be queued."),
				 errhint("Pass NULL for no key.")));
	chars = pg_mbstrlen(key);
	if (chars > IDEMPOTENCY_KEY_MAX_CHARS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s is too long", name),
				 errdetail("It has %d characters; an idempotency key has at most %d.", chars,
						   IDEMPOTENCY_KEY_MAX_CHARS),
				 errhint("Use a shorter key (a hash of what makes the message unique will do), or pass NULL for no key.")));
	return key;
}
