/*
 * lead_llm.c
 *		SQL faces of the LLM step's rules (src/core/lead_llm.c): the answer
 *		schema, and one slot checked against the messages the model saw.
 */
#include "pg/antiban.h"
#include "pg/lead.h"
#include "pg/lead_llm.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"

#include "core/lead_llm.h"

PG_FUNCTION_INFO_V1(antiban_lead_llm_answer_schema);

/* antiban.lead_llm_answer_schema() RETURNS jsonb */
Datum
antiban_lead_llm_answer_schema(PG_FUNCTION_ARGS)
{
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(lead_llm_answer_schema()));
}

/* The messages shown: ids and bodies, as long as each other. */
static int
shown_messages(ArrayType *ids, ArrayType *bodies, LeadLlmMessage **out)
{
	Datum	   *id_elems,
			   *body_elems;
	bool	   *id_nulls,
			   *body_nulls;
	int			n_ids,
				n_bodies;

	deconstruct_array(ids, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &id_elems, &id_nulls, &n_ids);
	deconstruct_array(bodies, TEXTOID, -1, false, TYPALIGN_INT, &body_elems, &body_nulls, &n_bodies);
	if (n_ids != n_bodies)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("shown_ids and shown_bodies must be as long as each other"),
				 errdetail("%d ids, %d bodies.", n_ids, n_bodies)));
	*out = palloc0(sizeof(LeadLlmMessage) * Max(n_ids, 1));
	for (int i = 0; i < n_ids; i++)
	{
		(*out)[i].id = id_nulls[i] ? -1 : DatumGetInt64(id_elems[i]);
		(*out)[i].body = body_nulls[i] ? "" : TextDatumGetCString(body_elems[i]);
	}
	return n_ids;
}

PG_FUNCTION_INFO_V1(antiban_lead_llm_check_slot);

/*
 * antiban.lead_llm_check_slot(slot, value, number, evidence, message_id,
 *		shown_ids bigint[], shown_bodies text[],
 *		OUT feature int, OUT words text, OUT problem text)
 */
Datum
antiban_lead_llm_check_slot(PG_FUNCTION_ARGS)
{
	LeadLlmSlot s = {0};
	LeadLlmMessage *shown = NULL;
	int			n = 0;
	int			feature = 0;
	LeadLlmVerdict v;
	Datum		values[3] = {0};
	bool		nulls[3] = {true, true, true};
	char	   *kind = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));

	if (kind == NULL || !lead_llm_slot_kind_parse(kind, &s.kind))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown LLM slot \"%s\"", kind ? kind : "(null)"),
				 errhint("One of amount, horizon, product, objection.")));
	s.value = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	s.number = PG_ARGISNULL(2) ? 0 : PG_GETARG_FLOAT8(2);
	s.evidence = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	s.message_id = PG_ARGISNULL(4) ? -1 : PG_GETARG_INT64(4);
	if (!PG_ARGISNULL(5) && !PG_ARGISNULL(6))
		n = shown_messages(PG_GETARG_ARRAYTYPE_P(5), PG_GETARG_ARRAYTYPE_P(6), &shown);

	v = lead_llm_check_slot(&s, shown, n, &feature);
	if (v == LEAD_LLM_SLOT_OK)
	{
		bool		utf8 = GetDatabaseEncoding() == PG_UTF8;
		char		words[LEAD_LLM_WORDS_MAX];

		lead_llm_reason_words(&s, (LeadReasonLanguage) antiban_lead_reason_language,
							  utf8 ? "\u201c" : "\"", utf8 ? "\u201d" : "\"", words, sizeof(words));
		values[0] = Int32GetDatum(feature);
		values[1] = CStringGetTextDatum(pg_any_to_server(words, strlen(words), PG_UTF8));
		nulls[0] = nulls[1] = false;
	}
	else
	{
		values[2] = CStringGetTextDatum(lead_llm_verdict_text(v));
		nulls[2] = false;
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(result_desc(fcinfo), values, nulls)));
}
