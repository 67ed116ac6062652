# tester12: a campaign's audience is code one role stores and another runs.
# Issue 12 §4: "audience SQL injection and privilege escalation through the
# audience query (it must run with the caller's rights)".
#  A. an app calls the SECURITY DEFINER internal antiban.campaign_insert
#     directly: no audience check (audience_query_check), a forged
#     created_by, and the stored "table" text is spliced into the query
#     plan_campaign runs;
#  B. an app calls antiban.campaign_move directly: draft -> running with no
#     lint and no snapshot (start_campaign's refusal bypassed);
#  C. an app's audience calls a function of its own; a superuser who plans
#     the campaign runs that function as superuser (the app becomes one).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('t12priv');
register_numbers($node, '1001' => { throughput_level => "'HIGH'", health => 95 });
$node->safe_psql('postgres', q{
	INSERT INTO antiban.templates (waba_id, name, language, status, category, components) VALUES
	 (1, 'promo', 'pt_BR', 'APPROVED', 'MARKETING',
	  '[{"type":"BODY","text":"Oi {{1}}, novidades da loja. Responda SAIR para sair"}]');
	CREATE ROLE app LOGIN IN ROLE antiban_app;
	CREATE SCHEMA appschema AUTHORIZATION app;});
$node->safe_psql('postgres', q{
	SET ROLE app;
	CREATE TABLE appschema.aud (recipient text, params jsonb);
	INSERT INTO appschema.aud VALUES ('+5511911110001', '["Ana"]');
	CREATE FUNCTION appschema.trojan() RETURNS SETOF appschema.aud LANGUAGE plpgsql AS $$
	BEGIN
		IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
			EXECUTE 'ALTER ROLE app SUPERUSER';
		END IF;
		RETURN QUERY SELECT * FROM appschema.aud;
	END $$;});

# A: the internal insert is reachable by an app and checks nothing
my ($rc, $out, $err) = $node->psql('postgres', q{
	SET ROLE app;
	SELECT antiban.campaign_insert(c) FROM (SELECT (NULL::bigint, 'forged', 1::bigint, 'promo', 'pt_BR',
		'marketing'::antiban.category,
		'appschema.aud) AS z, LATERAL (SELECT pg_catalog.set_config(''application_name'', ''injected'', false)) x, (TABLE appschema.aud',
		'table', 'appschema, public', 'recipient', 'params', '00:00'::time, '23:59'::time, 'UTC', NULL::int, NULL::int,
		0.2::real, NULL::smallint, NULL::interval, 'draft'::antiban.campaign_state, 'postgres'::name, now(),
		NULL::timestamptz, NULL::timestamptz, 0::float8, NULL::timestamptz)::antiban.campaigns AS c) s;});
isnt($rc, 0, 'an app can not call campaign_insert directly with an unchecked campaign row')
	or diag("stored campaign $out");
my $forged = $node->safe_psql('postgres', q{SELECT count(*) FROM antiban.campaigns WHERE created_by = 'postgres'});
is($forged, '0', 'no campaign claims to be created by a role that did not create it');
($rc, $out, $err) = $node->psql('postgres', q{
	SET ROLE app;
	SELECT count(*) FROM antiban.plan_campaign((SELECT max(id) FROM antiban.campaigns));
	SHOW application_name;});
unlike($out, qr/injected/, 'a stored "table" audience is never spliced into the query as SQL');

# B: an app moves a draft to running without start_campaign's lint and snapshot
$node->safe_psql('postgres', q{
	INSERT INTO antiban.templates (waba_id, name, language, status, category, components) VALUES
	 (1, 'paused_promo', 'pt_BR', 'PAUSED', 'MARKETING', '[{"type":"BODY","text":"Oi {{1}}. SAIR para sair"}]');
	SET ROLE app;
	SELECT antiban.create_campaign('paused-one', 'paused_promo', 'pt_BR',
		'SELECT recipient, params FROM appschema.aud', params => 'params');});
($rc, $out, $err) = $node->psql('postgres', q{
	SET ROLE app;
	SELECT antiban.campaign_move((SELECT id FROM antiban.campaigns WHERE name = 'paused-one'), 'running');});
is($node->safe_psql('postgres', q{SELECT state FROM antiban.campaigns WHERE name = 'paused-one'}), 'draft',
	'a campaign whose template is PAUSED is not running without start_campaign (lint) or force');

# C: a superuser plans an app's campaign: the app's code must not run as superuser
$node->safe_psql('postgres', q{
	SET ROLE app;
	SELECT antiban.create_campaign('c1', 'promo', 'pt_BR', 'SELECT recipient, params FROM appschema.trojan()',
		params => 'params');});
$node->psql('postgres', q{SELECT * FROM antiban.plan_campaign((SELECT id FROM antiban.campaigns WHERE name = 'c1'))});
is($node->safe_psql('postgres', q{SELECT rolsuper FROM pg_roles WHERE rolname = 'app'}), 'f',
	'planning an app\'s campaign as superuser does not run the app\'s code with superuser rights');

$node->stop;
done_testing();
