/*
 * text_lint.c
 *		Lint rules over one text (see template_lint.h).  Words are matched on
 *		a folded copy: lower case, Latin-1 letters without accents ("cartão"
 *		-> "cartao"), other non-ASCII as spaces, so Portuguese, Spanish and
 *		English are read alike.
 *
 * Sensitive requests follow WhatsApp's Business Policy ("do not request
 * sensitive identifiers ... full payment card numbers, financial account
 * numbers, national identification numbers"; partial identifiers such as
 * the last 4 digits are allowed): a sentence that names such a datum and
 * asks for it (a request verb, a need -- "preciso do", "me passa" --, "por
 * favor" or a question mark) without a negation ("nunca pedimos sua
 * senha").  A CVV is never asked for a good reason: named without a
 * negation, it is flagged.  Letters spelled out one by one ("C.P.F.",
 * "s e n h a") are read as the word.  Shorteners: reported to cause rejection and
 * low quality (unverified in Meta's docs).
 */
#include "text_lint.h"
#include "template_vars.h"
#include "utf8_fold.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
lint_add(LintReport *r, LintSeverity s, const char *rule, const char *location, const char *fmt,...)
{
	LintFinding *f;
	va_list		ap;

	if (r->n == LINT_MAX_FINDINGS)
	{
		r->truncated = true;
		return;
	}
	f = &r->f[r->n++];
	f->severity = s;
	f->rule = rule;
	snprintf(f->location, sizeof(f->location), "%s", location);
	va_start(ap, fmt);
	vsnprintf(f->message, sizeof(f->message), fmt, ap);
	va_end(ap);
}

/* A folded copy of len bytes (out: len + 1 bytes). */
static char *
fold(const char *s, long len)
{
	char	   *out = malloc((size_t) len + 1);
	long		n = 0;

	if (out == NULL)
		return NULL;
	for (long i = 0; i < len;)
	{
		unsigned	cp;
		int			k = utf8_at(s, i, len, &cp);

		if (cp == '\0')
			out[n++] = ' ';		/* a NUL would end the folded string */
		else if (cp < 0x80)
			out[n++] = (cp >= 'A' && cp <= 'Z') ? (char) (cp - 'A' + 'a') : (char) cp;
		else if (latin1_fold(cp) >= 'a' && latin1_fold(cp) <= 'z')
			out[n++] = latin1_fold(cp);
		else
			out[n++] = ' ';
		i += k;
	}
	out[n] = '\0';
	return out;
}

static bool
word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/*
 * Does s[from, to) hold the phrase as whole words?  A trailing '*' in the
 * phrase matches any ending ("descadastr*").
 */
static bool
has_phrase(const char *s, long from, long to, const char *phrase)
{
	size_t		n = strlen(phrase);
	bool		prefix = n > 0 && phrase[n - 1] == '*';

	if (prefix)
		n--;
	for (long i = from; i + (long) n <= to; i++)
	{
		if (strncmp(s + i, phrase, n) != 0)
			continue;
		if (i > from && word_char(s[i - 1]))
			continue;
		if (!prefix && i + (long) n < to && word_char(s[i + n]))
			continue;
		return true;
	}
	return false;
}

static const char *
any_phrase(const char *s, long from, long to, const char *const *list)
{
	for (int i = 0; list[i]; i++)
		if (has_phrase(s, from, to, list[i]))
			return list[i];
	return NULL;
}

/* ---- sensitive requests ---- */

typedef struct Sensitive
{
	const char *what;
	const char *const *words;
} Sensitive;

static const char *const card_words[] = {
	"numero do cartao", "numero do seu cartao", "numero de cartao", "numeros do cartao",
	"dados do cartao", "dados do seu cartao", "card number", "credit card number", "card details",
	"numero de tarjeta", "numero de la tarjeta", "numero de su tarjeta", "datos de la tarjeta",
	"datos de su tarjeta", "cvv", "cvc", "codigo de seguranca", "codigo de seguridad", "security code",
	NULL
};
static const char *const password_words[] = {
	"senha", "password", "contrasena", "clave", "pin", "passcode", NULL
};
static const char *const national_id_words[] = {
	"cpf", "rg", "ssn", "social security", "dni", "curp", "documento de identidade",
	"numero de identidade", "numero de identificacion", "national id", NULL
};
static const Sensitive sensitive[] = {
	{"a payment card number", card_words},
	{"a password", password_words},
	{"a national id number", national_id_words},
};

static const char *const request_words[] = {
	"envie", "enviar", "envia", "mande", "mandar", "manda", "informe", "informar", "informa",
	"digite", "digitar", "responda", "responder", "confirme", "confirmar", "preencha", "forneca",
	"fornecer", "compartilhe", "compartilhar", "passe", "passa", "passar", "qual", "quais",
	/* a need or an ask without an imperative: "preciso do numero do cartao", "me fala a senha" */
	"preciso", "precisamos", "precisa", "necessito", "necessitamos", "solicito", "solicitamos",
	"solicite", "pedimos", "peco", "diga", "diz", "fala", "falar", "mostre", "insira", "inserir",
	"coloque", "cadastre", "por favor", "pfv",
	"send", "reply", "enter", "provide", "share", "confirm", "type", "tell", "what",
	"ingresa", "ingrese", "envianos", "comparte", "compartir", "proporciona", "proporcione",
	"escribe", "escriba", "indique", "indica", "cual", "cuales", NULL
};
static const char *const negations[] = {
	"nunca", "jamais", "nao", "never", "not", "dont", "don t", "do not", "ni", NULL
};
/* partial identifiers are allowed by the policy */
static const char *const partial_words[] = {
	"ultimos", "ultimo", "finais", "final", "primeiros", "last", "ultimos digitos", NULL
};

/* a CVV has no use but fraud: named without a negation is enough */
static const char *const always_requested[] = {"cvv", "cvc", NULL};

static bool
letter(char c)
{
	return c >= 'a' && c <= 'z';
}

/*
 * A copy of the folded text with words spelled out letter by letter joined:
 * "c.p.f.", "c. p. f", "s e n h a", "s-e-n-h-a" (three letters or more, each
 * a word of its own) read as "cpf", "senha".  A dot right after the last
 * letter goes with it ("c.p.f.?" is one question).
 */
static char *
join_spelled(const char *f, long len)
{
	char	   *out = malloc((size_t) len + 1);
	long		n = 0;

	if (out == NULL)
		return NULL;
	for (long i = 0; i < len;)
	{
		long		j = i;
		long		last_end = i;
		int			letters = 0;

		if (letter(f[i]) && (i == 0 || !word_char(f[i - 1])))
			while (j < len && letter(f[j]) && (j + 1 >= len || !word_char(f[j + 1])))
			{
				letters++;
				last_end = ++j;
				while (j < len && (f[j] == '.' || f[j] == ' ' || f[j] == '-'))
					j++;
			}
		if (letters < 3)
		{
			out[n++] = f[i++];
			continue;
		}
		/* an article or "e" before the spelled word ("a s e n h a") stays a word */
		if (letters > 3 && strchr("aeo", f[i]))
		{
			out[n++] = f[i++];
			while (i < len && !letter(f[i]))
				out[n++] = f[i++];
			continue;
		}
		for (long k = i; k < last_end; k++)
			if (letter(f[k]))
				out[n++] = f[k];
		i = last_end < len && f[last_end] == '.' ? last_end + 1 : last_end;
	}
	out[n] = '\0';
	return out;
}

static void
sensitive_requests(const char *folded, long folded_len, const char *location, LintReport *r)
{
	long		start = 0;
	char	   *f = join_spelled(folded, folded_len);
	long		len;

	if (f == NULL)
		return;
	len = (long) strlen(f);

	for (long i = 0; i <= len; i++)
	{
		bool		question;

		if (i < len && !strchr(".!?;:\n", f[i]))
			continue;
		question = i < len && f[i] == '?';
		for (size_t k = 0; k < sizeof(sensitive) / sizeof(sensitive[0]); k++)
		{
			const char *hit = any_phrase(f, start, i, sensitive[k].words);

			if (hit && (question || any_phrase(f, start, i, request_words) ||
						any_phrase(f, start, i, always_requested)) &&
				!any_phrase(f, start, i, negations) && !any_phrase(f, start, i, partial_words))
			{
				lint_add(r, LINT_ERROR, "sensitive_data_request", location,
						 "asks for %s (\"%s\"); WhatsApp's Business Policy forbids requesting it (a partial identifier, such as the last 4 digits, is allowed)",
						 sensitive[k].what, hit);
				free(f);
				return;
			}
		}
		start = i + 1;
	}
	free(f);
}

/* ---- shorteners ---- */

static const char *const shorteners[] = {
	"bit.ly", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "is.gd", "buff.ly", "cutt.ly", "rebrand.ly",
	"shorturl.at", "rb.gy", "t.ly", "tiny.cc", "bl.ink", "s.id", "encurtador.com.br", "abre.ai",
	"migre.me", "lnkd.in", "short.gy", "v.gd", NULL
};

static void
link_shorteners(const char *f, long len, const char *location, LintReport *r)
{
	for (int k = 0; shorteners[k]; k++)
	{
		size_t		n = strlen(shorteners[k]);

		for (long i = 0; i + (long) n <= len; i++)
		{
			char		after = i + (long) n < len ? f[i + n] : ' ';

			if (strncmp(f + i, shorteners[k], n) != 0 ||
				(i > 0 && (word_char(f[i - 1]) || f[i - 1] == '.' || f[i - 1] == '-')) ||
				word_char(after) || after == '.' || after == '-')
				continue;
			lint_add(r, LINT_WARNING, "link_shortener", location,
					 "links through %s; shortened links are a common cause of rejection and low quality: link to your own domain",
					 shorteners[k]);
			return;
		}
	}
}

/* ---- opt-out hints ---- */

static const char *const opt_out_words[] = {
	"sair", "parar", "pare", "stop", "cancelar", "cancele", "descadastr*", "unsubscribe", "opt out",
	"optout", "baja", "nao receber", "nao quero receber", "deixar de receber", "no recibir",
	"dejar de recibir", "remover", "remove me", "unsub", NULL
};

bool
lint_has_opt_out(const char *text, long len)
{
	char	   *f = fold(text, len);
	bool		found;

	if (f == NULL)
		return true;			/* out of memory: say nothing */
	for (char *p = f; *p; p++)
		if (*p == '-')
			*p = ' ';			/* opt-out */
	found = any_phrase(f, 0, (long) strlen(f), opt_out_words) != NULL;
	free(f);
	return found;
}

/* ---- shouting ---- */

static bool
emoji(unsigned cp)
{
	return (cp >= 0x1F000 && cp <= 0x1FAFF && !(cp >= 0x1F3FB && cp <= 0x1F3FF)) ||
		(cp >= 0x2600 && cp <= 0x27BF) || (cp >= 0x2B00 && cp <= 0x2BFF);
}

/* joiners, variation selectors and skin tones continue an emoji */
static bool
emoji_part(unsigned cp)
{
	return cp == 0x200D || cp == 0xFE0F || (cp >= 0x1F3FB && cp <= 0x1F3FF);
}

static void
shouting(const char *s, long len, const char *location, LintReport *r)
{
	long		upper = 0,
				lower = 0,
				emojis = 0,
				run = 0,
				longest = 0;

	for (long i = 0; i < len;)
	{
		unsigned	cp;

		i += utf8_at(s, i, len, &cp);
		if ((cp >= 'A' && cp <= 'Z') || (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7))
			upper++;
		else if ((cp >= 'a' && cp <= 'z') || (cp >= 0xDF && cp <= 0xFF && cp != 0xF7))
			lower++;
		if (emoji(cp))
		{
			emojis++;
			if (++run > longest)
				longest = run;
		}
		else if (!emoji_part(cp) && cp != ' ')
			run = 0;
	}
	if (upper + lower >= 20 && upper * 10 >= (upper + lower) * 7)
		lint_add(r, LINT_WARNING, "all_caps", location,
				 "is %ld%% capital letters; text in all caps reads as shouting and is reported more often",
				 upper * 100 / (upper + lower));
	if (emojis > 10 || longest >= 4)
		lint_add(r, LINT_WARNING, "emoji_flood", location,
				 "holds %ld emoji (%ld in a row); a flood of emoji reads as spam", emojis, longest);
}

void
lint_text_part(const char *text, long len, const char *category, const char *location, LintReport *r)
{
	char	   *f = fold(text, len);

	if (f == NULL)
		return;
	link_shorteners(f, (long) strlen(f), location, r);
	if (strcmp(category, "authentication") != 0)
		sensitive_requests(f, (long) strlen(f), location, r);
	shouting(text, len, location, r);
	free(f);
}
