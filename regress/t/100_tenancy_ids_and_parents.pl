# Tenancy, beyond what tester15 pinned (issue 15, findings 3, 4, 5, 7, 8):
#  - ids are no oracle: a mapped app may not note events on a conversation
#    that is not one of its leads (a new id could be another portfolio's
#    next lead), gets the default model for another portfolio's id, and
#    another portfolio's person never passes a campaign's score gate;
#  - campaign names are unique within a portfolio, so a name B took is
#    neither refused to A nor revealed;
#  - every table that reaches a portfolio through a key has a policy,
#    whoever may read it today;
#  - install-wide figures of the operator's views (webhooks, workers, the
#    outbox's estimated totals) are for unmapped roles only;
#  - genuine_alert refuses a key it does not compare.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;
use Tester15Tenancy;

my $node = tenancy_node('tenancy_ids');
is(b_inbound($node, '5521987650001', 'Bia', 'wamid.b1', 'quero saber do seguro'), 'applied', 'B has a lead');
my $b_lead = $node->safe_psql('postgres', q{SELECT min(l.id) FROM antiban.leads l JOIN antiban.portfolios p
	ON p.id = l.portfolio_id WHERE p.business_id = '101'});
my $b_portfolio = $node->safe_psql('postgres', q{SELECT id FROM antiban.portfolios WHERE business_id = '101'});

# note_lead_event: a new conversation id, or one given B's portfolio
my ($rc, $out, $err) = as_role($node, 'app_a', q{SELECT (antiban.note_lead_event(999999, 'inbound', antiban.now(), 'oi')).score});
like($err, qr/unknown lead 999999/, 'a mapped app may not start a conversation that is none of its leads');
($rc, $out, $err) = as_role($node, 'app_a',
	"SELECT (antiban.note_lead_event($b_lead, 'inbound', antiban.now(), 'oi', NULL, $b_portfolio)).score");
like($err, qr/unknown lead $b_lead/, 'nor note one on B\'s lead naming B\'s portfolio');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.lead_features WHERE conversation_id = 999999}), '0',
	'and no features row was made');
is($node->safe_psql('postgres', q{SELECT (antiban.note_lead_event(999998, 'inbound', antiban.now(), 'oi')).model_id IS NOT NULL}),
	't', 'an unmapped role still may (a single-tenant install)');

# active_lead_model: B's own model is not A's business
my $default = $node->safe_psql('postgres', q{SELECT antiban.active_lead_model()});
$node->safe_psql('postgres', "INSERT INTO antiban.lead_models (portfolio_id, trained_at, feature_version, examples, won,
	    train_examples, held_out_examples, params, metrics, intercept, platt_a, platt_b, features, weights, terms, held_out, active)
	SELECT $b_portfolio, trained_at, feature_version, examples, won, train_examples, held_out_examples, params, metrics,
	       intercept, platt_a, platt_b, features, weights, terms, held_out, true FROM antiban.lead_models WHERE id = $default");
my $b_model = $node->safe_psql('postgres', "SELECT antiban.active_lead_model($b_portfolio)");
isnt($b_model, $default, 'B has a model of its own');
($rc, $out, $err) = as_role($node, 'app_a', "SELECT antiban.active_lead_model($b_portfolio)");
is($out, $default, 'the app of A gets the default model for B\'s portfolio id, as for a portfolio with none');

# campaign_gate with B's portfolio: B's person does not pass
my $b_key = $node->safe_psql('postgres', "SELECT key FROM antiban.person_ids WHERE portfolio_id = $b_portfolio LIMIT 1");
is($node->safe_psql('postgres', "SELECT antiban.campaign_gate($b_portfolio, '$b_key', 0, NULL)"), 't',
	'B\'s person passes a gate of score 0 for an unmapped role');
($rc, $out, $err) = as_role($node, 'app_a', "SELECT antiban.campaign_gate($b_portfolio, '$b_key', 0, NULL)");
is($out, 'f', 'not for the app of A (as a person it does not know)');

# campaign names: per portfolio
$node->safe_psql('postgres', q{
	CREATE TABLE public.audience (phone text, params jsonb);
	INSERT INTO public.audience VALUES ('+5521987651001', '["Gi"]');
	GRANT SELECT ON public.audience TO app_a, app_b;});
($rc, $out, $err) = as_role($node, 'app_b', q{SELECT antiban.create_campaign('natal', 'promo_b', 'pt_BR', 'public.audience',
	params => 'params', recipient_column => 'phone') IS NOT NULL});
is($out, 't', 'B created campaign "natal"') or diag($err);
($rc, $out, $err) = as_role($node, 'app_a', q{SELECT antiban.create_campaign('natal', 'promo_a', 'pt_BR', 'public.audience',
	params => 'params', recipient_column => 'phone') IS NOT NULL});
is($out, 't', 'A may call its own campaign "natal" too: a name B took is not revealed') or diag($err);
($rc, $out, $err) = as_role($node, 'app_a', q{SELECT antiban.create_campaign('natal', 'promo_a', 'pt_BR', 'public.audience',
	params => 'params', recipient_column => 'phone')});
like($err, qr/campaign "natal" already exists/, 'but not twice in its own portfolio');

# the catalogue: every table reaching a portfolio by a key has a policy, readable or not
is($node->safe_psql('postgres', q{
	SELECT coalesce(string_agg(DISTINCT c.relname, ', ' ORDER BY c.relname), '')
	FROM pg_class c
	WHERE c.relnamespace = 'antiban'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relrowsecurity
	  AND (EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
	               AND a.attname IN ('portfolio_id', 'campaign_id', 'contact_id', 'lead_id', 'conversation_id', 'person_id',
	                                 'outbox_id', 'message_id', 'agent_id', 'number_id', 'phone_number_id', 'waba_id'))
	       OR EXISTS (SELECT 1 FROM pg_constraint f JOIN pg_class p ON p.oid = f.confrelid
	                  WHERE f.conrelid = c.oid AND f.contype = 'f' AND p.relrowsecurity))
	  AND c.relname NOT IN ('role_portfolios', 'secrets')}), '',
	'every table with a portfolio key, or a foreign key to a scoped table, has row-level security');
# whose policies read their parents once per statement: no correlated sub-plan per row
($rc, my $plan, $err) = as_role($node, 'app_a', 'EXPLAIN SELECT * FROM antiban.campaign_recipients');
like($plan, qr/hashed SubPlan/, 'a policy through a parent is a hashed sub-plan (built once per statement)');
unlike($plan, qr/(?<!hashed )SubPlan \d+\)/, 'never a plain sub-plan run per row');

# the operator's install-wide figures
for my $sql (q{SELECT count(*) FROM antiban.dashboard_webhooks}, q{SELECT count(*) FROM antiban.dashboard_workers},
	q{SELECT count(*) FROM antiban.prometheus_metrics WHERE name IN ('antiban_outbox_messages_estimated',
	  'antiban_journal_buffered', 'antiban_webhook_events_pending')})
{
	($rc, $out, $err) = as_role($node, 'reader_a', $sql);
	is($out, '0', "a mapped reader sees no install-wide figure: $sql") or diag($err);
	($rc, $out, $err) = as_role($node, 'admin1', $sql);
	cmp_ok($out, '>', 0, "an unmapped operator does: $sql");
}
($rc, $out, $err) = as_role($node, 'reader_a', q{SELECT antiban.dashboard_json()::text ~ '3001'});
is($out, 'f', 'dashboard_json() shows the mapped reader nothing of B\'s numbers') or diag($err);

# genuine_alert: a key it does not compare is a forgery
$node->safe_psql('postgres', q{SELECT antiban.raise_alert('warning', '1001', 'quality_dropped', 'number 1001 dropped')});
my $payload = $node->safe_psql('postgres', q{SELECT antiban.alert_payload(a) FROM antiban.alerts a WHERE phone_number_id = '1001'});
like($payload, qr/^\{"id" : \d+, "kind" : "quality_dropped"\}$/, 'the payload is the alert\'s id and kind');
is($node->safe_psql('postgres', "SELECT (antiban.genuine_alert(\$p\$${payload}\$p\$)).phone_number_id"), '1001',
	'genuine_alert reads the alert it names');
is($node->safe_psql('postgres', "SELECT antiban.genuine_alert(jsonb_set(\$p\$${payload}\$p\$::jsonb, '{url}',
	'\"https://evil.example\"')::text) IS NULL"), 't', 'a payload with a key genuine_alert does not compare is a forgery');
# an administrator mapped to A is a tenant's administrator (README, Tenancy: only an unmapped one is global)
# acts on no id of B's either: alert, failed message, stop review, lead
$node->safe_psql('postgres', q{CREATE ROLE admin_a LOGIN IN ROLE antiban_admin;
	SET ROLE admin1; SELECT antiban.grant_portfolio('admin_a', '100'); RESET ROLE;});
is(b_inbound($node, '5521987650004', 'Eva', 'wamid.b4', 'nao tenho interesse, Eva aqui'), 'applied',
	'a customer of B wrote a doubtful stop request');
my $review = $node->safe_psql('postgres', q{SELECT id FROM antiban.stop_reviews WHERE phone_number_id = '3001'});
$node->safe_psql('postgres', q{SELECT antiban.raise_alert('warning', '3001', 'quality_dropped', 'number 3001 of Beta dropped')});
my $b_alert = $node->safe_psql('postgres', q{SELECT max(id) FROM antiban.alerts WHERE phone_number_id = '3001'});
($rc, my $msg, $err) = as_role($node, 'app_b', q{SELECT antiban.send_template('+5521987650005', 'promo_b', 'pt_BR', '["Rui"]')});
$node->safe_psql('postgres', "UPDATE antiban.outbox SET state = 'failed', failed_at = now() WHERE id = $msg");
($rc, $out, $err) = as_role($node, 'admin_a', "SELECT antiban.acknowledge_alert($b_alert) IS NULL");
is($out, 't', 'acknowledge_alert of B\'s alert answers as for a missing one') or diag($err);
is($node->safe_psql('postgres', "SELECT acknowledged_at IS NULL FROM antiban.alerts WHERE id = $b_alert"), 't',
	'and B\'s alert stays open');
($rc, $out, $err) = as_role($node, 'admin_a', "SELECT antiban.requeue(ARRAY[$msg]::bigint[])");
like($err, qr/no outbox message with id $msg/, 'requeue of B\'s failed message: as for a missing one');
($rc, $out, $err) = as_role($node, 'admin_a', "SELECT antiban.resolve_stop_review($review, true)");
like($err, qr/unknown stop review $review/, 'resolve_stop_review of B\'s review: as for a missing one');
($rc, $out, $err) = as_role($node, 'admin_a', "SELECT antiban.request_lead_llm($b_lead)");
like($err, qr/lead $b_lead does not exist/, 'request_lead_llm of B\'s lead: as for a missing one');
is($node->safe_psql('postgres', "SELECT state FROM antiban.outbox WHERE id = $msg") . ' '
	. $node->safe_psql('postgres', "SELECT resolved_at IS NULL FROM antiban.stop_reviews WHERE id = $review"),
	'failed t', 'B\'s message and review are as they were');
done_testing();
