/*
 * table_columns.c
 *		Does a table have exactly the columns a fast writer expects?
 */
#include "pg/table_columns.h"

#include "catalog/pg_attribute.h"

bool
table_columns_are(TupleDesc desc, const char *const *names, int n, AttrNumber *attno)
{
	int			live = 0;

	for (int c = 0; c < n; c++)
		attno[c] = InvalidAttrNumber;
	for (int a = 0; a < desc->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, a);
		bool		known = false;

		if (att->attisdropped)
			continue;
		live++;
		for (int c = 0; c < n; c++)
			if (strcmp(NameStr(att->attname), names[c]) == 0)
			{
				attno[c] = att->attnum;
				known = true;
			}
		if (!known || att->attgenerated)
			return false;
	}
	return live == n;
}
