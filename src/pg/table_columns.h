/*
 * table_columns.h
 *		Does a table have exactly the columns a fast writer expects?
 *
 * The writers that fill antiban's tables without the executor (the
 * decision journal, recipient_reach) first check that the table is still
 * the one antiban created; a table changed by hand goes through SQL.
 */
#ifndef ANTIBAN_TABLE_COLUMNS_H
#define ANTIBAN_TABLE_COLUMNS_H

#include "postgres.h"

#include "access/attnum.h"
#include "access/tupdesc.h"

/*
 * Whether the table's live columns are exactly names[0..n-1], in any order,
 * none generated; attno[i] gets the number of names[i].
 */
extern bool table_columns_are(TupleDesc desc, const char *const *names, int n, AttrNumber *attno);

#endif
