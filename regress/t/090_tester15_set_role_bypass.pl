# tester15 (issue 15 §1-§3): a role mapped to portfolio A escapes its mapping
# with one statement.  The login roles of a tenant are members of the group
# roles antiban_app / antiban_reader / antiban_analyst, which have no mapping
# themselves and so are "not restricted".  PostgreSQL lets any member
# SET ROLE to its group, after which current_user (what the policies ask
# about) and the outer user (what my_portfolios() and the send checks ask
# about) are the unmapped group: the app of A then reads B's outbox,
# contacts and message texts, and sends from B's numbers; the mapped
# analyst reads B's rows.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;
use Tester15Tenancy;

my $node = tenancy_node('t15_setrole');
is(b_inbound($node, '5521987650001', 'Beatriz Secreta', 'wamid.b1', 'quero o seguro, meu cpf e 123'), 'applied',
	'a customer of B wrote to B\'s number');
my ($rc, $out, $err) = as_role($node, 'app_b',
	q{SELECT antiban.send_template('+5521987650002', 'promo_b', 'pt_BR', '["Caio"]')});
is($rc, 0, 'B\'s app queued a message') or diag($err);

# the mapping holds as long as the app stays itself
($rc, $out, $err) = as_role($node, 'app_a', q{
	SELECT count(*) FROM antiban.outbox WHERE portfolio_id = 2;
	SELECT count(*) FROM antiban.contacts WHERE portfolio_id = 2;});
is($out, "0\n0", 'app_a as itself sees none of B\'s outbox rows or contacts');

# one SET ROLE later
($rc, $out, $err) = as_role($node, 'app_a', q{
	SET ROLE antiban_app;
	SELECT count(*) FROM antiban.outbox WHERE portfolio_id = 2;});
is($out, '0', 'app_a after SET ROLE antiban_app still sees none of B\'s outbox rows');
($rc, $out, $err) = as_role($node, 'app_a', q{
	SET ROLE antiban_app;
	SELECT coalesce(string_agg(c.profile_name, ','), '') FROM antiban.contacts c WHERE c.portfolio_id = 2;});
unlike($out, qr/Beatriz/, 'nor the names of B\'s contacts');
($rc, $out, $err) = as_role($node, 'app_a', q{
	SET ROLE antiban_app;
	SELECT coalesce(string_agg(i.body, ','), '') FROM antiban.interactions i;});
unlike($out, qr/cpf/, 'nor the texts B\'s customers wrote');
($rc, $out, $err) = as_role($node, 'app_a', q{
	SET ROLE antiban_app;
	SELECT antiban.my_portfolios() IS NOT NULL;});
is($out, 't', 'my_portfolios() still restricts app_a after SET ROLE');

# sending from B's number
($rc, $out, $err) = as_role($node, 'app_a', q{
	SET ROLE antiban_app;
	SELECT antiban.send_template('+5511987650077', 'promo_b', 'pt_BR', '["x"]', from_number => '3001');});
isnt($rc, 0, 'app_a after SET ROLE antiban_app can not send from B\'s number 3001');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.outbox WHERE recipient = '+5511987650077'}), '0',
	'and no such message is in the outbox');

# the mapped reader and the mapped analyst
($rc, $out, $err) = as_role($node, 'reader_a', q{
	SET ROLE antiban_reader;
	SELECT count(*) FROM antiban.contacts WHERE portfolio_id = 2;});
is($out, '0', 'reader_a after SET ROLE antiban_reader sees none of B\'s contacts');
($rc, $out, $err) = as_role($node, 'analyst_a', q{
	SET ROLE antiban_analyst;
	SELECT count(*) FROM antiban.analyst_outbox WHERE portfolio_id = 2;});
is($out, '0', 'analyst_a after SET ROLE antiban_analyst sees none of B\'s messages in analyst_outbox');
done_testing();
