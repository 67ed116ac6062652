# The journal writer stores decisions without being asked; what the
# messaging limit counted survives a clean restart and a crash; the worker
# comes back after being terminated.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

# A pinned clock long after start: buckets are full, the window does not move.
my $node = antiban_node('restart', 'antiban.pinned_now' => '2030-01-01 00:00:00+00');
register_numbers($node, '1001' => { rate_override => 1000, burst_override => 1000 });

my $sent = $node->safe_psql('postgres', q{
	SELECT count(*) FROM generate_series(1, 40) i,
	       antiban.decide('+55119' || lpad(i::text, 8, '0'), 'marketing')
	WHERE outcome = 'SEND'});
is($sent, '40', '40 new users reached');

ok($node->poll_query_until('postgres', 'SELECT count(*) = 40 FROM antiban.decisions'),
	'the journal writer stored every decision by itself');
ok($node->poll_query_until('postgres', 'SELECT count(*) = 40 FROM antiban.recipient_state WHERE last_reached_at IS NOT NULL'),
	'and every counted recipient');
like($node->safe_psql('postgres', q{SELECT backend_type FROM pg_stat_activity WHERE backend_type LIKE 'antiban%'}),
	qr/antiban journal writer/, 'the writer shows in pg_stat_activity');

$node->restart;
is($node->safe_psql('postgres', 'SELECT used FROM antiban.portfolio_usage'), '40',
	'after a clean restart the portfolio still counts 40 users');
is($node->safe_psql('postgres', q{SELECT outcome || ' ' || reason FROM antiban.decide('+5511900000007', 'marketing', consume => false)}),
	'SEND sticky_sender', 'and each recipient keeps their sticky sender');

# A crash: shared memory is rebuilt from the table.
$node->safe_psql('postgres', q{SELECT count(*) FROM generate_series(41, 50) i,
	antiban.decide('+55119' || lpad(i::text, 8, '0'), 'marketing')});
ok($node->poll_query_until('postgres', 'SELECT count(*) = 50 FROM antiban.recipient_state'), 'ten more stored');
$node->stop('immediate');
$node->start;
is($node->safe_psql('postgres', 'SELECT used FROM antiban.portfolio_usage'), '50',
	'after a crash the portfolio counts 50 users');

# Buckets after a restart: after a crash they start empty (the last flush
# interval of the journal may be lost); after a clean shutdown, from the journal.
sub fresh_recipient_outcome
{
	my ($who) = @_;
	return $node->safe_psql('postgres', "SET antiban.pinned_now = '';
		SELECT outcome FROM antiban.decide('$who', 'utility', consume => false)");
}
ok($node->poll_query_until('postgres', q{SELECT previous_shutdown = 'crashed' FROM antiban.journal_stats()}),
	'the writer knows the last run crashed');
# (the clock pinned half a second after the start: the number has tokens, the
# new pair a thirteenth of one, however long this machine took to get here)
is($node->safe_psql('postgres', q{
	SELECT set_config('antiban.pinned_now', (pg_postmaster_start_time() + interval '0.5 s')::text, false) IS NOT NULL;
	SELECT outcome || ' ' || reason FROM antiban.decide('+5511900000777', 'utility', consume => false)}),
	"t\nQUEUE pair_rate", 'after a crash a new pair bucket starts empty');
# A refused take leaves no pair behind (it would come back the same): storing
# one for each number a rotation tried filled the table after a crash with
# buckets that could not be evicted until full.
is($node->safe_psql('postgres', q{
	SELECT set_config('antiban.pinned_now', (pg_postmaster_start_time() + interval '0.5 s')::text, false) IS NOT NULL;
	SELECT outcome || ' ' || reason FROM antiban.decide('+5511900000776', 'utility');
	SELECT count(*) FROM antiban.buckets WHERE kind = 'pair' AND recipient = '+5511900000776'}),
	"t\nQUEUE pair_rate\n0", 'a consuming decision refused by a new pair stores no bucket for it');
# Meta's word empties a bucket that is not stored yet (after a restart, the
# pair of someone never sent to): it is stored, empty (this crashed the server).
is($node->safe_psql('postgres', q{
	SELECT 'pair_drained' = ANY (antiban.act_on_error(n.id, NULL, 131056, 400, 'webhook', NULL, '+5511900000775'))
	FROM antiban.numbers n WHERE n.phone_number_id = '1001';
	SELECT tokens FROM antiban.buckets WHERE kind = 'pair' AND recipient = '+5511900000775'}),
	"t\n0.000", 'a pair rate error (131056) on a pair not stored yet stores it empty');
is($node->safe_psql('postgres', q{
	SELECT 'slowed' = ANY (antiban.act_on_error(n.id, NULL, 130429, 400, 'webhook'))
	FROM antiban.numbers n WHERE n.phone_number_id = '1001';
	SELECT tokens FROM antiban.buckets WHERE kind = 'number' AND phone_number_id = '1001'}),
	"t\n0.000", 'a throughput error (130429) on a number bucket not stored yet stores it empty');
$node->restart;
ok($node->poll_query_until('postgres', q{SELECT previous_shutdown = 'clean' FROM antiban.journal_stats()}),
	'the writer knows the last shutdown was clean');
is(fresh_recipient_outcome('+5511900000778'), 'SEND', 'after a clean shutdown an unknown recipient starts full');

# Shutdown flushes what is buffered: the worker's last flush on SIGTERM.
# (a restart, not a reload: the writer must be using the long interval before
# the decision, however slowly a loaded machine delivers the SIGHUP)
$node->safe_psql('postgres', q{ALTER SYSTEM SET antiban.journal_flush_interval = '60s'});
$node->restart;
ok($node->poll_query_until('postgres', q{SELECT previous_shutdown = 'clean' FROM antiban.journal_stats()}),
	'the writer is past its first flush');
$node->safe_psql('postgres', q{SELECT antiban.decide('+5511900000999', 'utility')});
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.decisions WHERE recipient = '+5511900000999'}),
	'0', 'with a 60 s interval the decision is still buffered');
$node->restart;
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.decisions WHERE recipient = '+5511900000999'}),
	'1', 'a clean shutdown stored it');

# pg_terminate_backend: the postmaster starts the writer again (once it is
# back from the restart above, which a loaded machine may take a moment for).
$node->poll_query_until('postgres', q{SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'antiban journal writer'});
my $pid = $node->safe_psql('postgres', q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'antiban journal writer'});
ok($pid > 0, 'writer running');
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'antiban journal writer' AND pid <> $pid"),
	'the writer is back after being terminated');
$node->stop;
done_testing();
