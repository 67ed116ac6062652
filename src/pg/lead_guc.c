/*
 * lead_guc.c
 *		antiban.lead_* parameters of the lead qualification model, and the
 *		transaction-local switch of the scoring mode the webhook apply uses.
 */
#include "pg/lead.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "core/lead_score.h"

int			antiban_lead_half_life_s = 7 * 86400;
int			antiban_lead_reason_language = LEAD_REASONS_PT;
int			antiban_lead_min_examples = 200;
int			antiban_lead_reasons = 3;
bool		antiban_lead_flow = true;
int			antiban_lead_scoring = LEAD_SCORING_INLINE;
int			antiban_lead_scoring_interval_ms = 1000;

static const struct config_enum_entry scoring_modes[] = {
	{"inline", LEAD_SCORING_INLINE, false},
	{"deferred", LEAD_SCORING_DEFERRED, false},
	{NULL, 0, false}
};

static const struct config_enum_entry reason_languages[] = {
	{"pt", LEAD_REASONS_PT, false},
	{"en", LEAD_REASONS_EN, false},
	{NULL, 0, false}
};

void
antiban_define_lead_gucs(void)
{
	DefineCustomIntVariable("antiban.lead_half_life",
							"Half-life of a lead's engagement (replies, reads, taps, failures).",
							"Applies to conversations whose engagement starts after the change: "
							"counts kept with one half-life cannot be converted to another.",
							&antiban_lead_half_life_s, 7 * 86400, 3600, 365 * 86400,
							PGC_SUSET, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomEnumVariable("antiban.lead_reason_language",
							 "Language of the reasons stored with lead scores: pt or en.",
							 NULL, &antiban_lead_reason_language, LEAD_REASONS_PT, reason_languages,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.lead_min_examples",
							"Won and lost leads a portfolio needs before its own model replaces the default one.",
							NULL, &antiban_lead_min_examples, 200, 10, 1000000,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.lead_reasons",
							"Reasons kept each way (up and down) with a lead score.",
							NULL, &antiban_lead_reasons, 3, 1, LEAD_REASONS_MAX,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("antiban.lead_flow",
							 "Whether webhooks create leads and rescore them as messages and statuses arrive.",
							 "Off: inbound messages, statuses and opt-outs are applied as usual but leave "
							 "antiban.leads and the lead model alone (antiban.upsert_lead and "
							 "antiban.rescore_leads still work).",
							 &antiban_lead_flow, true, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("antiban.lead_scoring",
							 "When the lead flow scores what webhooks bring: inline (in the webhook's "
							 "transaction) or deferred (queued for antiban.process_lead_events()).",
							 "Deferred keeps webhook ingest fast: a webhook only queues its messages "
							 "and statuses; the \"antiban leads\" worker makes the leads, scores, "
							 "stages and assigns them every antiban.lead_scoring_interval.",
							 &antiban_lead_scoring, LEAD_SCORING_INLINE, scoring_modes,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.lead_scoring_interval",
							"How often the \"antiban leads\" worker processes queued lead events "
							"(antiban.lead_scoring = deferred) when it found none.",
							"A full batch is followed by the next at once.",
							&antiban_lead_scoring_interval_ms, 1000, 10, 3600000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
}

/*
 * antiban.defer_lead_scoring(deferred): antiban.lead_scoring for the rest of
 * the transaction, as SET LOCAL would (undone by a rollback).  The webhook
 * apply uses it to score a batch at once; it runs as antiban's owner, who
 * may not SET a superuser parameter, hence this function, which no role is
 * granted.
 */
PG_FUNCTION_INFO_V1(antiban_defer_lead_scoring);

Datum
antiban_defer_lead_scoring(PG_FUNCTION_ARGS)
{
	(void) set_config_option("antiban.lead_scoring", PG_GETARG_BOOL(0) ? "deferred" : "inline",
							 PGC_SUSET, PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
	PG_RETURN_VOID();
}
