/*
 * recipient.h
 *		Who a message goes to: an E.164 phone number or a business-scoped
 *		user id (BSUID, "US.13491208655302741918"), normalised and hashed.
 */
#ifndef ANTIBAN_RECIPIENT_H
#define ANTIBAN_RECIPIENT_H

#include <stddef.h>
#include <stdint.h>

/* A BSUID is at most 256 characters; a phone is far shorter. */
#define RECIPIENT_MAXLEN 256

typedef enum RecipientKind
{
	RECIPIENT_INVALID = 0,
	RECIPIENT_PHONE,
	RECIPIENT_BSUID
} RecipientKind;

/*
 * Normalise 'in' into 'out' (at least RECIPIENT_MAXLEN + 1 bytes): phones
 * become "+<digits>", BSUIDs are kept as given.  On RECIPIENT_INVALID, *why
 * names the problem in words a caller can act on.
 */
extern RecipientKind recipient_normalize(const char *in, char *out,
										 const char **why);
extern uint64_t recipient_hash(const char *normalized);
extern uint64_t hash_mix64(uint64_t h, uint64_t v);

#endif							/* ANTIBAN_RECIPIENT_H */
