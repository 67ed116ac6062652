/*
 * tenancy.c
 *		Which portfolios a role may use: antiban.role_portfolios.
 *
 * A role is restricted when it, or a role it is a member of, has a row in
 * antiban.role_portfolios; it may then use exactly those portfolios.  A role
 * with no mapping is not restricted (a single-tenant install, the admin,
 * antiban_owner and the workers).  Superuser status is not membership: a
 * superuser is restricted only by the rows of roles it really belongs to.
 * The mapping is cached with the numbers (numbers_cache.c), so a decision
 * pays a role lookup per row of the mapping, never a query.
 */
#include "pg/antiban.h"

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"

/*
 * Fill allowed[] (one flag per cache portfolio) for 'role'; true when the
 * role is restricted, false (allowed[] untouched) when it is not.
 */
bool
tenancy_scope(NumbersCache *c, Oid role, bool *allowed)
{
	bool		restricted = false;

	if (!OidIsValid(role))
		return false;
	for (int i = 0; i < c->ngrants; i++)
	{
		Oid			granted = get_role_oid(c->grants[i].role, true);

		if (!OidIsValid(granted) || !is_member_of_role_nosuper(role, granted))
			continue;
		if (!restricted)
			memset(allowed, 0, sizeof(bool) * c->nportfolios);
		restricted = true;
		allowed[c->grants[i].portfolio_index] = true;
	}
	return restricted;
}

void
tenancy_refuse(Oid role, const char *what, const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("role %s may not use %s %s", GetUserNameFromId(role, false), what, name),
			 errdetail("It belongs to a portfolio that antiban.role_portfolios does not give this role."),
			 errhint("Send from a number of your own portfolios, or ask an administrator for antiban.grant_portfolio.")));
}

/* A number of one of the role's portfolios, or an error. */
void
tenancy_check_number(NumbersCache *c, Oid role, const CachedNumber *n)
{
	bool	   *allowed = palloc0(sizeof(bool) * Max(c->nportfolios, 1));

	if (tenancy_scope(c, role, allowed) && !allowed[n->portfolio_index])
		tenancy_refuse(role, "number", n->view.phone_number_id);
}

CachedPortfolio *
tenancy_portfolio_by_id(NumbersCache *c, int64 id)
{
	for (int i = 0; i < c->nportfolios; i++)
		if (c->portfolios[i].id == id)
			return &c->portfolios[i];
	return NULL;
}

PG_FUNCTION_INFO_V1(antiban_my_portfolios);

/*
 * antiban.my_portfolios() -> bigint[] (NULL: not restricted).  The role is
 * the caller's even inside a SECURITY DEFINER function (the outer user, as
 * SET ROLE left it), so antiban's own functions can ask on its behalf.
 */
Datum
antiban_my_portfolios(PG_FUNCTION_ARGS)
{
	NumbersCache *c = numbers_cache_get();
	bool	   *allowed = palloc0(sizeof(bool) * Max(c->nportfolios, 1));
	Datum	   *ids = palloc(sizeof(Datum) * Max(c->nportfolios, 1));
	int			n = 0;

	if (!tenancy_scope(c, GetOuterUserId(), allowed))
		PG_RETURN_NULL();
	for (int i = 0; i < c->nportfolios; i++)
		if (allowed[i])
			ids[n++] = Int64GetDatum(c->portfolios[i].id);
	PG_RETURN_ARRAYTYPE_P(construct_array(ids, n, INT8OID, sizeof(int64), true, TYPALIGN_DOUBLE));
}
