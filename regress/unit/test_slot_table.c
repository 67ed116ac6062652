/*
 * test_slot_table.c
 *		The striped open-addressing table: find, insert, evict, delete.
 */
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "core/recipient.h"
#include "core/slot_table.h"

typedef struct Key
{
	uint64_t	id;
} Key;

typedef struct Value
{
	int64_t		payload;
	int64_t		evictable;
} Value;

static SlotTable table;
static void *memory;

static int
setup(void **state)
{
	size_t		size = slot_table_memory(4, 16, sizeof(Key), sizeof(Value));

	memory = malloc(size);
	slot_table_attach(&table, memory, 4, 16, sizeof(Key), sizeof(Value));
	slot_table_clear(&table);
	return 0;
}

static int
teardown(void **state)
{
	free(memory);
	return 0;
}

static uint64_t
h(uint64_t id)
{
	return hash_mix64(id, 7);
}

static int64_t
score_evictable(const void *key, const void *value, void *arg)
{
	const Value *v = value;

	return v->evictable ? v->payload : -1;
}

static Value *
put(uint64_t id, int64_t payload, int64_t evictable)
{
	Key			k = {id};
	Value	   *v = slot_table_insert(&table, h(id), &k, score_evictable, NULL);

	if (v)
	{
		v->payload = payload;
		v->evictable = evictable;
	}
	return v;
}

static Value *
get(uint64_t id)
{
	Key			k = {id};

	return slot_table_find(&table, h(id), &k);
}

static void
finds_what_it_stores(void **state)
{
	for (uint64_t i = 1; i <= 30; i++)
		assert_non_null(put(i, (int64_t) i * 10, 0));
	for (uint64_t i = 1; i <= 30; i++)
		assert_int_equal(get(i)->payload, (int64_t) i * 10);
	assert_null(get(999));
}

static void
delete_keeps_probe_chains_intact(void **state)
{
	for (uint64_t i = 1; i <= 40; i++)
		put(i, (int64_t) i, 0);
	for (uint64_t i = 1; i <= 40; i += 2)
		slot_table_remove(&table, get(i));
	for (uint64_t i = 1; i <= 40; i++)
	{
		if (i % 2)
			assert_null(get(i));
		else
			assert_int_equal(get(i)->payload, (int64_t) i);
	}
}

/* Fill one stripe: keys are chosen so that all land in stripe 0. */
static int
fill_stripe_zero(int64_t evictable)
{
	int			stored = 0;

	for (uint64_t id = 1; stored < 32 && id < 100000; id++)
	{
		if (slot_table_stripe(&table, h(id)) != 0)
			continue;
		if (put(id, (int64_t) id, evictable) == NULL)
			break;
		stored++;
	}
	return stored;
}

static void
refuses_when_nothing_may_go(void **state)
{
	int			stored = fill_stripe_zero(0);

	/* 16 slots, one always kept empty so probes end */
	assert_int_equal(stored, 15);
	assert_int_equal(table.stripe_used[0], 15);
}

static void
evicts_the_best_victim(void **state)
{
	int			stored = fill_stripe_zero(1);

	/* eviction keeps the stripe at its threshold and accepts every insert */
	assert_int_equal(stored, 32);
	assert_true(table.stripe_used[0] <= 14);
}

static void
batch_eviction_frees_many_at_once(void **state)
{
	int			stored;

	slot_table_set_evict_batch(&table, 8);
	stored = fill_stripe_zero(1);
	assert_int_equal(stored, 32);
	/* one pass freed room for several inserts: the stripe is well below full */
	assert_true(table.stripe_used[0] < 14);
	/* everything left is still findable after the shifts */
	for (uint64_t id = 1, seen = 0; id < 100000 && seen < table.stripe_used[0]; id++)
	{
		Key			k = {id};
		Value	   *v = slot_table_find(&table, h(id), &k);

		if (v)
		{
			assert_int_equal(v->payload, (int64_t) id);
			seen++;
		}
	}
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(finds_what_it_stores, setup, teardown),
	cmocka_unit_test_setup_teardown(delete_keeps_probe_chains_intact, setup, teardown),
	cmocka_unit_test_setup_teardown(refuses_when_nothing_may_go, setup, teardown),
	cmocka_unit_test_setup_teardown(evicts_the_best_victim, setup, teardown),
	cmocka_unit_test_setup_teardown(batch_eviction_frees_many_at_once, setup, teardown),
};

UnitGroup
slot_table_tests(void)
{
	return (UnitGroup) UNIT_GROUP("slot_table", tests);
}
