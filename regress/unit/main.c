/*
 * main.c
 *		Runs every unit-test group and prints one summary line for CI.
 */
#include <stdio.h>

#include "unit.h"

int
main(void)
{
	UnitGroup	(*groups[]) (void) = {
		token_bucket_tests, slot_table_tests, recipient_tests,
		reach_window_tests, decision_tests, throughput_tests, pacing_tests, error_tests, message_state_tests, payload_tests, retry_plan_tests, stop_request_tests, stop_corpus_tests,
		health_tests, rate_control_tests, warmup_tests, redact_tests,
		recipient_match_tests, event_time_tests, json_repair_tests, transport_outcome_tests,
		pricing_market_tests, volume_tier_tests, rate_card_tests,
		lead_text_tests, lead_signals_tests, lead_vector_tests, lead_engagement_tests,
		lead_calibrate_tests, lead_score_tests, lead_corpus_tests,
		business_hours_tests, lead_assignment_tests, lead_flow_tests,
		recipient_state_tests, template_check_tests, template_lint_tests,
		circuit_breaker_tests,
		frequency_cap_tests, quiet_hours_tests,
		lead_llm_tests, iso4217_tests, utf8_fold_tests, smaps_tests,
	};
	size_t		total = 0;
	int			failed = 0;

	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
	{
		UnitGroup	g = groups[i]();

		total += g.count;
		failed += _cmocka_run_group_tests(g.name, g.tests, g.count, NULL, NULL);
	}
	printf("unit: %zu passed, %d failed\n", total - (size_t) failed, failed);
	return failed == 0 ? 0 : 1;
}
