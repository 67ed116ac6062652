/*
 * test_opt_out.c
 *		Stop requests in Portuguese, Spanish and English.
 */
#include "unit.h"

#include "core/opt_out.h"

static void
stop_requests(void **state)
{
	assert_true(opt_out_text("PARAR"));
	assert_true(opt_out_text("  Pare!! "));
	assert_true(opt_out_text("Não quero mais"));
	assert_true(opt_out_text("nao quero mais 🙏"));
	assert_true(opt_out_text("Darme de BAJA"));
	assert_true(opt_out_text("No quiero más"));
	assert_true(opt_out_text("STOP"));
	assert_true(opt_out_text("Stop promotions"));
	assert_true(opt_out_text("Cancelar suscripción"));
}

static void
not_stop_requests(void **state)
{
	assert_false(opt_out_text("Quero investir, pode parar de me ligar e mandar por aqui?"));
	assert_false(opt_out_text("Pare de me mandar isso e me mande a proposta completa por favor agora mesmo"));
	assert_false(opt_out_text("Sim"));
	assert_false(opt_out_text("Quanto rende o CDB?"));
	assert_false(opt_out_text(""));
	assert_false(opt_out_text(NULL));
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(stop_requests),
	cmocka_unit_test(not_stop_requests),
};

UnitGroup
opt_out_tests(void)
{
	return (UnitGroup) UNIT_GROUP("opt_out", tests);
}
