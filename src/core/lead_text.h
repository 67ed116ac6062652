/*
 * lead_text.h
 *		A lead's message as the fit-signal rules read it: folded words,
 *		numbers with their value, currency marks and clause breaks; and the
 *		message's language.
 *
 * PostgreSQL's text search (lexemes for the hashed word features) drops
 * what the fit rules need most: "R$ 50.000,00", "50k", "1,5 mi", "US$",
 * "120%".  So the rules read the raw text through this tokenizer: lower
 * case, Latin-1 accents folded ("ações" -> "acoes"), runs of three or more
 * equal letters cut to one ("muuuito" -> "muito"), apostrophes joined;
 * numbers parsed with Brazilian or English separators ("50.000,00",
 * "50,000.00", "1,5"); a number followed at once by letters splits into
 * the number and an attached word ("50k", "2anos").  Invalid UTF-8 is a
 * separator, never a reason to read past the end.
 */
#ifndef ANTIBAN_LEAD_TEXT_H
#define ANTIBAN_LEAD_TEXT_H

#include <stdbool.h>

#define LEAD_MAX_TOKENS 256
#define LEAD_WORD_MAX 32

typedef enum LeadTokenKind
{
	LT_WORD,					/* letters (and digits after letters: "b3", "petr4") */
	LT_NUMBER,					/* digits with separators: number holds the value */
	LT_CURRENCY,				/* "r$", "us$", "$", "eur" */
	LT_BREAK					/* . , ! ? ; : new line, emoji */
} LeadTokenKind;

typedef struct LeadToken
{
	LeadTokenKind kind;
	char		word[LEAD_WORD_MAX];	/* folded; the digits as typed for a number */
	double		number;
	bool		attached;		/* no space before it: "50k", "2anos" */
} LeadToken;

typedef struct LeadTokens
{
	LeadToken	tok[LEAD_MAX_TOKENS];
	int			n;
	int			questions;		/* question marks */
	bool		truncated;		/* longer than LEAD_MAX_TOKENS: read up to there */
} LeadTokens;

typedef enum LeadLanguage
{
	LEAD_LANG_PT,
	LEAD_LANG_ES,
	LEAD_LANG_EN
} LeadLanguage;

#define LEAD_LANG_PT_BIT (1 << LEAD_LANG_PT)
#define LEAD_LANG_ES_BIT (1 << LEAD_LANG_ES)
#define LEAD_LANG_EN_BIT (1 << LEAD_LANG_EN)
#define LEAD_LANG_ALL (LEAD_LANG_PT_BIT | LEAD_LANG_ES_BIT | LEAD_LANG_EN_BIT)

/* Tokenizes utf8 (NULL reads as empty). */
extern void lead_tokenize(const char *utf8, LeadTokens *out);

/*
 * The same, keeping accents (lower-cased, UTF-8): the words as the lead
 * wrote them, to say which word a hashed feature stands for.
 */
extern void lead_tokenize_surface(const char *utf8, LeadTokens *out);

/*
 * The message's language by counting function words that belong to one
 * language only ("você", "não" / "usted", "pero" / "the", "you"); a tie,
 * or none, is Portuguese (most leads write it).
 */
extern LeadLanguage lead_language_of(const LeadTokens *t);

/* The function words of each language found; returns their total (0: no clue). */
extern int	lead_language_votes(const LeadTokens *t, int votes[3]);

/* "pt", "es", "en"; and back (also "portuguese", "spanish", "english"). */
extern const char *lead_language_code(LeadLanguage lang);
extern bool lead_language_parse(const char *s, LeadLanguage *out);

#endif							/* ANTIBAN_LEAD_TEXT_H */
