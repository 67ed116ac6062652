/*
 * tenancy.c
 *		Which portfolios a role may use: antiban.role_portfolios.
 *
 * A role is restricted when it, or a role it is a member of, has a row in
 * antiban.role_portfolios; it may then use exactly those portfolios.  The
 * session's login counts too: whatever role it SETs, a mapped login stays
 * within its portfolios.  A role with no mapping is not restricted in an
 * install with no mapping at all (single tenant), nor when it is an
 * administrator, an operator, antiban_owner or a worker; once any mapping
 * exists, an unmapped tenant role (app, reader, analyst) gets none.  Rows
 * name roles by OID (regrole): a rename keeps them, and those of a dropped
 * role are ignored (and cleared by the next grant or revoke).  Superuser
 * status is not membership: a superuser is restricted only by the rows of
 * roles it really belongs to.
 * The mapping is cached with the numbers (numbers_cache.c), so a decision
 * pays a role lookup per row of the mapping, never a query.
 */
#include "pg/antiban.h"

#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"

/* What a role's own rows, and those of the roles it is a member of, give. */
static bool
role_grants(NumbersCache *c, Oid role, bool *allowed)
{
	bool		restricted = false;

	if (!OidIsValid(role))
		return false;
	for (int i = 0; i < c->ngrants; i++)
	{
		if (!is_member_of_role_nosuper(role, c->grants[i].role))
			continue;
		if (!restricted)
			memset(allowed, 0, sizeof(bool) * c->nportfolios);
		restricted = true;
		allowed[c->grants[i].portfolio_index] = true;
	}
	return restricted;
}

static bool
member_of(Oid role, const char *group)
{
	Oid			g = get_role_oid(group, true);

	return OidIsValid(g) && is_member_of_role_nosuper(role, g);
}

/*
 * A tenant's role: an app, a reader or an analyst, and none of the roles
 * that see every portfolio by design (antiban's own, the administrators,
 * the operators' dashboard).
 */
static bool
tenant_role(Oid role)
{
	if (!OidIsValid(role) || superuser_arg(role) ||
		member_of(role, "antiban_owner") || member_of(role, "antiban_admin") ||
		member_of(role, "antiban_dashboard"))
		return false;
	return member_of(role, "antiban_app") || member_of(role, "antiban_reader") ||
		member_of(role, "antiban_analyst");
}

/*
 * The scope of 'role' acting in a session of 'session': the mapping of
 * each that has one, both when both do.  Neither mapped: every portfolio,
 * unless the install is mapped (some grant exists) and either is a
 * tenant's role, which then gets none (fail closed: a login someone forgot
 * to map, or one renamed or created after the mapping, sees nothing).
 */
static bool
scope_in_session(NumbersCache *c, Oid role, Oid session, bool *allowed)
{
	bool		restricted = role_grants(c, role, allowed);

	if (OidIsValid(session) && session != role)
	{
		bool	   *own = palloc0(sizeof(bool) * Max(c->nportfolios, 1));

		if (role_grants(c, session, own))
		{
			for (int i = 0; i < c->nportfolios; i++)
				allowed[i] = restricted ? allowed[i] && own[i] : own[i];
			restricted = true;
		}
		pfree(own);
	}
	if (!restricted && c->ngrants > 0 && (tenant_role(role) || tenant_role(session)))
	{
		memset(allowed, 0, sizeof(bool) * c->nportfolios);
		restricted = true;
	}
	return restricted;
}

/* The creator of the campaign audience running now (campaign_audience.c), if one is. */
static Oid	audience_creator = InvalidOid;

Oid
tenancy_enter_audience(Oid creator)
{
	Oid			previous = audience_creator;

	audience_creator = creator;
	return previous;
}

void
tenancy_leave_audience(Oid previous)
{
	audience_creator = previous;
}

/*
 * The caller antiban's tenancy checks judge: the outer user (as SET ROLE
 * left it, so also inside antiban's SECURITY DEFINER code), or, while a
 * campaign's audience runs, its creator: the audience runs with its
 * creator's rights whoever plans it, and so must every antiban function it
 * calls, never with the scope of the admin or superuser planning it.
 */
Oid
tenancy_caller(void)
{
	return OidIsValid(audience_creator) ? audience_creator : GetOuterUserId();
}

static bool
is_antiban_owner(Oid role)
{
	return OidIsValid(role) && role == get_role_oid("antiban_owner", true);
}

/*
 * Fill allowed[] (one flag per cache portfolio) for 'role' in this session;
 * true when it is restricted, false (allowed[] untouched) when it is not.
 * The session user counts as well as the role: SET ROLE to a group the
 * login is a member of (antiban_app, which has no mapping) must not lift
 * the login's restriction.  antiban_owner, as whom antiban's own SECURITY
 * DEFINER code runs, and the workers (InvalidOid) act for every portfolio.
 */
bool
tenancy_scope(NumbersCache *c, Oid role, bool *allowed)
{
	if (!OidIsValid(role) || is_antiban_owner(role))
		return false;
	/*
	 * The session's login limits every role it acts as, an audience's
	 * creator too: the planner's login only narrows the creator's scope, and
	 * a mapped login naming an unmapped group as the creator stays mapped.
	 */
	return scope_in_session(c, role, GetSessionUserId(), allowed);
}

/* tenancy_scope with its flags allocated (palloc, one per cache portfolio). */
bool
tenancy_scope_of(NumbersCache *c, Oid role, bool **allowed)
{
	*allowed = palloc0(sizeof(bool) * Max(c->nportfolios, 1));
	return tenancy_scope(c, role, *allowed);
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
	bool	   *allowed;

	if (tenancy_scope_of(c, role, &allowed) && !allowed[n->portfolio_index])
		tenancy_refuse(role, "number", n->view.phone_number_id);
}

/*
 * The number a caller named (phone_number_id), if it is one of the
 * portfolios the caller may use: every SQL entry point that acts on a
 * caller-supplied number resolves it here, so none acts in another
 * portfolio.  'role' is the caller as the entry point sees it (GetUserId(),
 * which inside antiban's own SECURITY DEFINER code is antiban_owner).
 */
CachedNumber *
tenancy_caller_number(NumbersCache *c, Oid role, const char *phone_number_id)
{
	CachedNumber *n = lookup_number_or_error(c, phone_number_id);

	tenancy_check_number(c, role, n);
	return n;
}

/*
 * What belongs to no portfolio (the app secret, the default lead model, a
 * pass over every portfolio's rows) is an unrestricted caller's: one mapped
 * to portfolios (a tenant's administrator too) is refused, so that an
 * administrator of one tenant never acts on another's.  The caller is the
 * outer user, also inside antiban's own SECURITY DEFINER code.
 */
void
tenancy_refuse_install_wide(const char *what)
{
	NumbersCache *c = numbers_cache_get();
	bool	   *allowed;
	Oid			role = tenancy_caller();

	if (tenancy_scope_of(c, role, &allowed))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("role %s may not %s", GetUserNameFromId(role, false), what),
				 errdetail("It is mapped to portfolios (antiban.role_portfolios): it acts on its own portfolios only, and this is the whole install's."),
				 errhint("Name one of your portfolios, or ask an administrator that is not mapped to portfolios.")));
}

/*
 * Whether the caller (the outer user) may use this portfolio: C's
 * antiban.may_use_portfolio(), false for a portfolio the cache does not hold.
 */
bool
tenancy_may_use_portfolio(int64 portfolio_id)
{
	NumbersCache *c = numbers_cache_get();
	bool	   *allowed;

	if (!tenancy_scope_of(c, tenancy_caller(), &allowed))
		return true;
	for (int i = 0; i < c->nportfolios; i++)
		if (c->portfolios[i].id == portfolio_id)
			return allowed[i];
	return false;
}

PG_FUNCTION_INFO_V1(antiban_refuse_install_wide);

/* antiban.refuse_install_wide(what text): for antiban's SQL functions */
Datum
antiban_refuse_install_wide(PG_FUNCTION_ARGS)
{
	tenancy_refuse_install_wide(required_text_arg(fcinfo, 0, "what"));
	PG_RETURN_VOID();
}

/* The role's portfolios as bigint[] text ("{1,2}"); NULL: not restricted. */
char *
tenancy_scope_text(NumbersCache *c, Oid role)
{
	bool	   *allowed;
	StringInfoData ids;

	if (!tenancy_scope_of(c, role, &allowed))
		return NULL;
	initStringInfo(&ids);
	appendStringInfoChar(&ids, '{');
	for (int i = 0; i < c->nportfolios; i++)
		if (allowed[i])
			appendStringInfo(&ids, "%s" INT64_FORMAT, ids.len > 1 ? "," : "", c->portfolios[i].id);
	appendStringInfoChar(&ids, '}');
	return ids.data;
}

CachedPortfolio *
tenancy_portfolio_by_id(NumbersCache *c, int64 id)
{
	for (int i = 0; i < c->nportfolios; i++)
		if (c->portfolios[i].id == id)
			return &c->portfolios[i];
	return NULL;
}

/* The allowed portfolios' ids, as bigint[]. */
static Datum
portfolio_ids(NumbersCache *c, const bool *allowed)
{
	Datum	   *ids = palloc(sizeof(Datum) * Max(c->nportfolios, 1));
	int			n = 0;

	for (int i = 0; i < c->nportfolios; i++)
		if (allowed[i])
			ids[n++] = Int64GetDatum(c->portfolios[i].id);
	return PointerGetDatum(construct_array(ids, n, INT8OID, sizeof(int64), true, TYPALIGN_DOUBLE));
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
	bool	   *allowed;

	if (!tenancy_scope_of(c, tenancy_caller(), &allowed))
		PG_RETURN_NULL();
	PG_RETURN_DATUM(portfolio_ids(c, allowed));
}

/*
 * The scope the policies' helpers answer with for the role named 'who':
 * the caller's own roles (current, outer, session) in this session; any
 * other role only for an administrator (or antiban's own code), as that
 * role would have it logged in by itself.  Anyone else asking about
 * another role learns nothing: antiban.role_portfolios is the admins'.
 */
static bool
scope_of_named(NumbersCache *c, Name who, bool *allowed)
{
	Oid			role = get_role_oid(NameStr(*who), true);
	Oid			outer = tenancy_caller();

	if (OidIsValid(role) &&
		(role == GetUserId() || role == outer || role == GetSessionUserId()))
		return tenancy_scope(c, role, allowed);
	if (!(superuser_arg(outer) || member_of(outer, "antiban_admin") || is_antiban_owner(GetUserId())))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("role %s may only ask about its own portfolios", GetUserNameFromId(outer, false)),
				 errhint("Call it with current_user, or use antiban.my_portfolios().")));
	if (!OidIsValid(role))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("role \"%s\" does not exist", NameStr(*who))));
	if (is_antiban_owner(role))
		return false;
	return scope_in_session(c, role, role, allowed);
}

PG_FUNCTION_INFO_V1(antiban_portfolios_of);

/* antiban.portfolios_of(who name) -> bigint[] (NULL: not restricted) */
Datum
antiban_portfolios_of(PG_FUNCTION_ARGS)
{
	NumbersCache *c = numbers_cache_get();
	bool	   *allowed = palloc0(sizeof(bool) * Max(c->nportfolios, 1));

	if (PG_ARGISNULL(0) || !scope_of_named(c, PG_GETARG_NAME(0), allowed))
		PG_RETURN_NULL();
	PG_RETURN_DATUM(portfolio_ids(c, allowed));
}

PG_FUNCTION_INFO_V1(antiban_phone_numbers_of);

/*
 * antiban.phone_numbers_of(who name) -> text[]: the numbers of those
 * portfolios (NULL when none, or when not restricted).
 */
Datum
antiban_phone_numbers_of(PG_FUNCTION_ARGS)
{
	NumbersCache *c = numbers_cache_get();
	bool	   *allowed = palloc0(sizeof(bool) * Max(c->nportfolios, 1));
	Datum	   *ids = palloc(sizeof(Datum) * Max(c->nnumbers, 1));
	int			n = 0;

	if (PG_ARGISNULL(0) || !scope_of_named(c, PG_GETARG_NAME(0), allowed))
		PG_RETURN_NULL();
	for (int i = 0; i < c->nnumbers; i++)
		if (allowed[c->numbers[i].portfolio_index])
			ids[n++] = CStringGetTextDatum(c->numbers[i].view.phone_number_id);
	if (n == 0)
		PG_RETURN_NULL();
	PG_RETURN_ARRAYTYPE_P(construct_array(ids, n, TEXTOID, -1, false, TYPALIGN_INT));
}

PG_FUNCTION_INFO_V1(antiban_caller_number_portfolio);

/*
 * antiban.caller_number_portfolio(phone_number_id) -> bigint, for antiban's
 * SECURITY DEFINER SQL functions: the caller is the outer user there.
 */
Datum
antiban_caller_number_portfolio(PG_FUNCTION_ARGS)
{
	NumbersCache *c = numbers_cache_get();
	CachedNumber *n = tenancy_caller_number(c, tenancy_caller(),
											required_text_arg(fcinfo, 0, "phone_number_id"));

	PG_RETURN_INT64(n->portfolio_id);
}

PG_FUNCTION_INFO_V1(antiban_caller_role);

/*
 * antiban.caller_role() -> regrole: the role antiban's SECURITY DEFINER SQL
 * functions act for (the outer user, as SET ROLE left it), the one
 * my_portfolios() judges; current_user is antiban_owner there.
 */
Datum
antiban_caller_role(PG_FUNCTION_ARGS)
{
	PG_RETURN_OID(tenancy_caller());
}
