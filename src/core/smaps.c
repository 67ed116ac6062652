/*
 * smaps.c
 *		Which page size backs an address, read from /proc/PID/smaps.
 *
 * The file is a list of blocks: a header line "start-end perms offset dev
 * inode [path]" (start and end in hex, end exclusive), then "Key: value"
 * lines, KernelPageSize among them.  Anything else is skipped.
 */
#include "smaps.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* A block's header: "hex-hex " at the start of the line. */
static bool
parse_range(const char *line, uintptr_t *start, uintptr_t *end)
{
	char	   *p;
	unsigned long long lo;
	unsigned long long hi;

	if (!isxdigit((unsigned char) line[0]))
		return false;
	lo = strtoull(line, &p, 16);
	if (*p != '-' || !isxdigit((unsigned char) p[1]))
		return false;
	hi = strtoull(p + 1, &p, 16);
	if (*p != ' ' || hi < lo)
		return false;
	*start = (uintptr_t) lo;
	*end = (uintptr_t) hi;
	return true;
}

long
smaps_page_kb(const char *smaps, uintptr_t addr)
{
	static const char key[] = "KernelPageSize:";
	bool		inside = false;

	for (const char *line = smaps; line && *line;)
	{
		const char *next = strchr(line, '\n');
		uintptr_t	start;
		uintptr_t	end;

		if (parse_range(line, &start, &end))
		{
			/* the block after the one that held it: it had no page size */
			if (inside)
				return -1;
			inside = addr >= start && addr < end;
		}
		else if (inside && strncmp(line, key, sizeof(key) - 1) == 0)
		{
			char	   *p;
			long		kb = strtol(line + sizeof(key) - 1, &p, 10);

			while (*p == ' ' || *p == '\t')
				p++;
			/* (no page is larger than 16 GB; a larger figure is no page size) */
			return kb > 0 && kb <= SMAPS_MAX_PAGE_KB && strncmp(p, "kB", 2) == 0 ? kb : -1;
		}
		line = next ? next + 1 : NULL;
	}
	return -1;
}
