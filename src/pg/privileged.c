/*
 * privileged.c
 *		Identity switching and saved plans for antiban's internal SQL.
 */
#include "pg/privileged.h"

#include "catalog/pg_authid.h"
#include "miscadmin.h"

void
privileged_begin(Privileged *p)
{
	GetUserIdAndSecContext(&p->saved_user, &p->saved_context);
	SetUserIdAndSecContext(BOOTSTRAP_SUPERUSERID,
						   p->saved_context | SECURITY_LOCAL_USERID_CHANGE);
}

void
privileged_end(Privileged *p)
{
	SetUserIdAndSecContext(p->saved_user, p->saved_context);
}

/* Prepare and keep a plan for the life of the backend (inside SPI_connect). */
SPIPlanPtr
privileged_prepare(const char *sql, int nargs, Oid *argtypes)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);

	if (plan == NULL)
		elog(ERROR, "antiban: could not prepare internal query: %s",
			 SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "antiban: could not keep internal query plan");
	return plan;
}
