# Costs against Meta's own figures, end to end: the sender sends templates
# to Brazil, the United States and Mexico through the simulator, signed
# status webhooks come back through the receiver and charge each delivered
# message once; the monitor polls the WABA's pricing_analytics (the
# simulator computes it from its ledger with its own price list) within the
# management rate limit, once per poll interval; antiban.pricing_reconciliation
# shows the volumes agreeing, the costs agreeing where the card agrees with
# Meta, and the difference where it does not.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $mgmt_limit = 100;
my $sim = start_simulator('--webhook-delay-ms', '20', '--read-rate', '0.5');
my $node = antiban_node('pricing', 'antiban.sender_tick' => '100ms', 'antiban.monitor' => 'on',
	'antiban.monitor_interval' => '200ms', 'antiban.poll_interval' => '1s',
	'antiban.mgmt_requests_per_hour' => $mgmt_limit, 'antiban.graph_base_url' => $sim->{url});
register_numbers($node, '1001' => { throughput_level => "'HIGH'" });
$node->safe_psql('postgres', q{
	UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED';
	UPDATE antiban.wabas SET currency = 'USD', timezone = 'UTC';
	SELECT antiban.set_secret('app_secret', 'the-app-secret');
	CREATE ROLE receiver LOGIN IN ROLE antiban_receiver;});
my $receiver = start_receiver($node);
# Meta's prices: Brazil and the US as on antiban's shipped October 2026 card;
# Mexico's marketing price, which pricing.md could not verify, is left out of
# antiban's card, so antiban cannot price what Meta charges there.
sim_post($sim, '/_sim/config', {
	numbers => { '1001' => { throughput => 1000, portfolio => 'p1', waba => '200' } },
	portfolios => { p1 => { limit => 'unlimited' } },
	templates => { '200' => [
		{ name => 'oferta', language => 'pt_BR', category => 'MARKETING', status => 'APPROVED' },
		{ name => 'aviso', language => 'pt_BR', category => 'UTILITY', status => 'APPROVED' } ] },
	prices => { BR => { marketing => 0.0625, utility => 0.0068 }, US => { marketing => 0.025 },
		MX => { marketing => 0.0397 } },
	mgmt_limit => $mgmt_limit, webhook_url => "$receiver->{url}/webhook", app_secret => 'the-app-secret' });
# the monitor polls a WABA once it has its access token
$node->safe_psql('postgres', q{SELECT antiban.set_secret('access_token', 'EAAG-pricing-token', '200')});

# Before any message: the first pricing poll finds nothing, and is not
# repeated within the day.
ok(wait_for($node, q{SELECT count(*) = 1 FROM antiban.pricing_polls WHERE last_success_at IS NOT NULL}, 60),
	'the monitor polled pricing_analytics')
  or diag($node->safe_psql('postgres', q{SELECT * FROM antiban.pricing_polls}));
my $first = $node->safe_psql('postgres', q{SELECT count(*) FROM antiban.mgmt_calls WHERE path LIKE '%pricing_analytics%'});
is($first, '1', 'one pricing_analytics call');

$node->safe_psql('postgres', q{
	SELECT count(antiban.send_template('+55119' || lpad(i::text, 8, '0'), 'oferta', 'pt_BR')) FROM generate_series(1, 30) i;
	SELECT count(antiban.send_template('+55219' || lpad(i::text, 8, '0'), 'aviso', 'pt_BR', category => 'utility'))
	FROM generate_series(1, 20) i;
	SELECT count(antiban.send_template('+1650555' || lpad(i::text, 4, '0'), 'oferta', 'pt_BR')) FROM generate_series(1, 15) i;
	SELECT count(antiban.send_template('+5255' || lpad(i::text, 8, '0'), 'oferta', 'pt_BR')) FROM generate_series(1, 5) i;});
ok(wait_for($node, q{SELECT count(*) = 70 FROM antiban.message_costs}, 120),
	'every delivered message was charged, once')
  or diag($node->safe_psql('postgres', q{SELECT state, pricing_type IS NULL, count(*) FROM antiban.outbox GROUP BY 1, 2}));
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.outbox WHERE state NOT IN ('delivered', 'read')}), '0',
	'every message was delivered');
is($node->safe_psql('postgres', q{SELECT string_agg(format('%s %s %s %s', market, currency, count, coalesce(cost::text, 'unpriced')), ', ' ORDER BY market)
	FROM (SELECT market, currency, count(*), sum(cost) AS cost FROM antiban.message_costs GROUP BY 1, 2) x}),
	'Brazil USD 50 2.011000, Mexico USD 5 unpriced, North America USD 15 0.375000',
	'our costs: the October 2026 card in the WABA\'s currency');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.mgmt_calls WHERE path LIKE '%pricing_analytics%'}), $first,
	'no second pricing poll within the poll interval (a day)');

# A day later (the poll interval passed): the monitor polls again.
$node->safe_psql('postgres', q{UPDATE antiban.pricing_polls SET last_success_at = last_success_at - interval '1 day',
	last_attempt_at = last_attempt_at - interval '1 day'});
ok(wait_for($node, q{SELECT sum(volume) = 70 FROM antiban.pricing_analytics}, 60),
	'the next poll stored Meta\'s figures')
  or diag($node->safe_psql('postgres', q{SELECT * FROM antiban.pricing_polls; SELECT * FROM antiban.pricing_analytics}));

my $rec = $node->safe_psql('postgres', q{
	SELECT string_agg(format('%s %s %s: ours %s/%s, Meta %s/%s, difference %s/%s', country, pricing_category, pricing_type,
	                         v_ours, c_ours, v_meta, c_meta, v_ours - v_meta, c_ours - c_meta), E'\n' ORDER BY country, pricing_category)
	FROM (SELECT country, pricing_category, pricing_type, sum(our_volume) AS v_ours, sum(meta_volume) AS v_meta,
	             sum(our_cost) AS c_ours, sum(meta_cost) AS c_meta
	      FROM antiban.pricing_reconciliation GROUP BY 1, 2, 3) r});
is($rec, join("\n",
	'BR MARKETING REGULAR: ours 30/1.875000, Meta 30/1.875000, difference 0/0.000000',
	'BR UTILITY REGULAR: ours 20/0.136000, Meta 20/0.136000, difference 0/0.000000',
	'MX MARKETING REGULAR: ours 5/0, Meta 5/0.198500, difference 0/-0.198500',
	'US MARKETING REGULAR: ours 15/0.375000, Meta 15/0.375000, difference 0/0.000000'),
	'reconciliation: volumes agree; costs agree where the card does, Mexico shows what Meta charged that antiban could not price');
is($node->safe_psql('postgres', q{SELECT sum(our_unpriced) FROM antiban.pricing_reconciliation WHERE country = 'MX'}), '5',
	'and says those 5 messages are unpriced on our side');
# The management rate limit holds: at Meta (the simulator's count) and in antiban's own.
my $ledger = sim_ledger($sim);
cmp_ok($ledger->{mgmt_calls}{'200'}{max_per_hour}, '<=', $mgmt_limit, 'never more management calls in an hour than allowed');
is($ledger->{mgmt_calls}{'200'}{rejected}, 0, 'none refused');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.mgmt_calls WHERE path LIKE '%pricing_analytics%'}), '2',
	'two pricing polls in all, each counted in antiban.mgmt_calls');

stop_receiver($receiver);
stop_simulator($sim);
$node->stop;
done_testing();
