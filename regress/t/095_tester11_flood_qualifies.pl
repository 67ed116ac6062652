# tester11 (issue 11 §2, §3): the score is "the calibrated probability that
# the team wins" the lead, and engagement means "replies, reply latency,
# reads, button taps".  Today every inbound message counts as a reply, even
# when we never wrote to the person: someone who sends "oi" 25 times (a bot,
# a troll, an impatient person) gets "+7x respondeu às mensagens", a score
# above lead_routing.qualify_score (60), and is qualified and routed to an
# agent (senior tier from 80) ahead of real prospects.  Messages with no
# message of ours before them are not replies, and repeating a greeting is
# not a buying signal.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('t11_flood', 'antiban.sender_workers' => 0);
register_numbers($node, '1001' => {});
$node->safe_psql('postgres', q{
	CREATE EXTENSION pgcrypto;
	SELECT antiban.set_secret('app_secret', 'the-app-secret-long-enough');
	INSERT INTO antiban.agents (portfolio_id, name, capacity, presence) VALUES (1, 'Ana', 5, 'online');
	CREATE FUNCTION public.post(frm text, n integer) RETURNS boolean LANGUAGE sql AS $$
	WITH b AS (SELECT convert_to(jsonb_build_object('object', 'whatsapp_business_account', 'entry',
		jsonb_build_array(jsonb_build_object('id', '200', 'changes', jsonb_build_array(jsonb_build_object(
		'field', 'messages', 'value', jsonb_build_object('messaging_product', 'whatsapp',
		'metadata', jsonb_build_object('display_phone_number', '5511900000001', 'phone_number_id', '1001'),
		'contacts', jsonb_build_array(jsonb_build_object('profile', jsonb_build_object('name', 'S'), 'wa_id', frm)),
		'messages', jsonb_build_array(jsonb_build_object('from', frm, 'id', 'wamid.t11flood' || n,
			'timestamp', extract(epoch FROM now())::bigint::text, 'type', 'text',
			'text', jsonb_build_object('body', 'oi')))))))))::text, 'UTF8') AS body)
	SELECT (antiban.ingest_webhook(body, 'sha256=' || encode(hmac(body, 'the-app-secret-long-enough', 'sha256'), 'hex'))).signature_valid FROM b $$;});
# one webhook per message, as Meta delivers them
$node->safe_psql('postgres', q{SELECT public.post('5511912340077', i) FROM generate_series(1, 25) i});
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.interactions WHERE direction = 'in'}), '25',
	'25 greetings stored');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.outbox}), '0', 'we never wrote to this person');
my ($stage, $score, $reasons) = split /\|/, $node->safe_psql('postgres',
	q{SELECT l.stage, l.score, s.reasons FROM antiban.leads l JOIN antiban.lead_scores s ON s.conversation_id = l.id});
note("stage $stage, score $score, reasons $reasons");
cmp_ok($score, '<', 60, 'twenty-five "oi" do not reach the qualify score');
isnt($stage, 'qualified', 'the lead is not qualified and routed to an agent for greetings alone');
unlike($reasons, qr/respondeu às mensagens/, 'no reason says the person replied to messages we never sent');
done_testing();
