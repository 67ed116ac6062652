# tester15 (issue 15 §2-§3): row-level security is given to "every antiban
# table with a portfolio_id column" (91_tenancy.sql).  Tables that hold a
# person, a message or money of a portfolio through another key (a
# campaign, a contact, a lead, an outbox id, a number) have no such column,
# so no policy, and antiban_app and antiban_reader may SELECT them.  The app
# (and the reader) mapped to portfolio A reads:
#  - campaign_recipients: B's campaign audience, phone numbers and template
#    parameters (names);
#  - stop_reviews: what B's customers wrote (doubtful stop requests);
#  - lead_scores: the reasons of B's leads' scores, quoting their words;
#  - buckets / bucket_states(): the phone numbers B's numbers talk to (pair buckets);
#  - outbox_requeues, campaign_events: B's messages' errors and campaigns' plans;
#  - templates: the text of B's templates.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;
use Tester15Tenancy;

my $node = tenancy_node('t15_tables');

# B's data: a doubtful stop request, a lead, a campaign, a pair bucket, a requeue
is(b_inbound($node, '5521987650004', 'Eva Privada', 'wamid.b4', 'nao tenho interesse, Eva aqui'), 'applied',
	'a customer of B wrote a doubtful stop request');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.stop_reviews WHERE phone_number_id = '3001'}), '1',
	'it waits for a person in stop_reviews');
$node->safe_psql('postgres', q{
	CREATE TABLE public.b_customers (phone text, params jsonb);
	INSERT INTO public.b_customers VALUES ('+5521987651001', '["Gisele Confidencial"]');
	GRANT SELECT ON public.b_customers TO app_b;});
my ($rc, $camp, $err) = as_role($node, 'app_b', q{
	SELECT antiban.create_campaign('b_xmas', 'promo_b', 'pt_BR', 'public.b_customers', params => 'params',
		recipient_column => 'phone')});
as_role($node, 'app_b', "SELECT antiban.start_campaign($camp)");
is($node->safe_psql('postgres', "SELECT count(*) FROM antiban.campaign_recipients WHERE campaign_id = $camp"), '1',
	'B started a campaign with one recipient');
as_role($node, 'app_b', q{SELECT outcome FROM antiban.decide('+5521987659999', 'utility', consume => true)});
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.buckets WHERE recipient = '+5521987659999'}), '1',
	'B\'s decision took a pair bucket for its recipient');
($rc, my $msg, $err) = as_role($node, 'app_b',
	q{SELECT antiban.send_template('+5521987650005', 'promo_b', 'pt_BR', '["Rui"]')});
$node->safe_psql('postgres', "UPDATE antiban.outbox SET state = 'failed', error_code = 131026,
	error_title = 'Message undeliverable', failed_at = now() WHERE id = $msg");
$node->safe_psql('postgres', "SET ROLE admin1; SELECT antiban.requeue(ARRAY[$msg]::bigint[])");
is($node->safe_psql('postgres', "SELECT count(*) FROM antiban.outbox_requeues WHERE outbox_id = $msg"), '1',
	'an administrator requeued a failed message of B');
my $lead = $node->safe_psql('postgres', q{SELECT min(id) FROM antiban.leads WHERE portfolio_id = 2});
ok(wait_for($node, "SELECT count(*) > 0 FROM antiban.lead_scores WHERE conversation_id = $lead", 60),
	'B\'s lead was scored');

for my $role ('app_a', 'reader_a')
{
	my %sql = (
		'campaign_recipients (B\'s audience: phones, parameters)' =>
		  "SELECT count(*) FROM antiban.campaign_recipients WHERE campaign_id = $camp",
		'stop_reviews (what B\'s customers wrote)' =>
		  q{SELECT count(*) FROM antiban.stop_reviews WHERE phone_number_id IN ('3001', '3002')},
		'lead_scores (reasons quoting B\'s customers)' =>
		  "SELECT count(*) FROM antiban.lead_scores WHERE conversation_id = $lead",
		'buckets (recipients of B\'s numbers)' =>
		  q{SELECT count(*) FROM antiban.buckets WHERE phone_number_id IN ('3001', '3002') AND recipient IS NOT NULL},
		'bucket_states() (recipients of B\'s numbers)' =>
		  q{SELECT count(*) FROM antiban.bucket_states() s WHERE s.recipient LIKE '+5521%'},
		'outbox_requeues (B\'s failed messages)' =>
		  "SELECT count(*) FROM antiban.outbox_requeues WHERE outbox_id = $msg",
		'campaign_events (B\'s campaign and its plan)' =>
		  "SELECT count(*) FROM antiban.campaign_events WHERE campaign_id = $camp",
		'templates (the text of B\'s templates)' =>
		  q{SELECT count(*) FROM antiban.templates t JOIN antiban.numbers n ON n.waba_id = t.waba_id
		    WHERE n.phone_number_id = '3001'});
	for my $what (sort keys %sql)
	{
		my ($rc2, $n, $err2) = as_role($node, $role, $sql{$what});
		is($n, '0', "$role sees none of B's rows in $what");
	}
}

# the rule behind it: a table that holds a person, a message or money of a
# portfolio is scoped like the others, whatever key it reaches it by
my $unscoped = $node->safe_psql('postgres', q{
	SELECT coalesce(string_agg(DISTINCT c.relname, ', ' ORDER BY c.relname), '')
	FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
	WHERE c.relnamespace = 'antiban'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relrowsecurity
	  AND a.attname IN ('recipient', 'contact_id', 'conversation_id', 'lead_id', 'outbox_id', 'message_id',
	                    'campaign_id', 'person_id', 'cost')
	  AND (has_table_privilege('antiban_app', c.oid, 'SELECT') OR has_table_privilege('antiban_reader', c.oid, 'SELECT'))});
is($unscoped, '', 'every table apps and readers may read that holds a person, a message or money has row-level security');
done_testing();
