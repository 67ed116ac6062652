/*
 * identity.c
 *		Who a recipient is: one person per portfolio, whatever identifier
 *		Meta or the caller uses for them.
 *
 * Two kinds of sameness.  What a rule can see is the canonical key of an
 * identifier (core/recipient_match.c: "+" optional, Brazil's ninth digit,
 * Mexico's old mobile "1"): free, no table.  What no rule can see (a BSUID
 * and a phone, an old and a new number, a wa_id Meta answered for what we
 * sent to) is a link, stored in antiban.person_ids (65_identity.sql) and
 * mirrored here.
 *
 * A person is known by its anchor: the canonical key of the identifier it
 * was first known by.  Everything reach.c keeps about a person (opt-out,
 * service window, sticky number, counted reach) and the pair buckets are
 * keyed by the anchor's hash.  An identifier that is not its person's
 * anchor has an entry in this table, (portfolio, key hash) -> anchor hash;
 * one without an entry is its own anchor, so a recipient nobody linked
 * costs nothing here and resolving is one probe of a shared-memory hash.
 *
 * Entries change when a transaction that linked identifiers commits (the
 * change waits in recipient_facts.c's pending list; reach.c applies it and
 * merges the two records), and are loaded with a portfolio after a restart.
 * They are never evicted: forgetting one would split a person again (a stop
 * given under a BSUID would no longer stop marketing to the phone).  The
 * table holds antiban.max_recipients entries.  A link that finds no room at
 * commit is still in antiban.person_ids, which is the truth: it is not
 * refused (a webhook that links a phone to a BSUID must not lose the stop it
 * carries), and from then on marketing decisions also read consent from the
 * tables (reach.c, note_spill), with a warning to raise the setting.
 *
 * Entries carry the clock domain (clock.c), like the records they point to;
 * a committed link is applied in every domain that has loaded the portfolio
 * (identity is not about time, and each domain reloads it from the tables).
 */
#include "pg/antiban.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "core/recipient_match.h"
#include "pg/privileged.h"

#define LINK_STRIPES 64

typedef struct LinkKey
{
	uint32		instance;
	uint32		domain;			/* ClockDomain */
	int64		portfolio_id;
	uint64		key_hash;
} LinkKey;

typedef struct LinkValue
{
	uint64		anchor;			/* recipient_hash() of the person's anchor */
} LinkValue;

static SlotTable link_table;
static LWLockPadded *link_locks = NULL;

static uint32
link_stripe_slots(void)
{
	uint32		per = (uint32) ((antiban_max_recipients + LINK_STRIPES - 1) / LINK_STRIPES);

	return pg_nextpower2_32(Max(per, 8));
}

Size
identity_shmem_size(void)
{
	return slot_table_memory(LINK_STRIPES, link_stripe_slots(), sizeof(LinkKey), sizeof(LinkValue));
}

void
identity_request_locks(void)
{
	RequestNamedLWLockTranche("antiban_person_links", LINK_STRIPES);
}

void
identity_shmem_init(void)
{
	bool		found;
	void	   *mem = antiban_shmem_region("antiban person links", identity_shmem_size(), &found);

	slot_table_attach(&link_table, mem, LINK_STRIPES, link_stripe_slots(),
					  sizeof(LinkKey), sizeof(LinkValue));
	if (!found)
		slot_table_clear(&link_table);
	link_locks = GetNamedLWLockTranche("antiban_person_links");
}

/*
 * The canonical key of a recipient (already normalised, or as Meta writes
 * it) and its hash.  False when it names nobody.
 */
bool
identity_key(const char *recipient, char *key, uint64 *key_hash)
{
	if (!recipient_match_key(recipient, key))
		return false;
	*key_hash = recipient_hash(key);
	return true;
}

static LinkKey
link_key(ClockDomain domain, Oid instance, int64 portfolio_id, uint64 key_hash)
{
	LinkKey		k = {instance, (uint32) domain, portfolio_id, key_hash};

	return k;
}

static uint64
link_hash(const LinkKey *k)
{
	return hash_mix64(hash_mix64(hash_mix64(k->instance, k->domain), (uint64) k->portfolio_id),
					  k->key_hash);
}

static LWLock *
link_lock(uint64 h)
{
	return &link_locks[slot_table_stripe(&link_table, h)].lock;
}

/* The anchor shared memory knows for a key; false: the key is its own. */
bool
identity_lookup(ClockDomain domain, Oid instance, int64 portfolio_id, uint64 key_hash,
				uint64 *anchor)
{
	LinkKey		k = link_key(domain, instance, portfolio_id, key_hash);
	uint64		h = link_hash(&k);
	LinkValue  *v;

	LWLockAcquire(link_lock(h), LW_SHARED);
	v = slot_table_find(&link_table, h, &k);
	if (v)
		*anchor = v->anchor;
	LWLockRelease(link_lock(h));
	return v != NULL;
}

/*
 * The anchor this transaction reads for a key: its own uncommitted links
 * first, then shared memory, else the key itself.
 */
uint64
identity_anchor(ClockDomain domain, Oid instance, int64 portfolio_id, uint64 key_hash)
{
	uint64		anchor;

	if (recipient_facts_pending_anchor(domain, instance, portfolio_id, key_hash, &anchor))
		return anchor;
	if (identity_lookup(domain, instance, portfolio_id, key_hash, &anchor))
		return anchor;
	return key_hash;
}

/*
 * Point a key at an anchor (a key that is its own anchor needs no entry).
 * False when there is no room (reach.c then has decisions read consent from
 * the tables); must not throw (it runs in the commit callback).
 */
bool
identity_set(ClockDomain domain, Oid instance, int64 portfolio_id, uint64 key_hash, uint64 anchor)
{
	LinkKey		k = link_key(domain, instance, portfolio_id, key_hash);
	uint64		h = link_hash(&k);
	LinkValue  *v;
	bool		ok = true;

	LWLockAcquire(link_lock(h), LW_EXCLUSIVE);
	v = slot_table_find(&link_table, h, &k);
	if (key_hash == anchor)
	{
		if (v)
			slot_table_remove(&link_table, v);
	}
	else
	{
		/* no victim function: a link is never evicted */
		if (v == NULL)
			v = slot_table_insert(&link_table, h, &k, NULL, NULL);
		if (v)
			v->anchor = anchor;
		ok = v != NULL;
	}
	LWLockRelease(link_lock(h));
	return ok;
}

/*
 * After a restart: every link of a portfolio, from the tables, into the
 * caller's domain.  Runs inside reach.c's load (SPI connected, privileged,
 * under the portfolio's lock).
 */
static const char *const load_links_sql =
"SELECT i.key, p.anchor FROM antiban.person_ids i JOIN antiban.persons p ON p.id = i.person_id"
" WHERE i.portfolio_id = $1 AND i.key <> p.anchor";

void
identity_load(ClockDomain domain, Oid instance, int64 portfolio_id)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(portfolio_id)};
	uint64		lost = 0;

	if (plan == NULL)
		plan = privileged_prepare(load_links_sql, 1, types);
	if (SPI_execute_plan(plan, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not read antiban.person_ids");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;

		if (!identity_set(domain, instance, portfolio_id,
						  recipient_hash(SPI_getvalue(t, d, 1)),
						  recipient_hash(SPI_getvalue(t, d, 2))))
			lost++;
	}
	if (lost > 0)
		ereport(WARNING,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("antiban: " UINT64_FORMAT " linked identifiers of portfolio " INT64_FORMAT " do not fit in shared memory",
						lost, portfolio_id),
				 errdetail("Those identifiers are treated as people of their own until they fit."),
				 errhint("Raise antiban.max_recipients and restart the server.")));
}

/* ---- SQL ---- */

PG_FUNCTION_INFO_V1(antiban_recipient_key);

/*
 * antiban.recipient_key(identifier) -> the canonical key, NULL for nobody:
 * a phone as Meta or we write it (formatted as a recipient may be), or a
 * well-formed BSUID (what is stored in antiban.person_ids, so nothing else
 * may become a person): core/recipient_match.c, recipient_person_key.
 */
Datum
antiban_recipient_key(PG_FUNCTION_ARGS)
{
	char	   *in = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char		key[RECIPIENT_KEY_SIZE];
	const char *why;

	if (!recipient_person_key(in, key, &why))
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(key));
}

PG_FUNCTION_INFO_V1(antiban_identifier_key);

/*
 * antiban.identifier_key(identifier, argument) -> its canonical key, or an
 * error naming the caller's argument and why the identifier names nobody.
 * NULL in, NULL out (an identifier not given).  For the functions that take
 * identifiers from a caller: one they cannot read is refused, never dropped.
 */
Datum
antiban_identifier_key(PG_FUNCTION_ARGS)
{
	char	   *in;
	const char *argument = PG_ARGISNULL(1) ? "identifier" : text_to_cstring(PG_GETARG_TEXT_PP(1));
	char		key[RECIPIENT_KEY_SIZE];
	const char *why;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	in = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (!recipient_person_key(in, key, &why))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: \"%.64s\" names nobody", argument, in),
				 errdetail("The identifier \"%.64s\" is not one antiban can read: %s.", in, why),
				 errhint("Write phones in E.164 with the country code, e.g. +5511987654321 (spaces, \"-\", \"(\" and \")\" allowed), or pass a business-scoped user id such as BR.1234567890.")));
	PG_RETURN_TEXT_P(cstring_to_text(key));
}

PG_FUNCTION_INFO_V1(antiban_note_person_link);

/*
 * antiban.note_person_link(portfolio_id, key, anchor): the tables now say
 * this key's person is known by 'anchor'; shared memory follows at commit
 * (and this transaction's own decisions at once).  Called by
 * antiban.link_identifiers for each key whose anchor it changed.
 */
Datum
antiban_note_person_link(PG_FUNCTION_ARGS)
{
	NumbersCache *c = numbers_cache_get();
	int64		portfolio_id = PG_GETARG_INT64(0);
	char	   *key = text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *anchor = text_to_cstring(PG_GETARG_TEXT_PP(2));
	RecipientFact f = {.kind = FACT_LINK, .domain = antiban_clock_domain(),
		.instance = c->instance, .portfolio_id = portfolio_id,
	.key_hash = recipient_hash(key), .anchor = recipient_hash(anchor), .noted_at = antiban_now()};

	recipient_fact_note(&f, key);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(antiban_consent_event_wins);

/*
 * antiban.consent_event_wins(held_at, held_stop, at, stop): does a stop or
 * resume stated at 'at' replace the one held (core/recipient_state.c)?
 * NULL held_at: nothing held (or a stop stored before times were kept).
 */
Datum
antiban_consent_event_wins(PG_FUNCTION_ARGS)
{
	RecipientState rs;

	recipient_state_init(&rs);
	if (!PG_ARGISNULL(0))
		rs.consent_at = PG_GETARG_TIMESTAMPTZ(0);
	rs.opted_out = !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);
	if (PG_ARGISNULL(2) || PG_ARGISNULL(3))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(consent_event_wins(&rs, PG_GETARG_BOOL(3), PG_GETARG_TIMESTAMPTZ(2)));
}
