/*
 * smaps.h
 *		Which page size backs an address, read from /proc/PID/smaps.
 *
 * antiban keeps its token buckets, people and journal in PostgreSQL's shared
 * memory and touches a few random entries of it per decision.  On 4 kB
 * pages each of those touches is a TLB miss (a costly one in a virtual
 * machine); on 2 MB huge pages most are not.  PostgreSQL 15 does not say
 * which it got with huge_pages = try, the kernel's smaps does.
 */
#ifndef ANTIBAN_SMAPS_H
#define ANTIBAN_SMAPS_H

#include <stdint.h>

/*
 * The KernelPageSize, in kB, of the mapping in 'smaps' (the text of
 * /proc/PID/smaps) whose range holds 'addr'; -1 when no mapping holds it or
 * its block has no KernelPageSize line (or one that is no page size).
 */
#define SMAPS_MAX_PAGE_KB (16L * 1024 * 1024)

extern long smaps_page_kb(const char *smaps, uintptr_t addr);

#endif							/* ANTIBAN_SMAPS_H */
