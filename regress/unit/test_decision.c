/*
 * test_decision.c
 *		The SEND / QUEUE / REJECT rules, with a fake admit() port.
 */
#include <string.h>

#include "unit.h"

#include "core/decision.h"

#define NOW 1000000

/* The fake port: per number id, what admit() answers; records the calls. */
typedef struct Fake
{
	Admission	answer[8];
	int64_t		asked[16];
	int			nasked;
} Fake;

static Admission
fake_admit(void *ctx, const NumberView *n)
{
	Fake	   *f = ctx;

	f->asked[f->nasked++] = n->id;
	return f->answer[n->id];
}

static NumberView numbers[] = {
	{.id = 1, .phone_number_id = "1001", .health = 90, .mode = MODE_ACTIVE, .can_send = true},
	{.id = 2, .phone_number_id = "1002", .health = 80, .mode = MODE_ACTIVE, .can_send = true},
	{.id = 3, .phone_number_id = "1003", .health = 80, .mode = MODE_ACTIVE, .can_send = true},
	{.id = 4, .phone_number_id = "1004", .health = 20, .mode = MODE_ACTIVE, .can_send = true},
};

static Fake
all_open(void)
{
	Fake		f;

	memset(&f, 0, sizeof(f));
	for (int i = 0; i < 8; i++)
		f.answer[i] = (Admission) {true, NOW, LIMITER_NONE};
	return f;
}

static DecideRequest
request(void)
{
	DecideRequest r = {
		.category = CATEGORY_MARKETING, .priority = PRIORITY_NORMAL, .now = NOW,
		.valid_until = INT64_MAX, .min_health = 30, .recipient_hash = 0,
	};

	return r;
}

static Decision
run_ports(DecideRequest *r, DecidePorts p, NumberView *ns, int n)
{
	Decision	d;

	decide(r, ns, n, &p, &d);
	return d;
}

static Decision
run(DecideRequest *r, Fake *f, NumberView *ns, int n)
{
	return run_ports(r, (DecidePorts) {.ctx = f, .admit = fake_admit}, ns, n);
}

static void
healthiest_first(void **state)
{
	Fake		f = all_open();
	DecideRequest r = request();
	Decision	d = run(&r, &f, numbers, 4);

	assert_int_equal(d.outcome, OUTCOME_SEND);
	assert_int_equal(d.reason, REASON_HEALTHIEST);
	assert_int_equal(d.number->id, 1);
}

static void
full_number_spills_to_next(void **state)
{
	Fake		f = all_open();
	DecideRequest r = request();
	Decision	d;

	f.answer[1] = (Admission) {false, NOW + 500, LIMITER_NUMBER};
	d = run(&r, &f, numbers, 4);
	assert_int_equal(d.outcome, OUTCOME_SEND);
	assert_true(d.number->id == 2 || d.number->id == 3);
}

static void
equal_health_spreads_by_recipient(void **state)
{
	Fake		f = all_open();
	DecideRequest r = request();
	int			seen[8] = {0};

	f.answer[1] = (Admission) {false, NOW + 500, LIMITER_NUMBER};
	for (uint64_t h = 0; h < 64; h++)
	{
		Decision	d;

		r.recipient_hash = h;
		d = run(&r, &f, numbers, 4);
		seen[d.number->id]++;
	}
	assert_int_equal(seen[2], 32);
	assert_int_equal(seen[3], 32);
}

static void
sticky_sender_is_kept_even_if_it_must_wait(void **state)
{
	Fake		f = all_open();
	DecideRequest r = request();
	Decision	d;

	r.sticky_number_id = 3;
	d = run(&r, &f, numbers, 4);
	assert_int_equal(d.reason, REASON_STICKY_SENDER);
	assert_int_equal(d.number->id, 3);
	f.answer[3] = (Admission) {false, NOW + 6000000, LIMITER_PAIR};
	d = run(&r, &f, numbers, 4);
	assert_int_equal(d.outcome, OUTCOME_QUEUE);
	assert_int_equal(d.reason, REASON_PAIR_RATE);
	assert_int_equal(d.not_before, NOW + 6000000);
	assert_int_equal(d.number->id, 3);
}

static void
sticky_sender_that_fell_ill_is_left(void **state)
{
	Fake		f = all_open();
	DecideRequest r = request();
	Decision	d;

	r.sticky_number_id = 4;		/* health 20 <= min_health 30 */
	d = run(&r, &f, numbers, 4);
	assert_int_equal(d.reason, REASON_HEALTHIEST);
	assert_int_equal(d.number->id, 1);
}

static void
critical_goes_to_the_healthiest(void **state)
{
	Fake		f = all_open();
	DecideRequest r = request();
	Decision	d;

	r.sticky_number_id = 3;
	r.priority = PRIORITY_CRITICAL;
	d = run(&r, &f, numbers, 4);
	assert_int_equal(d.reason, REASON_CRITICAL_HEALTHIEST);
	assert_int_equal(d.number->id, 1);
}

static void
queue_at_the_earliest_number(void **state)
{
	Fake		f = all_open();
	DecideRequest r = request();
	Decision	d;

	f.answer[1] = (Admission) {false, NOW + 900, LIMITER_NUMBER};
	f.answer[2] = (Admission) {false, NOW + 300, LIMITER_PAIR};
	f.answer[3] = (Admission) {false, NOW + 700, LIMITER_NUMBER};
	d = run(&r, &f, numbers, 4);
	assert_int_equal(d.outcome, OUTCOME_QUEUE);
	assert_int_equal(d.number->id, 2);
	assert_int_equal(d.not_before, NOW + 300);
	assert_int_equal(d.reason, REASON_PAIR_RATE);
	assert_int_equal(f.nasked, 3);	/* the ineligible number 4 was never asked */
}

static void
reject_when_validity_would_pass(void **state)
{
	Fake		f = all_open();
	DecideRequest r = request();
	Decision	d;

	for (int i = 1; i <= 3; i++)
		f.answer[i] = (Admission) {false, NOW + 3600000000LL, LIMITER_PORTFOLIO};
	r.valid_until = NOW + 60000000LL;
	d = run(&r, &f, numbers, 4);
	assert_int_equal(d.outcome, OUTCOME_REJECT);
	assert_int_equal(d.reason, REASON_VALIDITY_WOULD_PASS);
	assert_non_null(strstr(d.detail, "messaging limit"));
	assert_non_null(strstr(d.detail, "validity ends in 0 h 01 min 00 s"));
}

static void
reject_what_can_never_go(void **state)
{
	Fake		f = all_open();
	DecideRequest r = request();
	Decision	d;
	NumberView	paused[1] = {numbers[0]};

	r.invalid_recipient_why = "too few digits";
	d = run(&r, &f, numbers, 4);
	assert_int_equal(d.reason, REASON_INVALID_RECIPIENT);
	assert_int_equal(f.nasked, 0);

	r = request();
	paused[0].mode = MODE_PAUSED;
	d = run(&r, &f, paused, 1);
	assert_int_equal(d.outcome, OUTCOME_REJECT);
	assert_int_equal(d.reason, REASON_NO_ELIGIBLE_NUMBER);
	assert_non_null(strstr(d.detail, "paused"));

	d = run(&r, &f, numbers, 0);
	assert_int_equal(d.reason, REASON_NO_ELIGIBLE_NUMBER);

	r.valid_until = NOW - 1;
	d = run(&r, &f, numbers, 4);
	assert_int_equal(d.reason, REASON_EXPIRED);
}

static void
service_without_window_is_rejected(void **state)
{
	Fake		f = all_open();
	DecideRequest r = request();
	Decision	d;

	for (int i = 1; i <= 3; i++)
		f.answer[i] = (Admission) {false, INT64_MAX, LIMITER_WINDOW};
	r.category = CATEGORY_SERVICE;
	d = run(&r, &f, numbers, 4);
	assert_int_equal(d.outcome, OUTCOME_REJECT);
	assert_int_equal(d.reason, REASON_NO_SERVICE_WINDOW);
}

static void
opted_out_is_rejected(void **state)
{
	Fake		f = all_open();
	DecideRequest r = request();
	Decision	d;

	for (int i = 1; i <= 3; i++)
		f.answer[i] = (Admission) {false, INT64_MAX, LIMITER_CONSENT};
	d = run(&r, &f, numbers, 4);
	assert_int_equal(d.outcome, OUTCOME_REJECT);
	assert_int_equal(d.reason, REASON_OPTED_OUT);
}

/* 131049: every number holds marketing for this person until the deferral ends. */
static void
marketing_cap_queues_until_it_ends(void **state)
{
	Fake		f = all_open();
	DecideRequest r = request();
	int64_t		day = INT64_C(24) * 3600 * 1000000;
	Decision	d;

	for (int i = 1; i <= 3; i++)
		f.answer[i] = (Admission) {false, NOW + day, LIMITER_MARKETING_CAP};
	d = run(&r, &f, numbers, 4);
	assert_int_equal(d.outcome, OUTCOME_QUEUE);
	assert_int_equal(d.reason, REASON_MARKETING_CAP);
	assert_string_equal(reason_name(d.reason), "marketing_cap");
	assert_int_equal(d.not_before, NOW + day);
	assert_string_equal(d.detail, "Meta capped marketing to this recipient (131049); marketing again in 24 h 00 min 00 s");
	/* a validity that ends first rejects it instead of queueing it for nothing */
	r.valid_until = NOW + day / 2;
	assert_int_equal(run(&r, &f, numbers, 4).reason, REASON_VALIDITY_WOULD_PASS);
}

static void
pinned_number_only(void **state)
{
	Fake		f = all_open();
	DecideRequest r = request();
	Decision	d;

	r.pinned = true;
	d = run(&r, &f, &numbers[2], 1);
	assert_int_equal(d.reason, REASON_PINNED_NUMBER);
	assert_int_equal(d.number->id, 3);
	d = run(&r, &f, &numbers[3], 1);
	assert_int_equal(d.outcome, OUTCOME_REJECT);
	assert_non_null(strstr(d.detail, "health"));
}

static void
names_round_trip(void **state)
{
	Category	c;
	Priority	p;

	assert_true(category_parse("authentication", &c));
	assert_int_equal(c, CATEGORY_AUTHENTICATION);
	assert_false(category_parse("spam", &c));
	assert_true(priority_parse("critical", &p));
	assert_string_equal(priority_name(p), "critical");
	assert_string_equal(reason_name(REASON_VALIDITY_WOULD_PASS), "validity_would_pass");
	assert_string_equal(outcome_name(OUTCOME_QUEUE), "QUEUE");
}

/* Marketing avoids a throttled number while another can carry it; utility does not. */
static void
marketing_keeps_off_throttled_numbers(void **state)
{
	NumberView	ns[2] = {
		{.id = 1, .phone_number_id = "1001", .health = 95, .mode = MODE_THROTTLED, .can_send = true},
		{.id = 2, .phone_number_id = "1002", .health = 70, .mode = MODE_ACTIVE, .can_send = true},
	};
	Fake		f = all_open();
	DecideRequest r = request();
	Decision	d = run(&r, &f, ns, 2);

	assert_int_equal(d.outcome, OUTCOME_SEND);
	assert_int_equal(d.number->id, 2);
	r.category = CATEGORY_UTILITY;
	f = all_open();
	d = run(&r, &f, ns, 2);
	assert_int_equal(d.number->id, 1);
	/* the throttled number still carries marketing when the others are full */
	r.category = CATEGORY_MARKETING;
	f = all_open();
	f.answer[2] = (Admission) {false, NOW + 500, LIMITER_NUMBER};
	d = run(&r, &f, ns, 2);
	assert_int_equal(d.outcome, OUTCOME_SEND);
	assert_int_equal(d.number->id, 1);
	/* a recovering number is eligible like an active one */
	ns[1].mode = MODE_RECOVERING;
	f = all_open();
	d = run(&r, &f, ns, 2);
	assert_int_equal(d.number->id, 2);
}

/* A warming number that sent its daily cap is skipped without asking its buckets. */
static void
warming_number_over_its_cap_waits(void **state)
{
	NumberView	ns[2] = {
		{.id = 1, .phone_number_id = "1001", .health = 95, .mode = MODE_WARMING, .can_send = true,
		.full_until = NOW + 3600000000LL},
		{.id = 2, .phone_number_id = "1002", .health = 70, .mode = MODE_ACTIVE, .can_send = true},
	};
	Fake		f = all_open();
	DecideRequest r = request();
	Decision	d = run(&r, &f, ns, 2);

	assert_int_equal(d.outcome, OUTCOME_SEND);
	assert_int_equal(d.number->id, 2);
	assert_int_equal(f.nasked, 1);
	assert_int_equal(f.asked[0], 2);
	/* alone, it queues until the cap has room, with the reason */
	f = all_open();
	d = run(&r, &f, ns, 1);
	assert_int_equal(d.outcome, OUTCOME_QUEUE);
	assert_int_equal(d.reason, REASON_WARMUP_CAP);
	assert_int_equal(d.limiter, LIMITER_WARMUP);
	assert_int_equal(d.not_before, NOW + 3600000000LL);
	assert_string_equal(d.detail, "number 1001 is warming up and sent its daily cap; room again in 1 h 00 min 00 s");
	assert_string_equal(reason_name(d.reason), "warmup_cap");
	/* the moment passes: it sends again */
	ns[0].full_until = NOW;
	f = all_open();
	d = run(&r, &f, ns, 1);
	assert_int_equal(d.outcome, OUTCOME_SEND);
	assert_int_equal(d.number->id, 1);
}

/* What a business-initiated restriction holds: everything but replies in a window, until it expires. */
static void
restriction_holds_only_business_initiated(void **state)
{
	NumberView	n = {.id = 1, .phone_number_id = "1001", .health = 90, .can_send = true,
	.restricted_until = NOW + 3600000000LL};

	assert_int_equal(restriction_hold(&n, false, NOW), NOW + 3600000000LL);
	assert_int_equal(restriction_hold(&n, true, NOW), 0);
	/* it lifts by itself: the clock decides, no worker has to run */
	assert_int_equal(restriction_hold(&n, false, NOW + 3600000000LL), 0);
	n.restricted_until = INT64_MAX;
	assert_int_equal(restriction_hold(&n, false, NOW), INT64_MAX);
	assert_int_equal(restriction_hold(&n, true, NOW), 0);
	n.restricted_until = 0;
	assert_int_equal(restriction_hold(&n, false, NOW), 0);
	assert_true(number_is_eligible(&n, 30));
}

/* The adapter's admit() as far as a restriction goes: window per number id. */
typedef struct RestrictedFake
{
	bool		in_window[8];
	int			asked;
} RestrictedFake;

static Admission
restricted_admit(void *ctx, const NumberView *n)
{
	RestrictedFake *f = ctx;
	int64_t		until = restriction_hold(n, f->in_window[n->id], NOW);

	f->asked++;
	if (until != 0)
		return (Admission) {false, until, LIMITER_RESTRICTION};
	return (Admission) {true, NOW, LIMITER_NONE};
}

static Decision
run_restricted(DecideRequest *r, RestrictedFake *f, NumberView *ns, int n)
{
	return run_ports(r, (DecidePorts) {.ctx = f, .admit = restricted_admit}, ns, n);
}

static void
restricted_account_waits_for_expiry(void **state)
{
	NumberView	ns[2] = {
		{.id = 1, .phone_number_id = "1001", .health = 90, .can_send = true,
		.restricted_until = NOW + 3600000000LL},
		{.id = 2, .phone_number_id = "2001", .health = 80, .can_send = true},
	};
	RestrictedFake f = {0};
	DecideRequest r = request();
	Decision	d = run_restricted(&r, &f, ns, 2);

	/* another WABA's number is not restricted: it carries the template */
	assert_int_equal(d.outcome, OUTCOME_SEND);
	assert_int_equal(d.number->id, 2);
	/* alone, the template waits until the restriction expires */
	d = run_restricted(&r, &f, ns, 1);
	assert_int_equal(d.outcome, OUTCOME_QUEUE);
	assert_int_equal(d.reason, REASON_ACCOUNT_RESTRICTED);
	assert_int_equal(d.limiter, LIMITER_RESTRICTION);
	assert_int_equal(d.not_before, NOW + 3600000000LL);
	assert_string_equal(d.detail, "Meta restricted business-initiated messages on the account of number 1001; the restriction lifts in 1 h 00 min 00 s");
	assert_string_equal(reason_name(d.reason), "account_restricted");
	/* a reply inside the window the user opened goes at once */
	f.in_window[1] = true;
	r.category = CATEGORY_SERVICE;
	r.sticky_number_id = 1;
	d = run_restricted(&r, &f, ns, 2);
	assert_int_equal(d.outcome, OUTCOME_SEND);
	assert_int_equal(d.number->id, 1);
	/* a validity that ends first, or no end date at all: rejected */
	f.in_window[1] = false;
	r = request();
	r.valid_until = NOW + 60000000LL;
	d = run_restricted(&r, &f, ns, 1);
	assert_int_equal(d.outcome, OUTCOME_REJECT);
	assert_int_equal(d.reason, REASON_VALIDITY_WOULD_PASS);
	ns[0].restricted_until = INT64_MAX;
	r = request();
	d = run_restricted(&r, &f, ns, 1);
	assert_int_equal(d.outcome, OUTCOME_REJECT);
	assert_int_equal(d.reason, REASON_ACCOUNT_RESTRICTED);
}

/* A WABA out of rotation (disabled, partner removed) takes its numbers with it. */
static void
blocked_account_is_not_eligible(void **state)
{
	NumberView	ns[2] = {
		{.id = 1, .phone_number_id = "1001", .health = 90, .can_send = true,
		.account_block = "account_disabled"},
		{.id = 2, .phone_number_id = "2001", .health = 80, .can_send = true},
	};
	Fake		f = all_open();
	DecideRequest r = request();
	Decision	d = run(&r, &f, ns, 2);

	assert_false(number_is_eligible(&ns[0], 30));
	assert_int_equal(d.outcome, OUTCOME_SEND);
	assert_int_equal(d.number->id, 2);
	assert_int_equal(f.nasked, 1);
	r.pinned = true;
	d = run(&r, &f, ns, 1);
	assert_int_equal(d.outcome, OUTCOME_REJECT);
	assert_int_equal(d.reason, REASON_NO_ELIGIBLE_NUMBER);
	assert_string_equal(d.detail, "number 1001 is not eligible: its WhatsApp Business Account is out of rotation (account_disabled)");
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(restriction_holds_only_business_initiated),
	cmocka_unit_test(restricted_account_waits_for_expiry),
	cmocka_unit_test(blocked_account_is_not_eligible),
	cmocka_unit_test(warming_number_over_its_cap_waits),
	cmocka_unit_test(marketing_keeps_off_throttled_numbers),
	cmocka_unit_test(healthiest_first),
	cmocka_unit_test(full_number_spills_to_next),
	cmocka_unit_test(equal_health_spreads_by_recipient),
	cmocka_unit_test(sticky_sender_is_kept_even_if_it_must_wait),
	cmocka_unit_test(sticky_sender_that_fell_ill_is_left),
	cmocka_unit_test(critical_goes_to_the_healthiest),
	cmocka_unit_test(queue_at_the_earliest_number),
	cmocka_unit_test(reject_when_validity_would_pass),
	cmocka_unit_test(reject_what_can_never_go),
	cmocka_unit_test(service_without_window_is_rejected),
	cmocka_unit_test(opted_out_is_rejected),
	cmocka_unit_test(marketing_cap_queues_until_it_ends),
	cmocka_unit_test(pinned_number_only),
	cmocka_unit_test(names_round_trip),
};

UnitGroup
decision_tests(void)
{
	return (UnitGroup) UNIT_GROUP("decision", tests);
}
