/*
 * phone_time_zone.h
 *		The time zone a phone number's owner most likely lives in, from the
 *		number alone: an IANA zone name, or NULL when the number does not
 *		tell (a country spanning several zones that we do not split).
 *
 * Brazil spans four UTC offsets (-2 to -5), split here by area code (DDD,
 * the two digits after +55), from ANATEL's area-code plan and the IANA
 * tz database's zone boundaries.  Other countries map to their zone when
 * they have one, or one that covers nearly all their people.  A mobile
 * number travels with its owner: this is a guess, used only when the
 * person's own zone is not known.
 *
 * Debian's libphonenumber (8.12.57, C++) was the first choice, but its C++
 * port has no PhoneNumberToTimeZonesMapper (only Java's has one); its
 * offline geocoder names places, not zones, so a table would still be
 * needed after it (see README, "Consent and contact policy").
 */
#ifndef ANTIBAN_PHONE_TIME_ZONE_H
#define ANTIBAN_PHONE_TIME_ZONE_H

/* 'number' in E.164 ("+5511987654321", "+" optional); NULL when unknown or not a phone. */
extern const char *phone_time_zone(const char *number);

/* Brazil's zone for an area code (11..99), or NULL for an unassigned one. */
extern const char *brazil_ddd_time_zone(int ddd);

#endif							/* ANTIBAN_PHONE_TIME_ZONE_H */
