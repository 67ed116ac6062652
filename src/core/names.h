/*
 * names.h
 *		Closed sets of values named by strings: the index of a name in a
 *		table of names (enums in C, their spelling in SQL).
 */
#ifndef ANTIBAN_NAMES_H
#define ANTIBAN_NAMES_H

#include <stdbool.h>
#include <string.h>

#define NAMES_COUNT(names) ((int) (sizeof(names) / sizeof((names)[0])))

/* True and the index in *out when s is one of names[0 .. n); NULL is none. */
static inline bool
names_find(const char *const *names, int n, const char *s, int *out)
{
	for (int i = 0; s != NULL && i < n; i++)
		if (names[i] != NULL && strcmp(s, names[i]) == 0)
		{
			*out = i;
			return true;
		}
	return false;
}

#endif							/* ANTIBAN_NAMES_H */
