# A conversation parked behind its message in flight: 50 messages to one
# person, queued at once (Meta's pair burst of 45, then paced), drained by
# two senders (a claim of one can park a message behind an answer the
# other is recording).  A held message is
# parked until the lease of the one in flight and each answer brings the
# next one back at once, so all leave long before any lease ends (the lease
# here is ten minutes: a message that sat one out fails the wait), and a
# parked message still holds the ones behind it: Meta accepts them in
# queue order.  Before: the answer released only the very next message
# (one parked behind the lease of an earlier one, or parked by the other
# sender while the answer was recorded, waited for the lease), and the
# ones behind a parked message overtook it.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $count = 50;		# the pair burst (45), then five paced ones
my $sim = start_simulator('--pair-capacity', '45', '--pair-refill-seconds', '6');
sim_post($sim, '/_sim/config', {
	numbers => { '1001' => { throughput => 80, portfolio => 'p1', waba => '200' } },
	portfolios => { p1 => { limit => 'unlimited' } } });
my $node = antiban_node('conversation_parked', 'antiban.graph_base_url' => $sim->{url},
	'antiban.sender_workers' => 2, 'antiban.max_inflight' => 256, 'antiban.claim_batch' => 256,
	'antiban.unconfirmed_grace' => '600s');
register_numbers($node, '1001' => { throughput_level => "'STANDARD'" });
$node->safe_psql('postgres', q{
	UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED';
	SELECT antiban.set_secret('access_token', 'EAAG-parked-token', '200');});

$node->safe_psql('postgres', qq{
	SELECT count(antiban.send_template('+5511900000009',
		'atualizacao_pedido', 'pt_BR', jsonb_build_array('#' || i), 'utility'))
	FROM generate_series(1, $count) i;});
# generous on a loaded machine, far below the lease (15 s + 600 s)
ok(wait_for($node, qq{SELECT count(*) = $count FROM antiban.outbox WHERE state = 'sent'}, 150),
	'all were sent without waiting for a lease')
  or diag($node->safe_psql('postgres', q{
	SELECT id, state, reason, detail, not_before FROM antiban.outbox WHERE state <> 'sent' ORDER BY id}));
my %accepted;
push @{ $accepted{ $_->{to} } }, $_->{callback} for @{ sim_messages($sim) };
for my $to (sort keys %accepted)
{
	my @ids = @{ $accepted{$to} };
	is(scalar(@ids), $count, "Meta accepted each message to $to once");
	is(join(',', @ids), join(',', sort { $a <=> $b } @ids), "Meta accepted the messages to $to in queue order");
}

$node->stop;
stop_simulator($sim);
done_testing();
