# tester12: campaigns against the consent registry.
#  A. the funnel's "opted out" reads antiban.contacts, not the registry: a
#     person who got the campaign and then opted out (operator, 131050,
#     user_preferences: no contacts row) is not counted;
#  B. issue 12 §2: frequency caps "configurable per campaign" — create_campaign
#     takes no caps (decide has frequency_caps, nothing passes it).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('t12funnel');
register_numbers($node, '1001' => { throughput_level => "'HIGH'", health => 95 });
$node->safe_psql('postgres', q{
	UPDATE antiban.portfolios SET messaging_limit = 'TIER_2K';
	INSERT INTO antiban.templates (waba_id, name, language, status, category, components) VALUES
	 (1, 'promo', 'pt_BR', 'APPROVED', 'MARKETING',
	  '[{"type":"BODY","text":"Oi {{1}}, novidades da loja. Responda SAIR para sair"}]');
	CREATE TABLE cust (recipient text, params jsonb);
	INSERT INTO cust VALUES ('+5511970000001', '["Ana"]'), ('+5511970000002', '["Bia"]');
	SELECT antiban.create_campaign('funnel', 'promo', 'pt_BR', 'cust', params => 'params');
	SELECT antiban.start_campaign(1);
	UPDATE antiban.campaigns SET paced_at = antiban.now() - interval '1 hour', carry = 100;
	SELECT antiban.pace_campaigns();});
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.campaign_recipients WHERE status = 'released'}), '2',
	'both people released');
# Meta accepted the first one and its answer linked the person (as link_send_answers does)
$node->safe_psql('postgres', q{
	UPDATE antiban.outbox SET state = 'sending' WHERE recipient = '+5511970000001';
	UPDATE antiban.outbox SET state = 'sent', sent_at = antiban.now() - interval '1 minute', wamid = 'wamid.t12-1',
		person_id = antiban.person_id(1, '+5511970000001')
	WHERE recipient = '+5511970000001';
	SELECT antiban.set_marketing_opt_out('+5511970000001', '1001', true);});
is($node->safe_psql('postgres', q{
	SELECT state FROM antiban.consent WHERE person_id = antiban.person_id(1, '+5511970000001')}), 'opted_out',
	'the registry has the opt-out');
is($node->safe_psql('postgres', q{SELECT sent || ' ' || opted_out FROM antiban.campaign_funnel}), '1 1',
	'the funnel counts the person who opted out after the send');

my ($rc, $out, $err) = $node->psql('postgres', q{
	SELECT antiban.create_campaign('capped', 'promo', 'pt_BR', 'cust', params => 'params',
		frequency_caps => 'marketing=1/7d')});
is($rc, 0, 'a campaign takes its own frequency caps') or diag($err);

# fix12: bad caps are refused; the caps travel with each release to the
# sender's claim-time decision (metadata.frequency_caps)
($rc, $out, $err) = $node->psql('postgres', q{
	SELECT antiban.create_campaign('bad-caps', 'promo', 'pt_BR', 'cust', params => 'params',
		frequency_caps => 'marketing=lots')});
like($err, qr/invalid frequency caps/, 'caps that do not parse are refused');
$node->safe_psql('postgres', q{
	SELECT antiban.start_campaign((SELECT id FROM antiban.campaigns WHERE name = 'capped'));
	UPDATE antiban.campaigns SET paced_at = antiban.now() - interval '1 hour', carry = 100 WHERE name = 'capped';
	SELECT antiban.pace_campaigns();});
is($node->safe_psql('postgres', q{
	SELECT string_agg(o.metadata ->> 'frequency_caps', ',') FROM antiban.campaign_recipients r
	JOIN antiban.campaigns c ON c.id = r.campaign_id JOIN antiban.outbox o ON o.id = r.outbox_id
	WHERE c.name = 'capped'}), 'marketing=1/7d', 'the released message carries the campaign\'s caps');

$node->stop;
done_testing();
