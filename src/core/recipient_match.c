/*
 * recipient_match.c
 *		Recipient equivalence: E.164 with or without "+", Brazil's ninth
 *		digit, BSUIDs compared exactly.
 *
 * A phone's key is the key of its normalised form (recipient.c): whatever
 * decide() and the send functions accept as a recipient, every rule that
 * reads the person (identity, consent, leads) reads the same way.
 *
 * Brazil added a ninth digit ("9") in front of every mobile number between
 * 2012 and 2016.  Mobile lines then began with 6, 7, 8 or 9; fixed lines
 * begin with 2 to 5 and never got the extra digit.  WhatsApp accounts made
 * before the change keep the eight-digit form as their wa_id, so
 * "+55 31 9 8888-0301" and Meta's "553188880301" are one line, while
 * "+55 11 4000-0001" (fixed) and "+55 11 9 4000-0001" are two.
 *
 * Mexico dropped the "1" it dialled before mobile numbers in 2019; WhatsApp
 * ids made before keep it ("5215512345678" for "+52 55 1234 5678").  With
 * ten national digits, "52" + "1" + ten digits can only be that old form
 * (libphonenumber formats it the same way).
 *
 * These are the two rewrites Meta is known to make in its answers; any other
 * difference between what we sent to and Meta's wa_id is linked from the
 * send answer itself (see the identity tables), not guessed here.
 */
#include "recipient_match.h"

#include "recipient.h"

#include <string.h>

#define E164_MIN_DIGITS 7
#define E164_MAX_DIGITS 15

/* 55 + area code (two digits, neither 0) + eight-digit subscriber number. */
#define BR_OLD_MOBILE_DIGITS 12
/* 52 + 1 + ten national digits. */
#define MX_OLD_MOBILE_DIGITS 13

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* An old-form Brazilian mobile: "55", DDD, then a subscriber starting 6-9. */
static bool
is_br_mobile_without_ninth_digit(const char *digits, size_t n)
{
	return n == BR_OLD_MOBILE_DIGITS && digits[0] == '5' && digits[1] == '5' &&
		digits[2] != '0' && digits[3] != '0' && digits[4] >= '6' && digits[4] <= '9';
}

/* An old-form Mexican mobile: "521" and ten national digits. */
static bool
is_mx_mobile_with_old_prefix(const char *digits, size_t n)
{
	return n == MX_OLD_MOBILE_DIGITS && digits[0] == '5' && digits[1] == '2' && digits[2] == '1';
}

/*
 * "+" and 7 to 15 digits (what recipient_normalize makes of a phone) ->
 * the key: Brazil's ninth digit restored, Mexico's "1" dropped.
 */
static void
phone_key(const char *normalized, char *out)
{
	const char *digits = normalized + 1;
	size_t		n = strlen(digits);

	out[0] = '+';
	if (is_br_mobile_without_ninth_digit(digits, n))
	{
		memcpy(out + 1, digits, 4);
		out[5] = '9';
		memcpy(out + 6, digits + 4, n - 4);
		out[n + 2] = '\0';
	}
	else if (is_mx_mobile_with_old_prefix(digits, n))
	{
		memcpy(out + 1, "52", 2);
		memcpy(out + 3, digits + 3, n - 3);
		out[n] = '\0';
	}
	else
	{
		memcpy(out + 1, digits, n);
		out[n + 1] = '\0';
	}
}

/*
 * Meta's form of a phone: digits only, no "+".  It names the number "+" and
 * those digits names, so it is read by the same rule (recipient_normalize);
 * punctuation is not Meta's, and a formatted number without "+" is the
 * ambiguous local form recipient_normalize refuses.
 */
static bool
meta_phone_normalize(const char *in, char *normalized, const char **why)
{
	char		plus[E164_MAX_DIGITS + 2];
	size_t		n = 0;

	while (n <= E164_MAX_DIGITS && is_digit(in[n]))
		n++;
	if (in[n] != '\0' && !is_digit(in[n]))
	{
		*why = "a phone number without \"+\" is read only as Meta writes it, digits and nothing else";
		return false;
	}
	if (n > E164_MAX_DIGITS)
	{
		*why = "an E.164 number has at most 15 digits";
		return false;
	}
	plus[0] = '+';
	memcpy(plus + 1, in, n + 1);
	return recipient_normalize(plus, normalized, why) == RECIPIENT_PHONE;
}

bool
recipient_match_key_why(const char *in, char *out, const char **why)
{
	char		normalized[RECIPIENT_MAXLEN + 1];
	size_t		len;

	*why = NULL;
	if (in == NULL || in[0] == '\0')
	{
		*why = "the identifier is empty";
		return false;
	}
	/* what looks like a phone is read as one (the key of its normalised form), or not at all */
	if (in[0] == '+' || is_digit(in[0]))
	{
		if (in[0] == '+' ? recipient_normalize(in, normalized, why) != RECIPIENT_PHONE
			: !meta_phone_normalize(in, normalized, why))
			return false;
		phone_key(normalized, out);
		return true;
	}
	len = strnlen(in, RECIPIENT_KEY_SIZE);
	if (len >= RECIPIENT_KEY_SIZE)
	{
		*why = "a business-scoped user id has at most 256 characters";
		return false;
	}
	memcpy(out, in, len + 1);
	return true;
}

bool
recipient_match_key(const char *in, char *out)
{
	const char *why;

	return recipient_match_key_why(in, out, &why);
}

bool
recipient_person_key(const char *in, char *out, const char **why)
{
	char		bsuid[RECIPIENT_MAXLEN + 1];

	if (!recipient_match_key_why(in, out, why))
		return false;
	/* a BSUID becomes a person only if it is well formed (recipient_normalize says why not) */
	return out[0] == '+' || recipient_normalize(in, bsuid, why) == RECIPIENT_BSUID;
}

bool
recipient_same(const char *a, const char *b)
{
	char		ka[RECIPIENT_KEY_SIZE];
	char		kb[RECIPIENT_KEY_SIZE];

	return recipient_match_key(a, ka) && recipient_match_key(b, kb) && strcmp(ka, kb) == 0;
}
