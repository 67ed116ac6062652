# The journal writer stores a batch of decisions, then the batch's sends
# (recipient_reach).  Behind a lock it cannot get soon (a LOCK TABLE, a long
# transaction on a recipient's row, DROP EXTENSION), it must not sit on the
# locks it already holds: it waits at most its lock_timeout, puts the batch
# back in the ring, ends its transaction and tries again at its next tick.
# Otherwise a statement that needs the decisions table waits until the
# other lock goes, or deadlocks with the writer (DROP EXTENSION while the
# writer flushed did, once, in a pg_regress run).  Nothing is lost or stored
# twice.  The table-refuses-a-record case is pg_regress
# 25_journal_refused_record.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('journal_gives_way', 'antiban.sender_workers' => 0);
register_numbers($node, '1001' => { rate_override => 1000, burst_override => 1000 });
$node->safe_psql('postgres', q{UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED'});
# buckets seen first right after a start count as empty: wait for a send
ok(wait_for($node, q{SELECT outcome = 'SEND' FROM antiban.decide('+5511944449999', 'utility', consume => false)}),
	'a fresh recipient is sent to');
$node->safe_psql('postgres', 'SELECT antiban.flush_journal()');

my $reach = $node->background_psql('postgres');
$reach->query_safe('BEGIN');
$reach->query_safe('LOCK TABLE antiban.recipient_reach IN ACCESS EXCLUSIVE MODE');
is($node->safe_psql('postgres', q{SELECT count(*) FROM generate_series(1, 40) g,
	antiban.decide('+55119444400' || lpad(g::text, 2, '0'), 'utility') d WHERE d.outcome = 'SEND'}),
	'40', '40 sends decided while recipient_reach is held');
ok(wait_for($node, q{SELECT count(*) > 0 FROM pg_locks l JOIN pg_stat_activity a USING (pid)
	WHERE NOT l.granted AND a.backend_type = 'antiban journal writer'}),
	'the writer meets the held table');

# a statement that needs the table the writer wrote first is not held up
my ($ret, $out, $err) = $node->psql('postgres', q{SET lock_timeout = '20s';
	BEGIN; LOCK TABLE antiban.decisions IN ACCESS EXCLUSIVE MODE; COMMIT;});
is($ret, 0, 'a lock on antiban.decisions is granted while the writer waits for recipient_reach')
	or diag($err);

$reach->query_safe('COMMIT');
$reach->quit;
ok(wait_for($node, q{SELECT count(*) = 40 FROM antiban.recipient_reach WHERE recipient LIKE '+55119444400%'}),
	'every send is stored once the table is free');
is($node->safe_psql('postgres', q{SELECT count(*) || ' ' || count(DISTINCT recipient) FROM antiban.decisions
	WHERE recipient LIKE '+55119444400%' AND consumed}), '40 40', 'every decision is stored, once');
unlike(slurp_file($node->logfile), qr/\b(?:ERROR|FATAL|PANIC):/,
	'no error in the server log');

$node->stop;
done_testing();
