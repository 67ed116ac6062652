/*
 * calling_code.h
 *		The country of a phone number from its calling code: the longest
 *		E.164 prefix that names a country (ISO 3166-1 alpha-2).
 *
 * Meta prices a message by the recipient's calling code and reports
 * pricing_analytics per ISO country, so this is all pricing needs: a
 * number's validity or line type (libphonenumber's strengths) does not
 * change what a delivered message cost.  Shared codes are split the way
 * the ITU assigns them: +1 by North American area code (Canada, the
 * Caribbean, the US territories; the rest is the United States) and +7 by
 * its next digit (6 and 7: Kazakhstan; the rest: Russia).
 */
#ifndef ANTIBAN_CALLING_CODE_H
#define ANTIBAN_CALLING_CODE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The country of 'number' ("+5511987654321", "5511987654321", spaces and
 * punctuation ignored), or NULL when no calling code matches.  *code_len,
 * when given, receives how many digits the matched prefix had (1 for "+1",
 * 4 for "+1809").
 */
extern const char *calling_code_country(const char *number, int *code_len);

/* Is the number in the North American Numbering Plan (+1)? */
extern bool calling_code_is_nanp(const char *number);

/* Is the table in bsearch order?  (A unit test asks.) */
extern bool calling_code_table_sorted(void);

#endif							/* ANTIBAN_CALLING_CODE_H */
