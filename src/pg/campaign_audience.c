/*
 * campaign_audience.c
 *		Run a campaign's stored audience as its creator, never as whoever
 *		plans or starts it.
 *
 * An audience is code one role stores (a SELECT that may call its own
 * functions) and another may run (an admin planning or starting it, a
 * superuser looking at why it does not start).  Run with the second role's
 * rights, the first role's functions would run with them too: a trojan.
 * PostgreSQL has the same problem with a materialized view's query, and the
 * same answer is used here: run it as the stored owner (the campaign's
 * created_by) inside a security-restricted operation, where SET ROLE,
 * RESET ROLE and SET SESSION AUTHORIZATION are refused, so the code can not
 * climb back to the caller, with the creator's search_path pinned for the
 * call and no setting the code changes surviving it.  antiban's functions
 * the audience calls judge the creator's portfolios too (tenancy_caller),
 * not those of whoever plans the campaign.
 *
 * Only a role that already has the creator's privileges (the creator, a
 * member of it, a superuser) or antiban's owner (the SECURITY DEFINER
 * functions that start and plan campaigns) may call it: running as the
 * creator gives such a caller nothing it did not have.
 */
#include "pg/antiban.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "pg/privileged.h"

PG_FUNCTION_INFO_V1(antiban_audience_run);

/*
 * antiban.audience_run(creator name, search_path text, query text)
 * -> TABLE (ord integer, recipient text, params jsonb): the rows of 'query'
 * (which must return exactly those three columns), run read-only as
 * 'creator' in a security-restricted operation with 'search_path'.
 */
Datum
antiban_audience_run(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *creator;
	char	   *path;
	char	   *query;
	Oid			creator_id;
	Oid			caller = GetUserId();
	Oid			owner = get_role_oid(ANTIBAN_OWNER_ROLE, true);
	Oid			saved_user;
	int			saved_context;
	int			nest;
	volatile int rc = 0;
	Oid			previous_audience;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("an audience needs a creator, a search_path and a query")));
	creator = NameStr(*PG_GETARG_NAME(0));
	path = text_to_cstring(PG_GETARG_TEXT_PP(1));
	query = text_to_cstring(PG_GETARG_TEXT_PP(2));
	creator_id = get_role_oid(creator, true);
	if (!OidIsValid(creator_id))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("the creator of this campaign, role \"%s\", no longer exists", creator),
				 errdetail("A campaign's audience runs with its creator's rights only."),
				 errhint("Create the campaign again as an existing role.")));
	if (caller != owner && !has_privs_of_role(caller, creator_id))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("only role \"%s\" (or a role with its privileges) may run this campaign's audience", creator),
				 errdetail("The audience is code its creator stored; it runs with the creator's rights, never with another role's."),
				 errhint("Use antiban.plan_campaign or antiban.start_campaign, which run it as its creator.")));

	InitMaterializedSRF(fcinfo, 0);

	GetUserIdAndSecContext(&saved_user, &saved_context);
	SetUserIdAndSecContext(creator_id, saved_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	nest = NewGUCNestLevel();
	(void) set_config_option("search_path", path, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);

	SPI_connect();
	/* antiban's own checks judge the creator too, not the planner (tenancy_caller) */
	previous_audience = tenancy_enter_audience(creator_id);
	PG_TRY();
	{
		rc = SPI_execute(query, true, 0);
	}
	PG_FINALLY();
	{
		tenancy_leave_audience(previous_audience);
	}
	PG_END_TRY();
	if (rc != SPI_OK_SELECT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("an audience must be one SELECT")));
	if (SPI_tuptable->tupdesc->natts != 3 ||
		SPI_gettypeid(SPI_tuptable->tupdesc, 1) != INT4OID ||
		SPI_gettypeid(SPI_tuptable->tupdesc, 2) != TEXTOID ||
		SPI_gettypeid(SPI_tuptable->tupdesc, 3) != JSONBOID)
		elog(ERROR, "antiban: an audience query must return (integer, text, jsonb)");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		Datum		values[3];
		bool		nulls[3];

		for (int a = 0; a < 3; a++)
			values[a] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, a + 1, &nulls[a]);
		/* the tuplestore copies the values into its own memory */
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();

	/*
	 * Undo every setting the audience changed, its own plain SETs too
	 * (set_config(..., false)): as a commit would, PostgreSQL keeps those
	 * past the search_path pinned here and past the SECURITY DEFINER
	 * functions above us, and the rest of plan_campaign would then resolve
	 * names through the creator's path, with antiban_owner's rights.
	 */
	AtEOXact_GUC(false, nest);
	SetUserIdAndSecContext(saved_user, saved_context);
	return (Datum) 0;
}
