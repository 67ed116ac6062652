# tester11 (issue 11 §4): the first-response SLA's state per lead and the
# met/missed rate per agent come from record_first_response(lead, at).  It
# takes any instant today: a reply "at" 1999 (before the lead existed)
# counts as met, 'infinity' counts as missed and stays as the lead's
# first_response_at, a reply ten days in the future is stored.  A reply
# before the lead's assignment, or after now, is not a first response.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('t11_first_response', 'antiban.sender_workers' => 0);
register_numbers($node, '1001' => {});
$node->safe_psql('postgres', q{
	UPDATE antiban.lead_routing SET first_response_sla = '15 minutes' WHERE portfolio_id = 1;
	INSERT INTO antiban.agents (portfolio_id, name, capacity, presence) VALUES (1, 'Ana', 10, 'online');});
my @leads = map {
	my $l = $node->safe_psql('postgres', "SELECT antiban.upsert_lead('+55119876500$_', 1::bigint)");
	$node->safe_psql('postgres', "SELECT antiban.assign_lead($l)");
	$l
} (11, 12, 13);
is($node->safe_psql('postgres', 'SELECT count(*) FROM antiban.leads WHERE owner_agent_id IS NOT NULL'), '3',
	'three leads assigned to Ana, each with an SLA clock');

my %at = ($leads[0] => "'1999-01-01 00:00+00'", $leads[1] => "'infinity'", $leads[2] => "now() + interval '10 days'");
for my $lead (@leads)
{
	my ($rc, $out, $err) = $node->psql('postgres', "SELECT antiban.record_first_response($lead, $at{$lead})");
	isnt($rc, 0, "record_first_response refuses a reply at $at{$lead}");
}
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.leads
	WHERE first_response_at < assigned_at OR first_response_at > now() + interval '1 minute'}), '0',
	'no lead has a first response before its assignment or in the future');
is($node->safe_psql('postgres', q{SELECT met + missed FROM antiban.agent_sla WHERE name = 'Ana'}), '0',
	'Ana\'s met rate is not made of impossible replies');
done_testing();
