# kill -9 of a sender in the middle of a drain, and an immediate server
# stop: nothing is lost (every message ends sent or, if its fate is
# unknown, marked so) and nothing is sent twice (ledger check).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

# Slow answers keep many requests in flight when the crash comes.
my $sim = start_simulator('--slow-rate', '1', '--slow-ms', '150');
sim_post($sim, '/_sim/config', {
	numbers => { map { ("100$_" => { throughput => 1000, portfolio => 'p1', waba => '200' }) } 1 .. 3 },
	portfolios => { p1 => { limit => 'unlimited' } } });

my $node = antiban_node('crash', 'antiban.graph_base_url' => $sim->{url},
	'antiban.max_inflight' => 40, 'antiban.http_timeout' => '2s',
	'antiban.unconfirmed_grace' => '2s', 'antiban.on_unconfirmed' => 'mark_unknown',
	'antiban.sender_tick' => '200ms', 'restart_after_crash' => 'on');
register_numbers($node, map { ("100$_" => { throughput_level => "'HIGH'" }) } 1 .. 3);
$node->safe_psql('postgres', q{
	UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED';
	SELECT antiban.set_secret('access_token', 'EAAG-crash-token', '200');
	SELECT count(antiban.send_template('+55119' || lpad(i::text, 8, '0'), 'oferta', 'pt_BR'))
	FROM generate_series(1, 3000) i;});

sub accepted { return sim_ledger($sim)->{accepted}; }
# (after the kill -9 below: a crash restart, the workers started again and
# 1,200 sends; a loaded machine may take minutes)
sub wait_accepted
{
	my ($n) = @_;
	my $deadline = time() + 180;
	while (time() < $deadline) { return 1 if accepted() >= $n; select(undef, undef, undef, 0.05); }
	return accepted() >= $n;
}

# 1. kill -9 a sender mid-drain (the postmaster then restarts everything).
ok(wait_accepted(300), 'the drain is under way');
my $pid = $node->safe_psql('postgres', q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'antiban sender' LIMIT 1});
kill 'KILL', $pid;
ok(wait_accepted(1500), 'the drain resumed after the crash');

# 2. An immediate stop mid-drain, then start again.
$node->stop('immediate');
$node->start;

ok(wait_for($node, q{SELECT count(*) = 0 FROM antiban.outbox WHERE state IN ('queued', 'retry_wait', 'sending')}, 180),
	'every message settled');
my %state = split /[,=]/, $node->safe_psql('postgres',
	q{SELECT string_agg(state || '=' || n, ',') FROM (SELECT state, count(*) n FROM antiban.outbox GROUP BY 1) s});
is(($state{sent} // 0) + ($state{unknown} // 0), 3000, 'each of the 3,000 is sent or marked unknown: none lost')
  or diag(explain \%state);
my $ledger = sim_ledger($sim);
is($ledger->{duplicates}, 0, 'no message was sent twice');

# Every 'sent' row is in the ledger once; an 'unknown' one at most once.
my %in_ledger = map { $_->{callback} => 1 } @{ sim_messages($sim) };
my $sent_ids = $node->safe_psql('postgres', q{SELECT string_agg(id::text, ',') FROM antiban.outbox WHERE state = 'sent'});
my $missing = grep { !$in_ledger{$_} } split /,/, $sent_ids;
is($missing, 0, 'every message marked sent reached the simulator');
cmp_ok($state{unknown} // 0, '<=', 2 * 40, 'only messages in flight at a crash can be unknown');
my @unknown_ids = split /,/, $node->safe_psql('postgres',
	q{SELECT coalesce(string_agg(id::text, ','), '') FROM antiban.outbox WHERE state = 'unknown'});
my $unknown_delivered = grep { $in_ledger{$_} } @unknown_ids;
is($ledger->{accepted}, ($state{sent} // 0) + $unknown_delivered,
	'the ledger holds the sent messages and some of the unknown ones, nothing else');

$node->stop;
stop_simulator($sim);
done_testing();
