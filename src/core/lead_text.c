/*
 * lead_text.c
 *		UTF-8 text to folded words, numbers and currency marks; the
 *		message's language.
 */
#include "lead_text.h"

#include <stdlib.h>
#include <string.h>

#include "utf8_fold.h"

typedef enum Current
{
	CUR_NONE,
	CUR_WORD,
	CUR_NUMBER
} Current;

typedef struct Builder
{
	LeadTokens *out;
	Current		cur;
	char		buf[LEAD_WORD_MAX];
	int			len;
	bool		attached;		/* the token being built touches the previous one */
	bool		glued;			/* nothing separates the next token from the last */
	bool		keep_accents;	/* lower case only: "ações" stays "ações" */
} Builder;

/*
 * "50.000,00" and "50,000.00": the last of two different separators is the
 * decimal one; one kind repeated groups thousands; a single separator
 * followed by exactly three digits groups thousands ("10.000", "2,500"),
 * otherwise it is decimal ("1,5", "2.75").
 */
static double
parse_number(const char *s)
{
	const char *last_dot = strrchr(s, '.');
	const char *last_comma = strrchr(s, ',');
	const char *decimal = NULL;
	char		clean[LEAD_WORD_MAX];
	int			n = 0;

	if (last_dot && last_comma)
		decimal = last_dot > last_comma ? last_dot : last_comma;
	else if (last_dot || last_comma)
	{
		const char *sep = last_dot ? last_dot : last_comma;
		bool		repeated = strchr(s, *sep) != sep;

		if (!repeated && strlen(sep + 1) != 3)
			decimal = sep;
	}
	for (const char *p = s; *p && n < LEAD_WORD_MAX - 1; p++)
	{
		if (p == decimal)
			clean[n++] = '.';
		else if (*p >= '0' && *p <= '9')
			clean[n++] = *p;
	}
	clean[n] = '\0';
	return strtod(clean, NULL);
}

static LeadToken *
new_token(Builder *b, LeadTokenKind kind)
{
	LeadTokens *o = b->out;
	LeadToken  *t;

	if (o->n == LEAD_MAX_TOKENS)
	{
		o->truncated = true;
		return NULL;
	}
	t = &o->tok[o->n++];
	memset(t, 0, sizeof(*t));
	t->kind = kind;
	return t;
}

/* Ends the word or number being built; the next token touches it. */
static void
finish(Builder *b)
{
	LeadToken  *t;

	if (b->cur == CUR_NONE)
		return;
	b->buf[b->len] = '\0';
	t = new_token(b, b->cur == CUR_WORD ? LT_WORD : LT_NUMBER);
	if (t)
	{
		if (b->cur == CUR_WORD)
			cut_letter_runs(b->buf);
		else
			t->number = parse_number(b->buf);
		memcpy(t->word, b->buf, b->len + 1);
		t->attached = b->attached;
	}
	b->cur = CUR_NONE;
	b->len = 0;
	b->glued = true;
}

static void
separate(Builder *b)
{
	finish(b);
	b->glued = false;
}

static void
emit(Builder *b, LeadTokenKind kind, const char *word)
{
	LeadToken  *t;

	finish(b);
	if (kind == LT_BREAK && (b->out->n == 0 || b->out->tok[b->out->n - 1].kind == LT_BREAK))
	{
		b->glued = false;
		return;
	}
	t = new_token(b, kind);
	if (t)
	{
		strcpy(t->word, word);
		t->attached = b->glued;
	}
	b->glued = kind != LT_BREAK;
}

static void
add(Builder *b, Current kind, char c)
{
	if (b->cur != kind)
	{
		bool		touching = b->cur != CUR_NONE || b->glued;

		finish(b);
		b->cur = kind;
		b->attached = touching;
	}
	if (b->len < LEAD_WORD_MAX - 1)
		b->buf[b->len++] = c;
}

/* "R$", "US$", "U$": the letters before a dollar sign name the currency. */
static void
dollar(Builder *b)
{
	if (b->cur == CUR_WORD)
	{
		b->buf[b->len] = '\0';
		if (strcmp(b->buf, "r") == 0 || strcmp(b->buf, "us") == 0 || strcmp(b->buf, "u") == 0)
		{
			const char *name = b->buf[0] == 'r' ? "r$" : "us$";

			b->cur = CUR_NONE;
			b->len = 0;
			emit(b, LT_CURRENCY, name);
			return;
		}
	}
	emit(b, LT_CURRENCY, "$");
}

static void
read_ascii(Builder *b, const char *p)
{
	char		c = *p;

	if (c >= 'A' && c <= 'Z')
		add(b, CUR_WORD, (char) (c - 'A' + 'a'));
	else if (c >= 'a' && c <= 'z')
		add(b, CUR_WORD, c);
	else if (c >= '0' && c <= '9')
		add(b, b->cur == CUR_WORD ? CUR_WORD : CUR_NUMBER, c);
	else if ((c == '.' || c == ',') && b->cur == CUR_NUMBER && p[1] >= '0' && p[1] <= '9')
		add(b, CUR_NUMBER, c);
	else if (c == '$')
		dollar(b);
	else if (c == '%')
		emit(b, LT_WORD, "%");
	else if (c == '\'' || c == '`')
		return;					/* don't -> dont */
	else if (c == '?')
	{
		emit(b, LT_BREAK, ",");
		b->out->questions++;
	}
	else if (strchr(".,!;:\n\r()[]", c))
		emit(b, LT_BREAK, ",");
	else
		separate(b);
}

/* A Latin-1 letter in lower case, as UTF-8 (two bytes). */
static void
add_accented(Builder *b, unsigned cp)
{
	if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7)
		cp += 0x20;
	add(b, CUR_WORD, (char) (0xC0 | (cp >> 6)));
	add(b, CUR_WORD, (char) (0x80 | (cp & 0x3F)));
}

static void
read_wide(Builder *b, unsigned cp)
{
	if (latin1_fold(cp) >= 'a')
	{
		if (b->keep_accents)
			add_accented(b, cp);
		else
			add(b, CUR_WORD, latin1_fold(cp));
	}
	else if (cp >= 0x300 && cp <= 0x36F)
		return;					/* a combining accent: the letter stays */
	else if (cp == 0x2018 || cp == 0x2019)
		return;					/* typographic apostrophe */
	else if (cp == 0x20AC)
		emit(b, LT_CURRENCY, "eur");
	else if (cp == 0xBF || cp == 0xA1)
		separate(b);			/* ¿ ¡ open a clause, they do not end one */
	else if (cp == 0x2026 || cp >= 0x2190)
		emit(b, LT_BREAK, ",");	/* ellipsis, symbols, emoji */
	else
		separate(b);
}

static void
tokenize(const char *utf8, LeadTokens *out, bool keep_accents)
{
	Builder		b = {.out = out, .keep_accents = keep_accents};
	const unsigned char *s = (const unsigned char *) (utf8 ? utf8 : "");

	out->n = 0;
	out->questions = 0;
	out->truncated = false;
	for (const unsigned char *p = s; *p && !out->truncated;)
	{
		unsigned	cp;
		int			n;

		if (*p < 0x80)
			read_ascii(&b, (const char *) p++);
		else if ((n = utf8_next(p, &cp)) == 0)
		{
			separate(&b);		/* invalid byte: a separator */
			p++;
		}
		else
		{
			read_wide(&b, cp);
			p += n;
		}
	}
	finish(&b);
	if (out->n > 0 && out->tok[out->n - 1].kind == LT_BREAK)
		out->n--;
}

void
lead_tokenize(const char *utf8, LeadTokens *out)
{
	tokenize(utf8, out, false);
}

void
lead_tokenize_surface(const char *utf8, LeadTokens *out)
{
	tokenize(utf8, out, true);
}

/*
 * Function words of one language only, folded, in strcmp order (a unit
 * test checks it).  Words two of them share ("de", "que", "no", "para",
 * "como", "mas", "dia") tell nothing and are left out, and so is "mi"
 * (Spanish "my", but "1,5 mi" is a million to a Brazilian).
 */
typedef struct LangWord
{
	const char *word;
	LeadLanguage lang;
} LangWord;

static const LangWord lang_words[] = {
	{"ahora", LEAD_LANG_ES}, {"and", LEAD_LANG_EN}, {"are", LEAD_LANG_EN},
	{"buenas", LEAD_LANG_ES}, {"bueno", LEAD_LANG_ES}, {"buenos", LEAD_LANG_ES},
	{"can", LEAD_LANG_EN}, {"com", LEAD_LANG_PT}, {"con", LEAD_LANG_ES},
	{"cual", LEAD_LANG_ES}, {"cuanto", LEAD_LANG_ES}, {"del", LEAD_LANG_ES},
	{"dinero", LEAD_LANG_ES}, {"do", LEAD_LANG_PT}, {"dos", LEAD_LANG_PT},
	{"el", LEAD_LANG_ES}, {"entao", LEAD_LANG_PT}, {"entonces", LEAD_LANG_ES},
	{"es", LEAD_LANG_ES}, {"essa", LEAD_LANG_PT}, {"esse", LEAD_LANG_PT},
	{"estou", LEAD_LANG_PT}, {"estoy", LEAD_LANG_ES}, {"eu", LEAD_LANG_PT},
	{"for", LEAD_LANG_EN}, {"gostaria", LEAD_LANG_PT}, {"gracias", LEAD_LANG_ES},
	{"have", LEAD_LANG_EN}, {"hay", LEAD_LANG_ES}, {"hello", LEAD_LANG_EN},
	{"hi", LEAD_LANG_EN}, {"hola", LEAD_LANG_ES}, {"how", LEAD_LANG_EN},
	{"hoy", LEAD_LANG_ES}, {"i", LEAD_LANG_EN}, {"im", LEAD_LANG_EN},
	{"invertir", LEAD_LANG_ES}, {"is", LEAD_LANG_EN}, {"isso", LEAD_LANG_PT},
	{"it", LEAD_LANG_EN}, {"los", LEAD_LANG_ES}, {"meu", LEAD_LANG_PT},
	{"minha", LEAD_LANG_PT}, {"mis", LEAD_LANG_ES},
	{"muito", LEAD_LANG_PT}, {"muy", LEAD_LANG_ES}, {"my", LEAD_LANG_EN},
	{"nao", LEAD_LANG_PT}, {"necesito", LEAD_LANG_ES}, {"obrigada", LEAD_LANG_PT},
	{"obrigado", LEAD_LANG_PT}, {"of", LEAD_LANG_EN}, {"oi", LEAD_LANG_PT},
	{"pero", LEAD_LANG_ES}, {"please", LEAD_LANG_EN}, {"posso", LEAD_LANG_PT},
	{"pra", LEAD_LANG_PT}, {"puedo", LEAD_LANG_ES}, {"quero", LEAD_LANG_PT},
	{"quiero", LEAD_LANG_ES}, {"quisiera", LEAD_LANG_ES}, {"sim", LEAD_LANG_PT},
	{"tambem", LEAD_LANG_PT}, {"tambien", LEAD_LANG_ES}, {"tengo", LEAD_LANG_ES},
	{"tenho", LEAD_LANG_PT}, {"thank", LEAD_LANG_EN}, {"thanks", LEAD_LANG_EN},
	{"that", LEAD_LANG_EN}, {"the", LEAD_LANG_EN}, {"this", LEAD_LANG_EN},
	{"uma", LEAD_LANG_PT}, {"una", LEAD_LANG_ES}, {"usted", LEAD_LANG_ES},
	{"vc", LEAD_LANG_PT}, {"voce", LEAD_LANG_PT}, {"want", LEAD_LANG_EN},
	{"what", LEAD_LANG_EN}, {"with", LEAD_LANG_EN}, {"would", LEAD_LANG_EN},
	{"yo", LEAD_LANG_ES}, {"you", LEAD_LANG_EN},
};

#define NLANGWORDS ((int) (sizeof(lang_words) / sizeof(lang_words[0])))

static int
lang_word_cmp(const void *key, const void *entry)
{
	return strcmp((const char *) key, ((const LangWord *) entry)->word);
}

/* Exposed for the unit test that checks the table's order. */
bool		lead_language_table_sorted(void);

bool
lead_language_table_sorted(void)
{
	for (int i = 1; i < NLANGWORDS; i++)
		if (strcmp(lang_words[i - 1].word, lang_words[i].word) >= 0)
			return false;
	return true;
}

int
lead_language_votes(const LeadTokens *t, int votes[3])
{
	votes[0] = votes[1] = votes[2] = 0;
	for (int i = 0; i < t->n; i++)
	{
		const LangWord *w;

		if (t->tok[i].kind != LT_WORD)
			continue;
		w = bsearch(t->tok[i].word, lang_words, NLANGWORDS, sizeof(LangWord), lang_word_cmp);
		if (w)
			votes[w->lang]++;
	}
	return votes[0] + votes[1] + votes[2];
}

LeadLanguage
lead_language_of(const LeadTokens *t)
{
	int			votes[3];

	lead_language_votes(t, votes);
	if (votes[LEAD_LANG_ES] > votes[LEAD_LANG_PT] && votes[LEAD_LANG_ES] >= votes[LEAD_LANG_EN])
		return LEAD_LANG_ES;
	if (votes[LEAD_LANG_EN] > votes[LEAD_LANG_PT] && votes[LEAD_LANG_EN] > votes[LEAD_LANG_ES])
		return LEAD_LANG_EN;
	return LEAD_LANG_PT;
}

const char *
lead_language_code(LeadLanguage lang)
{
	switch (lang)
	{
		case LEAD_LANG_ES:
			return "es";
		case LEAD_LANG_EN:
			return "en";
		default:
			return "pt";
	}
}

bool
lead_language_parse(const char *s, LeadLanguage *out)
{
	static const char *const names[][2] = {
		{"pt", "portuguese"}, {"es", "spanish"}, {"en", "english"}
	};

	for (int i = 0; s && i < 3; i++)
		if (strcmp(s, names[i][0]) == 0 || strcmp(s, names[i][1]) == 0)
		{
			*out = (LeadLanguage) i;
			return true;
		}
	return false;
}
