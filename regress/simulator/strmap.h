/*
 * strmap.h — string-keyed hash map (open addressing, linear probing).
 *
 * Keys are copied; values are opaque pointers the caller owns.  Used for
 * numbers, portfolios, WABAs, pair buckets and recipient windows, all of
 * which are looked up on the hot path of every send.
 */
#ifndef STRMAP_H
#define STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct strmap_slot
{
	char	   *key;			/* NULL: empty slot */
	uint64_t	hash;
	void	   *value;
} strmap_slot;

typedef struct strmap
{
	strmap_slot *slots;
	size_t		cap;			/* power of two, or 0 before first insert */
	size_t		len;
} strmap;

typedef void (*strmap_free_fn) (void *value);
typedef bool (*strmap_keep_fn) (void *value, void *arg);

void		strmap_init(strmap *m);
void	   *strmap_get(const strmap *m, const char *key);
/* Returns the value slot for key, inserting NULL if absent (*created set).
 * The pointer is valid until the next insertion. */
void	  **strmap_put(strmap *m, const char *key, bool *created);
void	   *strmap_remove(strmap *m, const char *key);
bool		strmap_full_soon(const strmap *m);
size_t		strmap_retain(strmap *m, strmap_keep_fn keep, void *arg, strmap_free_fn f);
void		strmap_free(strmap *m, strmap_free_fn f);
/* Keys sorted, for stable output; caller frees the array (not the keys). */
const char **strmap_sorted_keys(const strmap *m);

#endif							/* STRMAP_H */
