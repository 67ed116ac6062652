/*
 * slot_table.c
 *		Striped open-addressing hash table over a fixed block of memory.
 *
 * Entry layout: [SlotHeader][key][value].  A stripe keeps at least one empty
 * slot so that a probe for a missing key always ends.
 */
#include "slot_table.h"

#include <string.h>

typedef struct SlotHeader
{
	uint64_t	hash;
	uint64_t	used;
} SlotHeader;

#define ALIGN8(x) (((x) + 7u) & ~(size_t) 7u)

/* Start evicting when a stripe is 7/8 full: probes stay short. */
static uint32_t
evict_threshold(const SlotTable *t)
{
	return t->stripe_slots - t->stripe_slots / 8;
}

size_t
slot_table_memory(uint32_t nstripes, uint32_t stripe_slots,
				  uint32_t key_size, uint32_t value_size)
{
	size_t		entry = ALIGN8(sizeof(SlotHeader) + ALIGN8(key_size) + value_size);

	return ALIGN8((size_t) nstripes * sizeof(uint32_t)) +
		(size_t) nstripes * stripe_slots * entry;
}

void
slot_table_attach(SlotTable *t, void *memory, uint32_t nstripes,
				  uint32_t stripe_slots, uint32_t key_size, uint32_t value_size)
{
	t->nstripes = nstripes;
	t->stripe_slots = stripe_slots;
	t->key_size = key_size;
	t->entry_size = (uint32_t) ALIGN8(sizeof(SlotHeader) + ALIGN8(key_size) + value_size);
	t->evict_batch = 1;
	t->stripe_used = memory;
	t->slots = (char *) memory + ALIGN8((size_t) nstripes * sizeof(uint32_t));
}

/*
 * When every victim is as good as any other (a full token bucket holds no
 * information), evicting many in one pass makes the next inserts free
 * instead of scanning the stripe on each.
 */
void
slot_table_set_evict_batch(SlotTable *t, uint32_t batch)
{
	t->evict_batch = batch > 0 ? batch : 1;
}

void
slot_table_clear(SlotTable *t)
{
	memset(t->stripe_used, 0, (size_t) t->nstripes * sizeof(uint32_t));
	memset(t->slots, 0, (size_t) t->nstripes * t->stripe_slots * t->entry_size);
}

uint32_t
slot_table_stripe(const SlotTable *t, uint64_t hash)
{
	return (uint32_t) (hash & (t->nstripes - 1));
}

static SlotHeader *
slot_at(const SlotTable *t, uint32_t stripe, uint32_t index)
{
	size_t		n = (size_t) stripe * t->stripe_slots + index;

	return (SlotHeader *) (t->slots + n * t->entry_size);
}

static void *
key_of(SlotHeader *h)
{
	return (char *) h + sizeof(SlotHeader);
}

static void *
value_of(const SlotTable *t, SlotHeader *h)
{
	return (char *) h + sizeof(SlotHeader) + ALIGN8(t->key_size);
}

static SlotHeader *
header_of(const SlotTable *t, void *value)
{
	return (SlotHeader *) ((char *) value - sizeof(SlotHeader) - ALIGN8(t->key_size));
}

/* Home slot inside the stripe: bits not used to pick the stripe. */
static uint32_t
home_of(const SlotTable *t, uint64_t hash)
{
	return (uint32_t) (hash >> 32) & (t->stripe_slots - 1);
}

void *
slot_table_find(const SlotTable *t, uint64_t hash, const void *key)
{
	uint32_t	stripe = slot_table_stripe(t, hash);
	uint32_t	mask = t->stripe_slots - 1;

	for (uint32_t i = home_of(t, hash), n = 0; n < t->stripe_slots; i = (i + 1) & mask, n++)
	{
		SlotHeader *h = slot_at(t, stripe, i);

		if (!h->used)
			return NULL;
		if (h->hash == hash && memcmp(key_of(h), key, t->key_size) == 0)
			return value_of(t, h);
	}
	return NULL;
}

/* Offset of slot 'i' from slot 'from', walking forward around the stripe. */
static uint32_t
distance(const SlotTable *t, uint32_t from, uint32_t i)
{
	return (i - from) & (t->stripe_slots - 1);
}

/* Backward-shift deletion: no tombstones, probes stay as short as on insert. */
static void
remove_at(SlotTable *t, uint32_t stripe, uint32_t hole)
{
	uint32_t	mask = t->stripe_slots - 1;

	for (uint32_t j = (hole + 1) & mask;; j = (j + 1) & mask)
	{
		SlotHeader *h = slot_at(t, stripe, j);

		if (!h->used)
			break;
		/* Move h back into the hole if the hole lies on its probe path. */
		if (distance(t, home_of(t, h->hash), j) >= distance(t, hole, j))
		{
			memcpy(slot_at(t, stripe, hole), h, t->entry_size);
			hole = j;
		}
	}
	memset(slot_at(t, stripe, hole), 0, t->entry_size);
	t->stripe_used[stripe]--;
}

/* Evict up to evict_batch entries that may go, in one pass. */
static bool
evict_many(SlotTable *t, uint32_t stripe, SlotVictimScore score, void *arg)
{
	uint32_t	evicted = 0;

	for (uint32_t i = 0; i < t->stripe_slots && evicted < t->evict_batch;)
	{
		SlotHeader *h = slot_at(t, stripe, i);

		if (h->used && score(key_of(h), value_of(t, h), arg) >= 0)
		{
			/* slot i now holds what the backward shift moved in: look again */
			remove_at(t, stripe, i);
			evicted++;
		}
		else
			i++;
	}
	return evicted > 0;
}

static bool
evict_one(SlotTable *t, uint32_t stripe, SlotVictimScore score, void *arg)
{
	int64_t		best = -1;
	uint32_t	victim = 0;

	if (score == NULL)
		return false;
	if (t->evict_batch > 1)
		return evict_many(t, stripe, score, arg);
	for (uint32_t i = 0; i < t->stripe_slots; i++)
	{
		SlotHeader *h = slot_at(t, stripe, i);
		int64_t		s;

		if (!h->used)
			continue;
		s = score(key_of(h), value_of(t, h), arg);
		if (s > best)
		{
			best = s;
			victim = i;
		}
	}
	if (best < 0)
		return false;
	remove_at(t, stripe, victim);
	return true;
}

/*
 * Insert a key known to be absent.  Returns its zeroed value, or NULL when the
 * stripe is full and nothing in it may be evicted.
 */
void *
slot_table_insert(SlotTable *t, uint64_t hash, const void *key,
				  SlotVictimScore score, void *arg)
{
	uint32_t	stripe = slot_table_stripe(t, hash);
	uint32_t	mask = t->stripe_slots - 1;
	uint32_t	i;
	SlotHeader *h;

	if (t->stripe_used[stripe] >= evict_threshold(t) &&
		!evict_one(t, stripe, score, arg) &&
		t->stripe_used[stripe] >= t->stripe_slots - 1)
		return NULL;
	for (i = home_of(t, hash); slot_at(t, stripe, i)->used; i = (i + 1) & mask)
		;
	h = slot_at(t, stripe, i);
	memset(h, 0, t->entry_size);
	h->hash = hash;
	h->used = 1;
	memcpy(key_of(h), key, t->key_size);
	t->stripe_used[stripe]++;
	return value_of(t, h);
}

void
slot_table_remove(SlotTable *t, void *value)
{
	SlotHeader *h = header_of(t, value);
	size_t		n = (size_t) ((char *) h - t->slots) / t->entry_size;

	remove_at(t, (uint32_t) (n / t->stripe_slots), (uint32_t) (n % t->stripe_slots));
}

/* For scans (views): the value in slot 'index' of 'stripe', or NULL. */
void *
slot_table_value_at(const SlotTable *t, uint32_t stripe, uint32_t index,
					const void **key)
{
	SlotHeader *h = slot_at(t, stripe, index);

	if (!h->used)
		return NULL;
	if (key)
		*key = key_of(h);
	return value_of(t, h);
}
