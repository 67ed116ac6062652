# A fast shutdown stops a sender that is inside a long statement, and the
# sender still records the answers to the requests it has in flight before
# it exits: nothing lost, nothing sent twice.  The sender's claim is held on
# a lock that outlives every session (a prepared transaction holding
# antiban.templates, which each claim reads first), while three requests
# wait for their slow answers.  SIGTERM used to set a flag the statement
# never looked at: the claim waited on, and the shutdown with it.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

# every answer 4 s late: the requests are still out when the stop comes
my $sim = start_simulator('--slow-rate', '1', '--slow-ms', '4000');
sim_post($sim, '/_sim/config', {
	numbers => { '1001' => { throughput => 1000, portfolio => 'p1', waba => '200' } },
	portfolios => { p1 => { limit => 'unlimited' } } });
my $node = antiban_node('stop_mid_statement', 'antiban.graph_base_url' => $sim->{url},
	'antiban.sender_workers' => 1, 'antiban.sender_tick' => '100ms',
	'max_prepared_transactions' => 2);
register_numbers($node, '1001' => { throughput_level => "'HIGH'" });
$node->safe_psql('postgres', q{
	UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED';
	SELECT antiban.set_secret('access_token', 'EAAG-stop-token', '200');});

sub queue
{
	my ($first, $count) = @_;
	$node->safe_psql('postgres', qq{
		SELECT count(antiban.send_template('+55119000' || lpad(i::text, 5, '0'), 'oferta', 'pt_BR'))
		FROM generate_series($first, $first + $count - 1) i});
}

queue(1, 3);
ok(wait_for($node, q{SELECT count(*) = 3 FROM antiban.outbox WHERE state = 'sending'}, 60),
	'three requests in flight');
$node->safe_psql('postgres', q{
	BEGIN;
	LOCK TABLE antiban.templates IN ACCESS EXCLUSIVE MODE;
	PREPARE TRANSACTION 'hold_templates';});
ok(wait_for($node, q{SELECT count(*) = 1 FROM pg_stat_activity
	WHERE backend_type = 'antiban sender' AND wait_event_type = 'Lock'}, 60),
	'the sender waits inside its claim');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.outbox WHERE state = 'sending'}),
	'3', 'their answers not recorded yet');

# (a stop that hangs fails here after a minute instead of the default three)
{
	local $ENV{PGCTLTIMEOUT} = 60;
	my $stopped = $node->stop('fast', fail_ok => 1);
	ok($stopped, 'a fast shutdown completes while the sender was inside a statement');
	$node->stop('immediate', fail_ok => 1) unless $stopped;
}
like(slurp_file($node->logfile), qr/antiban sender: claiming due messages: stopped and rolled back/,
	'the claim was ended by the shutdown and rolled back');

# the lock is still held (prepared): the sender can not claim, only recording counts
$node->start;
is($node->safe_psql('postgres', q{SELECT string_agg(state::text, ',' ORDER BY id) FROM antiban.outbox}),
	'sent,sent,sent', 'the answers in flight were recorded before the sender exited');
my $ledger = sim_ledger($sim);
is($ledger->{accepted}, 3, 'Meta took each message once');

$node->safe_psql('postgres', q{ROLLBACK PREPARED 'hold_templates'});
queue(4, 2);
ok(wait_for($node, q{SELECT count(*) = 5 FROM antiban.outbox WHERE state = 'sent'}, 120),
	'the restarted sender sends what came next');
$ledger = sim_ledger($sim);
is($ledger->{accepted}, 5, 'five messages accepted');
is($ledger->{duplicates}, 0, 'none twice');

$node->stop;
stop_simulator($sim);
done_testing();
