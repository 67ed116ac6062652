/*
 * lead_flow_pg.c
 *		The SQL faces of core/lead_flow.h: a new lead's source, whether a
 *		lead engaged, the stage evidence moves it to, and which score
 *		changes go on its timeline.  84_lead_flow.sql calls them per lead in
 *		its set-based statements.
 */
#include "pg/lead.h"

#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "core/lead_flow.h"

static int
score_arg(FunctionCallInfo fcinfo, int n)
{
	return PG_ARGISNULL(n) ? LEAD_NO_SCORE : PG_GETARG_INT16(n);
}

static LeadTime
time_arg(FunctionCallInfo fcinfo, int n)
{
	return PG_ARGISNULL(n) ? LEAD_TIME_NEVER : (LeadTime) PG_GETARG_TIMESTAMPTZ(n);
}

PG_FUNCTION_INFO_V1(antiban_lead_source);

/* antiban.lead_source(referral_type text, answers_campaign boolean) -> text */
Datum
antiban_lead_source(PG_FUNCTION_ARGS)
{
	LeadReferral referral = lead_referral_of(PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0)));
	bool		campaign = !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);

	PG_RETURN_TEXT_P(cstring_to_text(lead_source_name(lead_source_of(referral, campaign))));
}

PG_FUNCTION_INFO_V1(antiban_lead_engaged);

/* antiban.lead_engaged(messages integer, taps float8, last_inbound timestamptz, last_outbound timestamptz) */
Datum
antiban_lead_engaged(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(lead_engaged(PG_ARGISNULL(0) ? 0 : PG_GETARG_INT32(0),
								PG_ARGISNULL(1) ? 0 : PG_GETARG_FLOAT8(1),
								time_arg(fcinfo, 2), time_arg(fcinfo, 3)));
}

PG_FUNCTION_INFO_V1(antiban_lead_stage_after);

/*
 * antiban.lead_stage_after(stage text, engaged boolean, score smallint,
 *		qualify_score smallint, merged boolean) -> text
 */
Datum
antiban_lead_stage_after(PG_FUNCTION_ARGS)
{
	char	   *stage;
	const char *after;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	stage = text_to_cstring(PG_GETARG_TEXT_PP(0));
	after = lead_stage_after(stage, !PG_ARGISNULL(1) && PG_GETARG_BOOL(1), score_arg(fcinfo, 2),
							 PG_ARGISNULL(3) ? 101 : PG_GETARG_INT16(3), !PG_ARGISNULL(4) && PG_GETARG_BOOL(4));
	PG_RETURN_TEXT_P(cstring_to_text(after));
}

PG_FUNCTION_INFO_V1(antiban_lead_score_news);

/* antiban.lead_score_news(previous smallint, score smallint, qualify_score smallint) -> boolean */
Datum
antiban_lead_score_news(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(lead_score_news(score_arg(fcinfo, 0), score_arg(fcinfo, 1),
								   PG_ARGISNULL(2) ? 101 : PG_GETARG_INT16(2)));
}
