# A full recipient table forgets old recipients, never someone who asked to
# stop marketing while anything else can go.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

# the smallest table: 256 stripes of 8 slots (2,048)
my $node = antiban_node('opt_out_kept', 'antiban.max_recipients' => '1024');
register_numbers($node, '1001' => { rate_override => 100000, burst_override => 100000 });
$node->safe_psql('postgres', q{UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED'});
$node->safe_psql('postgres', q{SELECT antiban.set_marketing_opt_out('+5511900000001', '1001', true)});
# 20,000 other people are reached: every stripe overflows many times over
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM generate_series(2, 20001) i,
	       antiban.decide('+55119' || lpad(i::text, 8, '0'), 'utility')
	WHERE outcome = 'SEND'}), '20000', '20,000 recipients reached through a 2,048-slot table');
is($node->safe_psql('postgres', q{
	SELECT outcome || ' ' || reason FROM antiban.decide('+5511900000001', 'marketing', consume => false)}),
	'REJECT opted_out', 'the person who asked to stop is still remembered');
$node->stop;
done_testing();
