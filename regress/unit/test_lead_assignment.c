/*
 * test_lead_assignment.c
 *		Who gets a lead: filters, the three policies, fairness, capacity,
 *		returning persons, and the sentence that explains it.
 */
#include <stdio.h>
#include <string.h>

#include "unit.h"

#include "core/lead_assignment.h"

static const char *const PT[] = {"pt"};
static const char *const PT_EN[] = {"pt-BR", "en"};
static const char *const ES[] = {"es"};
static const char *const FUNDS[] = {"fii", "cdb"};
static const char *const CDB[] = {"cdb"};
static const char *const FII[] = {"fii"};

static const AssignRules least_loaded = {ASSIGN_LEAST_LOADED, 0, 80, 50};
static const AssignRules round_robin = {ASSIGN_ROUND_ROBIN, 0, 80, 50};
static const AssignRules score_aware = {ASSIGN_SCORE_AWARE, 0, 80, 50};

/* An online, on-shift, active Portuguese speaker covering every product. */
static AssignAgent
agent(int64_t id, const char *name, int open, int capacity)
{
	AssignAgent a = {
		.id = id, .name = name, .active = true, .presence = PRESENCE_ONLINE, .on_shift = true,
		.tier = TIER_STANDARD, .open_leads = open, .capacity = capacity, .weight = 100,
		.languages = PT, .nlanguages = 1,
	};

	return a;
}

static AssignLead
lead(int score, const char *language)
{
	AssignLead l = {.score = score, .language = language};

	return l;
}

static int64_t
chosen(const AssignAgent *agents, int n, const AssignLead *l, const AssignRules *r, AssignChoice *c)
{
	assign_choose(agents, n, l, r, c);
	return c->agent < 0 ? 0 : agents[c->agent].id;
}

static void
least_loaded_takes_the_lowest_share_of_capacity(void **state)
{
	AssignAgent a[] = {agent(1, "Ana", 4, 8), agent(2, "Bia", 3, 8), agent(3, "Caio", 2, 2)};
	AssignLead l = lead(40, "pt");
	AssignChoice c;

	assert_int_equal(chosen(a, 3, &l, &least_loaded, &c), 2);
	assert_int_equal(c.reason, QUEUE_NONE);
	assert_string_equal(c.explanation, "online, 3/8 open, least loaded, fairness 0");
	/* 3/8 is more loaded than 1/4 */
	a[2] = agent(3, "Caio", 1, 4);
	assert_int_equal(chosen(a, 3, &l, &least_loaded, &c), 3);
	/* equal shares: the one furthest below its fair share of the window */
	a[0] = agent(1, "Ana", 2, 8);
	a[1] = agent(2, "Bia", 2, 8);
	a[2] = agent(3, "Caio", 2, 8);
	a[0].recent = 5;
	a[1].recent = 1;
	a[2].recent = 3;
	assert_int_equal(chosen(a, 3, &l, &least_loaded, &c), 2);
	assert_string_equal(c.explanation, "online, 2/8 open, least loaded, fairness \xe2\x88\x92" "2");
}

static void
round_robin_takes_turns(void **state)
{
	AssignAgent a[] = {agent(1, "Ana", 0, 50), agent(2, "Bia", 0, 50), agent(3, "Caio", 0, 50)};
	AssignLead l = lead(50, "pt");
	AssignChoice c;
	int64_t		order[9];

	/* Bia had a lead most recently, then Ana; Caio never */
	a[0].rotation = 10;
	a[1].rotation = 11;
	for (int i = 0; i < 9; i++)
	{
		order[i] = chosen(a, 3, &l, &round_robin, &c);
		assert_true(c.agent >= 0);
		assign_record(&a[c.agent], 100 + i);
	}
	assert_int_equal(order[0], 3);
	assert_int_equal(order[1], 1);
	assert_int_equal(order[2], 2);
	for (int i = 3; i < 9; i++)
		assert_int_equal(order[i], order[i - 3]);
	assert_int_equal(a[0].open_leads, 3);
	assert_int_equal(a[1].recent, 3);
	assert_non_null(strstr(c.explanation, "next in turn"));
}

static void
round_robin_honours_weights(void **state)
{
	AssignAgent a[] = {agent(1, "Ana", 0, 100), agent(2, "Bia", 0, 100), agent(3, "Caio", 0, 100)};
	AssignLead l = lead(50, "pt");
	AssignChoice c;

	a[0].weight = 200;
	for (int i = 0; i < 40; i++)
	{
		chosen(a, 3, &l, &round_robin, &c);
		assign_record(&a[c.agent], i + 1);
	}
	assert_int_equal(a[0].recent, 20);
	assert_int_equal(a[1].recent, 10);
	assert_int_equal(a[2].recent, 10);
}

static void
score_aware_sends_hot_leads_to_seniors_who_win_them(void **state)
{
	AssignAgent a[] = {agent(1, "Ana", 3, 8), agent(2, "Bia", 1, 8), agent(3, "Caio", 0, 8),
	agent(4, "Duda", 0, 8)};
	AssignLead hot = lead(82, "pt");
	AssignLead cold = lead(12, "pt");
	AssignLead warm = lead(60, "pt");
	AssignChoice c;

	a[0].tier = TIER_SENIOR;
	a[1].tier = TIER_SENIOR;
	a[2].tier = TIER_JUNIOR;
	/* in the 80-100 band Ana won 8 of 10, Bia 1 of 10 */
	a[0].conversion[4] = (ConversionCount) {8, 10};
	a[1].conversion[4] = (ConversionCount) {1, 10};
	a[0].recent = 1;
	a[1].recent = 3;
	a[2].recent = 4;
	a[3].recent = 4;
	assert_int_equal(chosen(a, 4, &hot, &score_aware, &c), 1);
	/* the example: 3/8 open, score 82 => senior tier, fairness -2 */
	assert_string_equal(c.explanation,
						"online, 3/8 open, score 82 \xe2\x87\x92 senior tier, wins 68% of similar leads (10 closed), "
						"fairness \xe2\x88\x92" "2");
	assert_true(c.fairness < -1.5 && c.fairness > -2.5);
	/* cold leads go to juniors, keeping seniors for hot ones */
	assert_int_equal(chosen(a, 4, &cold, &score_aware, &c), 3);
	assert_non_null(strstr(c.explanation, "score 12 \xe2\x87\x92 junior tier"));
	/* warm leads want a standard agent; above that tier is better than below */
	assert_int_equal(chosen(a, 4, &warm, &score_aware, &c), 4);
	a[3].open_leads = 8;
	assert_int_equal(chosen(a, 4, &warm, &score_aware, &c), 2);
	assert_non_null(strstr(c.explanation, "standard tier (got senior)"));
	/* no senior with room: the best of the rest, and the explanation says so */
	a[0].open_leads = 8;
	a[1].open_leads = 8;
	assert_int_equal(chosen(a, 4, &hot, &score_aware, &c), 3);
	assert_non_null(strstr(c.explanation, "senior tier (got junior)"));
}

static void
score_aware_smooths_small_samples(void **state)
{
	AssignAgent a[] = {agent(1, "Ana", 0, 8), agent(2, "Bia", 0, 8)};
	AssignLead hot = lead(90, "pt");
	AssignChoice c;

	a[0].tier = a[1].tier = TIER_SENIOR;
	/* one win out of one (100 %) is weaker evidence than 9 of 10 (90 %) */
	a[0].conversion[4] = (ConversionCount) {1, 1};
	a[1].conversion[4] = (ConversionCount) {9, 10};
	assert_int_equal(chosen(a, 2, &hot, &score_aware, &c), 2);
	/* a lead that is not scored is placed by load */
	hot.score = -1;
	a[1].open_leads = 1;
	assert_int_equal(chosen(a, 2, &hot, &score_aware, &c), 1);
	assert_string_equal(c.explanation, "not scored \xe2\x87\x92 online, 0/8 open, least loaded, fairness 0");
}

static void
capacity_is_never_exceeded(void **state)
{
	AssignAgent a[] = {agent(1, "Ana", 0, 3), agent(2, "Bia", 2, 4), agent(3, "Caio", 0, 0)};
	AssignLead l = lead(50, "pt");
	AssignChoice c;
	int			assigned = 0;
	const AssignRules *policies[] = {&least_loaded, &round_robin, &score_aware};

	for (int p = 0; p < 3; p++)
	{
		a[0].open_leads = 0;
		a[1].open_leads = 2;
		assigned = 0;
		for (int i = 0; i < 20; i++)
		{
			assign_choose(a, 3, &l, policies[p], &c);
			if (c.agent < 0)
				break;
			assign_record(&a[c.agent], i + 1);
			assigned++;
		}
		assert_int_equal(assigned, 5);
		assert_int_equal(a[0].open_leads, 3);
		assert_int_equal(a[1].open_leads, 4);
		assert_int_equal(a[2].open_leads, 0);
		assert_int_equal(c.reason, QUEUE_ALL_FULL);
		assert_string_equal(c.explanation, "all 3 available matching agents are full (3/3, 4/4, 0/0)");
	}
}

static void
only_online_on_shift_active_agents(void **state)
{
	AssignAgent a[] = {agent(1, "Ana", 0, 8), agent(2, "Bia", 0, 8), agent(3, "Caio", 0, 8),
	agent(4, "Duda", 0, 8), agent(5, "Eva", 0, 8)};
	AssignLead l = lead(50, "pt");
	AssignChoice c;

	a[0].presence = PRESENCE_AWAY;
	a[1].presence = PRESENCE_OFFLINE;
	a[2].on_shift = false;
	a[3].active = false;
	assert_int_equal(chosen(a, 5, &l, &least_loaded, &c), 5);
	a[4].presence = PRESENCE_OFFLINE;
	assert_int_equal(chosen(a, 5, &l, &least_loaded, &c), 0);
	assert_int_equal(c.reason, QUEUE_NOBODY_AVAILABLE);
	assert_string_equal(queue_reason_name(c.reason), "nobody_available");
	assert_string_equal(c.explanation,
						"none of 4 matching agents is online and on shift (1 away, 2 offline, 1 off shift)");
	for (int i = 0; i < 5; i++)
		a[i].active = false;
	assert_int_equal(chosen(a, 5, &l, &least_loaded, &c), 0);
	assert_int_equal(c.reason, QUEUE_NO_AGENTS);
	assert_string_equal(c.explanation, "no active agent");
	assert_int_equal(chosen(a, 0, &l, &least_loaded, &c), 0);
	assert_int_equal(c.reason, QUEUE_NO_AGENTS);
}

static void
languages_match_on_the_primary_subtag(void **state)
{
	AssignAgent a[] = {agent(1, "Ana", 5, 8), agent(2, "Bia", 0, 8)};
	AssignLead l = lead(50, "pt-BR");
	AssignChoice c;

	a[1].languages = ES;
	assert_int_equal(chosen(a, 2, &l, &least_loaded, &c), 1);
	l.language = "ES";
	assert_int_equal(chosen(a, 2, &l, &least_loaded, &c), 2);
	l.language = NULL;			/* any */
	assert_int_equal(chosen(a, 2, &l, &least_loaded, &c), 2);
	l.language = "de";
	assert_int_equal(chosen(a, 2, &l, &least_loaded, &c), 0);
	assert_int_equal(c.reason, QUEUE_NO_LANGUAGE);
	assert_string_equal(c.explanation, "no active agent speaks de");
	/* a language nobody speaks wins over availability as the reason */
	a[0].presence = a[1].presence = PRESENCE_OFFLINE;
	assert_int_equal(chosen(a, 2, &l, &least_loaded, &c), 0);
	assert_int_equal(c.reason, QUEUE_NO_LANGUAGE);
	a[0].languages = PT_EN;
	a[0].nlanguages = 2;
	l.language = "en-US";
	assert_int_equal(chosen(a, 2, &l, &least_loaded, &c), 0);
	assert_int_equal(c.reason, QUEUE_NOBODY_AVAILABLE);

	assert_true(assign_language_matches("pt", "pt_BR"));
	assert_true(assign_language_matches("PT-br", "pt"));
	assert_false(assign_language_matches("pt", "ptx"));
	assert_false(assign_language_matches("p", "pt"));
	assert_false(assign_language_matches("", "-"));
	assert_true(assign_language_matches(NULL, ""));
	assert_false(assign_language_matches(NULL, "pt"));
}

static void
products_must_all_be_covered(void **state)
{
	AssignAgent a[] = {agent(1, "Ana", 0, 8), agent(2, "Bia", 5, 8), agent(3, "Caio", 0, 8)};
	AssignLead l = lead(50, "pt");
	AssignChoice c;

	a[0].products = CDB;
	a[0].nproducts = 1;
	a[1].products = FUNDS;
	a[1].nproducts = 2;
	a[2].languages = ES;
	l.products = FUNDS;
	l.nproducts = 2;
	assert_int_equal(chosen(a, 3, &l, &least_loaded, &c), 2);
	/* an agent without a product list covers every product */
	a[2].languages = PT;
	assert_int_equal(chosen(a, 3, &l, &least_loaded, &c), 3);
	a[2].languages = ES;
	a[1].products = CDB;
	a[1].nproducts = 1;
	assert_int_equal(chosen(a, 3, &l, &least_loaded, &c), 0);
	assert_int_equal(c.reason, QUEUE_NO_PRODUCT);
	assert_string_equal(c.explanation, "no agent who speaks pt covers fii");
	/* each product is covered by someone, but nobody covers both */
	a[1].products = FII;
	assert_int_equal(chosen(a, 3, &l, &least_loaded, &c), 0);
	assert_string_equal(c.explanation, "no agent covers all of its 2 products");
	/* products compare without case */
	l.products = (const char *const[]) {"CDB"};
	l.nproducts = 1;
	assert_int_equal(chosen(a, 3, &l, &least_loaded, &c), 1);
}

static void
fairness_limit_is_a_hard_cap(void **state)
{
	AssignAgent a[] = {agent(1, "Ana", 0, 8), agent(2, "Bia", 6, 8)};
	AssignLead l = lead(50, "pt");
	AssignRules capped = {ASSIGN_LEAST_LOADED, 2, 80, 50};
	AssignChoice c;

	a[0].recent = 2;
	a[1].recent = 1;
	assert_int_equal(chosen(a, 2, &l, &capped, &c), 2);
	assign_record(&a[1], 1);
	assert_int_equal(chosen(a, 2, &l, &capped, &c), 0);
	assert_int_equal(c.reason, QUEUE_FAIRNESS_LIMIT);
	assert_string_equal(c.explanation,
						"all 2 available matching agents with room reached the fairness limit (2 per window)");
	/* the cap scales with the weight */
	a[0].weight = 150;
	assert_int_equal(chosen(a, 2, &l, &capped, &c), 1);
	/* full beats capped as the reason only when nobody with room is left */
	a[0].open_leads = 8;
	assert_int_equal(chosen(a, 2, &l, &capped, &c), 0);
	assert_int_equal(c.reason, QUEUE_FAIRNESS_LIMIT);
	a[1].open_leads = 8;
	assert_int_equal(chosen(a, 2, &l, &capped, &c), 0);
	assert_int_equal(c.reason, QUEUE_ALL_FULL);
	/* one agent: the sentence says so */
	assert_int_equal(chosen(a, 1, &l, &capped, &c), 0);
	assert_string_equal(c.explanation, "the only available matching agent is full (8/8)");
	a[0].open_leads = 0;
	a[0].recent = 5;
	assert_int_equal(chosen(a, 1, &l, &capped, &c), 0);
	assert_string_equal(c.explanation,
						"the only available matching agent with room reached the fairness limit (2 per window)");
	a[0].presence = PRESENCE_AWAY;
	assert_int_equal(chosen(a, 1, &l, &capped, &c), 0);
	assert_string_equal(c.explanation,
						"the only matching agent is not online and on shift (1 away, 0 offline, 0 off shift)");
}

static void
a_returning_person_goes_back_to_their_owner(void **state)
{
	AssignAgent a[] = {agent(1, "Ana", 0, 8), agent(2, "Bia", 7, 8)};
	AssignLead l = lead(50, "es");
	AssignChoice c;

	a[0].languages = ES;
	l.returning_owner = 2;
	/* even if busier, not speaking the language noted, or at the fairness limit */
	assert_int_equal(chosen(a, 2, &l, &least_loaded, &c), 2);
	assert_true(c.returning);
	assert_string_equal(c.explanation, "returning person \xe2\x87\x92 their owner, online, 7/8 open, fairness 0");
	/* but never over capacity, nor offline */
	a[1].open_leads = 8;
	assert_int_equal(chosen(a, 2, &l, &least_loaded, &c), 1);
	assert_false(c.returning);
	assert_string_equal(c.explanation,
						"returning person, owner full \xe2\x87\x92 online, 0/8 open, least loaded, fairness 0");
	a[1].open_leads = 0;
	a[1].presence = PRESENCE_OFFLINE;
	assert_int_equal(chosen(a, 2, &l, &least_loaded, &c), 1);
	assert_non_null(strstr(c.explanation, "owner offline"));
	a[1].presence = PRESENCE_ONLINE;
	a[1].on_shift = false;
	assert_int_equal(chosen(a, 2, &l, &least_loaded, &c), 1);
	assert_non_null(strstr(c.explanation, "owner off shift"));
	/* an owner who left the rotation does not get it either */
	a[1].on_shift = true;
	a[1].active = false;
	assert_int_equal(chosen(a, 2, &l, &least_loaded, &c), 1);
	assert_non_null(strstr(c.explanation, "owner inactive"));
	/* an owner the caller does not know is ignored */
	l.returning_owner = 99;
	assert_int_equal(chosen(a, 2, &l, &least_loaded, &c), 1);
	assert_string_equal(c.explanation, "online, 0/8 open, least loaded, fairness 0");
}

static void
a_lead_moved_away_never_returns_to_the_same_agent(void **state)
{
	AssignAgent a[] = {agent(1, "Ana", 0, 8), agent(2, "Bia", 5, 8)};
	AssignLead l = lead(50, "pt");
	AssignChoice c;

	l.exclude_agent = 1;
	l.returning_owner = 1;
	assert_int_equal(chosen(a, 2, &l, &least_loaded, &c), 2);
	assert_false(c.returning);
	a[1].active = false;
	assert_int_equal(chosen(a, 2, &l, &least_loaded, &c), 0);
	assert_int_equal(c.reason, QUEUE_NO_AGENTS);
	assert_string_equal(c.explanation, "no other active agent");
}

static void
large_portfolios_and_ties(void **state)
{
	static AssignAgent many[1000];
	AssignLead l = lead(50, "pt");
	AssignChoice c;

	for (int i = 0; i < 1000; i++)
		many[i] = agent(i + 1, "x", 3, 8);
	/* ties end on the lowest id, whatever the policy */
	assert_int_equal(chosen(many, 1000, &l, &least_loaded, &c), 1);
	assert_int_equal(chosen(many, 1000, &l, &score_aware, &c), 1);
	assert_int_equal(chosen(many, 1000, &l, &round_robin, &c), 1);
	many[999].open_leads = 0;
	assert_int_equal(chosen(many, 1000, &l, &least_loaded, &c), 1000);
	for (int i = 0; i < 1000; i++)
		many[i].open_leads = 8;
	assert_int_equal(chosen(many, 1000, &l, &least_loaded, &c), 0);
	assert_string_equal(c.explanation, "all 1000 available matching agents are full (8/8, 8/8, 8/8, 8/8, ...)");
}

static void
names_round_trip(void **state)
{
	AssignPolicy p;
	AgentPresence pr;
	AgentTier t;

	for (int i = 0; i < 3; i++)
	{
		assert_true(assign_policy_parse(assign_policy_name((AssignPolicy) i), &p));
		assert_int_equal(p, i);
		assert_true(agent_presence_parse(agent_presence_name((AgentPresence) i), &pr));
		assert_int_equal(pr, i);
		assert_true(agent_tier_parse(agent_tier_name((AgentTier) i), &t));
		assert_int_equal(t, i);
	}
	assert_false(assign_policy_parse("random", &p));
	assert_false(assign_policy_parse(NULL, &p));
	assert_false(agent_presence_parse("busy", &pr));
	assert_false(agent_tier_parse("Senior", &t));
	assert_int_equal(assign_score_band(0), 0);
	assert_int_equal(assign_score_band(19), 0);
	assert_int_equal(assign_score_band(20), 1);
	assert_int_equal(assign_score_band(79), 3);
	assert_int_equal(assign_score_band(80), 4);
	assert_int_equal(assign_score_band(100), 4);
	assert_int_equal(assign_wanted_tier(&score_aware, 80), TIER_SENIOR);
	assert_int_equal(assign_wanted_tier(&score_aware, 79), TIER_STANDARD);
	assert_int_equal(assign_wanted_tier(&score_aware, 49), TIER_JUNIOR);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(least_loaded_takes_the_lowest_share_of_capacity),
	cmocka_unit_test(round_robin_takes_turns),
	cmocka_unit_test(round_robin_honours_weights),
	cmocka_unit_test(score_aware_sends_hot_leads_to_seniors_who_win_them),
	cmocka_unit_test(score_aware_smooths_small_samples),
	cmocka_unit_test(capacity_is_never_exceeded),
	cmocka_unit_test(only_online_on_shift_active_agents),
	cmocka_unit_test(languages_match_on_the_primary_subtag),
	cmocka_unit_test(products_must_all_be_covered),
	cmocka_unit_test(fairness_limit_is_a_hard_cap),
	cmocka_unit_test(a_returning_person_goes_back_to_their_owner),
	cmocka_unit_test(a_lead_moved_away_never_returns_to_the_same_agent),
	cmocka_unit_test(large_portfolios_and_ties),
	cmocka_unit_test(names_round_trip),
};

UnitGroup
lead_assignment_tests(void)
{
	return (UnitGroup) UNIT_GROUP("lead_assignment", tests);
}
