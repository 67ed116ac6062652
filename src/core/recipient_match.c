/*
 * recipient_match.c
 *		Recipient equivalence: E.164 with or without "+", Brazil's ninth
 *		digit, BSUIDs compared exactly.
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

/* "+"? digits{7,15} -> "+<digits>", Brazil's ninth digit restored, Mexico's "1" dropped. */
static bool
phone_key(const char *in, char *out)
{
	const char *digits = in[0] == '+' ? in + 1 : in;
	size_t		n = 0;

	while (n <= E164_MAX_DIGITS && is_digit(digits[n]))
		n++;
	if (digits[n] != '\0' || n < E164_MIN_DIGITS || n > E164_MAX_DIGITS)
		return false;
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
	return true;
}

bool
recipient_match_key(const char *in, char *out)
{
	size_t		len;

	if (in == NULL || in[0] == '\0')
		return false;
	/* what looks like a phone is compared as one, or not at all */
	if (in[0] == '+' || is_digit(in[0]))
		return phone_key(in, out);
	len = strnlen(in, RECIPIENT_KEY_SIZE);
	if (len >= RECIPIENT_KEY_SIZE)
		return false;
	memcpy(out, in, len + 1);
	return true;
}

bool
recipient_same(const char *a, const char *b)
{
	char		ka[RECIPIENT_KEY_SIZE];
	char		kb[RECIPIENT_KEY_SIZE];

	return recipient_match_key(a, ka) && recipient_match_key(b, kb) && strcmp(ka, kb) == 0;
}
