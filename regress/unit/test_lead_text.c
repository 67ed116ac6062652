/*
 * test_lead_text.c
 *		The lead tokenizer (numbers, currency marks, folding, breaks) and
 *		the language guess.
 */
#include "unit.h"

#include <string.h>

#include "core/lead_text.h"

extern bool lead_language_table_sorted(void);

static LeadTokens t;

static void
numbers_read_with_brazilian_and_english_separators(void **state)
{
	const struct
	{
		const char *text;
		double		value;
	}			cases[] = {
		{"50.000,00", 50000}, {"50,000.00", 50000}, {"1,5", 1.5}, {"2.75", 2.75},
		{"10.000", 10000}, {"2,500", 2500}, {"1.000.000", 1e6}, {"1,000,000", 1e6},
		{"1.234.567,89", 1234567.89}, {"7", 7}, {"0,5", 0.5},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		lead_tokenize(cases[i].text, &t);
		assert_int_equal(t.n, 1);
		assert_int_equal(t.tok[0].kind, LT_NUMBER);
		assert_true(t.tok[0].number > cases[i].value - 1e-6 && t.tok[0].number < cases[i].value + 1e-6);
	}
	/* a full stop after a number ends the clause, it is not a decimal point */
	lead_tokenize("tenho 50. e voce", &t);
	assert_int_equal(t.tok[1].kind, LT_NUMBER);
	assert_true(t.tok[1].number == 50);
	assert_int_equal(t.tok[2].kind, LT_BREAK);
}

static void
letters_after_digits_are_an_attached_word(void **state)
{
	lead_tokenize("50k 2anos b3 R$50 US$ 10", &t);
	assert_int_equal(t.n, 9);
	assert_string_equal(t.tok[0].word, "50");
	assert_string_equal(t.tok[1].word, "k");
	assert_true(t.tok[1].attached);
	assert_string_equal(t.tok[3].word, "anos");
	assert_true(t.tok[3].attached);
	assert_int_equal(t.tok[4].kind, LT_WORD);	/* letters then digits: a word */
	assert_string_equal(t.tok[4].word, "b3");
	assert_int_equal(t.tok[5].kind, LT_CURRENCY);
	assert_string_equal(t.tok[5].word, "r$");
	assert_int_equal(t.tok[6].kind, LT_NUMBER);
	assert_true(t.tok[6].attached);
	assert_false(t.tok[8].attached);
	lead_tokenize("uns 10 k", &t);
	assert_false(t.tok[2].attached);
	lead_tokenize("US$ 10 e 5€ e $3", &t);
	assert_string_equal(t.tok[0].word, "us$");
	assert_int_equal(t.tok[4].kind, LT_CURRENCY);
	assert_string_equal(t.tok[4].word, "eur");
	assert_string_equal(t.tok[6].word, "$");
}

static void
words_are_folded(void **state)
{
	lead_tokenize("AÇÕES muuuito Simmm don't Você ¿Cuánto? kkkk carro", &t);
	assert_string_equal(t.tok[0].word, "acoes");
	assert_string_equal(t.tok[1].word, "muito");
	assert_string_equal(t.tok[2].word, "sim");
	assert_string_equal(t.tok[3].word, "dont");
	assert_string_equal(t.tok[4].word, "voce");
	assert_string_equal(t.tok[5].word, "cuanto");
	assert_int_equal(t.tok[6].kind, LT_BREAK);
	assert_string_equal(t.tok[7].word, "k");
	assert_string_equal(t.tok[8].word, "carro");
	assert_int_equal(t.questions, 1);
	/* the surface form keeps the accents, in lower case */
	lead_tokenize_surface("AÇÕES Rendimento é", &t);
	assert_string_equal(t.tok[0].word, "ações");
	assert_string_equal(t.tok[1].word, "rendimento");
	assert_string_equal(t.tok[2].word, "é");
	/* combining accents (NFD) fold the same way */
	lead_tokenize("ac\xcc\xa7o\xcc\x83" "es", &t);
	assert_string_equal(t.tok[0].word, "acoes");
}

static void
breaks_and_bad_bytes(void **state)
{
	lead_tokenize("oi!!! tudo bem?? \xf0\x9f\x98\x80 quero.", &t);
	/* oi , tudo bem , quero: no doubled breaks, none at the end */
	assert_int_equal(t.n, 6);
	assert_int_equal(t.tok[1].kind, LT_BREAK);
	assert_int_equal(t.tok[4].kind, LT_BREAK);
	assert_int_equal(t.questions, 2);
	lead_tokenize("cdb\xff\xfe" "lci\xc3", &t);
	assert_int_equal(t.n, 2);
	assert_string_equal(t.tok[1].word, "lci");
	lead_tokenize(NULL, &t);
	assert_int_equal(t.n, 0);
}

static void
long_text_is_read_up_to_the_limit(void **state)
{
	static char text[LEAD_MAX_TOKENS * 4 + 64];
	char		longword[100];

	text[0] = '\0';
	for (int i = 0; i < LEAD_MAX_TOKENS + 10; i++)
		strcat(text, "ab ");
	lead_tokenize(text, &t);
	assert_int_equal(t.n, LEAD_MAX_TOKENS);
	assert_true(t.truncated);
	memset(longword, 'x', sizeof(longword) - 1);
	longword[sizeof(longword) - 1] = '\0';
	longword[0] = 'a';
	lead_tokenize(longword, &t);
	assert_int_equal(t.n, 1);
	assert_int_equal((int) strlen(t.tok[0].word), 2);	/* "axxx..." cut, then the run of x */
}

static void
language_by_function_words(void **state)
{
	const struct
	{
		const char *text;
		LeadLanguage lang;
	}			cases[] = {
		{"Oi, você pode me ligar? Eu tenho interesse", LEAD_LANG_PT},
		{"Hola, ¿usted puede llamarme? Tengo dinero", LEAD_LANG_ES},
		{"Hi, can you call me? I have some money", LEAD_LANG_EN},
		{"ok", LEAD_LANG_PT},	/* nothing to tell: Portuguese */
		{"CDB", LEAD_LANG_PT},
		{"quiero invertir con ustedes", LEAD_LANG_ES},
		{"vc tem CDB?", LEAD_LANG_PT},
		{"what is the yield of the CDB", LEAD_LANG_EN},
	};

	assert_true(lead_language_table_sorted());
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		lead_tokenize(cases[i].text, &t);
		assert_int_equal(lead_language_of(&t), cases[i].lang);
	}
}

static void
language_names(void **state)
{
	LeadLanguage l;

	assert_true(lead_language_parse("es", &l));
	assert_int_equal(l, LEAD_LANG_ES);
	assert_true(lead_language_parse("english", &l));
	assert_int_equal(l, LEAD_LANG_EN);
	assert_false(lead_language_parse("fr", &l));
	assert_false(lead_language_parse(NULL, &l));
	assert_string_equal(lead_language_code(LEAD_LANG_PT), "pt");
}

UnitGroup
lead_text_tests(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(numbers_read_with_brazilian_and_english_separators),
		cmocka_unit_test(letters_after_digits_are_an_attached_word),
		cmocka_unit_test(words_are_folded),
		cmocka_unit_test(breaks_and_bad_bytes),
		cmocka_unit_test(long_text_is_read_up_to_the_limit),
		cmocka_unit_test(language_by_function_words),
		cmocka_unit_test(language_names),
	};

	return (UnitGroup) UNIT_GROUP("lead_text", tests);
}
