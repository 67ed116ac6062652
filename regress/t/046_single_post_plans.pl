# A webhook POST applied alone reuses its plans.  The apply's statements take
# the batch as arrays; for a batch of one the plan cache judged the generic
# plan dearer than a custom one and planned them again at every call (2.1 ms
# of a single POST's 4.7; charging the message 1.3 of it).  At low rates,
# Meta's usual, every POST is such a batch.  antiban.apply_webhooks and
# antiban.charge_messages use generic plans for a batch under 100
# (antiban.plan_for_batch): counted here by pg_stat_statements
# (track_planning), twenty delivered statuses posted one by one in one
# session.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $posts = 20;
my $node = antiban_node('single_post_plans', 'antiban.sender_workers' => '0', 'autovacuum' => 'off',
	'shared_preload_libraries' => 'antiban, pg_stat_statements',
	'pg_stat_statements.track' => 'all', 'pg_stat_statements.track_planning' => 'on');
$node->safe_psql('postgres', 'CREATE EXTENSION pg_stat_statements');
$node->safe_psql('postgres', 'CREATE EXTENSION IF NOT EXISTS pgcrypto');
register_numbers($node, '1001' => { throughput_level => "'HIGH'" });
$node->safe_psql('postgres', qq{
	UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED';
	SELECT antiban.set_secret('app_secret', 'plans-app-secret');
	SELECT count(antiban.send_template('+55119' || lpad(i::text, 8, '0'), 'oferta', 'pt_BR'))
	FROM generate_series(1, $posts) i;
	UPDATE antiban.outbox SET state = 'sent', wamid = 'wamid.PLAN' || id, sent_at = now();});

# one delivered, priced status per POST, each its own call and commit
$node->safe_psql('postgres', q{SELECT pg_stat_statements_reset()});
$node->safe_psql('postgres', q{
	SET antiban.webhook_apply = 'inline';
	DO $$
	DECLARE
		r record;
		body bytea;
	BEGIN
		FOR r IN SELECT id, wamid, phone_number_id, ltrim(recipient, '+') AS wa_id FROM antiban.outbox ORDER BY id LOOP
			body := convert_to(format('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"value":'
				'{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000001","phone_number_id":"%s"},'
				'"statuses":[{"id":"%s","status":"delivered","timestamp":"%s","recipient_id":"%s",'
				'"pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing"}}]},'
				'"field":"messages"}]}]}', r.phone_number_id, r.wamid, extract(epoch FROM now())::bigint - 60, r.wa_id), 'UTF8');
			PERFORM antiban.ingest_webhook(body, 'sha256=' || encode(hmac(body, 'plans-app-secret', 'sha256'), 'hex'));
			COMMIT;
		END LOOP;
	END $$;});
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.outbox WHERE state = 'delivered'}),
	$posts, "the $posts statuses were applied, one POST at a time");
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.message_costs}),
	$posts, 'and each delivered message was charged');

# calls and plans of a statement of the apply, found by its start
sub plans_of
{
	my ($start) = @_;
	return split /\|/, $node->safe_psql('postgres', qq{
		SELECT coalesce(sum(calls), 0), coalesce(sum(plans), 0) FROM pg_stat_statements
		WHERE regexp_replace(query, '\\s+', ' ', 'g') LIKE '$start%'});
}
my ($calls, $plans) = plans_of('WITH m AS MATERIALIZED ( SELECT o.id, o.portfolio_id');
cmp_ok($calls, '>=', $posts, "charging ran $calls times");
cmp_ok($plans, '<=', 2, "and was planned $plans times (without generic plans: up to once per call)");
($calls, $plans) = plans_of('WITH st AS ( SELECT u.ord::integer AS ord');
cmp_ok($calls, '>=', $posts, "reading the statuses ran $calls times");
cmp_ok($plans, '<=', 2, "and was planned $plans times (without generic plans: up to once per call)");

# what they set for a small batch ends with them, not with the caller's
# transaction, and a session's own choice is left alone
for my $mode ('auto', 'force_custom_plan')
{
	is($node->safe_psql('postgres', qq{
		BEGIN;
		SET LOCAL plan_cache_mode = $mode;
		SELECT antiban.apply_webhooks('{}') + antiban.charge_messages('{}') AS nothing_to_do;
		SHOW plan_cache_mode;
		COMMIT;}), "0\n$mode", "a caller's plan_cache_mode $mode is left as it was");
}

$node->stop;
done_testing();
