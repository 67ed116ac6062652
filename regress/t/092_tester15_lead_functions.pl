# tester15 (issue 15 §2): row-level security scopes antiban.leads, but the
# lead functions an app may call are SECURITY DEFINER (or switch to
# antiban_owner in C) and take a lead id, a person id or a portfolio id
# without asking whether the caller may use that lead's portfolio.  The app
# of A, given (or guessing: ids are small integers) a lead of B:
#  - reads the whole timeline of B's conversation (lead_timeline: the texts
#    B's customer wrote, B's outbox rows and numbers);
#  - reads its score and the reasons quoting the customer's words
#    (lead_gate by person, note_lead_event);
#  - changes it: stage (set_lead_stage), a close as won with a value
#    (close_lead), a note (add_lead_note), a first response
#    (record_first_response), an assignment to one of B's agents
#    (assign_lead), a rescore (note_lead_event);
#  - and makes leads in B's portfolio (upsert_lead with B's portfolio id),
#    learning B's lead id for a phone number.
# Each must be refused (or be "unknown lead" to A) and leave B's lead as it was.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;
use Tester15Tenancy;

my $node = tenancy_node('t15_leads');
is(b_inbound($node, '5521987650001', 'Beatriz Secreta', 'wamid.b1', 'quero comprar o seguro, meu cpf e 123'), 'applied',
	'a customer of B wrote to B\'s number');
$node->safe_psql('postgres', q{
	INSERT INTO antiban.agents (portfolio_id, name, languages, capacity, presence)
	SELECT id, 'Agente B', '{pt}', 5, 'online' FROM antiban.portfolios WHERE business_id = '101';});
my $lead = $node->safe_psql('postgres', q{SELECT l.id FROM antiban.leads l JOIN antiban.portfolios p ON p.id = l.portfolio_id
	WHERE p.business_id = '101'});
ok(wait_for($node, "SELECT person_id IS NOT NULL FROM antiban.leads WHERE id = $lead", 60), 'the lead has its person');
my $person = $node->safe_psql('postgres', "SELECT person_id FROM antiban.leads WHERE id = $lead");
ok($lead ne '', "B has lead $lead");
my ($rc, $out, $err) = as_role($node, 'app_a', "SELECT count(*) FROM antiban.leads WHERE id = $lead");
is($out, '0', 'RLS: app_a does not see B\'s lead in antiban.leads');

sub lead_state
{
	return $node->safe_psql('postgres', "SELECT concat_ws('|', stage, owner_agent_id, value, first_response_at, closed_at,
		(SELECT count(*) FROM antiban.lead_events e WHERE e.lead_id = l.id))
		FROM antiban.leads l WHERE id = $lead");
}
my $before = lead_state();

($rc, $out, $err) = as_role($node, 'app_a', "SELECT summary FROM antiban.lead_timeline($lead)");
unlike($out, qr/cpf/, 'lead_timeline of B\'s lead does not show A the text B\'s customer wrote');
isnt($rc, 0, 'lead_timeline of B\'s lead is refused to the app of A');
($rc, $out, $err) = as_role($node, 'reader_a', "SELECT summary FROM antiban.lead_timeline($lead)");
isnt($rc, 0, 'and to the reader mapped to A');

($rc, $out, $err) = as_role($node, 'app_a', "SELECT lead_id, score FROM antiban.lead_gate(${person}::bigint, 0, NULL)");
unlike($out, qr/^$lead\|/m, 'lead_gate(person of B) does not hand A the lead id and score of B\'s lead');

# (the close last: a closed lead refuses an assignment for another reason)
for my $call ("antiban.assign_lead($lead)", "antiban.note_lead_event($lead, 'read', antiban.now())",
	"antiban.add_lead_note($lead, 'nota de A')", "antiban.record_first_response($lead, antiban.now())",
	"antiban.set_lead_stage($lead, 'qualified')", "antiban.close_lead($lead, 'won', 5000)")
{
	($rc, $out, $err) = as_role($node, 'app_a', "SELECT $call");
	isnt($rc, 0, "app_a may not call $call on B's lead");
}
is(lead_state(), $before, 'B\'s lead is as it was (stage, owner, value, first response, close, events)');

($rc, $out, $err) = as_role($node, 'app_a', q{SELECT antiban.upsert_lead('+5521987650001', 2::bigint)});
isnt($rc, 0, 'upsert_lead in B\'s portfolio (by its id) is refused to the app of A');
unlike($out, qr/^$lead$/m, 'and does not answer with B\'s lead id for that phone');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.leads WHERE portfolio_id = 2}), '1',
	'B still has one lead');
done_testing();
