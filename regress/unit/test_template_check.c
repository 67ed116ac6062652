/*
 * test_template_check.c
 *		A template send against the approved template (core/template_check.c),
 *		both read as JSON through json-c.
 */
#include <json.h>
#include <string.h>

#include "unit.h"

#include "core/payload.h"
#include "core/template_check.h"
#include "json_c_view.h"

/* A body with two positional variables, a quick reply and a dynamic URL button. */
static const char *const oferta =
"[{\"type\":\"HEADER\",\"format\":\"IMAGE\"},"
" {\"type\":\"BODY\",\"text\":\"Olá {{1}}, seu CDB rende {{2}} ao ano. Responda SAIR para não receber.\"},"
" {\"type\":\"FOOTER\",\"text\":\"Investimentos BR\"},"
" {\"type\":\"BUTTONS\",\"buttons\":[{\"type\":\"QUICK_REPLY\",\"text\":\"Quero\"},"
"   {\"type\":\"URL\",\"text\":\"Ver\",\"url\":\"https://example.com/o/{{1}}\"},"
"   {\"type\":\"PHONE_NUMBER\",\"text\":\"Ligar\",\"phone_number\":\"+5511900000000\"}]}]";

static const char *const nomeado = "[{\"type\":\"BODY\",\"text\":\"Olá {{nome}}, seu pedido {{pedido}} chegou.\"}]";

/* Checks send (the "template" object's components) against approved. */
static bool
check(const char *approved, const char *category, const char *send_components, const char *send_category,
	  PayloadError *err)
{
	char		send[8192];
	struct json_object *a = approved ? json_tokener_parse(approved) : NULL;
	struct json_object *s;
	JsonView	av = json_c_view(a);
	JsonView	sv;
	TemplateSpec t = {"oferta_cdb", "pt_BR", category, approved ? &av : NULL};
	bool		ok;

	snprintf(send, sizeof(send), "{\"template\":{\"name\":\"oferta_cdb\",\"language\":{\"code\":\"pt_BR\"},"
			 "\"components\":%s}}", send_components);
	s = json_tokener_parse(send);
	assert_non_null(s);
	sv = json_c_view(s);
	memset(err, 0, sizeof(*err));
	assert_true(payload_validate("template", &sv, err));	/* well-shaped: only the fit is checked */
	ok = template_check(&t, &sv, send_category, err);
	json_object_put(a);
	json_object_put(s);
	return ok;
}

#define HEADER_IMAGE "{\"type\":\"header\",\"parameters\":[{\"type\":\"image\",\"image\":{\"link\":\"https://x/a.jpg\"}}]}"
#define URL_BUTTON "{\"type\":\"button\",\"sub_type\":\"url\",\"index\":\"1\",\"parameters\":[{\"type\":\"text\",\"text\":\"abc\"}]}"
#define BODY2 "{\"type\":\"body\",\"parameters\":[{\"type\":\"text\",\"text\":\"Ana\"},{\"type\":\"text\",\"text\":\"12%\"}]}"

static void
positional_count(void **state)
{
	PayloadError e;

	assert_true(check(oferta, "MARKETING", "[" HEADER_IMAGE "," BODY2 "," URL_BUTTON "]", "marketing", &e));
	assert_false(check(oferta, "MARKETING",
					   "[" HEADER_IMAGE ",{\"type\":\"body\",\"parameters\":[{\"type\":\"text\",\"text\":\"Ana\"}]}," URL_BUTTON "]",
					   "marketing", &e));
	assert_string_equal(e.field, "template.components.1.parameters");
	assert_string_equal(e.message, "the body of oferta_cdb (pt_BR) takes 2 parameters, 1 given");
	/* no body component at all */
	assert_false(check(oferta, "MARKETING", "[" HEADER_IMAGE "," URL_BUTTON "]", "marketing", &e));
	assert_string_equal(e.field, "template.components");
	assert_non_null(strstr(e.message, "0 given"));
	/* a positional template takes no parameter names */
	assert_false(check(oferta, "MARKETING", "[" HEADER_IMAGE ",{\"type\":\"body\",\"parameters\":["
					   "{\"type\":\"text\",\"text\":\"Ana\",\"parameter_name\":\"nome\"},{\"type\":\"text\",\"text\":\"1\"}]},"
					   URL_BUTTON "]", "marketing", &e));
	assert_string_equal(e.field, "template.components.1.parameters.0.parameter_name");
}

static void
named_parameters(void **state)
{
	PayloadError e;

	assert_true(check(nomeado, NULL, "[{\"type\":\"body\",\"parameters\":["
					  "{\"type\":\"text\",\"parameter_name\":\"pedido\",\"text\":\"42\"},"
					  "{\"type\":\"text\",\"parameter_name\":\"nome\",\"text\":\"Ana\"}]}]", "utility", &e));
	/* the case: {{primeiro_nome}} against {{nome}} */
	assert_false(check(nomeado, NULL, "[{\"type\":\"body\",\"parameters\":["
					   "{\"type\":\"text\",\"parameter_name\":\"primeiro_nome\",\"text\":\"Ana\"}]}]", "utility", &e));
	assert_string_equal(e.field, "template.components.0.parameters.0.parameter_name");
	assert_non_null(strstr(e.message, "has no {{primeiro_nome}}; it takes {{nome}}, {{pedido}}"));
	assert_false(check(nomeado, NULL, "[{\"type\":\"body\",\"parameters\":["
					   "{\"type\":\"text\",\"parameter_name\":\"nome\",\"text\":\"Ana\"}]}]", "utility", &e));
	assert_string_equal(e.field, "template.components.0.parameters");
	assert_non_null(strstr(e.message, "needs {{pedido}}"));
	assert_false(check(nomeado, NULL, "[{\"type\":\"body\",\"parameters\":["
					   "{\"type\":\"text\",\"parameter_name\":\"nome\",\"text\":\"Ana\"},"
					   "{\"type\":\"text\",\"parameter_name\":\"nome\",\"text\":\"Bia\"}]}]", "utility", &e));
	assert_string_equal(e.field, "template.components.0.parameters.1.parameter_name");
	assert_non_null(strstr(e.message, "second time"));
	assert_false(check(nomeado, NULL, "[{\"type\":\"body\",\"parameters\":["
					   "{\"type\":\"text\",\"text\":\"Ana\"},{\"type\":\"text\",\"text\":\"42\"}]}]", "utility", &e));
	assert_string_equal(e.field, "template.components.0.parameters.0");
	assert_non_null(strstr(e.message, "add \"parameter_name\""));
}

static void
header_format(void **state)
{
	PayloadError e;

	assert_false(check(oferta, NULL, "[{\"type\":\"header\",\"parameters\":[{\"type\":\"video\",\"video\":{\"id\":\"9\"}}]},"
					   BODY2 "," URL_BUTTON "]", "marketing", &e));
	assert_string_equal(e.field, "template.components.0.parameters.0.type");
	assert_string_equal(e.message, "the header of oferta_cdb (pt_BR) is an IMAGE; a VIDEO was given");
	assert_false(check(oferta, NULL, "[" BODY2 "," URL_BUTTON "]", "marketing", &e));
	assert_string_equal(e.field, "template.components");
	assert_non_null(strstr(e.message, "add a header component with an image parameter"));
	/* a template with no header takes none */
	assert_false(check(nomeado, NULL, "[" HEADER_IMAGE "]", "utility", &e));
	assert_string_equal(e.field, "template.components.0");
}

static void
text_header_variable_and_length(void **state)
{
	PayloadError e;
	const char *tpl = "[{\"type\":\"HEADER\",\"format\":\"TEXT\",\"text\":\"Pedido {{1}}\"},"
		"{\"type\":\"BODY\",\"text\":\"Seu pedido saiu para entrega hoje.\"}]";
	char		send[512];

	assert_false(check(tpl, NULL, "[]", "utility", &e));
	assert_string_equal(e.field, "template.components");
	assert_non_null(strstr(e.message, "the header of oferta_cdb (pt_BR) takes 1 parameter, 0 given"));
	assert_true(check(tpl, NULL, "[{\"type\":\"header\",\"parameters\":[{\"type\":\"text\",\"text\":\"42\"}]}]", "utility", &e));
	/* 7 + 54 = 61 characters once filled in: one too many */
	snprintf(send, sizeof(send), "[{\"type\":\"header\",\"parameters\":[{\"type\":\"text\",\"text\":\"%054d\"}]}]", 1);
	assert_false(check(tpl, NULL, send, "utility", &e));
	assert_string_equal(e.field, "template.components.0.parameters");
	assert_non_null(strstr(e.message, "would have 61 characters once filled in; at most 60"));
}

static void
body_length_once_filled_in(void **state)
{
	PayloadError e;
	static char send[4096];
	char		big[1001];

	memset(big, 'x', 1000);
	big[1000] = '\0';
	snprintf(send, sizeof(send), "[" HEADER_IMAGE ",{\"type\":\"body\",\"parameters\":[{\"type\":\"text\",\"text\":\"%s\"},"
			 "{\"type\":\"text\",\"text\":\"12%%\"}]}," URL_BUTTON "]", big);
	assert_false(check(oferta, NULL, send, "marketing", &e));
	assert_string_equal(e.field, "template.components.1.parameters");
	assert_non_null(strstr(e.message, "at most 1024 are allowed"));
}

static void
buttons_sub_type_and_index(void **state)
{
	PayloadError e;

	assert_false(check(oferta, NULL, "[" HEADER_IMAGE "," BODY2 ",{\"type\":\"button\",\"sub_type\":\"quick_reply\",\"index\":\"1\","
					   "\"parameters\":[{\"type\":\"payload\",\"payload\":\"X\"}]}]", "marketing", &e));
	assert_string_equal(e.field, "template.components.2.sub_type");
	assert_non_null(strstr(e.message, "is a URL button: sub_type must be \"url\""));
	assert_false(check(oferta, NULL, "[" HEADER_IMAGE "," BODY2 "," URL_BUTTON ",{\"type\":\"button\",\"sub_type\":\"url\",\"index\":\"5\","
					   "\"parameters\":[{\"type\":\"text\",\"text\":\"x\"}]}]", "marketing", &e));
	assert_string_equal(e.field, "template.components.3.index");
	assert_non_null(strstr(e.message, "has buttons 0 to 2; there is no button 5"));
	assert_false(check(oferta, NULL, "[" HEADER_IMAGE "," BODY2 "," URL_BUTTON ",{\"type\":\"button\",\"sub_type\":\"url\",\"index\":\"2\","
					   "\"parameters\":[{\"type\":\"text\",\"text\":\"x\"}]}]", "marketing", &e));
	assert_string_equal(e.field, "template.components.3");
	assert_non_null(strstr(e.message, "is a PHONE_NUMBER button; it takes no parameters"));
	/* the dynamic URL must be filled */
	assert_false(check(oferta, NULL, "[" HEADER_IMAGE "," BODY2 "]", "marketing", &e));
	assert_string_equal(e.field, "template.components");
	assert_non_null(strstr(e.message, "button 1 of oferta_cdb (pt_BR) (URL) needs a button component"));
	/* a quick reply may be left alone, or given its payload */
	assert_true(check(oferta, NULL, "[" HEADER_IMAGE "," BODY2 "," URL_BUTTON ",{\"type\":\"button\",\"sub_type\":\"quick_reply\","
					  "\"index\":0,\"parameters\":[{\"type\":\"payload\",\"payload\":\"QUERO\"}]}]", "marketing", &e));
}

static void
category_is_metas(void **state)
{
	PayloadError e;

	assert_false(check(NULL, "MARKETING", "[]", "utility", &e));
	assert_string_equal(e.field, "category");
	assert_non_null(strstr(e.message, "oferta_cdb (pt_BR) is a MARKETING template"));
	assert_string_equal(e.hint, "Pass category => 'marketing'.");
	assert_true(check(NULL, "MARKETING", "[]", "marketing", &e));
	assert_true(check(NULL, NULL, "[]", "authentication", &e));	/* not known: Meta judges */
}

static void
closest_name_is_a_typo_not_another_template(void **state)
{
	const char *const names[] = {"boas_vindas", "oferta_cdb", "oferta_lci", "nomeado"};

	assert_string_equal(template_closest_name("oferta_cbd", names, 4), "oferta_cdb");
	assert_string_equal(template_closest_name("nomead", names, 4), "nomeado");
	assert_null(template_closest_name("lembrete", names, 4));
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(positional_count),
	cmocka_unit_test(named_parameters),
	cmocka_unit_test(header_format),
	cmocka_unit_test(text_header_variable_and_length),
	cmocka_unit_test(body_length_once_filled_in),
	cmocka_unit_test(buttons_sub_type_and_index),
	cmocka_unit_test(category_is_metas),
	cmocka_unit_test(closest_name_is_a_typo_not_another_template),
};

UnitGroup
template_check_tests(void)
{
	return (UnitGroup) UNIT_GROUP("template_check", tests);
}
