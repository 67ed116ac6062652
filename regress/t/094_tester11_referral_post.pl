# tester11 (issue 11 §1): the source of a lead is "click-to-WhatsApp ad with
# its ad id".  Meta's referral object has source_type "ad" or "post" and
# source_id "the Meta ID for an ad or a post".  A conversation started from
# an organic Facebook or Instagram post is stored today as source ctwa with
# source_ad_id = the post's id, so per-ad reporting counts posts as ads.  An
# ad referral keeps its ad id; a post's id is not an ad id.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('t11_referral', 'antiban.sender_workers' => 0);
register_numbers($node, '1001' => {});
$node->safe_psql('postgres', q{
	CREATE EXTENSION pgcrypto;
	SELECT antiban.set_secret('app_secret', 'the-app-secret-long-enough');
	CREATE FUNCTION pg_temp.post(frm text, id text, referral jsonb) RETURNS boolean LANGUAGE sql AS $$
	WITH b AS (SELECT convert_to(jsonb_build_object('object', 'whatsapp_business_account', 'entry',
		jsonb_build_array(jsonb_build_object('id', '200', 'changes', jsonb_build_array(jsonb_build_object(
		'field', 'messages', 'value', jsonb_build_object('messaging_product', 'whatsapp',
		'metadata', jsonb_build_object('display_phone_number', '5511900000001', 'phone_number_id', '1001'),
		'contacts', jsonb_build_array(jsonb_build_object('profile', jsonb_build_object('name', 'L'), 'wa_id', frm)),
		'messages', jsonb_build_array(jsonb_build_object('from', frm, 'id', id,
			'timestamp', extract(epoch FROM now())::bigint::text, 'type', 'text',
			'text', jsonb_build_object('body', 'Olá! Tenho interesse'), 'referral', referral))))))))::text, 'UTF8') AS body)
	SELECT (antiban.ingest_webhook(body, 'sha256=' || encode(hmac(body, 'the-app-secret-long-enough', 'sha256'), 'hex'))).signature_valid FROM b $$;
	SELECT pg_temp.post('5511988770001', 'wamid.t11ad', '{"source_url":"https://fb.me/ad","source_id":"120208000001","source_type":"ad","headline":"CDB 120% CDI","body":"Invista","media_type":"image","image_url":"https://x/y.jpg","ctwa_clid":"ARAkLkA8rmlFeiCkt","welcome_message":{"text":"Olá!"}}');
	SELECT pg_temp.post('5511988770002', 'wamid.t11post', '{"source_url":"https://www.instagram.com/p/xyz","source_id":"17900000000000001","source_type":"post","headline":"Renda fixa","body":"post","media_type":"video","video_url":"https://v","thumbnail_url":"https://t"}');});
is($node->safe_psql('postgres', q{SELECT source || ' ' || source_ad_id || ' ' || ctwa_clid FROM antiban.leads l
	JOIN antiban.persons p ON p.id = l.person_id WHERE p.anchor = '+5511988770001'}),
	'ctwa 120208000001 ARAkLkA8rmlFeiCkt', 'an ad referral: source ctwa with the ad id and the click id');
is($node->safe_psql('postgres', q{SELECT coalesce(source_ad_id, 'none') FROM antiban.leads l
	JOIN antiban.persons p ON p.id = l.person_id WHERE p.anchor = '+5511988770002'}),
	'none', 'a post referral does not record the post id as an ad id');
done_testing();
