/*
 * test_template_lint.c
 *		The policy lint (core/template_lint.c, core/text_lint.c): each rule
 *		fires on what it names and stays quiet on the usual, clean case.
 */
#include <json.h>
#include <string.h>

#include "unit.h"

#include "core/template_lint.h"
#include "json_c_view.h"

static LintReport report;

static const LintReport *
lint(const char *components, const char *category)
{
	struct json_object *a = json_tokener_parse(components);
	JsonView	v = json_c_view(a);

	assert_non_null(a);
	template_lint(&v, category, &report);
	json_object_put(a);
	return &report;
}

static const LintReport *
lint_body(const char *body, const char *category)
{
	char		json[2048];

	snprintf(json, sizeof(json), "[{\"type\":\"BODY\",\"text\":\"%s\"}]", body);
	return lint(json, category);
}

static const LintReport *
lint_free(const char *text, const char *category)
{
	text_lint(text, (long) strlen(text), category, &report);
	return &report;
}

/* The finding of that rule, or NULL. */
static const LintFinding *
found(const LintReport *r, const char *rule)
{
	for (int i = 0; i < r->n; i++)
		if (strcmp(r->f[i].rule, rule) == 0)
			return &r->f[i];
	return NULL;
}

static void
clean_templates_have_no_findings(void **state)
{
	assert_int_equal(lint_body("Olá {{1}}, seu pedido {{2}} saiu para entrega e chega amanhã.", "utility")->n, 0);
	assert_int_equal(lint("[{\"type\":\"BODY\",\"text\":\"Olá {{1}}, o CDB de novembro rende 12% ao ano para você.\"},"
						  "{\"type\":\"FOOTER\",\"text\":\"Responda SAIR para não receber mais\"}]", "marketing")->n, 0);
	/* the usual anti-fraud line asks for nothing */
	assert_int_equal(lint_body("Seu código é {{1}}. Nunca pedimos sua senha ou o número do seu cartão.", "utility")->n, 0);
}

static void
variables_at_the_edges(void **state)
{
	const LintFinding *f;

	f = found(lint_body("{{1}}, seu pedido saiu para entrega hoje de manhã.", "utility"), "variable_at_edge");
	assert_non_null(f);
	assert_int_equal(f->severity, LINT_ERROR);
	assert_string_equal(f->location, "body");
	/* a variable followed only by punctuation is at the end too */
	assert_non_null(found(lint_body("Seu pedido saiu para entrega, acompanhe pelo código {{1}}.", "utility"), "variable_at_edge"));
	assert_null(found(lint_body("Seu pedido {{1}} saiu para entrega hoje de manhã.", "utility"), "variable_at_edge"));
}

static void
adjacent_malformed_and_out_of_sequence(void **state)
{
	const LintReport *r = lint_body("Olá {{1}} {{2}}, seu pedido saiu para entrega hoje de manhã cedo.", "utility");

	assert_non_null(found(r, "adjacent_variables"));
	assert_non_null(found(lint_body("Olá {{1}}, seu pedido {{3}} saiu para entrega hoje de manhã.", "utility"),
						  "non_sequential_variables"));
	assert_non_null(found(lint_body("Olá {{ nome }}, seu pedido saiu para entrega hoje de manhã.", "utility"),
						  "malformed_variable"));
	assert_non_null(found(lint_body("Olá {{1}}, seu pedido {{codigo}} saiu para entrega hoje de manhã.", "utility"),
						  "mixed_variables"));
	assert_non_null(found(lint_body("Olá {{1}, seu pedido saiu para entrega hoje de manhã.", "utility"),
						  "malformed_variable"));
}

static void
too_many_variables_for_the_length(void **state)
{
	/* 4 variables need 13 words in all: 8 + 4 is one short, 9 + 4 is enough */
	const LintFinding *f = found(lint_body("Hello {{1}}, your order {{2}} for {{3}} will be delivered by {{4}}.", "utility"),
								 "too_many_variables");

	assert_non_null(f);
	assert_int_equal(f->severity, LINT_WARNING);
	assert_null(found(lint_body("Hello {{1}}, your order {{2}} for {{3}} will be delivered by {{4}} today.", "utility"),
					  "too_many_variables"));
}

static void
shorteners_and_shouting(void **state)
{
	const LintReport *r = lint("[{\"type\":\"BODY\",\"text\":\"Veja a oferta do mês em nosso site e aproveite.\"},"
							   "{\"type\":\"BUTTONS\",\"buttons\":[{\"type\":\"URL\",\"text\":\"Ver\",\"url\":\"https://bit.ly/{{1}}\"},"
							   "{\"type\":\"QUICK_REPLY\",\"text\":\"Parar promoções\"}]}]", "marketing");
	const LintFinding *f = found(r, "link_shortener");

	assert_non_null(f);
	assert_string_equal(f->location, "buttons.0");
	assert_null(found(r, "missing_opt_out"));	/* the quick reply says how */
	assert_null(found(lint_free("Acesse https://rabbit.lyrics.com.br/x", "service"), "link_shortener"));
	assert_non_null(found(lint_free("APROVEITE AGORA A MAIOR PROMOÇÃO DO ANO INTEIRO", "service"), "all_caps"));
	assert_null(found(lint_free("Use o código PROMO10 na loja até domingo", "service"), "all_caps"));
	assert_non_null(found(lint_free("Oferta 🔥🔥🔥🔥 imperdível", "service"), "emoji_flood"));
	assert_null(found(lint_free("Oferta 🔥 imperdível 😀", "service"), "emoji_flood"));
}

static void
sensitive_requests_outside_authentication(void **state)
{
	const LintFinding *f = found(lint_body("Para liberar o prêmio, informe o número do seu cartão e o CVV.", "marketing"),
								 "sensitive_data_request");

	assert_non_null(f);
	assert_int_equal(f->severity, LINT_ERROR);
	assert_non_null(found(lint_free("Qual é o seu CPF?", "service"), "sensitive_data_request"));
	assert_non_null(found(lint_free("Reply with your password to confirm", "utility"), "sensitive_data_request"));
	/* partial identifiers are allowed; so is an authentication code */
	assert_null(found(lint_free("Confirme os últimos 4 dígitos do seu CPF", "utility"), "sensitive_data_request"));
	assert_null(found(lint_body("Digite a senha {{1}} no aplicativo para entrar agora.", "authentication"),
					  "sensitive_data_request"));
	/* a mention that asks nothing */
	assert_null(found(lint_free("Seu CPF foi atualizado no cadastro.", "utility"), "sensitive_data_request"));
}

/* Portuguese asks without an imperative, a CVV named at all, spelled-out words */
static void
sensitive_requests_without_a_request_verb(void **state)
{
	const char *asks[] = {
		"Me passa o número do cartão", "Preciso do número do cartão",
		"Me passa o código de segurança do cartão", "Número do cartão e validade, por favor",
		"Agora só falta o CVV", "Qual o seu C.P.F.?", "Me fala a s e n h a do app",
		"Precisamos do seu CPF para continuar",
	};
	const char *fine[] = {
		"Nunca pedimos sua senha", "Nunca compartilhe o CVV do seu cartão",
		"Seu cartão final 1234 foi aprovado", "Confirme os últimos 4 dígitos do cartão, por favor",
		"Seu CPF foi atualizado no cadastro.", "De A a Z, tudo na loja",
	};

	for (size_t i = 0; i < sizeof(asks) / sizeof(asks[0]); i++)
		if (found(lint_free(asks[i], "service"), "sensitive_data_request") == NULL)
			fail_msg("not flagged: %s", asks[i]);
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++)
		if (found(lint_free(fine[i], "service"), "sensitive_data_request") != NULL)
			fail_msg("flagged: %s", fine[i]);
}

static void
marketing_needs_a_way_out(void **state)
{
	const LintFinding *f = found(lint_body("Conheça o novo CDB com liquidez diária e taxa especial.", "marketing"),
								 "missing_opt_out");

	assert_non_null(f);
	assert_int_equal(f->severity, LINT_WARNING);
	assert_null(found(lint_body("Conheça o novo CDB com liquidez diária e taxa especial.", "utility"), "missing_opt_out"));
	assert_null(found(lint_free("Novo CDB! Para não receber mais, responda PARAR.", "marketing"), "missing_opt_out"));
	assert_non_null(found(lint_free("Novo CDB com taxa especial!", "marketing"), "missing_opt_out"));
}

static void
lengths_and_parts(void **state)
{
	char		body[1100];

	memset(body, 'a', 1030);
	body[1030] = '\0';
	assert_non_null(found(lint_body(body, "utility"), "too_long"));
	assert_non_null(found(lint("[{\"type\":\"HEADER\",\"format\":\"IMAGE\"}]", "utility"), "missing_body"));
	assert_string_equal(lint_severity_name(LINT_WARNING), "warning");
	assert_true(lint_category_known("service"));
	assert_false(lint_category_known("promo"));
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(clean_templates_have_no_findings),
	cmocka_unit_test(variables_at_the_edges),
	cmocka_unit_test(adjacent_malformed_and_out_of_sequence),
	cmocka_unit_test(too_many_variables_for_the_length),
	cmocka_unit_test(shorteners_and_shouting),
	cmocka_unit_test(sensitive_requests_outside_authentication),
	cmocka_unit_test(sensitive_requests_without_a_request_verb),
	cmocka_unit_test(marketing_needs_a_way_out),
	cmocka_unit_test(lengths_and_parts),
};

UnitGroup
template_lint_tests(void)
{
	return (UnitGroup) UNIT_GROUP("template_lint", tests);
}
