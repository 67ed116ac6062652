/*
 * lead_signals.h
 *		Fit signals read from what a lead writes: the products they ask
 *		about, how much money and for how long, what they want to do next,
 *		and the objections that make a lead a poor fit.
 *
 * Phrases, not single keywords, in Portuguese, Spanish and English as
 * people type them on WhatsApp (folded accents, "vc", "pra", typos that
 * are common enough: "cbd" for CDB, "acessor").  Amounts are parsed
 * ("R$ 50 mil", "50k", "US$ 10.000", "cinquenta mil", "meio milhão",
 * "1kk") and bucketed in reais; horizons ("2 anos", "longo prazo") in
 * three lengths.  The words a model learns on its own come from the
 * hashed lexemes; these rules exist so that a model trained on a few
 * hundred conversations already knows what "R$ 50 mil" or "só
 * curiosidade" mean, and so that its reasons can be said in words.
 */
#ifndef ANTIBAN_LEAD_SIGNALS_H
#define ANTIBAN_LEAD_SIGNALS_H

#include "lead_text.h"
#include "lead_vector.h"

/* at most this many fit entries per message */
#define LEAD_FIT_MAX 48

/*
 * Appends one entry (value 1) per fit signal found in a message (its
 * tokens) to out (room for LEAD_FIT_MAX).  Returns how many.
 */
extern int	lead_fit_signals(const LeadTokens *t, LeadLanguage lang, LeadEntry *out);

/* The largest amount of money in the message, in reais; 0 if none. */
extern double lead_amount_brl(const LeadTokens *t, LeadLanguage lang);

/* The amount bucket feature of an amount in reais (0 for none). */
extern int	lead_amount_feature(double brl);

/* The longest investment horizon stated with a number, in months; 0 if none. */
extern double lead_horizon_months(const LeadTokens *t);

/* The horizon feature of a number of months (0 for none). */
extern int	lead_horizon_feature(double months);

/* NULL if every phrase of the lexicon is well formed, else the first bad one. */
extern const char *lead_lexicon_check(void);

#endif							/* ANTIBAN_LEAD_SIGNALS_H */
