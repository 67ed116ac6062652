# Two senders draining one queue at the numbers' full rate share the tokens:
# each claim takes no more rows than the numbers can send less what the other
# sender's claim in progress is about to take (src/worker/claim_share.c).
# Before, both read the same tokens when their claims overlapped, and what
# the second could not send went back to the queue: here 8 % of the messages
# (1,578 of 20,000; 11 since) were locked, decided (a QUEUE decision) and
# written back before they went, 30 % in a drain with pg_stat_statements on.
# Counted in the decision journal.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $messages = 20000;
my @numbers = map { "300$_" } 0 .. 9;
my $sim = start_simulator('--max-ledger', 50000);
sim_post($sim, '/_sim/config', {
	numbers => { map { ($_ => { throughput => 1000, portfolio => 'p1', waba => '200' }) } @numbers },
	portfolios => { p1 => { limit => 'unlimited' } } });
my $node = antiban_node('claim_share', 'antiban.graph_base_url' => $sim->{url},
	'antiban.sender_workers' => 2, 'antiban.max_inflight' => 256, 'antiban.claim_batch' => 256,
	'synchronous_commit' => 'off');
register_numbers($node, map { ($_ => { throughput_level => "'HIGH'" }) } @numbers);
$node->safe_psql('postgres', q{
	UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED';
	SELECT antiban.set_secret('access_token', 'EAAG-share-token', '200');});

$node->safe_psql('postgres', qq{SELECT count(antiban.send_template('+55119' || lpad(i::text, 8, '0'), 'oferta', 'pt_BR'))
	FROM generate_series(1, $messages) i});
ok(wait_for($node, qq{SELECT count(*) = $messages FROM antiban.outbox WHERE state = 'sent'}, 600),
	"the $messages messages were sent");
$node->safe_psql('postgres', 'SELECT antiban.flush_journal()');
# (queued all at once while the buckets were full: every QUEUE is a sender's)
my $put_back = $node->safe_psql('postgres', q{SELECT count(*) FROM antiban.decisions
	WHERE outcome = 'QUEUE' AND reason = 'number_throughput'});
my $sends = $node->safe_psql('postgres', q{SELECT count(*) FROM antiban.decisions WHERE consumed AND outcome = 'SEND'});
is($sends, $messages, 'one consumed SEND decision per message');
cmp_ok($put_back, '<', $messages / 50,
	"claims put $put_back messages back for the numbers' throughput (of $messages): they took the tokens there were");
my $ledger = sim_ledger($sim);
is($ledger->{duplicates}, 0, 'no message was sent twice');
is($ledger->{accepted}, $messages, 'the simulator accepted each message');

$node->stop;
stop_simulator($sim);
done_testing();
