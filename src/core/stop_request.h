/*
 * stop_request.h
 *		Does an inbound message ask the business to stop marketing?
 *
 * Leads write in Portuguese, Spanish and English, the way people type on
 * WhatsApp.  A message is read as a phrase, not a keyword: "não quero mais
 * receber mensagens" and "dame de baja" are stops; "não quero sair",
 * "para quando é o pagamento?", "cancelar a reunião" and "stop loss" are
 * not.  What cannot be told from the text alone ("não tenho interesse", a
 * stop word amid a long message, "se continuar vou sair da lista") is
 * DOUBTFUL: a person decides.  A button the business defined is a stop only
 * if its payload or title is an explicit opt-out ("STOP", "Parar
 * promoções"), never "Cancelar".
 */
#ifndef ANTIBAN_STOP_REQUEST_H
#define ANTIBAN_STOP_REQUEST_H

#include <stdbool.h>

#define STOP_EXPLANATION_MAX 192

typedef enum StopVerdict
{
	STOP_VERDICT_NOT_STOP,
	STOP_VERDICT_DOUBTFUL,
	STOP_VERDICT_STOP
} StopVerdict;

typedef enum StopSource
{
	STOP_SOURCE_TEXT,			/* typed by the person: text, caption */
	STOP_SOURCE_BUTTON			/* a quick reply or interactive reply the business defined */
} StopSource;

typedef struct StopResult
{
	StopVerdict verdict;
	const char *rule;			/* machine-readable, e.g. "pt_no_more_messages", "negated" */
	char		explanation[STOP_EXPLANATION_MAX];	/* for a person, quoting the message */
} StopResult;

/* Classifies utf8 (NULL reads as empty); fills out and returns its verdict. */
extern StopVerdict stop_classify(const char *utf8, StopSource source, StopResult *out);

/* "stop", "doubtful", "not_stop" */
extern const char *stop_verdict_name(StopVerdict v);

/* "text" -> TEXT; "button" or "interactive" (Meta's message types) -> BUTTON. */
extern bool stop_source_parse(const char *s, StopSource *out);

/* NULL if every pattern of the table names known word classes, else the first bad one. */
extern const char *stop_patterns_check(void);

/* Free text that is a STOP: the old yes/no question (antiban.is_opt_out). */
extern bool opt_out_text(const char *utf8);

#endif							/* ANTIBAN_STOP_REQUEST_H */
