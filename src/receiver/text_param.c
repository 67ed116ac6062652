/*
 * text_param.c — antiban-receiver: the verify token and the signature
 * header, checked before they travel to the database as text.
 */
#include "config.h"
#include "text_param.h"

#include <stddef.h>

/* Length of the UTF-8 sequence at s, or 0 if it is not a valid one. */
static int
utf8_sequence(const unsigned char *s)
{
	static const unsigned int min_code[] = {0, 0, 0x80, 0x800, 0x10000};
	unsigned int cp;
	int			n;

	if (s[0] < 0x80)
		return 1;
	n = (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
	if (n == 0)
		return 0;
	cp = s[0] & (0x7f >> n);
	for (int i = 1; i < n; i++)
	{
		/* stops at a NUL before reading past it */
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min_code[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

bool
text_param_ok(const char *str)
{
	const unsigned char *s = (const unsigned char *) str;
	size_t		len = 0;

	if (!s || !*s)
		return false;
	while (*s)
	{
		int			n = utf8_sequence(s);

		if (n == 0 || *s < 0x20 || *s == 0x7f || (len += n) > MAX_TEXT_PARAM)
			return false;
		s += n;
	}
	return true;
}
