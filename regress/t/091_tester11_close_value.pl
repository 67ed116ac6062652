# tester11 (issue 11 §1, §7): close_lead(lead, won|lost, value) stores the
# deal's value, summed by the BI view antiban.lead_pipeline (won_value).  A
# value of NaN or Infinity is accepted today (the CHECK value >= 0 holds for
# numeric NaN and Infinity), and one such lead makes its group's won_value
# NaN / Infinity for every BI tool.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('t11_close_value', 'antiban.sender_workers' => 0);
register_numbers($node, '1001' => {});
my $a = $node->safe_psql('postgres', q{SELECT antiban.upsert_lead('+5511988880001', 1::bigint)});
my $b = $node->safe_psql('postgres', q{SELECT antiban.upsert_lead('+5511988880002', 1::bigint)});
$node->safe_psql('postgres', "SELECT antiban.close_lead($a, 'won', 250000)");
for my $bad ('NaN', 'Infinity')
{
	my ($rc, $out, $err) = $node->psql('postgres', "SELECT antiban.close_lead($b, 'won', '$bad')");
	isnt($rc, 0, "close_lead refuses a value of $bad");
	$node->safe_psql('postgres', "SELECT antiban.set_lead_stage($b, 'engaged')") if $rc == 0;
}
is($node->safe_psql('postgres', q{SELECT sum(won_value) FROM antiban.lead_pipeline WHERE stage = 'won'}),
	'250000', 'lead_pipeline sums the real won value');
# (fix11) the same for the other money the leads and costs keep: a price on a rate card
my ($rrc, $rout, $rerr) = $node->psql('postgres', q{
	INSERT INTO antiban.rate_cards (currency, effective_from, source) VALUES ('USD', '2031-01-01', 'test');
	INSERT INTO antiban.rates (card_id, market, category, rate)
	SELECT id, 'Brazil', 'marketing', 'NaN' FROM antiban.rate_cards WHERE effective_from = '2031-01-01'});
like($rerr, qr/rates_finite/, 'a rate card price of NaN is refused');
done_testing();
