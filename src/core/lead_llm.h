/*
 * lead_llm.h
 *		What an LLM may tell the lead model, and how its answer is checked.
 *
 * An optional language model reads a lead's messages and fills four slots:
 * the amount they mean to invest, their horizon, the product they ask
 * about and their objections.  Each slot must quote the words it came
 * from and name the message that holds them.  Nothing it says is believed
 * on its word: a value outside the closed vocabulary, a quote that is not
 * in the message it names, a message that is not the lead's, and the
 * whole answer is refused.  A slot that passes becomes one of the lead
 * model's own fit signals (lead_features.h), weighed by the trained model
 * like the same signal read by the rules: the LLM never gives the score.
 *
 * Pure C: the JSON is read by the adapter, slots arrive here as strings.
 */
#ifndef ANTIBAN_LEAD_LLM_H
#define ANTIBAN_LEAD_LLM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lead_score.h"

/* the longest quote accepted, in bytes: a slot quotes words, not messages */
#define LEAD_LLM_EVIDENCE_MAX 300
/* the fewest letters and digits a quote needs: "e" or "?" is no evidence of anything */
#define LEAD_LLM_EVIDENCE_MIN 2
#define LEAD_LLM_WORDS_MAX 400

typedef enum LeadLlmSlotKind
{
	LEAD_LLM_AMOUNT,			/* number: reais */
	LEAD_LLM_HORIZON,			/* number: months */
	LEAD_LLM_PRODUCT,			/* value: cdb, lci_lca, tesouro, ... */
	LEAD_LLM_OBJECTION			/* value: no_money, later, distrust, ... */
} LeadLlmSlotKind;

typedef struct LeadLlmSlot
{
	LeadLlmSlotKind kind;
	const char *value;			/* product or objection key; NULL for numbers */
	double		number;			/* amount in reais or horizon in months */
	const char *evidence;		/* the lead's words, quoted */
	int64_t		message_id;		/* the message they are quoted from */
} LeadLlmSlot;

/* One of the lead's messages the model was shown. */
typedef struct LeadLlmMessage
{
	int64_t		id;
	const char *body;
} LeadLlmMessage;

typedef enum LeadLlmVerdict
{
	LEAD_LLM_SLOT_OK,
	LEAD_LLM_SLOT_UNKNOWN_VALUE,	/* not in the vocabulary */
	LEAD_LLM_SLOT_OUT_OF_RANGE,		/* an amount or horizon no lead means */
	LEAD_LLM_SLOT_NO_EVIDENCE,		/* empty, blank, too short or too long a quote */
	LEAD_LLM_SLOT_UNKNOWN_MESSAGE,	/* not one of the messages shown */
	LEAD_LLM_SLOT_EVIDENCE_NOT_FOUND,	/* the quote is not in that message */
	LEAD_LLM_SLOT_NUMBER_MISMATCH,	/* the quote states another amount or horizon */
	LEAD_LLM_SLOT_NOT_STATED	/* the quote does not state the slot's value */
} LeadLlmVerdict;

/* "amount", "horizon", "product", "objection"; false for anything else. */
extern bool lead_llm_slot_kind_parse(const char *name, LeadLlmSlotKind *out);
extern const char *lead_llm_slot_kind_name(LeadLlmSlotKind kind);

/*
 * Check one slot against the messages shown; on LEAD_LLM_SLOT_OK *feature
 * receives the fit signal it stands for.  The quote must be in the message
 * it names and must itself state the slot: the rules' fit signals
 * (lead_fit_signals) read from the quote alone include the slot's feature.
 * An amount or horizon needs words the rules read as that amount or horizon
 * (same bucket: "50 mil" quoted for R$ 2 million is a NUMBER_MISMATCH, "quero
 * investir" for any amount is NOT_STATED); a product or an objection needs
 * its words ("num CDB" for cdb, "vou pensar" for later).
 */
extern LeadLlmVerdict lead_llm_check_slot(const LeadLlmSlot *s, const LeadLlmMessage *messages,
										  int n, int *feature);

/* Why a slot was refused, in words ("the quote is not in message 17"). */
extern const char *lead_llm_verdict_text(LeadLlmVerdict v);

/*
 * Is the quote in the message?  Compared folded: case, accents (Latin-1)
 * and runs of white space do not matter; every other character does.
 */
extern bool lead_llm_evidence_in(const char *evidence, const char *body);

/* The fit signal a slot stands for (lead_features.h), 0 if none. */
extern int	lead_llm_slot_feature(const LeadLlmSlot *s);

/* "R$ 50 mil", "R$ 1,5 milhão", "R$ 750". */
extern void lead_llm_format_brl(double brl, char *out, size_t size);

/*
 * The words of a reason given by a slot, after its sign and points:
 * "LLM: valor R$ 50 mil (“quero aplicar 50 mil”)".
 */
extern void lead_llm_reason_words(const LeadLlmSlot *s, LeadReasonLanguage lang,
								  const char *open_quote, const char *close_quote,
								  char *out, size_t size);

/*
 * The JSON schema the endpoint is asked to answer in (response_format
 * json_schema, strict): every key required, nothing else allowed.
 */
extern const char *lead_llm_answer_schema(void);

#endif							/* ANTIBAN_LEAD_LLM_H */
