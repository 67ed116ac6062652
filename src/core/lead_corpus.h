/*
 * lead_corpus.h
 *		The labelled conversations the default lead model learns from
 *		(regress/lead_corpus/, see its README), read from their plain-text
 *		form.
 *
 * One conversation per block, one event per line, times in minutes from
 * the first contact (or with a unit: "90", "2h", "3d"):
 *
 *	= pt-0001 pt won		id, language (pt, es, en), outcome (won, lost)
 *	< 0 Olá, ...			we wrote (the text is for the reader only)
 *	r 2						the lead read it
 *	> 5 quanto rende?		the lead wrote
 *	t 9 Quero saber mais	the lead tapped a button with this title
 *	f 60 131049				one of our messages failed with this code
 *	o 70 / i 80 / b 90		opted out / opted back in / blocked us
 *	@ 3d					when the outcome was known: the time features see
 *
 * Blank lines and lines starting with '#' are comments.
 */
#ifndef ANTIBAN_LEAD_CORPUS_H
#define ANTIBAN_LEAD_CORPUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lead_engagement.h"
#include "lead_text.h"

#define LEAD_CORPUS_MAX_EVENTS 64
#define LEAD_CORPUS_ID_MAX 32

typedef struct LeadCorpusEvent
{
	LeadEventKind kind;
	int64_t		minute;
	int			code;			/* LEAD_EVENT_FAILURE */
	const char *text;			/* into the corpus text, not terminated */
	int			text_len;		/* 0: none */
} LeadCorpusEvent;

typedef struct LeadCorpusConversation
{
	char		id[LEAD_CORPUS_ID_MAX];
	LeadLanguage lang;
	bool		won;
	int64_t		observed_minute;
	LeadCorpusEvent ev[LEAD_CORPUS_MAX_EVENTS];
	int			nev;
	int			line;			/* of its "=" line */
} LeadCorpusConversation;

/* Called once per conversation; false stops the reading. */
typedef bool (*LeadCorpusEach) (const LeadCorpusConversation *c, void *ctx);

/*
 * Reads text; returns the number of conversations, or -1 with a message
 * naming the line in err.
 */
extern int	lead_corpus_parse(const char *text, LeadCorpusEach each, void *ctx, char *err, size_t errlen);

#endif							/* ANTIBAN_LEAD_CORPUS_H */
