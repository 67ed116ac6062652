# The sender claims the most urgent due messages first: by priority, then by
# when they became due, then in queue order; a message due later waits, even
# a critical one.  One claim of one message at a time, so the simulator's
# acceptance order is the claim order.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $sim = start_simulator();
sim_post($sim, '/_sim/config', {
	numbers => { '1001' => { throughput => 1000, portfolio => 'p1', waba => '200' } },
	portfolios => { p1 => { limit => 'unlimited' } } });
my $node = antiban_node('claim_order', 'antiban.graph_base_url' => $sim->{url},
	'antiban.claim_batch' => 1, 'antiban.max_inflight' => 1, 'antiban.sender_tick' => '100ms');
register_numbers($node, '1001' => { throughput_level => "'HIGH'" });
$node->safe_psql('postgres', q{
	UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED';
	SELECT antiban.set_secret('access_token', 'EAAG-order-token', '200');});

# name => [priority, seconds since due]; queued in one transaction, so the
# sender sees them all at once.
my %messages = (
	low_old => ['low', 50], normal_new => ['normal', 10], normal_old => ['normal', 40],
	critical_new => ['critical', 5], high_mid => ['high', 20], critical_old => ['critical', 30],
	normal_tie_a => ['normal', 25], normal_tie_b => ['normal', 25], critical_later => ['critical', -3600]);
my $sql = 'BEGIN;';
for my $name (sort keys %messages)
{
	my ($priority, $age) = @{ $messages{$name} };
	$sql .= qq{SELECT antiban.send_template('+5511900000' || lpad((SELECT count(*) + 1 FROM antiban.outbox)::text, 3, '0'),
		'oferta', 'pt_BR', priority => '$priority', metadata => '{"name": "$name"}');
		UPDATE antiban.outbox SET not_before = antiban.now() - make_interval(secs => $age)
		WHERE metadata ->> 'name' = '$name';};
}
$node->safe_psql('postgres', "$sql COMMIT;");

ok(wait_for($node, q{SELECT count(*) = 8 FROM antiban.outbox WHERE state = 'sent'}, 180), 'the eight due messages were sent')
  or diag($node->safe_psql('postgres', 'SELECT metadata, state, reason, not_before FROM antiban.outbox ORDER BY id'));
my %name_of = map { split /\|/ } split /\n/,
  $node->safe_psql('postgres', q{SELECT id || '|' || (metadata ->> 'name') FROM antiban.outbox});
my @order = map { $name_of{ $_->{callback} } } @{ sim_messages($sim) };
is(join(' ', @order),
	'critical_old critical_new high_mid normal_old normal_tie_a normal_tie_b normal_new low_old',
	'claimed by priority, then by due time, then in queue order');
is($node->safe_psql('postgres', q{SELECT state FROM antiban.outbox WHERE metadata ->> 'name' = 'critical_later'}),
	'queued', 'a message due later is not claimed early');

$node->stop;
stop_simulator($sim);
done_testing();
