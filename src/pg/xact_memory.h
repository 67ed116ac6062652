/*
 * xact_memory.h
 *		Free a backend cache's replaced memory when the transaction ends.
 */
#ifndef ANTIBAN_XACT_MEMORY_H
#define ANTIBAN_XACT_MEMORY_H

#include "utils/palloc.h"

extern void free_at_transaction_end(MemoryContext replaced);

#endif
