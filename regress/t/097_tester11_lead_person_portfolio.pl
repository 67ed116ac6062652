# tester11 (issue 11 §1, rights): a lead is "one conversation with a person in
# a portfolio"; persons are per portfolio (BSUIDs and consent are).  antiban_app
# has INSERT on antiban.leads, and nothing checks that the person belongs to
# the lead's portfolio: an app bug (or a hostile app credential) makes a lead
# in portfolio 2 on a person of portfolio 1, and portfolio 2's agents and
# timeline then read portfolio 1's conversation.  The direct UPDATE the app
# is granted also closes a lead as won without close_lead (no value), which
# set_lead_stage refuses.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('t11_lead_person', 'antiban.sender_workers' => 0);
register_numbers($node, '1001' => {});
$node->safe_psql('postgres', q{
	INSERT INTO antiban.portfolios (business_id, messaging_limit) VALUES ('101', 'TIER_250');
	CREATE ROLE app LOGIN IN ROLE antiban_app;});
# the app's own rights: a denied statement fails, so the checks below mean something
my ($rc0, $o0, $e0) = $node->psql('postgres', 'SET ROLE app; SELECT count(*) FROM antiban.secrets');
isnt($rc0, 0, 'the role is the app, not a superuser');
my $lead = $node->safe_psql('postgres', q{SELECT antiban.upsert_lead('+5511987650001', 1::bigint)});
my $person = $node->safe_psql('postgres', "SELECT person_id FROM antiban.leads WHERE id = $lead");
is($node->safe_psql('postgres', "SELECT portfolio_id FROM antiban.persons WHERE id = $person"), '1',
	'the person is in portfolio 1');

my ($rc, $out, $err) = $node->psql('postgres',
	"SET ROLE app; INSERT INTO antiban.leads (portfolio_id, person_id) VALUES (2, $person)");
isnt($rc, 0, 'a lead of portfolio 2 on a person of portfolio 1 is refused');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.leads l JOIN antiban.persons p ON p.id = l.person_id
	WHERE l.portfolio_id <> p.portfolio_id}), '0', 'no lead names a person of another portfolio');

($rc, $out, $err) = $node->psql('postgres',
	"SET ROLE app; UPDATE antiban.leads SET stage = 'won' WHERE id = $lead");
isnt($rc, 0, 'the app cannot mark a lead won by UPDATE, bypassing close_lead (as set_lead_stage refuses)');
done_testing();
