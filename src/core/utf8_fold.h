/*
 * utf8_fold.h
 *		How the readers of what leads type (the stop-request classifier, the
 *		lead model's fit signals) walk UTF-8 and fold it: one code point at
 *		a time without reading past a bad sequence, Latin-1 letters to ASCII,
 *		runs of a letter cut ("PARAAAA", "muuuito").
 */
#ifndef ANTIBAN_UTF8_FOLD_H
#define ANTIBAN_UTF8_FOLD_H

/*
 * Length of a well-formed UTF-8 sequence at p and its code point; 0 if not
 * (a truncated or overlong sequence, a surrogate, past U+10FFFF).
 */
extern int	utf8_next(const unsigned char *p, unsigned *cp);

/*
 * The ASCII letter of a Latin-1 letter (U+00C0-U+00FF): 'a' for 'Ã', 'c'
 * for 'ç'; '*' and '/' for the multiplication and division signs; 0 for
 * any other code point.
 */
extern char latin1_fold(unsigned cp);

/* "paraaaa" -> "para", "kkkk" -> "k": runs of three or more cut to one; doubles stay. */
extern void cut_letter_runs(char *w);

#endif							/* ANTIBAN_UTF8_FOLD_H */
