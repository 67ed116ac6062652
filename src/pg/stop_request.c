/*
 * stop_request.c
 *		antiban.classify_stop(message, source): the stop-request classifier of
 *		core/stop_request.c as SQL.
 */
#include "pg/antiban.h"

#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "core/stop_request.h"

static StopSource
source_or_error(const char *s)
{
	StopSource	source;

	if (!stop_source_parse(s, &source))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown message source \"%s\"", s),
				 errhint("Use 'text' for anything the person typed (a text body, a caption), "
						 "'button' or 'interactive' for a reply to a button the business defined.")));
	return source;
}

PG_FUNCTION_INFO_V1(antiban_classify_stop);

/*
 * antiban.classify_stop(message text, source text DEFAULT 'text',
 *		OUT verdict text, OUT rule text, OUT explanation text)
 */
Datum
antiban_classify_stop(PG_FUNCTION_ARGS)
{
	char	   *message = text_to_cstring(PG_GETARG_TEXT_PP(0));
	StopSource	source = source_or_error(text_to_cstring(PG_GETARG_TEXT_PP(1)));
	/* the core reads UTF-8, whatever the database's encoding */
	char	   *utf8 = pg_server_to_any(message, strlen(message), PG_UTF8);
	StopResult	r;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	stop_classify(utf8, source, &r);
	values[0] = CStringGetTextDatum(stop_verdict_name(r.verdict));
	values[1] = CStringGetTextDatum(r.rule);
	values[2] = CStringGetTextDatum(pg_any_to_server(r.explanation, strlen(r.explanation), PG_UTF8));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(result_desc(fcinfo), values, nulls)));
}
