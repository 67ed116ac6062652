/*
 * lead_quantity.c
 *		Amounts of money and investment horizons in a lead's message.
 *
 * A number is money only with a currency ("R$ 500", "500 reais", "US$
 * 10.000") or a multiplier ("50 mil", "50k", "1,5 mi", "1kk", "meio
 * milhão"): a bare number is an age, a day, a percentage or a phone
 * number more often than an amount.  Without a currency, an amount is in
 * the message's home currency: reais in Portuguese, dollars in Spanish and
 * English (leads from elsewhere in Latin America quote their savings in
 * dollars).  Other currencies are converted at fixed rough rates (US$ 5,
 * EUR 5.5): the buckets are wide, the rates need not be today's.  Pesos
 * are left out: which peso it is changes the amount a thousandfold.
 */
#include "lead_signals.h"

#include <stdint.h>
#include <string.h>

#include "lead_features.h"

#define USD_BRL 5.0
#define EUR_BRL 5.5

typedef enum NumWordKind
{
	NW_UNIT,					/* adds to the group: "cinquenta", "five" */
	NW_HUNDRED,					/* multiplies the group: "hundred" */
	NW_THOUSAND,				/* "mil", "thousand" */
	NW_MILLION,					/* "milhão", "millón", "million" */
	NW_HALF						/* "meio milhão", "medio millón", "half a million" */
} NumWordKind;

typedef struct NumWord
{
	const char *word;
	double		value;
	NumWordKind kind;
} NumWord;

static const NumWord num_words[] = {
	{"um", 1, NW_UNIT}, {"uma", 1, NW_UNIT}, {"un", 1, NW_UNIT}, {"uno", 1, NW_UNIT}, {"one", 1, NW_UNIT}, {"a", 1, NW_UNIT},
	{"dois", 2, NW_UNIT}, {"duas", 2, NW_UNIT}, {"dos", 2, NW_UNIT}, {"two", 2, NW_UNIT},
	{"tres", 3, NW_UNIT}, {"three", 3, NW_UNIT}, {"quatro", 4, NW_UNIT}, {"cuatro", 4, NW_UNIT}, {"four", 4, NW_UNIT},
	{"cinco", 5, NW_UNIT}, {"five", 5, NW_UNIT}, {"seis", 6, NW_UNIT}, {"six", 6, NW_UNIT}, {"sete", 7, NW_UNIT}, {"siete", 7, NW_UNIT},
	{"seven", 7, NW_UNIT}, {"oito", 8, NW_UNIT}, {"ocho", 8, NW_UNIT}, {"eight", 8, NW_UNIT}, {"nove", 9, NW_UNIT}, {"nueve", 9, NW_UNIT},
	{"nine", 9, NW_UNIT}, {"dez", 10, NW_UNIT}, {"diez", 10, NW_UNIT}, {"ten", 10, NW_UNIT}, {"quinze", 15, NW_UNIT},
	{"quince", 15, NW_UNIT}, {"fifteen", 15, NW_UNIT}, {"vinte", 20, NW_UNIT}, {"veinte", 20, NW_UNIT}, {"twenty", 20, NW_UNIT},
	{"trinta", 30, NW_UNIT}, {"treinta", 30, NW_UNIT}, {"thirty", 30, NW_UNIT}, {"quarenta", 40, NW_UNIT},
	{"cuarenta", 40, NW_UNIT}, {"forty", 40, NW_UNIT}, {"cinquenta", 50, NW_UNIT}, {"cincuenta", 50, NW_UNIT},
	{"fifty", 50, NW_UNIT}, {"sessenta", 60, NW_UNIT}, {"sesenta", 60, NW_UNIT}, {"sixty", 60, NW_UNIT},
	{"setenta", 70, NW_UNIT}, {"seventy", 70, NW_UNIT}, {"oitenta", 80, NW_UNIT}, {"ochenta", 80, NW_UNIT},
	{"eighty", 80, NW_UNIT}, {"noventa", 90, NW_UNIT}, {"ninety", 90, NW_UNIT}, {"cem", 100, NW_UNIT}, {"cento", 100, NW_UNIT},
	{"cien", 100, NW_UNIT}, {"ciento", 100, NW_UNIT}, {"duzentos", 200, NW_UNIT}, {"duzentas", 200, NW_UNIT},
	{"doscientos", 200, NW_UNIT}, {"trezentos", 300, NW_UNIT}, {"trescientos", 300, NW_UNIT},
	{"quatrocentos", 400, NW_UNIT}, {"cuatrocientos", 400, NW_UNIT}, {"quinhentos", 500, NW_UNIT},
	{"quinientos", 500, NW_UNIT}, {"seiscentos", 600, NW_UNIT}, {"setecentos", 700, NW_UNIT},
	{"setecientos", 700, NW_UNIT}, {"oitocentos", 800, NW_UNIT}, {"ochocientos", 800, NW_UNIT},
	{"novecentos", 900, NW_UNIT}, {"novecientos", 900, NW_UNIT},
	{"hundred", 100, NW_HUNDRED},
	{"mil", 1e3, NW_THOUSAND}, {"thousand", 1e3, NW_THOUSAND},
	{"milhao", 1e6, NW_MILLION}, {"milhoes", 1e6, NW_MILLION}, {"millon", 1e6, NW_MILLION},
	{"millones", 1e6, NW_MILLION}, {"million", 1e6, NW_MILLION}, {"millions", 1e6, NW_MILLION},
	{"meio", 0.5, NW_HALF}, {"medio", 0.5, NW_HALF}, {"half", 0.5, NW_HALF},
};

#define NNUMWORDS (sizeof(num_words) / sizeof(num_words[0]))

/* Most words start with a letter no number word starts with: one test. */
static uint32_t
first_letters(void)
{
	static uint32_t mask;

	if (mask == 0)
		for (size_t i = 0; i < NNUMWORDS; i++)
			mask |= UINT32_C(1) << (num_words[i].word[0] - 'a');
	return mask;
}

static const NumWord *
num_word(const LeadToken *t)
{
	char		c = t->word[0];

	if (t->kind != LT_WORD || c < 'a' || c > 'z' || !(first_letters() & (UINT32_C(1) << (c - 'a'))))
		return NULL;
	for (size_t i = 0; i < NNUMWORDS; i++)
		if (num_words[i].word[0] == c && strcmp(t->word, num_words[i].word) == 0)
			return &num_words[i];
	return NULL;
}

static bool
is_word(const LeadTokens *t, int i, const char *const *words)
{
	if (i < 0 || i >= t->n || t->tok[i].kind != LT_WORD)
		return false;
	for (; *words; words++)
		if (strcmp(t->tok[i].word, *words) == 0)
			return true;
	return false;
}

/*
 * A number spelt in words from token i ("cinquenta mil", "cento e vinte
 * mil", "two hundred thousand", "meio milhão"); its value in *value and
 * whether it carried a thousand or million in *scaled.  Returns the number
 * of tokens read (0: none).  "a" and "um" alone are articles, not numbers.
 */
static int
read_number_words(const LeadTokens *t, int i, double *value, bool *scaled)
{
	static const char *const joiners[] = {"e", "y", "and", NULL};
	double		total = 0,
				group = 0;
	int			j = i,
				words = 0;

	*scaled = false;
	while (j < t->n)
	{
		const NumWord *w = num_word(&t->tok[j]);

		if (w == NULL && words > 0 && is_word(t, j, joiners) && j + 1 < t->n && num_word(&t->tok[j + 1]))
		{
			j++;
			continue;
		}
		if (w == NULL)
			break;
		if (w->kind == NW_UNIT)
			group += w->value;
		else if (w->kind == NW_HALF)
			group += w->value;
		else if (w->kind == NW_HUNDRED)
			group = (group > 0 ? group : 1) * w->value;
		else
		{
			total += (group > 0 ? group : 1) * w->value;
			group = 0;
			*scaled = true;
		}
		words++;
		j++;
	}
	*value = total + group;
	/* "a", "um" alone are articles; "mil" alone is "mil vezes obrigado" */
	if (words == 0 || (words == 1 && (*scaled || *value <= 1)))
		return 0;
	return j - i;
}

/* A number at token i, in digits or words; tokens read (0: none). */
static int
read_number(const LeadTokens *t, int i, double *value, bool *scaled)
{
	if (t->tok[i].kind == LT_NUMBER)
	{
		*value = t->tok[i].number;
		*scaled = false;
		return 1;
	}
	return read_number_words(t, i, value, scaled);
}

/* A multiplier after a number: "mil", "k" (attached), "mi", "kk", "milhões"... */
static double
multiplier_at(const LeadTokens *t, int j)
{
	static const char *const thousands[] = {"mil", "thousand", "grand", NULL};
	static const char *const millions[] = {"mi", "milhao", "milhoes", "millon", "millones",
	"million", "millions", "mio", NULL};
	static const char *const billions[] = {"bi", "bilhao", "bilhoes", "billion", NULL};

	if (j < 0 || j >= t->n || t->tok[j].kind != LT_WORD)
		return 0;
	if (is_word(t, j, thousands) || (t->tok[j].attached && strcmp(t->tok[j].word, "k") == 0))
		return 1e3;
	if (is_word(t, j, millions) || (t->tok[j].attached && (strcmp(t->tok[j].word, "kk") == 0 ||
														   strcmp(t->tok[j].word, "m") == 0)))
		return 1e6;
	if (is_word(t, j, billions))
		return 1e9;
	return 0;
}

typedef enum Currency
{
	CUR_UNKNOWN,
	CUR_BRL,
	CUR_USD,
	CUR_EUR,
	CUR_PESO
} Currency;

static Currency
currency_mark(const LeadToken *tok, LeadLanguage lang)
{
	if (tok->kind != LT_CURRENCY)
		return CUR_UNKNOWN;
	if (strcmp(tok->word, "r$") == 0)
		return CUR_BRL;
	if (strcmp(tok->word, "us$") == 0)
		return CUR_USD;
	if (strcmp(tok->word, "eur") == 0)
		return CUR_EUR;
	/* "$" alone: reais to a Brazilian, dollars to everyone else here */
	return lang == LEAD_LANG_PT ? CUR_BRL : CUR_USD;
}

static Currency
currency_word(const LeadTokens *t, int j, LeadLanguage lang)
{
	/* "reales": Brazil's currency in Spanish */
	static const char *const brl[] = {"reais", "reales", "real", "rs", "brl", "conto", "contos", "pila",
	"pilas", "paus", "pau", NULL};
	static const char *const usd[] = {"dolar", "dolares", "dollar", "dollars", "usd", "bucks",
	"verdinhas", NULL};
	static const char *const eur[] = {"euro", "euros", "eur", NULL};
	static const char *const peso[] = {"peso", "pesos", "ars", "mxn", "clp", "cop", NULL};

	if (j < 0 || j >= t->n)
		return CUR_UNKNOWN;
	if (t->tok[j].kind == LT_CURRENCY)
		return currency_mark(&t->tok[j], lang);
	if (is_word(t, j, brl))
		return CUR_BRL;
	if (is_word(t, j, usd))
		return CUR_USD;
	if (is_word(t, j, eur))
		return CUR_EUR;
	if (is_word(t, j, peso))
		return CUR_PESO;
	return CUR_UNKNOWN;
}

static double
in_reais(double amount, Currency c, LeadLanguage lang)
{
	if (c == CUR_UNKNOWN)
		c = lang == LEAD_LANG_PT ? CUR_BRL : CUR_USD;
	switch (c)
	{
		case CUR_USD:
			return amount * USD_BRL;
		case CUR_EUR:
			return amount * EUR_BRL;
		case CUR_PESO:
			return 0;
		default:
			return amount;
	}
}

/*
 * One amount starting at token i, in reais (0: not money); *next receives
 * the first token after it.
 */
static double
amount_at(const LeadTokens *t, int i, LeadLanguage lang, int *next)
{
	static const char *const and_half[] = {"e", "y", NULL};
	double		value,
				mult;
	bool		scaled;
	int			k = read_number(t, i, &value, &scaled);
	int			j = i + k;
	Currency	cur = i > 0 ? currency_mark(&t->tok[i - 1], lang) : CUR_UNKNOWN;

	*next = i + 1;
	if (k == 0)
		return 0;
	if (j < t->n && strcmp(t->tok[j].word, "%") == 0)
		return 0;				/* 120% do CDI */
	if ((mult = multiplier_at(t, j)) > 0)
	{
		value *= mult;
		scaled = true;
		j++;
		/* "1 milhão e meio", "1 millón y medio" */
		if (mult >= 1e6 && is_word(t, j, and_half) && j + 1 < t->n &&
			(strcmp(t->tok[j + 1].word, "meio") == 0 || strcmp(t->tok[j + 1].word, "medio") == 0))
		{
			value += mult / 2;
			j += 2;
		}
	}
	if (cur == CUR_UNKNOWN && (cur = currency_word(t, j, lang)) != CUR_UNKNOWN)
		j++;
	*next = j;
	if (cur == CUR_UNKNOWN && !scaled)
		return 0;
	return in_reais(value, cur, lang);
}

double
lead_amount_brl(const LeadTokens *t, LeadLanguage lang)
{
	double		best = 0;

	for (int i = 0; i < t->n;)
	{
		int			next;
		double		v = amount_at(t, i, lang, &next);

		if (v > best)
			best = v;
		i = next;
	}
	return best;
}

int
lead_amount_feature(double brl)
{
	if (!(brl > 0))
		return 0;
	if (brl < 10e3)
		return LF_AMOUNT_UNDER_10K;
	if (brl < 50e3)
		return LF_AMOUNT_10K;
	if (brl < 200e3)
		return LF_AMOUNT_50K;
	if (brl < 1e6)
		return LF_AMOUNT_200K;
	return LF_AMOUNT_1M;
}

/* Months in one unit word, 0 if it is not a unit of time. */
static double
unit_months(const LeadTokens *t, int j)
{
	static const char *const years[] = {"ano", "anos", "year", "years", "yr", "yrs", "anito", NULL};
	static const char *const months[] = {"mes", "meses", "month", "months", NULL};
	static const char *const weeks[] = {"semana", "semanas", "week", "weeks", NULL};

	if (is_word(t, j, years))
		return 12;
	if (is_word(t, j, months))
		return 1;
	if (is_word(t, j, weeks))
		return 0.25;
	return 0;
}

double
lead_horizon_months(const LeadTokens *t)
{
	/* "tenho 35 anos" is an age; "há 2 anos", "faz 2 anos", "2 years ago" are the past */
	static const char *const not_ahead[] = {"tenho", "tengo", "im", "am", "aged", "idade", "edad",
	"ha", "faz", "hace", "tem", "desde", "since", NULL};
	static const char *const past[] = {"ago", "atras", "que", NULL};
	double		best = 0;

	for (int i = 0; i < t->n; i++)
	{
		double		value,
					unit;
		bool		scaled;
		int			k = read_number(t, i, &value, &scaled);

		if (k == 0 || scaled)
			continue;
		unit = unit_months(t, i + k);
		if (unit == 0 || is_word(t, i - 1, not_ahead) || is_word(t, i + k + 1, past))
			continue;
		if (value * unit > best)
			best = value * unit;
	}
	return best;
}

int
lead_horizon_feature(double months)
{
	if (!(months > 0))
		return 0;
	if (months < 12)
		return LF_HORIZON_SHORT;
	if (months <= 60)
		return LF_HORIZON_MEDIUM;
	return LF_HORIZON_LONG;
}
