/*
 * opt_out.c
 *		Stop-request keywords, matched on a folded form of the message.
 */
#include "opt_out.h"

#include <string.h>

#define FOLDED_MAX 64

static const char *const stop_phrases[] = {
	/* Portuguese */
	"parar", "pare", "sair", "cancelar", "descadastrar", "descadastre", "remover",
	"nao quero", "nao quero mais", "nao tenho interesse", "parar promocoes",
	"parar de receber", "nao envie mais", "pare de enviar", "chega",
	/* Spanish */
	"baja", "darme de baja", "dar de baja", "no quiero", "no quiero mas", "no me interesa",
	"detener", "cancelar suscripcion", "no enviar mas", "basta",
	/* English */
	"stop", "unsubscribe", "stop promotions", "stop promo", "opt out", "optout", "no more", "remove me",
	"stop all", "cancel",
};

/* Two-byte UTF-8 Latin-1 letters with accents, folded to ASCII. */
static char
fold_latin1(unsigned char c)
{
	static const char map[64] =
	"AAAAAAACEEEEIIII"			/* 0xC0 - 0xCF */
	"DNOOOOO*OUUUUYTs"			/* 0xD0 - 0xDF */
	"aaaaaaaceeeeiiii"			/* 0xE0 - 0xEF */
	"dnooooo/ouuuuyty";			/* 0xF0 - 0xFF */

	return c >= 0xC0 ? map[c - 0xC0] : ' ';
}

/* Lower-case ASCII letters and digits, single spaces, nothing else. */
static bool
fold(const char *in, char *out)
{
	size_t		n = 0;
	bool		space = true;

	for (const unsigned char *p = (const unsigned char *) in; *p; p++)
	{
		char		c;

		if (*p == 0xC3 && p[1])
			c = fold_latin1((unsigned char) (*++p + 0x40));
		else if (*p >= 0x80)
			c = ' ';			/* emoji and other scripts: separators */
		else
			c = (char) *p;
		if (c >= 'A' && c <= 'Z')
			c = (char) (c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			c = ' ';
		if (c == ' ' && space)
			continue;
		if (n + 1 >= FOLDED_MAX)
			return false;		/* too long to be a bare stop request */
		out[n++] = c;
		space = c == ' ';
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
	return true;
}

bool
opt_out_text(const char *utf8)
{
	char		folded[FOLDED_MAX];

	if (utf8 == NULL || !fold(utf8, folded))
		return false;
	for (size_t i = 0; i < sizeof(stop_phrases) / sizeof(stop_phrases[0]); i++)
		if (strcmp(folded, stop_phrases[i]) == 0)
			return true;
	return false;
}
