/*
 * unit.h
 *		cmocka unit tests of src/core: one group per core file.
 */
#ifndef ANTIBAN_UNIT_H
#define ANTIBAN_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

typedef struct UnitGroup
{
	const char *name;
	const struct CMUnitTest *tests;
	size_t		count;
} UnitGroup;

#define UNIT_GROUP(name, array) \
	{ name, array, sizeof(array) / sizeof(array[0]) }

extern UnitGroup token_bucket_tests(void);
extern UnitGroup slot_table_tests(void);
extern UnitGroup recipient_tests(void);
extern UnitGroup reach_window_tests(void);
extern UnitGroup decision_tests(void);
extern UnitGroup throughput_tests(void);
extern UnitGroup pacing_tests(void);
extern UnitGroup error_tests(void);
extern UnitGroup message_state_tests(void);
extern UnitGroup payload_tests(void);
extern UnitGroup retry_plan_tests(void);
extern UnitGroup stop_request_tests(void);
extern UnitGroup stop_corpus_tests(void);
extern UnitGroup health_tests(void);
extern UnitGroup rate_control_tests(void);
extern UnitGroup warmup_tests(void);
extern UnitGroup redact_tests(void);
extern UnitGroup circuit_breaker_tests(void);
extern UnitGroup recipient_match_tests(void);
extern UnitGroup event_time_tests(void);
extern UnitGroup json_repair_tests(void);
extern UnitGroup transport_outcome_tests(void);
extern UnitGroup pricing_market_tests(void);
extern UnitGroup volume_tier_tests(void);
extern UnitGroup rate_card_tests(void);
extern UnitGroup lead_text_tests(void);
extern UnitGroup lead_signals_tests(void);
extern UnitGroup lead_vector_tests(void);
extern UnitGroup lead_engagement_tests(void);
extern UnitGroup lead_calibrate_tests(void);
extern UnitGroup lead_score_tests(void);
extern UnitGroup lead_corpus_tests(void);
extern UnitGroup business_hours_tests(void);
extern UnitGroup lead_assignment_tests(void);
extern UnitGroup lead_flow_tests(void);
extern UnitGroup recipient_state_tests(void);
extern UnitGroup template_check_tests(void);
extern UnitGroup template_lint_tests(void);
extern UnitGroup frequency_cap_tests(void);
extern UnitGroup quiet_hours_tests(void);
extern UnitGroup lead_llm_tests(void);
extern UnitGroup iso4217_tests(void);
extern UnitGroup utf8_fold_tests(void);
extern UnitGroup smaps_tests(void);

#endif
