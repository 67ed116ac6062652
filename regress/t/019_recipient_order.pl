# Per-recipient order: messages to one person leave in queue order, and a
# message waiting for a retry holds the ones queued behind it.  Two people,
# eight messages each, interleaved in the queue; Meta fails the first three
# sends (131016, retried) and then a fifth of the rest at random (503).  The order
# is read from what Meta accepted and from the outbox's sent_at.  A message
# marked independent is not held.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $sim = start_simulator('--seed', '7');
sim_post($sim, '/_sim/config', {
	numbers => { '1001' => { throughput => 1000, portfolio => 'p1', waba => '200' } },
	portfolios => { p1 => { limit => 'unlimited' } } });
my $node = antiban_node('recipient_order', 'antiban.graph_base_url' => $sim->{url},
	'antiban.sender_tick' => '100ms', 'antiban.retry_base' => '50ms', 'antiban.retry_cap' => '400ms',
	'antiban.max_attempts' => 30);
register_numbers($node, '1001' => { throughput_level => "'HIGH'" });
$node->safe_psql('postgres', q{
	UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED';
	SELECT antiban.set_secret('access_token', 'EAAG-order-token', '200');});

sim_post($sim, '/_sim/script', [ { number => '1001', fail_next => 3, code => 131016 },
	{ error_rate_2 => 0.2 } ]);
$node->safe_psql('postgres', q{
	BEGIN;
	SELECT count(antiban.send_template(CASE WHEN i % 2 = 0 THEN '+5511900000001' ELSE '+5511900000002' END,
		'atualizacao_pedido', 'pt_BR', jsonb_build_array('#' || i), 'utility'))
	FROM generate_series(1, 16) i;
	COMMIT;});
ok(wait_for($node, q{SELECT count(*) = 16 FROM antiban.outbox WHERE state = 'sent'}, 120), 'all sixteen were sent')
  or diag($node->safe_psql('postgres', q{SELECT id, recipient, state, attempts, reason FROM antiban.outbox ORDER BY id}));
# the three scripted failures were retried (one message may take two of them: only two are in flight)
ok($node->safe_psql('postgres', q{SELECT sum(attempts) - count(*) FROM antiban.outbox}) >= 3,
	'some were retried');

my %to_of = map { split /\|/ } split /\n/, $node->safe_psql('postgres', q{SELECT id || '|' || recipient FROM antiban.outbox});
my %accepted;
push @{ $accepted{ $to_of{ $_->{callback} } } }, $_->{callback} for @{ sim_messages($sim) };
for my $to (sort keys %accepted)
{
	my @ids = @{ $accepted{$to} };
	is(join(',', @ids), join(',', sort { $a <=> $b } @ids), "Meta accepted the messages to $to in queue order");
}
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM (SELECT id, recipient, lag(id) OVER (PARTITION BY recipient ORDER BY sent_at, id) AS before
	                      FROM antiban.outbox WHERE state = 'sent') x WHERE before > id}), '0',
	'sent_at follows queue order for each recipient');

# A retry holds the next message to the same person, unless that one is independent.
sim_post($sim, '/_sim/script', [ { error_rate_2 => 0 }, { number => '1001', fail_next => 1, code => 131016 } ]);
$node->append_conf('postgresql.conf', "antiban.retry_base = '1h'\nantiban.retry_cap = '1h'\n");
$node->restart;
$node->safe_psql('postgres', q{
	SELECT antiban.send_template('+5511900000003', 'atualizacao_pedido', 'pt_BR', '["first"]', 'utility',
		metadata => '{"name": "first"}')});
ok(wait_for($node, q{SELECT state = 'retry_wait' FROM antiban.outbox WHERE metadata ->> 'name' = 'first'}, 60),
	'the first message waits for its retry');
$node->safe_psql('postgres', q{
	SELECT antiban.send_template('+5511900000003', 'atualizacao_pedido', 'pt_BR', '["held"]', 'utility',
		metadata => '{"name": "held"}');
	SELECT antiban.send_template('+5511900000003', 'atualizacao_pedido', 'pt_BR', '["free"]', 'utility',
		metadata => '{"name": "free", "independent": true}');});
ok(wait_for($node, q{SELECT state = 'sent' FROM antiban.outbox WHERE metadata ->> 'name' = 'free'}, 60),
	'an independent message is not held');
is($node->safe_psql('postgres', q{SELECT state FROM antiban.outbox WHERE metadata ->> 'name' = 'held'}), 'queued',
	'the message behind the retry is held');

$node->stop;
stop_simulator($sim);
done_testing();
