/*
 * buckets.c
 *		Throughput and pair-rate token buckets in shared memory.
 *
 * One striped slot table holds both kinds; a stripe is guarded by its own
 * LWLock, so a hot number serialises only callers of that number.  A send
 * needs its number's bucket and its (number, recipient) pair bucket: both
 * stripes are locked in index order and both buckets are taken, or neither.
 *
 * Tokens are taken at once, not at commit: a decision that consumes is for
 * a send made right away, and holding tokens back until commit would let
 * concurrent callers over-grant.  A rolled-back transaction's tokens stay
 * taken, which only errs on the safe side.
 *
 * Keys carry the clock domain (clock.c): a session that pinned the clock
 * itself has buckets of its own, which real-clock sessions and the senders
 * neither see nor are slowed by.
 */
#include "pg/antiban.h"

#include <math.h>

#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#define BUCKET_STRIPES		128
#define BUCKET_KIND_NUMBER	1
#define BUCKET_KIND_PAIR	2
#define BUCKET_LABEL_LEN	24

typedef struct BucketKey
{
	uint32		instance;
	uint16		kind;
	uint16		domain;			/* ClockDomain */
	int64		number_id;
	uint64		recipient_hash;
} BucketKey;

typedef struct BucketValue
{
	TokenBucket bucket;
	TokenBucketParams params;	/* as last used: for eviction and the view */
	int64		granted;
	int64		denied;
	char		recipient[BUCKET_LABEL_LEN];	/* pair buckets: for people */
} BucketValue;

static SlotTable bucket_table;
static LWLockPadded *bucket_locks = NULL;

static uint32
stripe_slots(void)
{
	uint32		per = (uint32) ((antiban_max_buckets + BUCKET_STRIPES - 1) / BUCKET_STRIPES);

	return pg_nextpower2_32(Max(per, 8));
}

Size
buckets_shmem_size(void)
{
	return slot_table_memory(BUCKET_STRIPES, stripe_slots(), sizeof(BucketKey),
							 sizeof(BucketValue));
}

void
buckets_request_locks(void)
{
	RequestNamedLWLockTranche("antiban_buckets", BUCKET_STRIPES);
}

void
buckets_shmem_init(void)
{
	bool		found;
	void	   *mem = antiban_shmem_region("antiban buckets", buckets_shmem_size(), &found);

	slot_table_attach(&bucket_table, mem, BUCKET_STRIPES, stripe_slots(),
					  sizeof(BucketKey), sizeof(BucketValue));
	if (!found)
		slot_table_clear(&bucket_table);
	/* full buckets are all alike: make room for a quarter of a stripe at once */
	slot_table_set_evict_batch(&bucket_table, stripe_slots() / 4);
	bucket_locks = GetNamedLWLockTranche("antiban_buckets");
}

/*
 * The pair bucket as Meta judges it, by arrival (core/pacing.h): Meta's
 * burst, refilling with antiban.pair_headroom kept unused and spaced by at
 * least antiban.arrival_jitter_ms more than Meta's 6 s.  The GUCs' ranges
 * make every combination valid.
 */
TokenBucketParams
pair_params(void)
{
	TokenBucketParams p;

	if (!pair_rate_params(antiban_pair_burst, antiban_pair_rate_per_minute,
						  antiban_pair_headroom / 100.0, antiban_arrival_jitter_ms / 1000.0, &p))
		elog(ERROR, "antiban: invalid pair-rate settings");
	return p;
}

static BucketKey
bucket_key(Oid instance, uint16 kind, int64 number_id, uint64 recipient_hash)
{
	BucketKey	k = {instance, kind, (uint16) antiban_clock_domain(), number_id, recipient_hash};

	return k;
}

static uint64
key_hash(const BucketKey *k)
{
	return hash_mix64(hash_mix64(hash_mix64(k->instance, ((uint64) k->domain << 16) | k->kind),
								 (uint64) k->number_id),
					  k->recipient_hash);
}

/* What eviction needs: the time, a bucket that must stay (in use), the inserter's domain. */
typedef struct VictimArg
{
	TimestampTz now;
	const BucketKey *keep;
	uint16		domain;
} VictimArg;

/*
 * Only a full bucket may be forgotten, never the one being used; the
 * longest idle goes first.  Across clock domains: a pinned session never
 * evicts a real bucket, and a real session evicts pinned ones first.
 */
static int64_t
bucket_victim_score(const void *key, const void *value, void *arg)
{
	const BucketKey *k = key;
	const BucketValue *v = value;
	const VictimArg *va = arg;

	if (va->keep && memcmp(key, va->keep, sizeof(BucketKey)) == 0)
		return -1;
	if (k->domain != va->domain)
		return va->domain == CLOCK_PINNED ? -1 : PG_INT64_MAX;
	if (!token_bucket_is_full(&v->bucket, &v->params, va->now))
		return -1;
	return Max(va->now - v->bucket.stamp, 0);
}

/* Store a bucket built aside (NULL when the stripe is full of non-full buckets). */
static BucketValue *
bucket_store(const BucketKey *key, uint64 hash, const BucketValue *built, TimestampTz now,
			 const BucketKey *keep)
{
	VictimArg	arg = {now, keep, key->domain};
	BucketValue *v = slot_table_insert(&bucket_table, hash, key, bucket_victim_score, &arg);

	if (v != NULL)
		*v = *built;
	return v;
}

/*
 * The bucket for 'key'.  Missing: built in 'scratch' (always given) and,
 * with 'create', stored (NULL when the stripe is full of non-full buckets).
 */
static BucketValue *
bucket_get(const BucketKey *key, uint64 hash, const TokenBucketParams *params,
		   TimestampTz empty_at, TimestampTz now, bool create, BucketValue *scratch,
		   const BucketKey *keep)
{
	BucketValue *v = slot_table_find(&bucket_table, hash, key);

	if (v == NULL)
	{
		memset(scratch, 0, sizeof(*scratch));
		token_bucket_init(&scratch->bucket, params, now, empty_at);
		scratch->params = *params;
		return create ? bucket_store(key, hash, scratch, now, keep) : scratch;
	}
	v->params = *params;
	return v;
}

static void
lock_stripes(uint32 a, uint32 b, LWLockMode mode)
{
	LWLockAcquire(&bucket_locks[Min(a, b)].lock, mode);
	if (a != b)
		LWLockAcquire(&bucket_locks[Max(a, b)].lock, mode);
}

static void
unlock_stripes(uint32 a, uint32 b)
{
	if (a != b)
		LWLockRelease(&bucket_locks[Max(a, b)].lock);
	LWLockRelease(&bucket_locks[Min(a, b)].lock);
}

static void
count_outcome(BucketValue *v, bool allowed, bool consume)
{
	if (v == NULL || !consume)
		return;
	if (allowed)
		v->granted++;
	else
		v->denied++;
}

/* Both buckets (or the number's alone) are taken together, or neither. */
static void
take_both(BucketValue *nb, BucketValue *pb, const TokenBucketParams *pp,
		  int64 amount, TimestampTz now, bool consume, BucketTake *r)
{
	r->number = token_bucket_take(&nb->bucket, &nb->params, amount, now, false);
	if (pb)
		r->pair = token_bucket_take(&pb->bucket, pp, amount, now, false);
	else
		r->pair.allowed = true;
	r->allowed = r->number.allowed && r->pair.allowed;
	if (r->allowed && consume)
	{
		nb->bucket.tokens -= amount;
		r->number.remaining = nb->bucket.tokens;
		if (pb)
		{
			pb->bucket.tokens -= amount;
			r->pair.remaining = pb->bucket.tokens;
		}
	}
	count_outcome(nb, r->allowed, consume);
	count_outcome(pb, r->allowed, consume);
}

BucketTake
buckets_take(Oid instance, const CachedNumber *n, const char *recipient,
			 uint64 recipient_hash, TimestampTz pair_last_send, int64 amount,
			 TimestampTz now, bool consume)
{
	BucketKey	nk = bucket_key(instance, BUCKET_KIND_NUMBER, n->view.id, 0);
	BucketKey	pk = bucket_key(instance, BUCKET_KIND_PAIR, n->view.id, recipient_hash);
	uint64		nh = key_hash(&nk);
	uint64		ph = key_hash(&pk);
	uint32		ns = slot_table_stripe(&bucket_table, nh);
	uint32		ps = recipient ? slot_table_stripe(&bucket_table, ph) : ns;
	TokenBucketParams pp = pair_params();
	BucketValue scratch_n, scratch_p;
	BucketValue *nb, *pb = NULL;
	BucketTake	r = {0};

	lock_stripes(ns, ps, LW_EXCLUSIVE);
	nb = bucket_get(&nk, nh, &n->throughput, buckets_empty_since(0), now, consume, &scratch_n, NULL);
	if (nb && recipient)
	{
		/*
		 * A pair seen first is stored only for a take that goes.  A refused
		 * one would come back the same next time (a new bucket is a function
		 * of the time), and storing it filled the table with pairs no
		 * message went to: after a crash new pairs start empty, each number
		 * a rotation tried for each person left one, and a bucket that is
		 * not full cannot be evicted (every decision then waited for room).
		 */
		pb = bucket_get(&pk, ph, &pp, buckets_empty_since(pair_last_send), now, false, &scratch_p, NULL);
		if (pb == &scratch_p && consume &&
			token_bucket_take(&nb->bucket, &nb->params, amount, now, false).allowed &&
			token_bucket_take(&pb->bucket, &pp, amount, now, false).allowed)
		{
			/* inserting may evict and shift entries: keep the number's, then find it again */
			strlcpy(scratch_p.recipient, recipient, BUCKET_LABEL_LEN);
			pb = bucket_store(&pk, ph, &scratch_p, now, &nk);
			if (pb)
				nb = slot_table_find(&bucket_table, nh, &nk);
		}
	}
	if (nb == NULL || (recipient && pb == NULL))
		r.table_full = true;
	else
		take_both(nb, pb, &pp, amount, now, consume, &r);
	unlock_stripes(ns, ps);
	return r;
}

/* Undo a take whose send was then refused by a later check. */
void
buckets_give_back(Oid instance, const CachedNumber *n, uint64 recipient_hash, int64 amount)
{
	BucketKey	keys[2] = {bucket_key(instance, BUCKET_KIND_NUMBER, n->view.id, 0),
	bucket_key(instance, BUCKET_KIND_PAIR, n->view.id, recipient_hash)};

	for (int i = 0; i < 2; i++)
	{
		uint64		h = key_hash(&keys[i]);
		uint32		s = slot_table_stripe(&bucket_table, h);
		BucketValue *v;

		LWLockAcquire(&bucket_locks[s].lock, LW_EXCLUSIVE);
		v = slot_table_find(&bucket_table, h, &keys[i]);
		if (v)
		{
			token_bucket_give_back(&v->bucket, &v->params, amount);
			v->granted--;
		}
		LWLockRelease(&bucket_locks[s].lock);
	}
}

/*
 * Whole messages the eligible numbers could send right now, and when the
 * next token arrives if none can: the sender claims no more rows than this,
 * so it does not lock, decide and put back messages that must wait anyway.
 */
int64
buckets_available(NumbersCache *c, TimestampTz now, TimestampTz *next_token)
{
	int64		total = 0;

	*next_token = TB_NEVER;
	for (int i = 0; i < c->nnumbers; i++)
	{
		CachedNumber *n = &c->numbers[i];
		BucketKey	key = bucket_key(c->instance, BUCKET_KIND_NUMBER, n->view.id, 0);
		uint64		h = key_hash(&key);
		uint32		s = slot_table_stripe(&bucket_table, h);
		BucketValue *v;
		TokenBucket b;

		if (!number_is_eligible(&n->view, antiban_min_health))
			continue;
		if (number_is_full(&n->view, now))
		{
			*next_token = Min(*next_token, n->view.full_until);
			continue;
		}
		LWLockAcquire(&bucket_locks[s].lock, LW_SHARED);
		v = slot_table_find(&bucket_table, h, &key);
		if (v)
			b = v->bucket;
		LWLockRelease(&bucket_locks[s].lock);
		if (v == NULL)
			token_bucket_init(&b, &n->throughput, now, buckets_empty_since(0));
		token_bucket_refill(&b, &n->throughput, now);
		total += b.tokens / TB_SCALE;
		if (b.tokens < TB_SCALE)
			*next_token = Min(*next_token, token_bucket_ready_at(&b, &n->throughput, TB_SCALE, now));
	}
	return total;
}

/*
 * Meta said this bucket is empty (130429 for a number, 131056 for a pair):
 * empty it here too, so nothing else is tried before it refills.
 */
void
buckets_drain(Oid instance, const CachedNumber *n, const char *recipient, uint64 recipient_hash)
{
	BucketKey	key = bucket_key(instance, recipient ? BUCKET_KIND_PAIR : BUCKET_KIND_NUMBER,
								 n->view.id, recipient ? recipient_hash : 0);
	TokenBucketParams params = recipient ? pair_params() : n->throughput;
	uint64		h = key_hash(&key);
	uint32		s = slot_table_stripe(&bucket_table, h);
	TimestampTz now = antiban_now();
	BucketValue scratch;
	BucketValue *v;

	LWLockAcquire(&bucket_locks[s].lock, LW_EXCLUSIVE);
	v = bucket_get(&key, h, &params, buckets_empty_since(0), now, true, &scratch, NULL);
	if (v)
	{
		token_bucket_refill(&v->bucket, &params, now);
		v->bucket.tokens = 0;
		v->bucket.carry = 0;
		if (recipient)
			strlcpy(v->recipient, recipient, BUCKET_LABEL_LEN);
	}
	LWLockRelease(&bucket_locks[s].lock);
}

/* ---- SQL: antiban.try_consume() and antiban.bucket_states() ---- */

static int64
amount_from_arg(double amount, const TokenBucketParams *capacity_of)
{
	if (isnan(amount) || isinf(amount) || amount <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("amount must be a positive, finite number of messages"),
				 errdetail("The amount given was %g.", amount),
				 errhint("Pass the number of messages to send, usually 1.")));
	if (token_bucket_amount(amount) > capacity_of->capacity)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("amount %g exceeds the bucket's capacity of %g",
						amount, (double) capacity_of->capacity / TB_SCALE),
				 errdetail("No amount larger than the burst capacity can ever be granted."),
				 errhint("Split the request, or raise the number's burst_override.")));
	return token_bucket_amount(amount);
}

PG_FUNCTION_INFO_V1(antiban_try_consume);

/*
 * antiban.try_consume(phone_number_id, amount, recipient, consume)
 *		-> (allowed, remaining, retry_at, pair_remaining)
 */
Datum
antiban_try_consume(PG_FUNCTION_ARGS)
{
	NumbersCache *c = numbers_cache_get();
	/* another portfolio's tokens (and pair buckets) are not the caller's to take or read */
	CachedNumber *n = tenancy_caller_number(c, GetUserId(), required_text_arg(fcinfo, 0, "phone_number_id"));
	int64		amount;
	char		recipient[RECIPIENT_MAXLEN + 1];
	char		key[RECIPIENT_KEY_SIZE];
	uint64		kh;
	uint64		anchor = 0;
	bool		has_recipient = !PG_ARGISNULL(2);
	bool		consume = PG_ARGISNULL(3) ? true : PG_GETARG_BOOL(3);
	TimestampTz now = antiban_now();
	BucketTake	r;
	RecipientState known;
	TupleDesc	desc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, !has_recipient};

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("amount must not be null")));
	amount = amount_from_arg(PG_GETARG_FLOAT8(1), &n->throughput);
	recipient_state_init(&known);
	if (has_recipient)
	{
		CachedPortfolio *p = &c->portfolios[n->portfolio_index];

		recipient_key_or_error(text_to_cstring(PG_GETARG_TEXT_PP(2)), recipient, key, &kh);
		amount_from_arg(PG_GETARG_FLOAT8(1), &(TokenBucketParams) {.capacity = pair_params().capacity});
		/* the pair is the number and the person, whichever identifier names them */
		reach_ensure_loaded(c, p, now);
		reach_get(c->instance, p->id, kh, &known, &anchor);
	}
	r = buckets_take(c->instance, n, has_recipient ? recipient : NULL, anchor, known.last_sent,
					 amount, now, consume);
	if (r.table_full)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("antiban's bucket table is full"),
				 errdetail("Every bucket in this part of the table still holds information (none is full)."),
				 errhint("Raise antiban.max_buckets and restart the server.")));
	desc = result_desc(fcinfo);
	values[0] = BoolGetDatum(r.allowed);
	values[1] = Float8GetDatum((double) r.number.remaining / TB_SCALE);
	values[2] = TimestampTzGetDatum(r.allowed ? now : Max(r.number.ready_at, has_recipient ? r.pair.ready_at : 0));
	values[3] = Float8GetDatum((double) r.pair.remaining / TB_SCALE);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/* The parameters a bucket has now: configuration may have changed since its last use. */
static TokenBucketParams
current_params(NumbersCache *c, const BucketKey *k, const BucketValue *v)
{
	CachedNumber *n;

	if (k->kind == BUCKET_KIND_PAIR)
		return pair_params();
	n = numbers_cache_by_id(c, k->number_id);
	return n ? n->throughput : v->params;
}

static void
emit_bucket(ReturnSetInfo *rsinfo, NumbersCache *c, const BucketKey *k, const BucketValue *v,
			TimestampTz now)
{
	TokenBucket b = v->bucket;
	TokenBucketParams p = current_params(c, k, v);
	Datum		values[9];
	bool		nulls[9] = {0};

	token_bucket_refill(&b, &p, now);
	values[0] = CStringGetTextDatum(k->kind == BUCKET_KIND_NUMBER ? "number" : "pair");
	values[1] = Int64GetDatum(k->number_id);
	values[2] = CStringGetTextDatum(v->recipient);
	nulls[2] = k->kind == BUCKET_KIND_NUMBER;
	values[3] = Float8GetDatum((double) b.tokens / TB_SCALE);
	values[4] = Float8GetDatum((double) p.capacity / TB_SCALE);
	values[5] = Float8GetDatum((double) p.rate / TB_SCALE);
	values[6] = TimestampTzGetDatum(v->bucket.stamp);
	values[7] = Int64GetDatum(v->granted);
	values[8] = Int64GetDatum(v->denied);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

PG_FUNCTION_INFO_V1(antiban_bucket_states);

/* antiban.bucket_states(): every live bucket of this session's clock domain, refilled to antiban.now(). */
Datum
antiban_bucket_states(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	NumbersCache *c = numbers_cache_get();
	TimestampTz now = antiban_now();
	uint16		domain = (uint16) antiban_clock_domain();
	BucketKey  *keys = palloc(sizeof(BucketKey) * bucket_table.stripe_slots);
	BucketValue *values = palloc(sizeof(BucketValue) * bucket_table.stripe_slots);

	/*
	 * A role mapped to portfolios sees its portfolios' numbers' buckets only:
	 * a pair bucket names a recipient another portfolio spoke to.
	 */
	bool	   *allowed;
	bool		restricted = tenancy_scope_of(c, tenancy_caller(), &allowed);

	InitMaterializedSRF(fcinfo, 0);
	for (uint32 s = 0; s < bucket_table.nstripes; s++)
	{
		int			n = 0;

		/* copy under the lock, build tuples after releasing it */
		LWLockAcquire(&bucket_locks[s].lock, LW_SHARED);
		for (uint32 i = 0; i < bucket_table.stripe_slots; i++)
		{
			const void *key;
			BucketValue *v = slot_table_value_at(&bucket_table, s, i, &key);

			if (v && ((const BucketKey *) key)->instance == c->instance &&
				((const BucketKey *) key)->domain == domain)
			{
				keys[n] = *(const BucketKey *) key;
				values[n++] = *v;
			}
		}
		LWLockRelease(&bucket_locks[s].lock);
		for (int i = 0; i < n; i++)
		{
			if (restricted)
			{
				CachedNumber *num = numbers_cache_by_id(c, keys[i].number_id);

				if (num == NULL || !allowed[num->portfolio_index])
					continue;
			}
			emit_bucket(rsinfo, c, &keys[i], &values[i], now);
		}
	}
	return (Datum) 0;
}
