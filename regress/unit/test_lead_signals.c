/*
 * test_lead_signals.c
 *		Fit signals: amounts, horizons, products, intent and objections,
 *		as leads write them in Portuguese, Spanish and English.
 */
#include "unit.h"

#include <stdio.h>
#include <string.h>

#include "core/lead_features.h"
#include "core/lead_signals.h"

static LeadTokens t;

static double
amount(const char *text)
{
	lead_tokenize(text, &t);
	return lead_amount_brl(&t, lead_language_of(&t));
}

static void
amounts_in_reais(void **state)
{
	const struct
	{
		const char *text;
		double		brl;
	}			cases[] = {
		{"tenho uns R$ 50 mil parados", 50e3},
		{"R$50.000,00", 50e3},
		{"50k", 50e3},
		{"uns 50 mil reais", 50e3},
		{"cinquenta mil", 50e3},
		{"cento e vinte mil reais", 120e3},
		{"meio milhão", 500e3},
		{"1 milhão e meio", 1.5e6},
		{"1,5 mi", 1.5e6},
		{"1kk", 1e6},
		{"R$ 1.500,00", 1500},
		{"500 reais por mês", 500},
		{"$ 20 mil", 20e3},		/* "$" alone is reais to a Brazilian */
		{"I have US$ 10.000", 50e3},	/* dollars at 5 */
		{"about fifty thousand dollars", 250e3},
		{"I have 20k saved", 100e3},	/* no currency in English: dollars */
		{"tengo 10 mil dólares", 50e3},
		{"tengo 100 mil reales para invertir", 100e3},	/* reais in Spanish, not dollars */
		{"tengo 150.000 reales ahorrados", 150e3},
		{"tenho 10 mil euros", 55e3},
		{"I have two hundred thousand", 1e6},
		{"50 mil pesos", 0},	/* which peso? left out */
		{"tenho 35 anos", 0},	/* an age */
		{"CDB de 120% do CDI", 0},	/* a percentage */
		{"me liga no 11 98888-7777", 0},	/* a phone number */
		{"em 2026", 0},			/* a year */
		{"mil vezes obrigado", 0},
		{"um CDB", 0},
		{"10 mil e depois 200 mil", 200e3},	/* the largest */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		double		got = amount(cases[i].text);

		if (got < cases[i].brl - 1e-6 || got > cases[i].brl + 1e-6)
			fail_msg("\"%s\": %.2f reais, expected %.2f", cases[i].text, got, cases[i].brl);
	}
}

static void
amount_buckets(void **state)
{
	assert_int_equal(lead_amount_feature(0), 0);
	assert_int_equal(lead_amount_feature(9999), LF_AMOUNT_UNDER_10K);
	assert_int_equal(lead_amount_feature(10e3), LF_AMOUNT_10K);
	assert_int_equal(lead_amount_feature(50e3), LF_AMOUNT_50K);
	assert_int_equal(lead_amount_feature(199999), LF_AMOUNT_50K);
	assert_int_equal(lead_amount_feature(200e3), LF_AMOUNT_200K);
	assert_int_equal(lead_amount_feature(1e6), LF_AMOUNT_1M);
}

static void
horizons(void **state)
{
	const struct
	{
		const char *text;
		double		months;
	}			cases[] = {
		{"pretendo deixar 2 anos", 24},
		{"uns 6 meses", 6},
		{"dois anos", 24},
		{"for 10 years", 120},
		{"a 5 años", 60},
		{"tenho 35 anos", 0},
		{"invisto há 3 anos", 0},
		{"faz 2 anos que tenho CDB", 0},
		{"started 2 years ago", 0},
		{"entre 1 e 3 anos", 3 * 12},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		lead_tokenize(cases[i].text, &t);
		if (lead_horizon_months(&t) != cases[i].months)
			fail_msg("\"%s\": %.1f months, expected %.1f", cases[i].text, lead_horizon_months(&t),
					 cases[i].months);
	}
	assert_int_equal(lead_horizon_feature(0), 0);
	assert_int_equal(lead_horizon_feature(6), LF_HORIZON_SHORT);
	assert_int_equal(lead_horizon_feature(12), LF_HORIZON_MEDIUM);
	assert_int_equal(lead_horizon_feature(60), LF_HORIZON_MEDIUM);
	assert_int_equal(lead_horizon_feature(61), LF_HORIZON_LONG);
}

/* The keys of the signals found, space separated, in the order found. */
static const char *
signals(const char *text)
{
	static char out[512];
	LeadEntry	e[LEAD_FIT_MAX];
	int			n;

	lead_tokenize(text, &t);
	n = lead_fit_signals(&t, lead_language_of(&t), e);
	out[0] = '\0';
	for (int i = 0; i < n; i++)
	{
		assert_true(e[i].val == 1.0f);
		if (i > 0)
			strcat(out, " ");
		strcat(out, lead_feature_info(e[i].idx)->key);
	}
	return out;
}

static void
has(const char *text, const char *key)
{
	char		padded[520];

	snprintf(padded, sizeof(padded), " %s ", signals(text));
	if (!strstr(padded, key))
		fail_msg("\"%s\" should have %s, has: %s", text, key, signals(text));
}

static void
has_not(const char *text, const char *key)
{
	char		padded[520],
				wanted[64];

	snprintf(padded, sizeof(padded), " %s ", signals(text));
	snprintf(wanted, sizeof(wanted), " %s ", key);
	if (strstr(padded, wanted))
		fail_msg("\"%s\" should not have %s, has: %s", text, key, signals(text));
}

static void
products(void **state)
{
	has("quanto rende o CDB?", "product_cdb");
	has("tem cbd de liquidez diaria?", "product_cdb");
	has("LCI ou LCA?", "product_lci_lca");
	has("quero tesouro ipca+", "product_tesouro");
	has("Tesouro Selic", "product_tesouro");
	has("queria comprar ações da Petrobras", "product_stocks");
	has("PETR4 tá barata?", "product_stocks");
	has("MXRF11 paga bem?", "product_fii");
	has("fundos imobiliários", "product_fii");
	has("previdência privada, PGBL ou VGBL?", "product_pension");
	has("tengo bitcoin", "product_crypto");
	has("renda fixa", "product_fixed_income");
	has("quero investir no exterior", "product_abroad");
	has("do you have real estate funds?", "product_fii");
	has_not("meu carro é cara", "fees_objection");	/* "cara" is "dude" */
}

static void
intent(void **state)
{
	has("quanto rende 50 mil?", "asked_yield");
	has("how much would I earn", "asked_yield");
	has("quero abrir uma conta", "wants_account");
	has("pode me ligar amanhã?", "wants_call");
	has("quero falar com um assessor", "wants_call");
	has("quiero hablar con un asesor", "wants_call");
	has("quero trazer meus investimentos do Itaú", "portability");
	has("quero trazer meus investimentos do Itaú", "competitor");
	has("é urgente, hoje ainda", "urgency");
	has("tenho dinheiro parado na poupança", "has_savings");
	has("qual a taxa de administração?", "asked_fees");
	has("tem FGC?", "asked_safety");
	has("quero investir", "ready_to_invest");
	has("I want to invest", "ready_to_invest");
	has("tá?", "asked_question");
	has("R$ 50 mil", "amount_50k");
	has("pretendo deixar uns 10 anos", "horizon_long");
	has("longo prazo", "horizon_long");
}

static void
objections(void **state)
{
	has("tô sem grana", "no_money");
	has("não tenho dinheiro agora", "no_money");
	has("no tengo plata", "no_money");
	has("I'm broke", "no_money");
	has("só curiosidade", "just_curious");
	has("just looking", "just_curious");
	has("não tenho interesse", "not_interested");
	has("no me interesa", "not_interested");
	has("not interested, thanks", "not_interested");
	has("vou pensar e te falo", "later");
	has("mais pra frente", "later");
	has("isso é golpe?", "distrust");
	has("quero dobrar meu dinheiro rápido", "quick_money");
	has("preciso de um empréstimo", "wants_loan");
	has("já tenho assessor", "has_advisor");
	has("número errado", "wrong_person");
	has("quem é você?", "wrong_person");
	has("taxa muito alta", "fees_objection");
	has("não quero mais receber mensagens", "stop_request");
	has_not("não quero sair", "stop_request");
	has_not("agora sim, quero investir", "later");
}

static void
each_signal_counts_once_per_message(void **state)
{
	assert_string_equal(signals("CDB, CDB, CDB"), "product_cdb");
	assert_string_equal(signals(""), "");
	assert_string_equal(signals(NULL), "");
}

static void
lexicon_is_well_formed(void **state)
{
	const char *bad = lead_lexicon_check();

	if (bad)
		fail_msg("bad phrase: \"%s\"", bad);
}

UnitGroup
lead_signals_tests(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(amounts_in_reais),
		cmocka_unit_test(amount_buckets),
		cmocka_unit_test(horizons),
		cmocka_unit_test(products),
		cmocka_unit_test(intent),
		cmocka_unit_test(objections),
		cmocka_unit_test(each_signal_counts_once_per_message),
		cmocka_unit_test(lexicon_is_well_formed),
	};

	return (UnitGroup) UNIT_GROUP("lead_signals", tests);
}
