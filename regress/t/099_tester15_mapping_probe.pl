# tester15 (issue 15 §2, low): the policies' helpers
# antiban.portfolios_of(role) and antiban.phone_numbers_of(role) are
# SECURITY DEFINER, take any role name and are executable by every antiban
# role: the app (or analyst) of A asks them about another tenant's role and
# learns which portfolios it uses and B's phone-number ids, although
# antiban.role_portfolios is for administrators only.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;
use Tester15Tenancy;

my $node = tenancy_node('t15_mapping');

my ($rc, $out, $err) = as_role($node, 'app_a', q{SELECT count(*) FROM antiban.role_portfolios});
isnt($rc, 0, 'the app of A may not read antiban.role_portfolios');

for my $role ('app_a', 'analyst_a')
{
	($rc, $out, $err) = as_role($node, $role, q{SELECT antiban.portfolios_of('app_b')});
	unlike($out, qr/\{2\}/, "$role does not learn app_b's portfolios from portfolios_of('app_b')");
	($rc, $out, $err) = as_role($node, $role, q{SELECT antiban.phone_numbers_of('app_b')});
	unlike($out, qr/300[12]/, "$role does not learn B's numbers from phone_numbers_of('app_b')");
}
# what it is for still works: the policies ask about the current role
($rc, $out, $err) = as_role($node, 'app_a', q{SELECT count(*) FROM antiban.outbox});
is($rc, 0, 'the policies still evaluate for the app of A') or diag($err);
done_testing();
