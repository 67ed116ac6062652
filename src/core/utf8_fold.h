/*
 * utf8_fold.h
 *		How the readers of what leads type (the stop-request classifier, the
 *		lead model's fit signals) walk UTF-8 and fold it: one code point at
 *		a time without reading past a bad sequence, Latin-1 letters to ASCII,
 *		runs of a letter cut ("PARAAAA", "muuuito").
 */
#ifndef ANTIBAN_UTF8_FOLD_H
#define ANTIBAN_UTF8_FOLD_H

#include <stddef.h>

/*
 * Length of the well-formed UTF-8 sequence (RFC 3629) at p, within avail
 * bytes, and its code point; 0 if there is none (truncated, overlong, a
 * surrogate, past U+10FFFF, a stray continuation byte).  ASCII is 1.
 */
extern int	utf8_decode(const unsigned char *p, size_t avail, unsigned *cp);

/* The same for a multibyte sequence in a NUL-terminated string; 0 for ASCII too. */
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
