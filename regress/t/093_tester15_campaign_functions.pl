# tester15 (issue 15 §2): antiban.campaigns has row-level security, but the
# campaign functions are SECURITY DEFINER over a campaign id and never ask
# whether the caller may use the campaign's portfolio (campaign_move,
# plan_campaign).  The app of A, with a guessed id (small integers):
#  - pauses or cancels B's running campaign; a cancel also cancels every
#    message of it still queued in B's outbox;
#  - reads B's plan (audience size, budget, B's numbers).
# campaign_recipients (B's audience: phones and template parameters) has
# no policy at all; that table is in 094.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;
use Tester15Tenancy;

my $node = tenancy_node('t15_campaigns');
$node->safe_psql('postgres', q{
	CREATE TABLE public.b_customers (phone text, params jsonb);
	INSERT INTO public.b_customers VALUES ('+5521987651001', '["Gisele"]'), ('+5521987651002', '["Heitor"]');
	GRANT SELECT ON public.b_customers TO app_b;});
my ($rc, $camp, $err) = as_role($node, 'app_b', q{
	SELECT antiban.create_campaign('b_black_friday_secret', 'promo_b', 'pt_BR', 'public.b_customers',
		params => 'params', recipient_column => 'phone')});
is($rc, 0, 'B created a campaign') or diag($err);
($rc, my $state, $err) = as_role($node, 'app_b', "SELECT antiban.start_campaign($camp)");
is($state, 'running', 'and started it') or diag($err);
# its messages released into B's outbox, as pace_campaigns does an hour on
$node->safe_psql('postgres', "UPDATE antiban.campaigns SET paced_at = paced_at - interval '1 hour' WHERE id = $camp");
$node->safe_psql('postgres', "SELECT antiban.pace_campaigns()");
my $queued = $node->safe_psql('postgres', "SELECT count(*) FROM antiban.campaign_recipients r
	JOIN antiban.outbox o ON o.id = r.outbox_id WHERE r.campaign_id = $camp AND o.state = 'queued'");
is($queued, '2', 'both its messages are queued in B\'s outbox');

($rc, my $seen, $err) = as_role($node, 'app_a', "SELECT count(*) FROM antiban.campaigns WHERE id = $camp");
is($seen, '0', 'RLS: app_a does not see B\'s campaign');

($rc, my $plan, $err) = as_role($node, 'app_a', "SELECT audience, numbers FROM antiban.plan_campaign($camp)");
isnt($rc, 0, 'plan_campaign of B\'s campaign is refused to the app of A');
is($plan, '', 'and shows A nothing of B\'s plan (audience, numbers)');

($rc, my $out, $err) = as_role($node, 'app_a', "SELECT antiban.pause_campaign($camp)");
isnt($rc, 0, 'pause_campaign of B\'s campaign is refused to the app of A');
($rc, $out, $err) = as_role($node, 'app_a', "SELECT antiban.cancel_campaign($camp)");
isnt($rc, 0, 'cancel_campaign of B\'s campaign is refused to the app of A');

is($node->safe_psql('postgres', "SELECT state FROM antiban.campaigns WHERE id = $camp"), 'running',
	'B\'s campaign is still running');
is($node->safe_psql('postgres', "SELECT count(*) FROM antiban.campaign_recipients r
	JOIN antiban.outbox o ON o.id = r.outbox_id WHERE r.campaign_id = $camp AND o.state = 'queued'"), $queued,
	"and its released messages are still queued ($queued)");
is($node->safe_psql('postgres', "SELECT count(*) FROM antiban.campaign_events WHERE campaign_id = $camp
	AND by_role = 'app_a'"), '0', 'no event of B\'s campaign was made by app_a');
done_testing();
