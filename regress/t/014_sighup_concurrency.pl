# SIGHUP changes the sender's concurrency live: with slow answers, throughput
# follows antiban.max_inflight after a reload, without a restart.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $sim = start_simulator('--slow-rate', '1', '--slow-ms', '200');
sim_post($sim, '/_sim/config', {
	numbers => { map { ("100$_" => { throughput => 1000, portfolio => 'p1', waba => '200' }) } 1 .. 3 },
	portfolios => { p1 => { limit => 'unlimited' } } });
my $node = antiban_node('sighup', 'antiban.graph_base_url' => $sim->{url}, 'antiban.max_inflight' => 2);
register_numbers($node, map { ("100$_" => { throughput_level => "'HIGH'" }) } 1 .. 3);
$node->safe_psql('postgres', q{UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED';
	SELECT antiban.set_secret('access_token', 'EAAG-sighup-token', '200');
	SELECT count(antiban.send_template('+55119' || lpad(i::text, 8, '0'), 'oferta', 'pt_BR'))
	FROM generate_series(1, 5000) i;});

sub rate_over
{
	my ($seconds) = @_;
	my $start = sim_ledger($sim)->{accepted};
	my $t0 = time();
	sleep($seconds);
	return (sim_ledger($sim)->{accepted} - $start) / (time() - $t0);
}

sleep(1);
my $slow = rate_over(2);
$node->safe_psql('postgres', q{ALTER SYSTEM SET antiban.max_inflight = 40; SELECT pg_reload_conf();});
sleep(1);
my $fast = rate_over(2);
my $pid_before = $node->safe_psql('postgres', q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'antiban sender'});
note(sprintf('2 in flight: %.1f msg/s; 40 in flight: %.1f msg/s', $slow, $fast));
cmp_ok($slow, '<=', 15, 'with 2 in flight and 200 ms answers, about 10 messages per second');
cmp_ok($fast, '>=', 5 * $slow, 'after the reload, many times more');
is($node->safe_psql('postgres', q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'antiban sender'}),
	$pid_before, 'the same sender process: no restart');
is(sim_ledger($sim)->{duplicates}, 0, 'no duplicates');

$node->stop;
stop_simulator($sim);
done_testing();
