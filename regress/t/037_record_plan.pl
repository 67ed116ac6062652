# Recording answers reads the answered messages and the next message of each
# of their conversations, never the whole queue.  The senders' statements are
# prepared once and kept: a generic plan made while statistics said nothing
# waited (ANALYZE after a drain) once joined the next messages to every
# waiting row of outbox_due, so each recording read the whole queue however
# long it had grown (a campaign scheduled for tomorrow: 20,000 rows and about
# 1,070 buffers per answer batch here, 68 now).  Counted by pg_stat_statements: the buffers the
# recording statement touched per call.
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
	'autovacuum' => 'off', 'plan_cache_mode' => 'force_generic_plan',
	'shared_preload_libraries' => 'antiban, pg_stat_statements', 'pg_stat_statements.track' => 'all');
$node->safe_psql('postgres', 'CREATE EXTENSION pg_stat_statements');
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

# 2. A campaign for tomorrow: 20,000 rows in outbox_due, none due (queued by
# a session on tomorrow's clock: no row version is left behind in the due
# range, which a claim would walk until vacuumed).
$node->safe_psql('postgres', q{
	SELECT set_config('antiban.pinned_now', (now() + interval '1 day')::text, false);
	SELECT count(antiban.send_template('+55219' || lpad(i::text, 8, '0'), 'oferta', 'pt_BR', metadata => '{"tomorrow": true}'))
	FROM generate_series(1, 20000) i;});
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.outbox WHERE metadata ? 'tomorrow' AND not_before > now() + interval '23 hours'}),
	'20000', 'the campaign waits for tomorrow');

# 3. Messages due now, answered in several batches of five.
$node->safe_psql('postgres', 'SELECT pg_stat_statements_reset()');
send_and_wait(1001, 40, 90, 'with a campaign waiting');
my ($calls, $per_call) = split /\|/, $node->safe_psql('postgres', q{
	SELECT sum(calls), round(sum(shared_blks_hit + shared_blks_read) / sum(calls))
	FROM pg_stat_statements WHERE query LIKE 'WITH locked AS (SELECT id FROM antiban.outbox WHERE id = ANY%'});
cmp_ok($calls, '>=', 2, "the answers were recorded in $calls statements");
# (reading the campaign's rows through outbox_due touched about 1,070 per call)
cmp_ok($per_call, '<', 400, "each recording touched $per_call buffers, not the waiting campaign's 20,000 rows");
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.outbox WHERE metadata ? 'tomorrow' AND state = 'queued'}),
	'20000', 'the campaign for tomorrow still waits');
is(sim_ledger($sim)->{duplicates}, 0, 'no message was sent twice');

$node->stop;
stop_simulator($sim);
done_testing();
