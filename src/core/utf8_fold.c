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

int
utf8_next(const unsigned char *p, unsigned *cp)
{
	int			n;

	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		n = 2;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		n = 3;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		n = 4;
	else
		return 0;
	*cp = p[0] & (0xFF >> (n + 1));
	for (int i = 1; i < n; i++)
	{
		if ((p[i] & 0xC0) != 0x80)	/* also stops at the terminating NUL */
			return 0;
		*cp = (*cp << 6) | (p[i] & 0x3F);
	}
	return n;
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
