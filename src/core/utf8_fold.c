/*
 * utf8_fold.c
 *		UTF-8 walking and Latin-1 folding shared by the text readers.
 */
#include "utf8_fold.h"

static const char latin1[64] =
"aaaaaaaceeeeiiii"
"dnooooo*ouuuuyts"
"aaaaaaaceeeeiiii"
"dnooooo/ouuuuyty";

/* The least code point each sequence length may encode (shorter forms are overlong). */
static const unsigned min_code_point[5] = {0, 0, 0x80, 0x800, 0x10000};

int
utf8_decode(const unsigned char *p, size_t avail, unsigned *cp)
{
	int			n;

	if (avail == 0)
		return 0;
	if (p[0] < 0x80)
	{
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		n = 2;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		n = 3;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		n = 4;
	else
		return 0;
	if (avail < (size_t) n)
		return 0;
	*cp = p[0] & (0xFF >> (n + 1));
	for (int i = 1; i < n; i++)
	{
		if ((p[i] & 0xC0) != 0x80)	/* also stops at a terminating NUL */
			return 0;
		*cp = (*cp << 6) | (p[i] & 0x3F);
	}
	/*
	 * An overlong form ("\xE0\x80\x8D" for a carriage return) would let a
	 * byte hide from a reader that looks for it; surrogates and code points
	 * past U+10FFFF are not characters.  All are bad sequences.
	 */
	if (*cp < min_code_point[n] || (*cp >= 0xD800 && *cp <= 0xDFFF) || *cp > 0x10FFFF)
		return 0;
	return n;
}

int
utf8_next(const unsigned char *p, unsigned *cp)
{
	/* a NUL-terminated string: the NUL ends a short sequence */
	return p[0] < 0x80 ? 0 : utf8_decode(p, 4, cp);
}

char
latin1_fold(unsigned cp)
{
	return cp >= 0xC0 && cp <= 0xFF ? latin1[cp - 0xC0] : 0;
}

void
cut_letter_runs(char *w)
{
	char	   *o = w;

	for (const char *p = w; *p;)
	{
		const char *q = p;

		while (*q == *p)
			q++;
		*o++ = *p;
		if (q - p == 2)
			*o++ = *p;
		p = q;
	}
	*o = '\0';
}
