/*
 * recipient_match.h
 *		Do two recipient identifiers name the same WhatsApp user?
 *
 * Meta writes a phone as bare digits (wa_id, recipient_id "5511987650001"),
 * we keep it as E.164 ("+5511987650001"), and in Brazil Meta's wa_id often
 * lacks the mobile ninth digit ("553188880301" for "+5531988880301"), and in
 * Mexico keeps the old mobile "1" ("5215512345678" for "+525512345678").
 * Business-scoped user ids (BSUIDs, "BR.8675309abc") are opaque: equal or
 * not.  The key is what identifies a person's identifier everywhere (shared
 * memory, antiban.person_ids); links that no rule can see (a BSUID and a
 * phone, a changed number) are kept as data on top of it (src/pg/identity.c).
 */
#ifndef ANTIBAN_RECIPIENT_MATCH_H
#define ANTIBAN_RECIPIENT_MATCH_H

#include <stdbool.h>
#include <stddef.h>

/* Room for the longest key: a 256-character BSUID, or "+" and 15 digits. */
#define RECIPIENT_KEY_SIZE 257

/*
 * The comparison key of an identifier, in 'out' (RECIPIENT_KEY_SIZE bytes).
 * A phone is keyed by its normalised form (recipient_normalize: "+", the
 * digits, any spaces, "-", "(", ")" or "." between them dropped), or, as
 * Meta writes it, by bare digits and nothing else; it becomes "+<digits>",
 * a Brazilian mobile written without its ninth digit gaining it and a
 * Mexican mobile written with the old "1" losing it.  Anything else (a
 * BSUID) is kept as given.  False (no key) for NULL, "", something that
 * starts like a phone but is not one (*why says why), or an identifier too
 * long to be a BSUID.
 */
extern bool recipient_match_key(const char *in, char *out);
extern bool recipient_match_key_why(const char *in, char *out, const char **why);

/*
 * The key of an identifier that may name a person (antiban.person_ids): a
 * phone as above, or a well-formed BSUID (recipient_normalize).  False, with
 * *why in words a caller can act on, for anything else.
 */
extern bool recipient_person_key(const char *in, char *out, const char **why);

/* Same user as far as the strings tell: both have a key and the keys are equal. */
extern bool recipient_same(const char *a, const char *b);

#endif							/* ANTIBAN_RECIPIENT_MATCH_H */
