/*
 * test_lead_llm.c
 *		An LLM's slots: checked against the lead's own words, mapped to the
 *		lead model's fit signals, said in words.
 */
#include "unit.h"

#include <string.h>

#include "core/lead_features.h"
#include "core/lead_llm.h"

static const LeadLlmMessage messages[] = {
	{17, "Oi! Quero aplicar 50 mil num CDB"},
	{18, "Mas só daqui a 2 ANOS,   talvez.  Vou pensar."},
	{19, "Não tenho interesse em ações"},
};

static LeadLlmVerdict
check(LeadLlmSlot s, int *feature)
{
	*feature = 0;
	return lead_llm_check_slot(&s, messages, 3, feature);
}

static void
accepted_slots_become_fit_signals(void **state)
{
	int			f;

	assert_int_equal(check((LeadLlmSlot) {LEAD_LLM_AMOUNT, NULL, 50000, "quero aplicar 50 mil", 17}, &f),
					 LEAD_LLM_SLOT_OK);
	assert_int_equal(f, LF_AMOUNT_50K);
	assert_int_equal(check((LeadLlmSlot) {LEAD_LLM_AMOUNT, NULL, 60000, "50 mil", 17}, &f), LEAD_LLM_SLOT_OK);
	assert_int_equal(f, LF_AMOUNT_50K);
	assert_int_equal(check((LeadLlmSlot) {LEAD_LLM_HORIZON, NULL, 24, "daqui a 2 anos", 18}, &f),
					 LEAD_LLM_SLOT_OK);
	assert_int_equal(f, LF_HORIZON_MEDIUM);
	assert_int_equal(check((LeadLlmSlot) {LEAD_LLM_PRODUCT, "cdb", 0, "num CDB", 17}, &f), LEAD_LLM_SLOT_OK);
	assert_int_equal(f, LF_PRODUCT_CDB);
	assert_int_equal(check((LeadLlmSlot) {LEAD_LLM_OBJECTION, "later", 0, "vou pensar", 18}, &f),
					 LEAD_LLM_SLOT_OK);
	assert_int_equal(f, LF_LATER);
	assert_int_equal(lead_llm_slot_feature(&(LeadLlmSlot) {LEAD_LLM_OBJECTION, "fees", 0, "caro", 17}),
					 LF_FEES_OBJECTION);
	assert_int_equal(lead_llm_slot_feature(&(LeadLlmSlot) {LEAD_LLM_AMOUNT, NULL, 2e6, "2 mi", 17}),
					 LF_AMOUNT_1M);
	assert_int_equal(check((LeadLlmSlot) {LEAD_LLM_OBJECTION, "not_interested", 0, "nao tenho interesse", 19}, &f),
					 LEAD_LLM_SLOT_OK);
	assert_int_equal(f, LF_NOT_INTERESTED);
}

static void
refused_slots(void **state)
{
	int			f;

	/* outside the vocabulary, or a key of another kind */
	assert_int_equal(check((LeadLlmSlot) {LEAD_LLM_PRODUCT, "bitcoin", 0, "CDB", 17}, &f),
					 LEAD_LLM_SLOT_UNKNOWN_VALUE);
	assert_int_equal(check((LeadLlmSlot) {LEAD_LLM_PRODUCT, "later", 0, "CDB", 17}, &f),
					 LEAD_LLM_SLOT_UNKNOWN_VALUE);
	assert_int_equal(check((LeadLlmSlot) {LEAD_LLM_OBJECTION, NULL, 0, "CDB", 17}, &f),
					 LEAD_LLM_SLOT_UNKNOWN_VALUE);
	/* numbers no lead means */
	assert_int_equal(check((LeadLlmSlot) {LEAD_LLM_AMOUNT, NULL, 0, "50 mil", 17}, &f),
					 LEAD_LLM_SLOT_OUT_OF_RANGE);
	assert_int_equal(check((LeadLlmSlot) {LEAD_LLM_AMOUNT, NULL, -5, "50 mil", 17}, &f),
					 LEAD_LLM_SLOT_OUT_OF_RANGE);
	assert_int_equal(check((LeadLlmSlot) {LEAD_LLM_HORIZON, NULL, 6000, "2 anos", 18}, &f),
					 LEAD_LLM_SLOT_OUT_OF_RANGE);
	/* no quote */
	assert_int_equal(check((LeadLlmSlot) {LEAD_LLM_PRODUCT, "cdb", 0, "  ", 17}, &f),
					 LEAD_LLM_SLOT_NO_EVIDENCE);
	assert_int_equal(check((LeadLlmSlot) {LEAD_LLM_PRODUCT, "cdb", 0, NULL, 17}, &f),
					 LEAD_LLM_SLOT_NO_EVIDENCE);
	/* a message the model was not shown */
	assert_int_equal(check((LeadLlmSlot) {LEAD_LLM_PRODUCT, "cdb", 0, "CDB", 99}, &f),
					 LEAD_LLM_SLOT_UNKNOWN_MESSAGE);
	/* words the lead never wrote, or wrote in another message */
	assert_int_equal(check((LeadLlmSlot) {LEAD_LLM_AMOUNT, NULL, 500000, "quero aplicar 500 mil", 17}, &f),
					 LEAD_LLM_SLOT_EVIDENCE_NOT_FOUND);
	assert_int_equal(check((LeadLlmSlot) {LEAD_LLM_PRODUCT, "cdb", 0, "CDB", 18}, &f),
					 LEAD_LLM_SLOT_EVIDENCE_NOT_FOUND);
	/* words the lead wrote, read as another number than the one given */
	assert_int_equal(check((LeadLlmSlot) {LEAD_LLM_AMOUNT, NULL, 2e6, "50 mil", 17}, &f),
					 LEAD_LLM_SLOT_NUMBER_MISMATCH);
	assert_int_equal(check((LeadLlmSlot) {LEAD_LLM_AMOUNT, NULL, 5000, "aplicar 50 mil", 17}, &f),
					 LEAD_LLM_SLOT_NUMBER_MISMATCH);
	assert_int_equal(check((LeadLlmSlot) {LEAD_LLM_HORIZON, NULL, 6, "daqui a 2 anos", 18}, &f),
					 LEAD_LLM_SLOT_NUMBER_MISMATCH);
	assert_int_equal(f, 0);
	/* tester11 F3: a quote that is in the message but does not state the slot */
	assert_int_equal(check((LeadLlmSlot) {LEAD_LLM_AMOUNT, NULL, 8000, "Quero aplicar", 17}, &f),
					 LEAD_LLM_SLOT_NOT_STATED);
	assert_int_equal(check((LeadLlmSlot) {LEAD_LLM_AMOUNT, NULL, 5e6, "e", 17}, &f),
					 LEAD_LLM_SLOT_NO_EVIDENCE);
	/* symbols are not letters: two emoji, a dash and an ellipsis, a bad byte */
	assert_int_equal(check((LeadLlmSlot) {LEAD_LLM_PRODUCT, "cdb", 0, "\xF0\x9F\x98\x80\xF0\x9F\x98\x80", 17}, &f),
					 LEAD_LLM_SLOT_NO_EVIDENCE);
	assert_int_equal(check((LeadLlmSlot) {LEAD_LLM_PRODUCT, "cdb", 0, "\xE2\x80\x94\xE2\x80\xA6", 17}, &f),
					 LEAD_LLM_SLOT_NO_EVIDENCE);
	assert_int_equal(check((LeadLlmSlot) {LEAD_LLM_PRODUCT, "cdb", 0, "a\xC3", 17}, &f),
					 LEAD_LLM_SLOT_NO_EVIDENCE);
	/* an accented letter is one letter: "só" is a quote (that states no horizon) */
	assert_int_equal(check((LeadLlmSlot) {LEAD_LLM_HORIZON, NULL, 24, "s\xC3\xB3", 18}, &f),
					 LEAD_LLM_SLOT_NOT_STATED);
	assert_int_equal(check((LeadLlmSlot) {LEAD_LLM_HORIZON, NULL, 120, "talvez", 18}, &f),
					 LEAD_LLM_SLOT_NOT_STATED);
	assert_int_equal(check((LeadLlmSlot) {LEAD_LLM_PRODUCT, "stocks", 0, "num CDB", 17}, &f),
					 LEAD_LLM_SLOT_NOT_STATED);
	assert_int_equal(check((LeadLlmSlot) {LEAD_LLM_OBJECTION, "no_money", 0, "Quero aplicar 50 mil", 17}, &f),
					 LEAD_LLM_SLOT_NOT_STATED);
	assert_int_equal(check((LeadLlmSlot) {LEAD_LLM_OBJECTION, "not_interested", 0, "Oi", 17}, &f),
					 LEAD_LLM_SLOT_NOT_STATED);
	assert_int_equal(f, 0);
	assert_string_equal(lead_llm_verdict_text(LEAD_LLM_SLOT_EVIDENCE_NOT_FOUND),
						"the quote is not in the message it names");
}

static void
evidence_folding(void **state)
{
	/* case, accents and white space do not matter */
	assert_true(lead_llm_evidence_in("SÓ DAQUI A 2 anos, talvez", "Mas só daqui a 2 ANOS,   talvez."));
	assert_true(lead_llm_evidence_in("nao tenho", "Não tenho interesse"));
	assert_true(lead_llm_evidence_in("  50\tmil ", "Quero aplicar 50 mil"));
	assert_true(lead_llm_evidence_in("50 mil", "Quero aplicar 50\xc2\xa0mil"));
	/* anything else does */
	assert_false(lead_llm_evidence_in("50.000", "Quero aplicar 50 mil"));
	assert_false(lead_llm_evidence_in("quero aplicar", "Quero-aplicar"));
	assert_false(lead_llm_evidence_in("", "Quero aplicar"));
	assert_false(lead_llm_evidence_in(" ", "Quero aplicar"));
	assert_false(lead_llm_evidence_in("x", NULL));
	/* bytes that are not UTF-8 compare as they are, without reading past the end */
	assert_true(lead_llm_evidence_in("a\xff", "xa\xff"));
	assert_false(lead_llm_evidence_in("a\xc3", "xa"));
}

static void
slot_kinds(void **state)
{
	LeadLlmSlotKind k;

	assert_true(lead_llm_slot_kind_parse("objection", &k));
	assert_int_equal(k, LEAD_LLM_OBJECTION);
	assert_false(lead_llm_slot_kind_parse("objections", &k));
	assert_false(lead_llm_slot_kind_parse(NULL, &k));
	assert_string_equal(lead_llm_slot_kind_name(LEAD_LLM_HORIZON), "horizon");
}

static void
reason_words(void **state)
{
	char		out[LEAD_LLM_WORDS_MAX];
	char		brl[32];
	LeadLlmSlot amount = {LEAD_LLM_AMOUNT, NULL, 50000, "quero aplicar 50 mil", 17};
	LeadLlmSlot horizon = {LEAD_LLM_HORIZON, NULL, 24, "daqui a 2 anos", 18};
	LeadLlmSlot months = {LEAD_LLM_HORIZON, NULL, 1, "1 mês", 18};
	LeadLlmSlot objection = {LEAD_LLM_OBJECTION, "later", 0, "Vou pensar", 18};
	LeadLlmSlot longq = {LEAD_LLM_PRODUCT, "cdb", 0,
	"ééééééééééééééééééééééééééééééééééééééééééééééééééééééé CDB", 17};

	lead_llm_reason_words(&amount, LEAD_REASONS_EN, "\"", "\"", out, sizeof(out));
	assert_string_equal(out, "LLM: amount R$ 50 mil (\"quero aplicar 50 mil\")");
	lead_llm_reason_words(&amount, LEAD_REASONS_PT, "“", "”", out, sizeof(out));
	assert_string_equal(out, "LLM: valor R$ 50 mil (“quero aplicar 50 mil”)");
	lead_llm_reason_words(&horizon, LEAD_REASONS_PT, "\"", "\"", out, sizeof(out));
	assert_string_equal(out, "LLM: prazo 2 anos (\"daqui a 2 anos\")");
	lead_llm_reason_words(&months, LEAD_REASONS_EN, "\"", "\"", out, sizeof(out));
	assert_string_equal(out, "LLM: horizon 1 month (\"1 mês\")");
	lead_llm_reason_words(&objection, LEAD_REASONS_PT, "\"", "\"", out, sizeof(out));
	assert_string_equal(out, "LLM: objeção: vai pensar, depois (\"Vou pensar\")");
	/* a long quote is cut between characters (é is two bytes: 40 of them) */
	lead_llm_reason_words(&longq, LEAD_REASONS_EN, "\"", "\"", out, sizeof(out));
	assert_int_equal(strlen(out), strlen("LLM: product CDB (\"") + 80 + strlen("...\")"));

	lead_llm_format_brl(50000, brl, sizeof(brl));
	assert_string_equal(brl, "R$ 50 mil");
	lead_llm_format_brl(12500, brl, sizeof(brl));
	assert_string_equal(brl, "R$ 12,5 mil");
	lead_llm_format_brl(1500000, brl, sizeof(brl));
	assert_string_equal(brl, "R$ 1,5 milhão");
	lead_llm_format_brl(3e6, brl, sizeof(brl));
	assert_string_equal(brl, "R$ 3 milhões");
	lead_llm_format_brl(750, brl, sizeof(brl));
	assert_string_equal(brl, "R$ 750");
}

static void
schema_is_strict(void **state)
{
	const char *s = lead_llm_answer_schema();

	/* every object closed, every slot required, each quote with its message */
	assert_non_null(strstr(s, "\"required\":[\"amount\",\"horizon\",\"product\",\"objections\"]"));
	assert_null(strstr(s, "\"additionalProperties\":true"));
	assert_non_null(strstr(s, "\"required\":[\"reais\",\"evidence\",\"message_id\"]"));
	assert_non_null(strstr(s, "\"required\":[\"months\",\"evidence\",\"message_id\"]"));
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(accepted_slots_become_fit_signals),
	cmocka_unit_test(refused_slots),
	cmocka_unit_test(evidence_folding),
	cmocka_unit_test(slot_kinds),
	cmocka_unit_test(reason_words),
	cmocka_unit_test(schema_is_strict),
};

UnitGroup
lead_llm_tests(void)
{
	return (UnitGroup) UNIT_GROUP("lead_llm", tests);
}
