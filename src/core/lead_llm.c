/*
 * lead_llm.c
 *		Checking an LLM's slots and turning them into fit signals and words.
 */
#include "lead_llm.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lead_features.h"
#include "lead_signals.h"
#include "lead_text.h"
#include "utf8_fold.h"

/* The closed vocabularies: the value, the feature key, its name in pt and en. */
typedef struct SlotValue
{
	const char *value;
	const char *feature_key;
	const char *pt;
	const char *en;
} SlotValue;

static const SlotValue products[] = {
	{"cdb", "product_cdb", "CDB", "CDB"},
	{"lci_lca", "product_lci_lca", "LCI/LCA", "LCI/LCA"},
	{"tesouro", "product_tesouro", "Tesouro Direto", "Tesouro Direto"},
	{"stocks", "product_stocks", "ações", "stocks"},
	{"fii", "product_fii", "fundos imobiliários", "real-estate funds"},
	{"pension", "product_pension", "previdência", "pension plan"},
	{"funds", "product_funds", "fundos", "funds"},
	{"crypto", "product_crypto", "cripto", "crypto"},
	{"fixed_income", "product_fixed_income", "renda fixa", "fixed income"},
	{"abroad", "product_abroad", "investir no exterior", "investing abroad"},
};

static const SlotValue objections[] = {
	{"no_money", "no_money", "sem dinheiro", "no money"},
	{"just_curious", "just_curious", "só curiosidade", "just curious"},
	{"not_interested", "not_interested", "sem interesse", "not interested"},
	{"later", "later", "vai pensar, depois", "later"},
	{"distrust", "distrust", "desconfiança", "distrust"},
	{"quick_money", "quick_money", "quer dinheiro rápido", "wants quick money"},
	{"wants_loan", "wants_loan", "procura empréstimo", "wants a loan"},
	{"has_advisor", "has_advisor", "já tem assessor", "has an advisor"},
	{"wrong_person", "wrong_person", "pessoa errada", "wrong person"},
	{"fees", "fees_objection", "achou caro", "too expensive"},
};

#define lengthof(a) (sizeof(a) / sizeof((a)[0]))

/* Amounts and horizons beyond these are not what a lead means. */
#define MAX_BRL 1e11
#define MAX_MONTHS 600.0

static const SlotValue *
find_value(LeadLlmSlotKind kind, const char *value)
{
	const SlotValue *table = kind == LEAD_LLM_PRODUCT ? products : objections;
	size_t		n = kind == LEAD_LLM_PRODUCT ? lengthof(products) : lengthof(objections);

	if (value == NULL || (kind != LEAD_LLM_PRODUCT && kind != LEAD_LLM_OBJECTION))
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strcmp(table[i].value, value) == 0)
			return &table[i];
	return NULL;
}

static const char *const kind_names[] = {"amount", "horizon", "product", "objection"};

bool
lead_llm_slot_kind_parse(const char *name, LeadLlmSlotKind *out)
{
	for (size_t i = 0; name && i < lengthof(kind_names); i++)
		if (strcmp(name, kind_names[i]) == 0)
		{
			*out = (LeadLlmSlotKind) i;
			return true;
		}
	return false;
}

const char *
lead_llm_slot_kind_name(LeadLlmSlotKind kind)
{
	return (size_t) kind < lengthof(kind_names) ? kind_names[kind] : "?";
}

int
lead_llm_slot_feature(const LeadLlmSlot *s)
{
	const SlotValue *v;
	const LeadFeatureInfo *info;

	switch (s->kind)
	{
		case LEAD_LLM_AMOUNT:
			return s->number > 0 && s->number <= MAX_BRL ? lead_amount_feature(s->number) : 0;
		case LEAD_LLM_HORIZON:
			return s->number > 0 && s->number <= MAX_MONTHS ? lead_horizon_feature(s->number) : 0;
		case LEAD_LLM_PRODUCT:
		case LEAD_LLM_OBJECTION:
			v = find_value(s->kind, s->value);
			info = v ? lead_feature_by_key(v->feature_key) : NULL;
			return info ? info->id : 0;
	}
	return 0;
}

/*
 * Fold a text for comparison into out (room for 2 * strlen + 1): ASCII
 * lower case, Latin-1 letters without accents, every run of white space
 * one blank, none at the ends.  Other bytes are copied as they are.
 */
static void
fold(const char *in, char *out)
{
	const unsigned char *p = (const unsigned char *) in;
	char	   *o = out;
	bool		blank = false;

	while (*p)
	{
		unsigned	cp = *p;
		int			len = cp < 0x80 ? 1 : utf8_next(p, &cp);
		char		c = 0;

		if (len == 0)
		{
			*o++ = (char) *p++;	/* not UTF-8: compared byte for byte */
			blank = false;
			continue;
		}
		if ((cp < 128 && isspace((int) cp)) || cp == 0xA0)	/* a no-break space too */
		{
			blank = o > out;
			p += len;
			continue;
		}
		if (blank)
			*o++ = ' ';
		blank = false;
		if (cp < 128)
			c = (char) tolower((int) cp);
		else
			c = latin1_fold(cp);
		if (c && isalpha((unsigned char) c) == 0 && cp >= 128)
			c = 0;				/* latin1_fold's signs are not letters */
		if (c)
			*o++ = c;
		else
		{
			memcpy(o, p, len);
			o += len;
		}
		p += len;
	}
	*o = '\0';
}

bool
lead_llm_evidence_in(const char *evidence, const char *body)
{
	char	   *e,
			   *b;
	bool		found;

	if (evidence == NULL || body == NULL)
		return false;
	e = malloc(2 * strlen(evidence) + 1);
	b = malloc(2 * strlen(body) + 1);
	if (e == NULL || b == NULL)
	{
		free(e);
		free(b);
		return false;
	}
	fold(evidence, e);
	fold(body, b);
	found = e[0] != '\0' && strstr(b, e) != NULL;
	free(e);
	free(b);
	return found;
}

static bool
blank_text(const char *s)
{
	for (; s && *s; s++)
		if (!isspace((unsigned char) *s))
			return false;
	return true;
}

/*
 * Letters and digits in a quote: ASCII, and the letters of Latin-1 and
 * Latin Extended-A/B ('ã', 'ñ', 'ő') once each; emoji, dashes and other
 * symbols are not evidence of anything, and a bad byte counts for nothing.
 */
static int
meaningful_chars(const char *s)
{
	int			n = 0;
	const unsigned char *p = (const unsigned char *) s;

	while (*p)
	{
		unsigned	cp;
		int			k = utf8_next(p, &cp);
		char		folded;

		if (k == 0)
		{
			n += isalnum(*p) != 0;
			p++;
			continue;
		}
		folded = latin1_fold(cp);
		n += (folded >= 'a' && folded <= 'z') || (cp >= 0x100 && cp <= 0x24F);
		p += k;
	}
	return n;
}

/*
 * Does the quote state the slot?  The fit signals the rules read from the
 * quote alone, in the language of the message it comes from, must include
 * the slot's: a model (or a lead prompting it) cannot turn "e" or "quero
 * investir" into R$ 5 million, ten years, a product or an objection.
 */
static bool
quote_states(const char *evidence, const char *body, int feature)
{
	LeadTokens *t = malloc(sizeof(LeadTokens));
	LeadEntry	fit[LEAD_FIT_MAX];
	LeadLanguage lang;
	int			n;
	bool		found = false;

	if (t == NULL)
		return false;
	lead_tokenize(body, t);
	lang = lead_language_of(t);
	lead_tokenize(evidence, t);
	n = lead_fit_signals(t, lang, fit);
	for (int i = 0; i < n && !found; i++)
		found = fit[i].idx == feature;
	free(t);
	return found;
}

/*
 * Does the number given agree with what the rules read in the quote?  (A
 * quote they read no number from is refused by quote_states.)
 */
static bool
number_agrees(const LeadLlmSlot *s, int feature)
{
	LeadTokens	t;
	double		read;

	if (s->kind != LEAD_LLM_AMOUNT && s->kind != LEAD_LLM_HORIZON)
		return true;
	lead_tokenize(s->evidence, &t);
	if (s->kind == LEAD_LLM_AMOUNT)
	{
		read = lead_amount_brl(&t, lead_language_of(&t));
		return !(read > 0) || lead_amount_feature(read) == feature;
	}
	read = lead_horizon_months(&t);
	return !(read > 0) || lead_horizon_feature(read) == feature;
}

LeadLlmVerdict
lead_llm_check_slot(const LeadLlmSlot *s, const LeadLlmMessage *messages, int n, int *feature)
{
	int			f;

	if ((s->kind == LEAD_LLM_PRODUCT || s->kind == LEAD_LLM_OBJECTION) && find_value(s->kind, s->value) == NULL)
		return LEAD_LLM_SLOT_UNKNOWN_VALUE;
	f = lead_llm_slot_feature(s);
	if (f == 0)
		return s->kind == LEAD_LLM_AMOUNT || s->kind == LEAD_LLM_HORIZON ?
			LEAD_LLM_SLOT_OUT_OF_RANGE : LEAD_LLM_SLOT_UNKNOWN_VALUE;
	if (s->evidence == NULL || blank_text(s->evidence) || strlen(s->evidence) > LEAD_LLM_EVIDENCE_MAX ||
		meaningful_chars(s->evidence) < LEAD_LLM_EVIDENCE_MIN)
		return LEAD_LLM_SLOT_NO_EVIDENCE;
	for (int i = 0; i < n; i++)
		if (messages[i].id == s->message_id)
		{
			if (!lead_llm_evidence_in(s->evidence, messages[i].body))
				return LEAD_LLM_SLOT_EVIDENCE_NOT_FOUND;
			if (!number_agrees(s, f))
				return LEAD_LLM_SLOT_NUMBER_MISMATCH;
			if (!quote_states(s->evidence, messages[i].body, f))
				return LEAD_LLM_SLOT_NOT_STATED;
			*feature = f;
			return LEAD_LLM_SLOT_OK;
		}
	return LEAD_LLM_SLOT_UNKNOWN_MESSAGE;
}

const char *
lead_llm_verdict_text(LeadLlmVerdict v)
{
	switch (v)
	{
		case LEAD_LLM_SLOT_OK:
			return "ok";
		case LEAD_LLM_SLOT_UNKNOWN_VALUE:
			return "value not in the vocabulary";
		case LEAD_LLM_SLOT_OUT_OF_RANGE:
			return "number out of range";
		case LEAD_LLM_SLOT_NO_EVIDENCE:
			return "no quote (empty, blank, too short or too long)";
		case LEAD_LLM_SLOT_UNKNOWN_MESSAGE:
			return "quotes a message that was not shown";
		case LEAD_LLM_SLOT_EVIDENCE_NOT_FOUND:
			return "the quote is not in the message it names";
		case LEAD_LLM_SLOT_NUMBER_MISMATCH:
			return "the quote states another amount or horizon";
		case LEAD_LLM_SLOT_NOT_STATED:
			return "the quote does not state this value";
	}
	return "?";
}

/* "50" or "12,5": one decimal, Brazilian comma, none when whole. */
static void
format_decimal(double x, char *out, size_t size)
{
	long		tenths = (long) (x * 10 + 0.5);

	if (tenths % 10 == 0)
		snprintf(out, size, "%ld", tenths / 10);
	else
		snprintf(out, size, "%ld,%ld", tenths / 10, tenths % 10);
}

void
lead_llm_format_brl(double brl, char *out, size_t size)
{
	char		num[32];

	if (brl >= 1e6)
	{
		format_decimal(brl / 1e6, num, sizeof(num));
		snprintf(out, size, "R$ %s %s", num, brl < 2e6 ? "milhão" : "milhões");
	}
	else if (brl >= 1e3)
	{
		format_decimal(brl / 1e3, num, sizeof(num));
		snprintf(out, size, "R$ %s mil", num);
	}
	else
		snprintf(out, size, "R$ %.0f", brl);
}

static void
slot_value_words(const LeadLlmSlot *s, LeadReasonLanguage lang, char *out, size_t size)
{
	bool		en = lang == LEAD_REASONS_EN;
	const SlotValue *v;
	char		num[48];

	switch (s->kind)
	{
		case LEAD_LLM_AMOUNT:
			lead_llm_format_brl(s->number, num, sizeof(num));
			snprintf(out, size, "%s %s", en ? "amount" : "valor", num);
			return;
		case LEAD_LLM_HORIZON:
			if (s->number >= 12 && (long) s->number % 12 == 0)
				snprintf(out, size, "%s %ld %s", en ? "horizon" : "prazo", (long) s->number / 12,
						 s->number == 12 ? (en ? "year" : "ano") : (en ? "years" : "anos"));
			else
				snprintf(out, size, "%s %.0f %s", en ? "horizon" : "prazo", s->number,
						 s->number == 1 ? (en ? "month" : "mês") : (en ? "months" : "meses"));
			return;
		case LEAD_LLM_PRODUCT:
		case LEAD_LLM_OBJECTION:
			v = find_value(s->kind, s->value);
			snprintf(out, size, "%s %s", s->kind == LEAD_LLM_PRODUCT ? (en ? "product" : "produto")
					 : (en ? "objection:" : "objeção:"),
					 v ? (en ? v->en : v->pt) : "?");
			return;
	}
	snprintf(out, size, "?");
}

void
lead_llm_reason_words(const LeadLlmSlot *s, LeadReasonLanguage lang,
					  const char *open_quote, const char *close_quote, char *out, size_t size)
{
	char		what[128];
	char		quote[LEAD_LLM_EVIDENCE_MAX + 1];
	size_t		len;

	slot_value_words(s, lang, what, sizeof(what));
	snprintf(quote, sizeof(quote), "%s", s->evidence ? s->evidence : "");
	/* a long quote is cut at a character boundary, not inside one */
	len = strlen(quote);
	if (len > 80)
	{
		len = 80;
		while (len > 0 && ((unsigned char) quote[len] & 0xC0) == 0x80)
			len--;
		snprintf(quote + len, sizeof(quote) - len, "...");
	}
	snprintf(out, size, "LLM: %s (%s%s%s)", what, open_quote, quote, close_quote);
}

const char *
lead_llm_answer_schema(void)
{
	return "{\"type\":\"object\",\"additionalProperties\":false,"
		"\"required\":[\"amount\",\"horizon\",\"product\",\"objections\"],"
		"\"properties\":{"
		"\"amount\":{\"anyOf\":[{\"type\":\"object\",\"additionalProperties\":false,"
		"\"required\":[\"reais\",\"evidence\",\"message_id\"],"
		"\"properties\":{\"reais\":{\"type\":\"number\"},\"evidence\":{\"type\":\"string\"},"
		"\"message_id\":{\"type\":\"integer\"}}},{\"type\":\"null\"}]},"
		"\"horizon\":{\"anyOf\":[{\"type\":\"object\",\"additionalProperties\":false,"
		"\"required\":[\"months\",\"evidence\",\"message_id\"],"
		"\"properties\":{\"months\":{\"type\":\"number\"},\"evidence\":{\"type\":\"string\"},"
		"\"message_id\":{\"type\":\"integer\"}}},{\"type\":\"null\"}]},"
		"\"product\":{\"anyOf\":[{\"type\":\"object\",\"additionalProperties\":false,"
		"\"required\":[\"value\",\"evidence\",\"message_id\"],"
		"\"properties\":{\"value\":{\"type\":\"string\",\"enum\":[\"cdb\",\"lci_lca\",\"tesouro\","
		"\"stocks\",\"fii\",\"pension\",\"funds\",\"crypto\",\"fixed_income\",\"abroad\"]},"
		"\"evidence\":{\"type\":\"string\"},\"message_id\":{\"type\":\"integer\"}}},{\"type\":\"null\"}]},"
		"\"objections\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"additionalProperties\":false,"
		"\"required\":[\"value\",\"evidence\",\"message_id\"],"
		"\"properties\":{\"value\":{\"type\":\"string\",\"enum\":[\"no_money\",\"just_curious\","
		"\"not_interested\",\"later\",\"distrust\",\"quick_money\",\"wants_loan\",\"has_advisor\","
		"\"wrong_person\",\"fees\"]},"
		"\"evidence\":{\"type\":\"string\"},\"message_id\":{\"type\":\"integer\"}}}}}}";
}
