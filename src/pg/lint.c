/*
 * lint.c
 *		antiban.lint_template() and antiban.lint_text(): the policy lint of
 *		core/template_lint.c as rows (severity, rule, location, message), for
 *		campaigns to run before they start and for people writing templates.
 */
#include "pg/antiban.h"

#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "core/template_lint.h"
#include "pg/jsonb_view.h"

static const char *
category_arg(FunctionCallInfo fcinfo, int arg, bool template)
{
	char	   *c = text_to_cstring(PG_GETARG_TEXT_PP(arg));

	for (char *p = c; *p; p++)
		*p = pg_ascii_tolower((unsigned char) *p);

	if (!lint_category_known(c) || (template && strcmp(c, "service") == 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown %scategory \"%s\"", template ? "template " : "", c),
				 errhint("%s", template ? "Use marketing, utility or authentication." :
						 "Use marketing, utility, authentication or service.")));
	return c;
}

static void
emit(FunctionCallInfo fcinfo, const LintReport *r)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < r->n; i++)
	{
		Datum		values[4] = {
			CStringGetTextDatum(lint_severity_name(r->f[i].severity)),
			CStringGetTextDatum(r->f[i].rule),
			CStringGetTextDatum(r->f[i].location),
			CStringGetTextDatum(r->f[i].message),
		};
		bool		nulls[4] = {false, false, false, false};

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

PG_FUNCTION_INFO_V1(antiban_lint_template);

/* antiban.lint_template(components jsonb, category text) -> SETOF (severity, rule, location, message) */
Datum
antiban_lint_template(PG_FUNCTION_ARGS)
{
	Jsonb	   *components = PG_GETARG_JSONB_P(0);
	const char *category = category_arg(fcinfo, 1, true);
	JsonView	v = jsonb_view(components);
	LintReport *r = palloc(sizeof(LintReport));

	if (!JB_ROOT_IS_ARRAY(components) || JB_ROOT_IS_SCALAR(components))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("components must be a JSON array"),
				 errhint("Pass the template's components as Meta's message_templates returns them: [{\"type\": \"BODY\", \"text\": \"Olá {{1}}, ...\"}, ...].")));
	template_lint(&v, category, r);
	emit(fcinfo, r);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(antiban_lint_text);

/* antiban.lint_text(body text, category text) -> SETOF (severity, rule, location, message) */
Datum
antiban_lint_text(PG_FUNCTION_ARGS)
{
	text	   *body = PG_GETARG_TEXT_PP(0);
	const char *category = category_arg(fcinfo, 1, false);
	LintReport *r = palloc(sizeof(LintReport));

	text_lint(VARDATA_ANY(body), VARSIZE_ANY_EXHDR(body), category, r);
	emit(fcinfo, r);
	return (Datum) 0;
}
