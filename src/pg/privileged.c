/*
 * privileged.c
 *		Identity switching, a pinned search_path and saved plans for
 *		antiban's internal SQL.
 *
 * The same pattern as a SECURITY DEFINER function with
 * "SET search_path = ...": switch to the owner role under
 * SECURITY_LOCAL_USERID_CHANGE, save a GUC nest level, set search_path,
 * and on the way out pop the nest level (fmgr_security_definer does this).
 */
#include "pg/privileged.h"

#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/guc.h"

/* A syscache lookup each time: a cached OID would outlive a dropped role. */
static Oid
owner_role(void)
{
	Oid			owner = get_role_oid(ANTIBAN_OWNER_ROLE, true);

	if (!OidIsValid(owner))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("role \"%s\" does not exist", ANTIBAN_OWNER_ROLE),
				 errdetail("antiban reads and writes its own tables as this NOLOGIN role."),
				 errhint("Recreate the extension (DROP EXTENSION antiban; CREATE EXTENSION antiban) as a superuser.")));
	return owner;
}

/* Set search_path for the current GUC nest level, as a function's SET clause does. */
static void
set_safe_search_path(GucContext context, GucSource source, GucAction action)
{
	(void) set_config_option("search_path", ANTIBAN_SAFE_SEARCH_PATH, context, source,
							 action, true, 0, false);
}

void
privileged_begin(Privileged *p)
{
	Oid			owner = owner_role();

	GetUserIdAndSecContext(&p->saved_user, &p->saved_context);
	SetUserIdAndSecContext(owner, p->saved_context | SECURITY_LOCAL_USERID_CHANGE);
	p->guc_nestlevel = NewGUCNestLevel();
	set_safe_search_path(PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE);
}

void
privileged_end(Privileged *p)
{
	AtEOXact_GUC(true, p->guc_nestlevel);
	SetUserIdAndSecContext(p->saved_user, p->saved_context);
}

/*
 * Background workers run no caller's code: they pin search_path once for
 * their whole session, right after connecting.
 */
void
pin_session_search_path(void)
{
	set_safe_search_path(PGC_SUSET, PGC_S_OVERRIDE, GUC_ACTION_SET);
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
