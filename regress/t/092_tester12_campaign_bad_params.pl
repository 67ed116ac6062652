# tester12: one audience row whose parameters do not fit the template.
# The dry run counts it eligible (issue 12 §4 promises "invalid" among the
# reasons), start_campaign stores it pending, and pace_campaigns() then
# raises send_template's error: the whole tick rolls back, so neither this
# campaign nor any other running campaign is ever released again.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('t12params');
register_numbers($node, '1001' => { throughput_level => "'HIGH'", health => 95 });
$node->safe_psql('postgres', q{
	UPDATE antiban.portfolios SET messaging_limit = 'TIER_2K';
	INSERT INTO antiban.templates (waba_id, name, language, status, category, components) VALUES
	 (1, 'promo', 'pt_BR', 'APPROVED', 'MARKETING',
	  '[{"type":"BODY","text":"Oi {{1}}, novidades da loja. Responda SAIR para sair"}]');
	CREATE TABLE cust (recipient text, params jsonb);
	-- the first row has two parameters for a template that takes one
	INSERT INTO cust VALUES ('+5511970000001', '["Ana", "extra"]');
	INSERT INTO cust SELECT '+551197000' || lpad(i::text, 4, '0'), jsonb_build_array('C' || i)
	FROM generate_series(2, 6) i;
	CREATE TABLE other (recipient text, params jsonb);
	INSERT INTO other SELECT '+551198000' || lpad(i::text, 4, '0'), jsonb_build_array('O' || i)
	FROM generate_series(1, 5) i;
	SELECT antiban.create_campaign('bad-row', 'promo', 'pt_BR', 'cust', params => 'params');
	SELECT antiban.create_campaign('innocent', 'promo', 'pt_BR', 'other', params => 'params');});

my $plan = $node->safe_psql('postgres', q{
	SELECT eligible || ' ' || excluded::text FROM antiban.plan_campaign(
		(SELECT id FROM antiban.campaigns WHERE name = 'bad-row'))});
like($plan, qr/^5 /, 'the dry run does not count a row with parameters the template refuses as eligible')
	or diag("plan: $plan");

$node->safe_psql('postgres', q{
	SELECT antiban.start_campaign(id) FROM antiban.campaigns ORDER BY id;
	-- as if the window had been open for an hour (pacing catches up ten minutes)
	UPDATE antiban.campaigns SET paced_at = antiban.now() - interval '1 hour', carry = 100;});
my ($rc, $out, $err) = $node->psql('postgres', 'SELECT count(*) FROM antiban.pace_campaigns()');
is($rc, 0, 'pace_campaigns() does not fail on one bad audience row') or diag($err);
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM antiban.campaign_recipients r JOIN antiban.campaigns c ON c.id = r.campaign_id
	WHERE c.name = 'innocent' AND r.status = 'released'}), '5',
	'another running campaign is still released');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM antiban.campaign_recipients r JOIN antiban.campaigns c ON c.id = r.campaign_id
	WHERE c.name = 'bad-row' AND r.status = 'released'}), '5',
	'the rest of the campaign is released');

# fix12: a template that changes after the snapshot (Meta edited, synced
# again) makes every pending row refused at release: each is skipped with
# the error, the tick goes on.
$node->safe_psql('postgres', q{
	INSERT INTO antiban.templates (waba_id, name, language, status, category, components) VALUES
	 (1, 'promo2', 'pt_BR', 'APPROVED', 'MARKETING',
	  '[{"type":"BODY","text":"Oi {{1}}, novidades. Responda SAIR para sair"}]');
	CREATE TABLE late_aud (recipient text, params jsonb);
	INSERT INTO late_aud SELECT '+551196000' || lpad(i::text, 4, '0'), jsonb_build_array('L' || i)
	FROM generate_series(1, 3) i;
	SELECT antiban.create_campaign('late', 'promo2', 'pt_BR', 'late_aud', params => 'params');
	SELECT antiban.start_campaign((SELECT id FROM antiban.campaigns WHERE name = 'late'));
	UPDATE antiban.templates SET components = '[{"type":"BODY","text":"Oi {{1}} {{2}}. Responda SAIR para sair"}]'
	WHERE name = 'promo2';
	UPDATE antiban.campaigns SET paced_at = antiban.now() - interval '1 hour', carry = 100 WHERE name = 'late';});
($rc, $out, $err) = $node->psql('postgres', 'SELECT count(*) FROM antiban.pace_campaigns()');
is($rc, 0, 'pace_campaigns() goes on when the template changed after the snapshot') or diag($err);
is($node->safe_psql('postgres', q{
	SELECT string_agg(DISTINCT r.status || ' ' || r.reason || ' ' || (r.error ~ 'parameter')::text, ',')
	FROM antiban.campaign_recipients r JOIN antiban.campaigns c ON c.id = r.campaign_id WHERE c.name = 'late'}),
	'skipped invalid_params true', 'each refused row is skipped with the reason and the error');

$node->stop;
done_testing();
