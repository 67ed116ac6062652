/*
 * opt_out.h
 *		Does an inbound message ask to stop marketing?  Leads write in
 *		Portuguese, Spanish and English, with or without accents.
 */
#ifndef ANTIBAN_OPT_OUT_H
#define ANTIBAN_OPT_OUT_H

#include <stdbool.h>

/*
 * True for a short message that is a stop request ("PARAR", "não quero
 * mais", "darme de baja", "STOP", "stop promotions"...), compared without
 * case, accents, punctuation or extra spaces.  A longer sentence that merely
 * contains "pare" is not an opt-out: we do not guess.
 */
extern bool opt_out_text(const char *utf8);

#endif							/* ANTIBAN_OPT_OUT_H */
