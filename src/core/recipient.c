/*
 * recipient.c
 *		Recipient validation and hashing.
 *
 * Meta accepts "+", "-", "(", ")" and spaces in 'to', but a number without
 * the leading "+" gets the *business* number's country code prepended, which
 * can deliver to the wrong person.  So we require the "+" and strip the
 * punctuation; E.164 allows at most 15 digits and no leading zero.
 */
#include "recipient.h"

#include <stdbool.h>
#include <string.h>

#define E164_MIN_DIGITS 7
#define E164_MAX_DIGITS 15

static bool
is_phone_punctuation(char c)
{
	return c == ' ' || c == '-' || c == '(' || c == ')' || c == '.';
}

static RecipientKind
normalize_phone(const char *in, char *out, const char **why)
{
	int			ndigits = 0;

	out[0] = '+';
	for (const char *p = in + 1; *p; p++)
	{
		if (is_phone_punctuation(*p))
			continue;
		if (*p < '0' || *p > '9')
		{
			*why = "a phone number may hold only digits, spaces, \"-\", \"(\" and \")\" after the \"+\"";
			return RECIPIENT_INVALID;
		}
		if (ndigits == 0 && *p == '0')
		{
			*why = "an E.164 number starts with the country code, which never begins with 0";
			return RECIPIENT_INVALID;
		}
		if (ndigits >= E164_MAX_DIGITS)
		{
			*why = "an E.164 number has at most 15 digits";
			return RECIPIENT_INVALID;
		}
		out[++ndigits] = *p;
	}
	out[ndigits + 1] = '\0';
	if (ndigits < E164_MIN_DIGITS)
	{
		*why = "too few digits for an E.164 number with its country code";
		return RECIPIENT_INVALID;
	}
	return RECIPIENT_PHONE;
}

#define BSUID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789."

static bool
is_letter(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/*
 * BSUID: segments of letters and digits joined by single dots, the first
 * starting with a letter.  Meta writes "US.13491208655302741918" (country,
 * id), parent BSUIDs "US.ENT.11815799212886844830", and some payloads carry
 * the "user.<digits>" shape; it answers and matches them verbatim, so they
 * are kept as given.  A dot is required: a bare word is a typo, not an id.
 */
static RecipientKind
normalize_bsuid(const char *in, char *out, const char **why)
{
	size_t		len = strlen(in);

	if (len > RECIPIENT_MAXLEN)
	{
		*why = "a business-scoped user id has at most 256 characters";
		return RECIPIENT_INVALID;
	}
	/* anything else is most likely not meant as a BSUID at all: say what is expected */
	if (!is_letter(in[0]) || strspn(in, BSUID_CHARS) != len || strchr(in, '.') == NULL ||
		strstr(in, "..") != NULL || in[len - 1] == '.')
	{
		*why = "neither an E.164 phone number (\"+\" and country code) nor a business-scoped user id (\"CC.<id>\", letters and digits joined by single dots)";
		return RECIPIENT_INVALID;
	}
	memcpy(out, in, len + 1);
	return RECIPIENT_BSUID;
}

RecipientKind
recipient_normalize(const char *in, char *out, const char **why)
{
	*why = NULL;
	if (in == NULL || in[0] == '\0')
	{
		*why = "the recipient is empty";
		return RECIPIENT_INVALID;
	}
	if (in[0] == '+')
		return normalize_phone(in, out, why);
	if (in[0] >= '0' && in[0] <= '9')
	{
		*why = "a phone number must start with \"+\" and the country code; without it Meta would prepend the sending number's country code";
		return RECIPIENT_INVALID;
	}
	return normalize_bsuid(in, out, why);
}

/* splitmix64 finaliser: cheap and well distributed, good for table slots. */
uint64_t
hash_mix64(uint64_t h, uint64_t v)
{
	uint64_t	z = h ^ (v + UINT64_C(0x9e3779b97f4a7c15) + (h << 6) + (h >> 2));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* FNV-1a over the normalised text, then mixed. */
uint64_t
recipient_hash(const char *normalized)
{
	uint64_t	h = UINT64_C(0xcbf29ce484222325);

	for (const unsigned char *p = (const unsigned char *) normalized; *p; p++)
		h = (h ^ *p) * UINT64_C(0x100000001b3);
	return hash_mix64(h, 0);
}
