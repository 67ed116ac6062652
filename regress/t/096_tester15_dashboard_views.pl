# tester15 (issue 15 §2: "views a BI tool reads respect it"): the
# operator's views (dashboard_*, outbox_live, prometheus_metrics) keep their
# owner's rights on purpose, and the README says "grant antiban_dashboard to
# operators, not to a tenant's BI".  But antiban_reader (and antiban_app,
# through it) may SELECT every one of them, so a tenant's BI logging in as a
# reader mapped to portfolio A reads portfolio B's costs, alerts, messaging
# budget, leads and queue.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;
use Tester15Tenancy;

my $node = tenancy_node('t15_dashboard');

# B: a delivered, priced message; a queued one; an alert; a lead
my ($rc, $m1, $err) = as_role($node, 'app_b', q{SELECT antiban.send_template('+5521987650001', 'promo_b', 'pt_BR', '["Bia"]')});
($rc, my $m2, $err) = as_role($node, 'app_b', q{SELECT antiban.send_template('+5521987650002', 'promo_b', 'pt_BR', '["Caio"]')});
$node->safe_psql('postgres', "UPDATE antiban.outbox SET state = 'sending', attempts = 1 WHERE id = $m1");
my $status = $node->safe_psql('postgres', "SELECT public.t15_post(format(
	'{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"300\",\"changes\":[{\"field\":\"messages\",\"value\":{\"messaging_product\":\"whatsapp\",\"metadata\":{\"display_phone_number\":\"5521900003001\",\"phone_number_id\":\"%s\"},\"statuses\":[{\"id\":\"wamid.B1\",\"status\":\"delivered\",\"timestamp\":\"%s\",\"recipient_id\":\"5521987650001\",\"biz_opaque_callback_data\":\"$m1\",\"pricing\":{\"billable\":true,\"pricing_model\":\"PMP\",\"type\":\"regular\",\"category\":\"marketing\"}}]}}]}]}',
	(SELECT phone_number_id FROM antiban.outbox WHERE id = $m1), extract(epoch FROM now())::bigint))");
is($status, 'applied', 'B\'s message was delivered and priced');
is($node->safe_psql('postgres', "SELECT count(*) FROM antiban.message_costs WHERE message_id = $m1 AND cost > 0"), '1',
	'it has a cost');
$node->safe_psql('postgres', q{SELECT antiban.raise_alert('warning', '3001', 'quality_dropped', 'number 3001 of Beta dropped to RED')});
is(b_inbound($node, '5521987650003', 'Davi', 'wamid.b3', 'quero saber do seguro'), 'applied', 'B has a lead');

for my $role ('reader_a', 'app_a')
{
	my %sql = (
		'dashboard_costs (B\'s spend)' => q{SELECT count(*) FROM antiban.dashboard_costs WHERE waba = '300'},
		'dashboard_alerts (B\'s alerts)' => q{SELECT count(*) FROM antiban.dashboard_alerts WHERE phone_number_id = '3001'},
		'dashboard_budget (B\'s messaging limit use)' => q{SELECT count(*) FROM antiban.dashboard_budget WHERE business_id = '101'},
		'dashboard_leads (B\'s pipeline)' => q{SELECT count(*) FROM antiban.dashboard_leads WHERE portfolio_id = 2},
		'dashboard_queue (B\'s queue)' => q{SELECT count(*) FROM antiban.dashboard_queue WHERE phone_number_id IN ('3001', '3002')},
		'outbox_live (B\'s messages)' => q{SELECT count(*) FROM antiban.outbox_live WHERE phone_number_id IN ('3001', '3002')},
		'prometheus_metrics (B\'s series)' => q{SELECT count(*) FROM antiban.prometheus_metrics WHERE labels ~ '"300[12]"'});
	for my $what (sort keys %sql)
	{
		my ($rc2, $n, $err2) = as_role($node, $role, $sql{$what});
		is($n, '0', "$role (mapped to A) sees nothing of B in $what") or diag($err2);
	}
}
# the same views still work for the operator (unmapped)
my ($rc3, $n3, $err3) = as_role($node, 'admin1', q{SELECT count(*) FROM antiban.dashboard_costs WHERE waba = '300'});
is($n3, '1', 'an unmapped operator sees B\'s costs');
done_testing();
