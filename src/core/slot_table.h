/*
 * slot_table.h
 *		A fixed-size hash table over caller-provided memory, split in stripes.
 *
 * Built for shared memory: the table never allocates, each stripe is an
 * independent open-addressing table (linear probing, backward-shift delete),
 * so the caller protects one stripe with one lock and a hot key never blocks
 * keys of other stripes.  When a stripe runs full the caller's victim
 * function chooses what may be forgotten (a full token bucket, an expired
 * recipient); the table itself knows nothing about what it stores.
 */
#ifndef ANTIBAN_SLOT_TABLE_H
#define ANTIBAN_SLOT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct SlotTable
{
	uint32_t	nstripes;		/* power of two */
	uint32_t	stripe_slots;	/* power of two */
	uint32_t	key_size;		/* bytes compared with memcmp */
	uint32_t	entry_size;		/* header + key + value, 8-byte aligned */
	uint32_t	evict_batch;	/* 1: evict the best victim; more: any that may go, up to this many */
	uint32_t   *stripe_used;	/* nstripes counters */
	char	   *slots;			/* nstripes * stripe_slots entries */
} SlotTable;

/*
 * Score a candidate victim: < 0 means "must be kept"; among the others the
 * highest score is evicted.
 */
typedef int64_t (*SlotVictimScore) (const void *key, const void *value, void *arg);

extern size_t slot_table_memory(uint32_t nstripes, uint32_t stripe_slots,
								uint32_t key_size, uint32_t value_size);
extern void slot_table_attach(SlotTable *t, void *memory, uint32_t nstripes,
							  uint32_t stripe_slots, uint32_t key_size,
							  uint32_t value_size);
extern void slot_table_clear(SlotTable *t);
extern void slot_table_set_evict_batch(SlotTable *t, uint32_t batch);
extern uint32_t slot_table_stripe(const SlotTable *t, uint64_t hash);
extern void *slot_table_find(const SlotTable *t, uint64_t hash, const void *key);
extern void *slot_table_insert(SlotTable *t, uint64_t hash, const void *key,
							   SlotVictimScore score, void *arg);
extern void slot_table_remove(SlotTable *t, void *value);
extern void *slot_table_value_at(const SlotTable *t, uint32_t stripe,
								 uint32_t index, const void **key);

#endif							/* ANTIBAN_SLOT_TABLE_H */
