# tester11 (issue 11 §5): lead_timeline shows "statuses" of our messages.  A
# message Meta reports sent and then failed with 131049 shows, today, two
# lines: "sent 131049 ..." and "failed 131049 ...": the failure's code and
# title are glued to every status line of that message (sent, delivered,
# read), so the timeline says the message was sent with an error.  Only the
# failed line should carry the error.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('t11_timeline', 'antiban.sender_workers' => 0);
register_numbers($node, '1001' => {});
$node->safe_psql('postgres', q{
	CREATE EXTENSION pgcrypto;
	SELECT antiban.set_secret('app_secret', 'the-app-secret-long-enough');
	CREATE FUNCTION public.poststat(st jsonb) RETURNS boolean LANGUAGE sql AS $$
	WITH b AS (SELECT convert_to(jsonb_build_object('object', 'whatsapp_business_account', 'entry',
		jsonb_build_array(jsonb_build_object('id', '200', 'changes', jsonb_build_array(jsonb_build_object(
		'field', 'messages', 'value', jsonb_build_object('messaging_product', 'whatsapp',
		'metadata', jsonb_build_object('display_phone_number', '5511900000001', 'phone_number_id', '1001'),
		'statuses', jsonb_build_array(st)))))))::text, 'UTF8') AS body)
	SELECT (antiban.ingest_webhook(body, 'sha256=' || encode(hmac(body, 'the-app-secret-long-enough', 'sha256'), 'hex'))).signature_valid FROM b $$;});
my $lead = $node->safe_psql('postgres', q{SELECT antiban.upsert_lead('+5511955550004', 1::bigint)});
my $ob = $node->safe_psql('postgres',
	q{SELECT antiban.send_template('+5511955550004', 'oferta', 'pt_BR', category => 'utility', from_number => '1001')});
# what the sender does once Meta accepted it (no sender worker here)
$node->safe_psql('postgres', "UPDATE antiban.outbox SET state = 'sending', wamid = 'wamid.t11tl' WHERE id = $ob");
$node->safe_psql('postgres', q{SELECT poststat(jsonb_build_object('id', 'wamid.t11tl', 'status', 'sent',
	'timestamp', extract(epoch FROM now())::bigint::text, 'recipient_id', '5511955550004'))});
$node->safe_psql('postgres', q{SELECT poststat(jsonb_build_object('id', 'wamid.t11tl', 'status', 'failed',
	'timestamp', extract(epoch FROM now())::bigint::text, 'recipient_id', '5511955550004',
	'errors', jsonb_build_array(jsonb_build_object('code', 131049, 'title', 'healthy ecosystem'))))});
is($node->safe_psql('postgres', "SELECT state || ' ' || error_code FROM antiban.outbox WHERE id = $ob"),
	'failed 131049', 'the message failed with 131049');
my $lines = $node->safe_psql('postgres',
	"SELECT string_agg(summary, ' | ' ORDER BY at, summary) FROM antiban.lead_timeline($lead) WHERE kind = 'status'");
like($lines, qr/failed 131049/, 'the failed line carries the error');
like($lines, qr/(^| \| )sent( \||$)/, 'the sent line is just "sent"');
unlike($lines, qr/sent 131049/, 'the sent line does not carry the later failure');
done_testing();
