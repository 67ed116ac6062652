# tester10: opt-outs never expire, so a portfolio can hold more of them than
# the shared-memory recipient table (antiban.max_recipients) has slots.  A
# stop must hold however many there are: today the table evicts opted-out
# records once a stripe holds nothing else, and decide() then answers SEND
# for someone who said stop (antiban.recipient_facts still says opted out),
# with no warning or alert.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('opt_outs_beyond', 'antiban.max_recipients' => '1024');
register_numbers($node, '1001' => { rate_override => 100000, burst_override => 100000 });
$node->safe_psql('postgres', q{UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED'});
# 3,000 people said stop (one statement; each its own statement gives the same)
$node->safe_psql('postgres', q{
	SELECT count(antiban.set_marketing_opt_out('+55119' || lpad(i::text, 8, '0'), '1001', true))
	FROM generate_series(1, 3000) i});
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM antiban.recipient_facts WHERE marketing_opt_out}), '3000', 'every stop is stored');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM generate_series(1, 3000) i,
	       antiban.decide('+55119' || lpad(i::text, 8, '0'), 'marketing', consume => false) d
	WHERE d.outcome = 'SEND'}), '0', 'no one who said stop is sent marketing');
like(slurp_file($node->logfile), qr/shared memory has no room for every opted-out person.*\n.*DETAIL:  Marketing decisions now also read consent from/,
	'the operator is told, once, with what to do');
# a restart reloads every opt-out (README): the same after it
$node->restart;
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM generate_series(1, 3000) i,
	       antiban.decide('+55119' || lpad(i::text, 8, '0'), 'marketing', consume => false) d
	WHERE d.outcome = 'SEND'}), '0', 'after a restart, no one who said stop is sent marketing');
$node->stop;
done_testing();
