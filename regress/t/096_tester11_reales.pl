# tester11 (issue 11 §2): fit signals read amounts "like R$ 50 mil" from the
# text in Portuguese, Spanish and English.  A Spanish-speaking lead of a
# Brazilian firm names Brazil's currency "reales" (singular "real"); today
# only "reais"/"real" are reais, so "tengo 100 mil reales" is read as 100
# thousand *dollars* (R$ 500 mil, the "R$ 200 mil a 1 milhão" bucket), and
# "150.000 reales" is no amount at all.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('t11_reales', 'antiban.sender_workers' => 0);

sub amount_reason
{
	my ($text) = @_;
	return $node->safe_psql('postgres', qq{SELECT coalesce(string_agg(c.pt, ' | '), 'none')
		FROM antiban.lead_text_features(ARRAY['$text']) f, unnest(f.features) fe
		     JOIN antiban.lead_feature_catalog() c ON c.feature = fe
		WHERE c.name LIKE 'amount%'});
}

# the same amount in Portuguese is read right
like(amount_reason('tenho 100 mil reais para investir em renda fixa'), qr/R\$ 50 mil a 200 mil/,
	'"100 mil reais" is in the 50-200 mil bucket');
like(amount_reason('tengo 100 mil reales para invertir en renta fija'), qr/R\$ 50 mil a 200 mil/,
	'"100 mil reales" (Spanish) is in the 50-200 mil bucket too');
like(amount_reason('tengo 150.000 reales ahorrados, quiero invertir'), qr/R\$ 50 mil a 200 mil/,
	'"150.000 reales" is in the 50-200 mil bucket');
done_testing();
