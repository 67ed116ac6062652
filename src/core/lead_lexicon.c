/*
 * lead_lexicon.c
 *		The phrases behind each fit signal, and the matcher that finds them.
 *
 * A phrase is a sequence of slots over folded words; a slot lists
 * alternatives with '|', an alternative ending in '*' matches any word it
 * begins ("rendiment*": rendimento, rendimentos), "~" lets one word pass
 * ("abrir ~ conta": abrir conta, abrir uma conta, abrir minha conta) and
 * "#" is a number.  A phrase never crosses a clause break.  Each phrase is
 * tried in the languages it is written for: product names in all three,
 * "rico" (a broker in Brazil, "rich" in Spanish) only in Portuguese.  A
 * message with no function word of any language ("just looking", "CDB?")
 * is tried in all three.  Each signal counts once per message.
 *
 * A request to stop is read here only from its plainest phrases: the
 * webhook path already runs the full stop classifier (stop_request.c) and
 * the leads work passes its verdict as an opt_out event.
 */
#include "lead_signals.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "lead_features.h"

#define PT LEAD_LANG_PT_BIT
#define ES LEAD_LANG_ES_BIT
#define EN LEAD_LANG_EN_BIT
#define ALL LEAD_LANG_ALL

typedef struct Phrase
{
	int			feature;
	int			langs;
	const char *pattern;
} Phrase;

static const Phrase phrases[] = {
	/* products */
	{LF_PRODUCT_CDB, ALL, "cdb|cdbs|cbd|cdbzinho"},
	{LF_PRODUCT_CDB, ALL, "certificado*|certificate* de|of deposit*|deposito*"},
	{LF_PRODUCT_LCI_LCA, ALL, "lci|lca|lcis|lcas|lcilca|lcd"},
	{LF_PRODUCT_LCI_LCA, PT | ES, "letra|letras de credito"},
	{LF_PRODUCT_TESOURO, ALL, "tesouro*|tesoro|treasury|treasuries|selic|ipca*|ntn*"},
	{LF_PRODUCT_TESOURO, ALL, "titulo|titulos|bono|bonos|government publico|publicos|bond|bonds"},
	{LF_PRODUCT_STOCKS, ALL, "acao|acoes|acciones|accion|stock|stocks|shares|equities|ibovespa|ibov|b3|nasdaq"},
	{LF_PRODUCT_STOCKS, ALL, "bolsa|dividendo*|dividend*|daytrade"},
	{LF_PRODUCT_STOCKS, ALL, "day|swing trade|trading"},
	{LF_PRODUCT_STOCKS, ALL, "home broker"},
	{LF_PRODUCT_FII, ALL, "fii|fiis|reit|reits|fiagro"},
	{LF_PRODUCT_FII, ALL, "fundo*|fondo*|fund* imobiliario*|inmobiliario*"},
	{LF_PRODUCT_FII, EN, "real estate fund*"},
	{LF_PRODUCT_PENSION, ALL, "previdencia*|pgbl|vgbl|aposentadoria|aposentar|jubilacion|jubilarme|pension|pensiones|retirement|retire|401k"},
	{LF_PRODUCT_PENSION, PT, "previ privada"},
	{LF_PRODUCT_FUNDS, ALL, "fundo|fundos|fondo|fondos|fund|funds|multimercado*|etf|etfs"},
	{LF_PRODUCT_CRYPTO, ALL, "cripto*|crypto*|bitcoin*|btc|ethereum|eth|usdt|binance|criptomoeda*|criptomoneda*"},
	{LF_PRODUCT_FIXED_INCOME, ALL, "cdi|debenture*|cri|cra|prefixado*|posfixado*"},
	{LF_PRODUCT_FIXED_INCOME, ALL, "renda|renta|fixed fixa|fija|income"},
	{LF_PRODUCT_FIXED_INCOME, PT | ES, "pre|pos fixado*|fixada*"},
	{LF_PRODUCT_ABROAD, ALL, "exterior|offshore|dolarizar|dolarizada*|dolarizado*|abroad|overseas"},
	{LF_PRODUCT_ABROAD, PT, "em|no dolar|dolares"},
	{LF_PRODUCT_ABROAD, PT, "investir|investimento*|aplicar fora"},
	{LF_PRODUCT_ABROAD, PT, "conta global|internacional"},
	{LF_PRODUCT_ABROAD, ES, "en dolares"},
	{LF_PRODUCT_ABROAD, EN, "us market|markets"},

	/* intent */
	{LF_ASKED_YIELD, ALL, "rendimento*|rentabilidade*|rendimiento*|rentabilidad|yield|yields|rende|rinde|rendem|rinden"},
	{LF_ASKED_YIELD, PT, "quanto|qto ~ rende|rendem|ganho|paga|da"},
	{LF_ASKED_YIELD, PT, "qual|quais ~ retorno|taxa|taxas"},
	{LF_ASKED_YIELD, PT, "paga quanto"},
	{LF_ASKED_YIELD, ES, "cuanto ~ rinde|gano|paga"},
	{LF_ASKED_YIELD, EN, "how much ~ return|earn|yield|make"},
	{LF_ASKED_YIELD, EN, "how much ~ ~ return|earn|yield|make"},
	{LF_ASKED_YIELD, EN, "interest rate|rates"},
	{LF_ASKED_YIELD, ALL, "% do|del|of cdi|selic"},
	{LF_WANTS_ACCOUNT, PT, "abrir|abro|criar|abre ~ conta|cadastro"},
	{LF_WANTS_ACCOUNT, PT, "abrir ~ ~ conta"},
	{LF_WANTS_ACCOUNT, PT, "abertura de conta"},
	{LF_WANTS_ACCOUNT, PT, "me cadastrar|inscrever"},
	{LF_WANTS_ACCOUNT, ES, "abrir|abro|crear ~ cuenta"},
	{LF_WANTS_ACCOUNT, EN, "open|opening|create ~ account"},
	{LF_WANTS_ACCOUNT, EN, "sign up"},
	{LF_WANTS_ACCOUNT, EN, "signup|onboard*"},
	{LF_WANTS_CALL, PT, "me liga|ligue|ligar|ligam"},
	{LF_WANTS_CALL, PT, "pode|podem ~ ligar"},
	{LF_WANTS_CALL, PT, "liga pra|para mim"},
	{LF_WANTS_CALL, PT, "ligacao|reuniao|videochamada|chamada|agendar|agendamos|marcar"},
	{LF_WANTS_CALL, PT, "falar|conversar com ~ assessor*|acessor*|especialista|consultor*|alguem|voces|gerente"},
	{LF_WANTS_CALL, PT, "falar|conversar com ~ ~ assessor*|acessor*|especialista|consultor*"},
	{LF_WANTS_CALL, ES, "llamada|llamame|llamar|llamen|reunion|agendar|videollamada"},
	{LF_WANTS_CALL, ES, "hablar con ~ asesor*|alguien|especialista"},
	{LF_WANTS_CALL, EN, "call|calls|meeting|schedule|zoom|appointment"},
	{LF_WANTS_CALL, EN, "talk|speak to|with ~ advisor|someone|adviser|specialist"},
	{LF_PORTABILITY, PT, "migrar|transferir|trazer ~ investimentos|carteira|aplicacoes|tudo"},
	{LF_PORTABILITY, PT, "portabilidade"},
	{LF_PORTABILITY, PT, "sair da|do xp|btg|itau|bradesco|banco|nubank|rico|inter"},
	{LF_PORTABILITY, ES, "transferir|traer|mover ~ inversiones|cartera"},
	{LF_PORTABILITY, EN, "transfer|move|moving ~ portfolio|investments|account"},
	{LF_URGENCY, ALL, "urgente|urgent|asap|imediato|imediatamente|hoje|hoy|today|amanha|tomorrow"},
	{LF_URGENCY, PT, "agora mesmo"},
	{LF_URGENCY, PT, "o quanto antes"},
	{LF_URGENCY, PT, "essa|esta semana"},
	{LF_URGENCY, ES, "cuanto antes"},
	{LF_URGENCY, ES, "ahora mismo"},
	{LF_URGENCY, ES, "esta semana"},
	{LF_URGENCY, EN, "this week"},
	{LF_URGENCY, EN, "right away|now"},
	{LF_HAS_SAVINGS, ALL, "poupanca|poupancinha|guardado|guardadinho|reserva|economias|ahorros|ahorrado|savings|saved|heranca|herencia|inheritance|rescisao|fgts|plr"},
	{LF_HAS_SAVINGS, PT, "dinheiro|grana ~ parado|parada|sobrando|guardado"},
	{LF_HAS_SAVINGS, PT, "vendi ~ apartamento|casa|carro|empresa|imovel|terreno"},
	{LF_HAS_SAVINGS, ES, "vendi ~ departamento|casa|empresa"},
	{LF_HAS_SAVINGS, EN, "sold ~ house|apartment|company|business"},
	{LF_ASKED_FEES, ALL, "taxa|tasa de administracao|custodia|administracion|performance"},
	{LF_ASKED_FEES, ALL, "corretagem|comision*|tarifa*|fee|fees|custodia"},
	{LF_ASKED_FEES, PT, "tem|cobra|cobram ~ taxa|taxas"},
	{LF_ASKED_FEES, ES, "cobran"},
	{LF_ASKED_FEES, EN, "you ~ charge"},
	{LF_COMPETITOR, PT | ES, "xp|btg|nubank|nuinvest|itau|bradesco|santander|caixa|rico|clear|inter|modal|genial|avenue|c6|warren|toro|orama|easynvest|picpay|sicredi|sicoob|safra"},
	{LF_COMPETITOR, PT | ES, "banco do brasil"},
	{LF_COMPETITOR, ALL, "robinhood|schwab|fidelity|vanguard|etoro"},
	{LF_COMPETITOR, EN, "xp|btg|nubank|itau|bradesco|santander|avenue"},
	{LF_ASKED_SAFETY, ALL, "fgc|seguro|segura|garantia|garantido|risco|riesgo|risk|risky|safe|guaranteed|insured"},
	{LF_READY_TO_INVEST, PT, "quero|vou|pretendo|gostaria|queria|preciso ~ investir|aplicar|comecar|aportar"},
	{LF_READY_TO_INVEST, PT, "quero|vou|pretendo|gostaria|queria ~ ~ investir|aplicar"},
	{LF_READY_TO_INVEST, PT, "como ~ faco|faz ~ pra|para investir|aplicar|comecar"},
	{LF_READY_TO_INVEST, PT, "aporte|aportar|transferi|aportei"},
	{LF_READY_TO_INVEST, PT, "mandei|fiz|fazer|faco o ted|pix"},
	{LF_READY_TO_INVEST, ES, "quiero|voy|quisiera|gustaria ~ invertir|empezar|comenzar"},
	{LF_READY_TO_INVEST, ES, "como ~ invierto|invertir|empiezo"},
	{LF_READY_TO_INVEST, EN, "want|ready|like|planning|plan ~ to invest|start"},
	{LF_READY_TO_INVEST, EN, "how ~ do ~ i invest|start"},

	/* horizons said in words */
	{LF_HORIZON_LONG, PT, "longo prazo"},
	{LF_HORIZON_LONG, ES, "largo plazo"},
	{LF_HORIZON_LONG, EN, "long term|run"},
	{LF_HORIZON_LONG, PT, "faculdade|futuro dos|das filhos|filhas|netos"},
	{LF_HORIZON_MEDIUM, PT, "medio prazo"},
	{LF_HORIZON_MEDIUM, ES, "mediano|medio plazo"},
	{LF_HORIZON_MEDIUM, EN, "medium term"},
	{LF_HORIZON_SHORT, PT, "curto prazo"},
	{LF_HORIZON_SHORT, ES, "corto plazo"},
	{LF_HORIZON_SHORT, EN, "short term"},

	/* objections and poor fit */
	{LF_NO_MONEY, PT, "sem ~ dinheiro|grana|condicoes|condicao|renda|emprego|trabalho"},
	{LF_NO_MONEY, PT, "nao|n tenho|tem|to|estou ~ dinheiro|grana|condicoes|condicao|como"},
	{LF_NO_MONEY, PT, "nao|n tenho ~ ~ dinheiro|grana"},
	{LF_NO_MONEY, PT, "to|tou|estou|tava|ando liso|lisa|duro|dura|quebrado|quebrada|apertado|apertada"},
	{LF_NO_MONEY, PT, "desempregado|desempregada|endividado|endividada|dividas|negativado|negativada"},
	{LF_NO_MONEY, PT, "nome sujo"},
	{LF_NO_MONEY, ES, "sin ~ dinero|plata|trabajo"},
	{LF_NO_MONEY, ES, "no tengo ~ dinero|plata|trabajo"},
	{LF_NO_MONEY, ES, "desempleado|desempleada|endeudado|endeudada|deudas"},
	{LF_NO_MONEY, EN, "dont have ~ money|cash|funds"},
	{LF_NO_MONEY, EN, "no money|cash"},
	{LF_NO_MONEY, EN, "cant afford"},
	{LF_NO_MONEY, EN, "broke|unemployed|debt|debts"},
	{LF_JUST_CURIOUS, PT, "so|apenas|somente ~ curiosidade|olhando|pesquisando|perguntando|vendo|sondando"},
	{LF_JUST_CURIOUS, PT, "curiosidade|curioso|curiosa"},
	{LF_JUST_CURIOUS, PT, "so pra|para saber|ver|conhecer"},
	{LF_JUST_CURIOUS, ES, "curiosidad|curioso|curiosa"},
	{LF_JUST_CURIOUS, ES, "solo ~ mirando|preguntando|viendo|averiguando"},
	{LF_JUST_CURIOUS, EN, "curious|curiosity|browsing"},
	{LF_JUST_CURIOUS, EN, "just ~ looking|asking|checking|wondering"},
	{LF_NOT_INTERESTED, PT, "nao|n tenho|tem ~ interesse"},
	{LF_NOT_INTERESTED, PT, "sem interesse"},
	{LF_NOT_INTERESTED, PT, "nao|n me interessa|interessei"},
	{LF_NOT_INTERESTED, PT, "nao|n obrigado|obrigada|valeu|preciso"},
	{LF_NOT_INTERESTED, PT, "dispenso|esquece"},
	{LF_NOT_INTERESTED, PT, "deixa pra|para la"},
	{LF_NOT_INTERESTED, ES, "no ~ interesa|interesado|interesada"},
	{LF_NOT_INTERESTED, ES, "no gracias|necesito"},
	{LF_NOT_INTERESTED, EN, "not ~ interested"},
	{LF_NOT_INTERESTED, EN, "no thanks|thank"},
	{LF_LATER, PT, "vou|vamos ~ pensar|ver|analisar|avaliar|conversar"},
	{LF_LATER, PT, "depois|futuramente|adiante"},
	{LF_LATER, PT, "outra|outro hora|dia|momento"},
	{LF_LATER, PT, "mais pra|para frente"},
	{LF_LATER, PT, "mes|ano que vem"},
	{LF_LATER, PT, "agora nao|n"},
	{LF_LATER, PT, "mais tarde"},
	{LF_LATER, PT, "qualquer coisa te|eu aviso|chamo"},
	{LF_LATER, ES, "lo ~ pienso|pensare"},
	{LF_LATER, ES, "voy|vamos a pensar|ver"},
	{LF_LATER, ES, "mas adelante"},
	{LF_LATER, ES, "despues|luego"},
	{LF_LATER, ES, "otro momento"},
	{LF_LATER, ES, "ahora no"},
	{LF_LATER, EN, "think about it"},
	{LF_LATER, EN, "later"},
	{LF_LATER, EN, "not now"},
	{LF_LATER, EN, "next month|year"},
	{LF_LATER, EN, "get back"},
	{LF_DISTRUST, ALL, "golpe|golpista*|piramide|fraude|picaretagem|estafa|scam|scammer|fraud|ponzi|legit|confiavel|confiable|trustworthy"},
	{LF_DISTRUST, PT, "reclame aqui"},
	{LF_DISTRUST, PT, "e|isso e serio|verdade"},
	{LF_DISTRUST, EN, "is this real"},
	{LF_QUICK_MONEY, PT, "ficar rico|rica"},
	{LF_QUICK_MONEY, PT, "dinheiro ~ rapido|facil"},
	{LF_QUICK_MONEY, PT, "ganhar ~ rapido|facil"},
	{LF_QUICK_MONEY, PT, "dobrar|triplicar|multiplicar ~ dinheiro|grana|capital"},
	{LF_QUICK_MONEY, ALL, "forex|binaria|binarias|binary|sinais|signals|alavancagem|leverage"},
	{LF_QUICK_MONEY, ES, "dinero rapido|facil"},
	{LF_QUICK_MONEY, ES, "hacerme|volverme rico"},
	{LF_QUICK_MONEY, ES, "duplicar"},
	{LF_QUICK_MONEY, EN, "get rich"},
	{LF_QUICK_MONEY, EN, "quick|easy|fast money"},
	{LF_QUICK_MONEY, EN, "double my money"},
	{LF_WANTS_LOAN, ALL, "emprestimo*|consignado|financiamento|financiar|prestamo*|loan|loans|borrow*|cartao|tarjeta"},
	{LF_WANTS_LOAN, PT, "credito pessoal|consignado"},
	{LF_WANTS_LOAN, PT, "preciso de dinheiro|grana"},
	{LF_WANTS_LOAN, ES, "necesito dinero|plata"},
	{LF_WANTS_LOAN, EN, "credit card"},
	{LF_WANTS_LOAN, EN, "need money|cash"},
	{LF_HAS_ADVISOR, PT, "ja|eu tenho ~ assessor|acessor|gerente|conta"},
	{LF_HAS_ADVISOR, PT, "meu assessor|acessor|gerente"},
	{LF_HAS_ADVISOR, PT, "ja invisto|aplico"},
	{LF_HAS_ADVISOR, ES, "ya tengo ~ asesor|cuenta"},
	{LF_HAS_ADVISOR, ES, "mi asesor"},
	{LF_HAS_ADVISOR, ES, "ya invierto"},
	{LF_HAS_ADVISOR, EN, "already have ~ advisor|adviser|broker"},
	{LF_HAS_ADVISOR, EN, "already invest"},
	{LF_HAS_ADVISOR, EN, "my advisor|adviser|broker"},
	{LF_WRONG_PERSON, PT, "numero errado"},
	{LF_WRONG_PERSON, PT, "engano|enganado"},
	{LF_WRONG_PERSON, PT, "nao|n sou eu"},
	{LF_WRONG_PERSON, PT, "nao|n conheco|pedi|cadastrei"},
	{LF_WRONG_PERSON, PT, "nao|n me cadastrei"},
	{LF_WRONG_PERSON, PT, "quem e|eh voce|vc|voces|isso"},
	{LF_WRONG_PERSON, PT, "quem fala"},
	{LF_WRONG_PERSON, PT, "como conseguiu|conseguiram|pegou|pegaram meu|o numero|contato"},
	{LF_WRONG_PERSON, ES, "numero equivocado"},
	{LF_WRONG_PERSON, ES, "quien es|habla"},
	{LF_WRONG_PERSON, EN, "wrong number|person"},
	{LF_WRONG_PERSON, EN, "who is this"},
	{LF_WRONG_PERSON, EN, "who are you"},
	{LF_WRONG_PERSON, EN, "didnt|never sign|signed|ask|asked"},
	{LF_FEES_OBJECTION, ALL, "caro|carisimo|expensive|costoso|abusiva|abusivo"},
	{LF_FEES_OBJECTION, PT, "taxa|taxas ~ alta|altas|salgada|salgadas"},
	{LF_FEES_OBJECTION, PT, "cobram|cobra muito"},
	{LF_FEES_OBJECTION, EN, "fees are|too high"},
	{LF_FEES_OBJECTION, EN, "too high"},
	{LF_FEES_OBJECTION, ES, "cobran mucho"},
	{LF_STOP_REQUEST, PT, "para|pare|parem de ~ mandar|enviar"},
	{LF_STOP_REQUEST, PT, "nao|n quero ~ receber"},
	{LF_STOP_REQUEST, PT, "me tira|tirem|remove|remova da|dessa lista"},
	{LF_STOP_REQUEST, PT, "tirar|tira|tirem meu numero|contato"},
	{LF_STOP_REQUEST, PT, "descadastrar|descadastra|descadastre"},
	{LF_STOP_REQUEST, ES, "dejen|deja de ~ mandar|enviar|escribir"},
	{LF_STOP_REQUEST, ES, "dame|denme de baja"},
	{LF_STOP_REQUEST, EN, "unsubscribe|optout"},
	{LF_STOP_REQUEST, EN, "stop ~ messaging|texting|sending"},
	{LF_STOP_REQUEST, ALL, "stop"},
};

#define NPHRASES ((int) (sizeof(phrases) / sizeof(phrases[0])))

/*
 * Which first characters a phrase can start with, one bit each: letters,
 * any digit, '%'.  Most phrases are ruled out for a token by one AND.
 */
#define FIRST_DIGIT 26
#define FIRST_PERCENT 27

static uint64_t first_chars[NPHRASES];
static bool indexed;

static int
first_bit(char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if ((c >= '0' && c <= '9') || c == '#')
		return FIRST_DIGIT;
	return FIRST_PERCENT;
}

static void
index_phrases(void)
{
	for (int p = 0; p < NPHRASES; p++)
	{
		const char *s = phrases[p].pattern;

		first_chars[p] = UINT64_C(1) << first_bit(*s);
		/* every alternative of the first slot */
		for (; *s && *s != ' '; s++)
			if (*s == '|')
				first_chars[p] |= UINT64_C(1) << first_bit(s[1]);
	}
	indexed = true;
}

/* Does the word match one of the '|'-separated alternatives of a slot? */
static bool
slot_matches(const char *slot, int len, const LeadToken *tok)
{
	const char *end = slot + len;

	if (len == 1 && slot[0] == '#')
		return tok->kind == LT_NUMBER;
	if (tok->kind != LT_WORD)
		return false;
	while (slot < end)
	{
		const char *bar = memchr(slot, '|', end - slot);
		int			alen = (int) ((bar ? bar : end) - slot);

		if (alen > 0 && slot[alen - 1] == '*')
		{
			if (strncmp(tok->word, slot, alen - 1) == 0)
				return true;
		}
		else if ((int) strlen(tok->word) == alen && strncmp(tok->word, slot, alen) == 0)
			return true;
		slot += alen + 1;
	}
	return false;
}

/* Matches the slots of pattern (from p) at token i. */
static bool
match_at(const LeadTokens *t, int i, const char *p)
{
	const char *space;
	int			len;

	while (*p == ' ')
		p++;
	if (*p == '\0')
		return true;
	space = strchr(p, ' ');
	len = space ? (int) (space - p) : (int) strlen(p);
	if (len == 1 && *p == '~')
	{
		if (match_at(t, i, p + 1))
			return true;
		return i < t->n && t->tok[i].kind == LT_WORD && match_at(t, i + 1, p + 1);
	}
	if (i >= t->n || !slot_matches(p, len, &t->tok[i]))
		return false;
	return match_at(t, i + 1, p + len);
}

/* "petr4", "vale3", "mxrf11": a B3 ticker (units and real-estate funds end in 11). */
static int
ticker_feature(const LeadToken *tok)
{
	const char *w = tok->word;
	int			digits;

	if (tok->kind != LT_WORD || strlen(w) < 5 || strlen(w) > 6)
		return 0;
	for (int i = 0; i < 4; i++)
		if (!islower((unsigned char) w[i]))
			return 0;
	for (digits = 4; w[digits]; digits++)
		if (!isdigit((unsigned char) w[digits]))
			return 0;
	if (strcmp(w + 4, "11") == 0)
		return LF_PRODUCT_FII;
	return strchr("3456", w[4]) && w[5] == '\0' ? LF_PRODUCT_STOCKS : 0;
}

static void
add_signal(LeadEntry *out, int *n, bool *seen, int feature)
{
	if (feature <= 0 || feature > LEAD_FIT_LAST || seen[feature] || *n >= LEAD_FIT_MAX)
		return;
	seen[feature] = true;
	out[*n].idx = feature;
	out[(*n)++].val = 1.0f;
}

int
lead_fit_signals(const LeadTokens *t, LeadLanguage lang, LeadEntry *out)
{
	bool		seen[LEAD_FIT_LAST + 1] = {false};
	int			n = 0;
	int			votes[3];
	int			langs = lead_language_votes(t, votes) > 0 ? 1 << lang : LEAD_LANG_ALL;

	if (!indexed)
		index_phrases();
	for (int i = 0; i < t->n; i++)
	{
		uint64_t	first;

		if (t->tok[i].kind != LT_WORD && t->tok[i].kind != LT_NUMBER)
			continue;
		first = UINT64_C(1) << first_bit(t->tok[i].word[0]);
		add_signal(out, &n, seen, ticker_feature(&t->tok[i]));
		for (int p = 0; p < NPHRASES; p++)
			if ((first_chars[p] & first) && !seen[phrases[p].feature] &&
				(phrases[p].langs & langs) && match_at(t, i, phrases[p].pattern))
				add_signal(out, &n, seen, phrases[p].feature);
	}
	add_signal(out, &n, seen, lead_amount_feature(lead_amount_brl(t, lang)));
	add_signal(out, &n, seen, lead_horizon_feature(lead_horizon_months(t)));
	if (t->questions > 0)
		add_signal(out, &n, seen, LF_ASKED_QUESTION);
	return n;
}

const char *
lead_lexicon_check(void)
{
	for (int p = 0; p < NPHRASES; p++)
	{
		const char *s = phrases[p].pattern;

		if (!lead_feature_is_fit(phrases[p].feature) || lead_feature_info(phrases[p].feature) == NULL ||
			phrases[p].langs == 0 || (phrases[p].langs & ~LEAD_LANG_ALL) || *s == '\0' || *s == ' ' ||
			s[strlen(s) - 1] == ' ' || s[strlen(s) - 1] == '|' || strstr(s, "||") || strstr(s, "  ") ||
			strstr(s, "| ") || strstr(s, " |") || s[0] == '~')
			return s;
		for (const char *c = s; *c; c++)
			if (!(islower((unsigned char) *c) || isdigit((unsigned char) *c) || strchr(" |*~#%", *c)))
				return s;
	}
	return NULL;
}
