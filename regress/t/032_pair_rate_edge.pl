# Pair rate at the edge: the simulator judges Meta's pair limit (bursts of
# 45, then one per 6 s) by when a request arrives.  A number sends 50
# utility templates to one person: the burst, then five paced ones, each
# of which left exactly when a bucket with no margin would have let it go
# (and a request slower than the next one then arrives too close to it).
# With antiban.pair_headroom none is refused; all leave in queue order.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $count = 50;
my $sim = start_simulator('--pair-capacity', '45', '--pair-refill-seconds', '6');
sim_post($sim, '/_sim/config', {
	numbers => { '1001' => { throughput => 80, portfolio => 'p1', waba => '200' } },
	portfolios => { p1 => { limit => 'unlimited' } } });
# a run without the margin (to show this test can fail) sets these to 0
my %margin = map { ("antiban.$_" => $ENV{"ANTIBAN_TEST_\U$_"} // ($_ eq 'pair_headroom' ? 10 : 20)) }
  qw(pair_headroom arrival_jitter_ms);
my $node = antiban_node('pair_edge', 'antiban.graph_base_url' => $sim->{url},
	'antiban.sender_tick' => '100ms', %margin);
register_numbers($node, '1001' => { throughput_level => "'STANDARD'" });
$node->safe_psql('postgres', q{
	UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED';
	SELECT antiban.set_secret('access_token', 'EAAG-pair-token', '200');});

$node->safe_psql('postgres', qq{
	SELECT count(antiban.send_template('+5551999990001', 'atualizacao_pedido', 'pt_BR',
		jsonb_build_array('#' || i), 'utility')) FROM generate_series(1, $count) i});
ok(wait_for($node, qq{SELECT count(*) = $count FROM antiban.outbox WHERE state = 'sent'}, 150),
	"all $count messages to one person were sent")
  or diag($node->safe_psql('postgres', q{SELECT state, reason, error_code, count(*) FROM antiban.outbox GROUP BY 1, 2, 3}));
my $ledger = sim_ledger($sim);
is($ledger->{violations}{pair_rate}, 0, 'Meta refused none for the pair rate (131056), judged by arrival');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.send_errors WHERE code = 131056}), '0',
	'antiban met no 131056');
my @ids = map { $_->{callback} } @{ sim_messages($sim) };
is(join(',', @ids), join(',', sort { $a <=> $b } @ids), 'Meta received them in queue order');
# what the pacing cost: the burst, then one per 6 s at Meta's own limit
my @at = sort { $a <=> $b } map { $_->{at} } @{ sim_messages($sim) };
note(sprintf('%d messages to one person in %.1f s (Meta\'s minimum: %.1f s)',
	scalar @at, $at[-1] - $at[0], ($count - 45) * 6));

$node->stop;
stop_simulator($sim);
done_testing();
