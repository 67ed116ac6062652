# Recording answers reads the answered messages and the next message of each
# of their conversations, never the whole queue.  The senders' statements are
# prepared once and kept: a generic plan made while statistics said nothing
# waited (ANALYZE after a drain) once joined the next messages to every
# waiting row of outbox_due, so each recording read the whole queue however
# long it had grown (a campaign scheduled for tomorrow: 20,000 rows read per
# answer batch here).  Counted with the index's own statistics.
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
my $node = antiban_node('record_plan', 'antiban.graph_base_url' => $sim->{url},
	'antiban.claim_batch' => 5, 'antiban.max_inflight' => 5, 'antiban.sender_tick' => '100ms',
	'autovacuum' => 'off', 'plan_cache_mode' => 'force_generic_plan');
register_numbers($node, '1001' => { throughput_level => "'HIGH'" });
$node->safe_psql('postgres', q{
	UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED';
	SELECT antiban.set_secret('access_token', 'EAAG-plan-token', '200');});

# send N messages (recipients FIRST on) and wait until SENT messages in all were sent
sub send_and_wait
{
	my ($first, $n, $sent, $label) = @_;
	$node->safe_psql('postgres', qq{SELECT count(antiban.send_template('+55119' || lpad(i::text, 8, '0'), 'oferta', 'pt_BR'))
		FROM generate_series($first, $first + $n - 1) i});
	ok(wait_for($node, qq{SELECT count(*) = $sent FROM antiban.outbox WHERE state = 'sent'}, 120),
		"$label: the $n messages were sent");
}

# 1. A drain, then statistics that say nothing waits (the plans are made again).
send_and_wait(1, 50, 50, 'first drain');
$node->safe_psql('postgres', 'ANALYZE antiban.outbox');

# 2. A campaign for tomorrow: 20,000 rows in outbox_due, none due (the
# versions its UPDATE left behind vacuumed, as autovacuum would).
$node->safe_psql('postgres', q{
	BEGIN;
	SELECT count(antiban.send_template('+55219' || lpad(i::text, 8, '0'), 'oferta', 'pt_BR', metadata => '{"tomorrow": true}'))
	FROM generate_series(1, 20000) i;
	UPDATE antiban.outbox SET not_before = antiban.now() + interval '1 day' WHERE metadata ? 'tomorrow';
	COMMIT;
	VACUUM antiban.outbox;});

# 3. Messages due now, answered in several batches of five.
my $read_before = $node->safe_psql('postgres', q{SELECT pg_stat_force_next_flush();
	SELECT idx_tup_read FROM pg_stat_user_indexes WHERE indexrelname = 'outbox_due'});
$read_before = (split /\n/, $read_before)[-1];
send_and_wait(1001, 40, 90, 'with a campaign waiting');
# (a worker's counts reach the statistics when it reports them, at the latest when it stops)
$node->restart;
my $read = $node->safe_psql('postgres', q{SELECT idx_tup_read FROM pg_stat_user_indexes WHERE indexrelname = 'outbox_due'})
  - $read_before;
cmp_ok($read, '<', 20000, "the 40 messages read $read entries of outbox_due, not the waiting campaign per batch");
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.outbox WHERE metadata ? 'tomorrow' AND state = 'queued'}),
	'20000', 'the campaign for tomorrow still waits');
is(sim_ledger($sim)->{duplicates}, 0, 'no message was sent twice');

$node->stop;
stop_simulator($sim);
done_testing();
