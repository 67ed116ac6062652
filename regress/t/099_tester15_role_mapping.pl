# tester15 (issue 15 §2, low): the policies' helpers
# antiban.portfolios_of(role) and antiban.phone_numbers_of(role) are
# SECURITY DEFINER, take any role name and are executable by every antiban
# role: the app (or analyst) of A asks them about another tenant's role and
# learns which portfolios it uses and B's phone-number ids, although
# antiban.role_portfolios is for administrators only.
# And the mapping is kept by role *name* and fails open: renaming a mapped
# login role (ALTER ROLE ... RENAME, an administrator's housekeeping) leaves
# it with no mapping, hence "not restricted", and it reads every
# portfolio; dropping one leaves its row behind for the next role that is
# created with that name.
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

# a rename keeps the role what it was: restricted to A
$node->safe_psql('postgres', q{
	CREATE ROLE app_old LOGIN IN ROLE antiban_app;
	SET ROLE admin1; SELECT antiban.grant_portfolio('app_old', '100'); RESET ROLE;});
b_inbound($node, '5521987650001', 'Beatriz Secreta', 'wamid.b1', 'oi');
($rc, $out, $err) = as_role($node, 'app_old', q{SELECT count(*) FROM antiban.contacts WHERE portfolio_id = 2});
is($out, '0', 'a role mapped to A does not see B\'s contacts');
$node->safe_psql('postgres', q{ALTER ROLE app_old RENAME TO app_renamed});
($rc, $out, $err) = as_role($node, 'app_renamed', q{SELECT count(*) FROM antiban.contacts WHERE portfolio_id = 2});
is($out, '0', 'renamed, it still does not see B\'s contacts');
($rc, $out, $err) = as_role($node, 'app_renamed', q{SELECT antiban.my_portfolios() IS NOT NULL});
is($out, 't', 'and is still restricted');
# a dropped role's grant does not pass to a new role of the same name
$node->safe_psql('postgres', q{DROP ROLE app_b; CREATE ROLE app_b LOGIN IN ROLE antiban_reader;});
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.role_portfolios WHERE role = 'app_b'}), '0',
	'dropping a role takes its grants with it');
done_testing();
