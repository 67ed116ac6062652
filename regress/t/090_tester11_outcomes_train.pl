# tester11 (issue 11 §2): "a logistic regression trained in the database on
# the tenant's own won/lost leads with antiban.train_lead_model()", "replaced
# once the tenant has enough outcomes".  Leads made by webhooks and closed
# with antiban.close_lead(lead, won|lost, value) must reach the model's
# training data: the portfolio's won and lost leads are what
# train_lead_model(portfolio) learns from.  Today close_lead writes nothing to
# antiban.lead_training_examples, so train_lead_model(portfolio => 1) says
# "0 won and 0 lost leads" on a portfolio with closed leads.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('t11_outcomes', 'antiban.sender_workers' => 0);
register_numbers($node, '1001' => {});
$node->safe_psql('postgres', q{
	CREATE EXTENSION pgcrypto;
	SELECT antiban.set_secret('app_secret', 'the-app-secret-long-enough');
	CREATE FUNCTION pg_temp.post(frm text, id text, body text) RETURNS boolean LANGUAGE sql AS $$
	WITH b AS (SELECT convert_to(jsonb_build_object('object', 'whatsapp_business_account', 'entry',
		jsonb_build_array(jsonb_build_object('id', '200', 'changes', jsonb_build_array(jsonb_build_object(
		'field', 'messages', 'value', jsonb_build_object('messaging_product', 'whatsapp',
		'metadata', jsonb_build_object('display_phone_number', '5511900000001', 'phone_number_id', '1001'),
		'contacts', jsonb_build_array(jsonb_build_object('profile', jsonb_build_object('name', 'L'), 'wa_id', frm)),
		'messages', jsonb_build_array(jsonb_build_object('from', frm, 'id', id,
			'timestamp', extract(epoch FROM now())::bigint::text, 'type', 'text',
			'text', jsonb_build_object('body', body)))))))))::text, 'UTF8') AS body)
	SELECT (antiban.ingest_webhook(body, 'sha256=' || encode(hmac(body, 'the-app-secret-long-enough', 'sha256'), 'hex'))).signature_valid FROM b $$;
	SELECT pg_temp.post('55119888800' || i, 'wamid.t11o' || i,
		CASE WHEN i % 2 = 0 THEN 'tenho 300 mil, quero abrir conta e investir em CDB' ELSE 'só curiosidade, sem dinheiro' END)
	FROM generate_series(10, 17) i;});
is($node->safe_psql('postgres', 'SELECT count(*) FROM antiban.leads'), '8', 'eight webhooks made eight leads');
$node->safe_psql('postgres', q{
	SELECT antiban.close_lead(l.id, CASE WHEN l.id % 2 = 0 THEN 'won' ELSE 'lost' END, 1000) FROM antiban.leads l;});
is($node->safe_psql('postgres', "SELECT count(*) FROM antiban.leads WHERE stage IN ('won', 'lost')"), '8',
	'all eight are closed won or lost');

is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.lead_training_examples WHERE portfolio_id = 1}),
	'8', 'each closed lead is an outcome the portfolio\'s model can learn from');
my ($rc, $out, $err) = $node->psql('postgres', "SELECT antiban.train_lead_model(portfolio => 1, activate => 'never')");
note("train_lead_model: rc $rc, $err");
ok($rc == 0 || $err =~ /4 won and 4 lost/, 'train_lead_model(portfolio) sees the portfolio\'s 4 won and 4 lost leads');
done_testing();
