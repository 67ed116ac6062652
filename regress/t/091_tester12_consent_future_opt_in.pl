# tester12: an opt-in dated in the future outlives every stop said before
# that date.  record_opt_in accepts any "at"; the registry's rule is "the
# later statement wins", so a person imported with a wrong clock (a CRM's
# local time read as UTC, a typo in the year) who then says STOP is still
# sent marketing.  Issue 12 §2: "a stop ends every opt-in before it"; an
# opt-out must hold.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('t12consent', 'antiban.require_marketing_opt_in' => 'on');
register_numbers($node, '1001' => { throughput_level => "'HIGH'", health => 95 });

sub marketing
{
	my ($who) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT outcome || ' ' || reason FROM antiban.decide('$who', 'marketing', consume => false)});
}

# an opt-in stated three hours ahead (Sao Paulo local time taken as UTC)
my ($rc, $out, $err) = $node->psql('postgres', q{
	SELECT antiban.record_opt_in('+5511933330003', '1001', 'import', 'crm export row 7',
		antiban.now() + interval '3 hours')});
if ($rc == 0)
{
	# accepted: then a stop said now must still win
	$node->safe_psql('postgres', q{SELECT antiban.set_marketing_opt_out('+5511933330003', '1001', true)});
	is(marketing('+5511933330003'), 'REJECT opted_out',
		'a stop said now wins over an opt-in stated in the future');
	is($node->safe_psql('postgres', q{
		SELECT state FROM antiban.consent WHERE person_id = antiban.person_id(1, '+5511933330003')}),
		'opted_out', 'the registry says opted_out after the stop');
}
else
{
	like($err, qr/future/, 'an opt-in stated in the future is refused');
	pass('(nothing to override)');
}

# fix12: a resume dated in the future would outlive later stops the same
# way; a stop dated in the future is the safe direction and stays allowed
($rc, $out, $err) = $node->psql('postgres', q{
	SELECT antiban.set_marketing_opt_out('+5511933330004', '1001', false, antiban.now() + interval '2 days')});
like($err, qr/a resume stated in the future is refused/, 'a resume stated in the future is refused');
($rc, $out, $err) = $node->psql('postgres', q{
	SELECT antiban.record_opt_in('+5511933330005', '1001', 'import', 'crm export row 8',
		antiban.now() + interval '4 minutes')});
is($rc, 0, 'an opt-in within the clock skew is accepted') or diag($err);

$node->stop;
done_testing();
