# Upgrades keep data: install antiban 0.1.0 as released, write what a
# tenant had (accounts, a secret, messages in every state, webhooks, a
# contact who said stop, opt-outs and windows in recipient_state, alerts),
# run ALTER EXTENSION antiban UPDATE, and check that every row is still
# there, that the stop still stops after a restart, that the new objects
# exist, and that the upgraded catalog is the catalog of a fresh install.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->append_conf('postgresql.conf', <<'EOC');
shared_preload_libraries = 'antiban'
antiban.database_name = 'upgraded'
antiban.monitor = off
antiban.sender_workers = 0
EOC
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE upgraded');
$node->safe_psql('postgres', 'CREATE DATABASE fresh');

# ---- 0.1.0, as a tenant used it ----
$node->safe_psql('upgraded', q{CREATE EXTENSION antiban VERSION '0.1.0'});
is($node->safe_psql('upgraded', q{SELECT extversion FROM pg_extension WHERE extname = 'antiban'}),
	'0.1.0', 'antiban 0.1.0 installs');
$node->safe_psql('upgraded', q{
	INSERT INTO antiban.portfolios (business_id, name, messaging_limit) VALUES ('100', 'Investimentos BR', 'TIER_2K');
	INSERT INTO antiban.wabas (waba_id, portfolio_id, name) VALUES ('200', 1, 'Vendas');
	INSERT INTO antiban.numbers (phone_number_id, waba_id, display_phone_number, throughput_level, health)
	VALUES ('1001', 1, '+55 11 90000-0001', 'STANDARD', 90), ('1002', 1, '+55 11 90000-0002', 'HIGH', 80);
	INSERT INTO antiban.outbox (portfolio_id, number_id, phone_number_id, recipient, category, message_type,
	                            payload, state, not_before, idempotency_key)
	SELECT 1, 1, '1001', '+55119876500' || lpad(i::text, 2, '0'), 'marketing', 'template',
	       jsonb_build_object('messaging_product', 'whatsapp', 'to', '+55119876500' || lpad(i::text, 2, '0')),
	       'queued', now(), 'campaign-1/' || i
	FROM generate_series(1, 30) i;
	INSERT INTO antiban.contacts (wa_id, profile_name, last_phone_number_id, marketing_opt_out, opt_out_at, opt_out_source)
	VALUES ('5511987650001', 'Ana', '1001', true, '2026-11-20 10:00+00', 'PARAR'),
	       ('5511987650002', 'Bruno', '1001', false, NULL, NULL);
	INSERT INTO antiban.recipient_state (portfolio_id, recipient, last_number_id, last_sent_at,
	                                     window_until, window_number_id, marketing_opt_out)
	VALUES (1, '+5511987650001', 1, '2026-11-20 09:00+00', NULL, NULL, true),
	       (1, '+5511987650002', 2, '2026-11-20 09:00+00', '2026-11-21 09:00+00', 2, false);
	INSERT INTO antiban.webhook_events (body_raw, body_sha256, body, signature_valid, status)
	VALUES (convert_to('{"object":"whatsapp_business_account","entry":[]}', 'UTF8'), '\x00', '{"object":"whatsapp_business_account","entry":[]}', true, 'applied');
	INSERT INTO antiban.alerts (severity, phone_number_id, kind, detail) VALUES ('critical', '1001', 'number_paused', 'kept');
});
# the state machine moves some messages on, as the sender did
$node->safe_psql('upgraded', q{
	UPDATE antiban.outbox SET state = 'sending' WHERE id <= 20;
	UPDATE antiban.outbox SET state = 'sent', wamid = 'wamid.' || id WHERE id <= 20;
	UPDATE antiban.outbox SET state = 'delivered' WHERE id <= 10;
});
my $counts_sql = q{
	SELECT string_agg(format('%s=%s', t, n), ' ' ORDER BY t) FROM (
	  SELECT 'portfolios' t, count(*) n FROM antiban.portfolios UNION ALL
	  SELECT 'wabas', count(*) FROM antiban.wabas UNION ALL
	  SELECT 'numbers', count(*) FROM antiban.numbers UNION ALL
	  SELECT 'outbox', count(*) FROM antiban.outbox UNION ALL
	  SELECT 'outbox_states', count(DISTINCT state) FROM antiban.outbox UNION ALL
	  SELECT 'contacts', count(*) FROM antiban.contacts UNION ALL
	  SELECT 'webhook_events', count(*) FROM antiban.webhook_events UNION ALL
	  SELECT 'alerts', count(*) FROM antiban.alerts) x};
my $before = $node->safe_psql('upgraded', $counts_sql);
my $outbox_before = $node->safe_psql('upgraded',
	q{SELECT string_agg(format('%s:%s:%s:%s', id, recipient, state, coalesce(wamid, '-')), ',' ORDER BY id) FROM antiban.outbox});

# ---- the upgrade ----
$node->safe_psql('upgraded', q{ALTER EXTENSION antiban UPDATE});
is($node->safe_psql('upgraded', q{SELECT extversion FROM pg_extension WHERE extname = 'antiban'}),
	'0.2.0', 'ALTER EXTENSION antiban UPDATE reaches 0.2.0');
is($node->safe_psql('upgraded', $counts_sql), $before, 'every row of every table is still there');
is($node->safe_psql('upgraded',
	q{SELECT string_agg(format('%s:%s:%s:%s', id, recipient, state, coalesce(wamid, '-')), ',' ORDER BY id) FROM antiban.outbox}),
	$outbox_before, 'messages keep their ids, recipients, states and wamids');
is($node->safe_psql('upgraded', q{SELECT count(*) FROM pg_namespace WHERE nspname = 'antiban_previous'}),
	'0', 'nothing of the old version is left behind');
is($node->safe_psql('upgraded', q{
	SELECT count(*) FROM antiban.contacts c JOIN antiban.person_ids i ON i.person_id = c.person_id
	WHERE c.portfolio_id = 1}), '2', 'each contact is a person of its portfolio, with its phone');
is($node->safe_psql('upgraded', q{
	SELECT marketing_opt_out FROM antiban.recipient_facts WHERE recipient = '+5511987650001'}),
	't', 'the opt-out kept in 0.1.0 recipient_state is a recipient fact');
is($node->safe_psql('upgraded', q{SELECT count(*) FROM antiban.lead_models WHERE active}), '1',
	'new objects exist: the default lead model was trained');
# webhook_events became posts, partitioned (issue 13 §4), and their outcomes,
# with a view of both by the old name: its rows in the default partition
# until pg_partman takes it, each with its outcome, each body's digest kept
# (stored once), and the messages sent before the upgrade counted in the
# sends rollup
is($node->safe_psql('upgraded', q{
	SELECT format('%s %s %s %s', c.relkind, (SELECT count(*) FROM antiban.webhook_posts_unsorted),
	              (SELECT string_agg(status || ' ' || updates, ',') FROM antiban.webhook_events),
	              (SELECT count(*) FROM antiban.webhook_digests d JOIN antiban.webhook_events e USING (body_sha256, signature_valid)))
	FROM pg_class c WHERE c.oid = 'antiban.webhook_posts'::regclass}),
	'p 1 applied 0 1', 'webhook_events is partitioned posts and their outcomes, with its event and that body\'s digest');
is($node->safe_psql('upgraded', q{SELECT sum(sent) || ' ' || sum(delivered) FROM antiban.send_minutes}),
	'20 10', 'the health score\'s sends rollup counts what the old outbox sent and delivered');
$node->safe_psql('upgraded', q{INSERT INTO antiban.outbox (portfolio_id, number_id, phone_number_id, recipient, category,
	message_type, payload, state, not_before)
	VALUES (1, 1, '1001', '+5511987650099', 'utility', 'template', '{"messaging_product":"whatsapp"}', 'queued', now())});
is($node->safe_psql('upgraded', q{SELECT max(id) FROM antiban.outbox}), '31', 'new messages get the next id');

# the person who said stop in 0.1.0 is still not sent marketing, after a restart too
$node->restart;
is($node->safe_psql('upgraded', q{SELECT outcome || ' ' || reason FROM antiban.decide('+5511987650001', 'marketing', consume => false)}),
	'REJECT opted_out', 'a stop given before the upgrade still stops marketing');
# (SEND, or QUEUE behind the messages already waiting for them: not a REJECT)
like($node->safe_psql('upgraded', q{SELECT outcome || ' ' || reason FROM antiban.decide('+5511987650002', 'marketing', consume => false)}),
	qr/^(SEND|QUEUE) /, 'and someone who did not is still reachable');

# ---- the same catalog as a fresh install ----
$node->safe_psql('fresh', q{CREATE EXTENSION antiban});
my $catalog_sql = q{
	SELECT string_agg(d, E'\n' ORDER BY d) FROM (
	  SELECT format('column %s.%s %s %s %s %s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
	                a.attnotnull, a.attnum, coalesce(pg_get_expr(ad.adbin, ad.adrelid), ''))
	  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
	  LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
	  WHERE c.relnamespace = 'antiban'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
	  UNION ALL SELECT format('relation %s %s %s %s', c.relname, c.relkind, c.relacl, obj_description(c.oid, 'pg_class'))
	  FROM pg_class c WHERE c.relnamespace = 'antiban'::regnamespace
	  UNION ALL SELECT format('constraint %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
	  FROM pg_constraint WHERE connamespace = 'antiban'::regnamespace
	  UNION ALL SELECT format('index %s', pg_get_indexdef(indexrelid)) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
	  WHERE c.relnamespace = 'antiban'::regnamespace
	  UNION ALL SELECT format('trigger %s', pg_get_triggerdef(t.oid)) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
	  WHERE c.relnamespace = 'antiban'::regnamespace AND NOT t.tgisinternal
	  UNION ALL SELECT format('function %s %s %s %s %s', p.oid::regprocedure, p.proacl, p.proconfig, p.prosecdef,
	                          md5(pg_get_functiondef(p.oid)) || md5(coalesce(obj_description(p.oid, 'pg_proc'), '')))
	  FROM pg_proc p WHERE p.pronamespace = 'antiban'::regnamespace AND p.prokind <> 'a'
	  UNION ALL SELECT format('view %s %s', c.relname, md5(pg_get_viewdef(c.oid))) FROM pg_class c
	  WHERE c.relnamespace = 'antiban'::regnamespace AND c.relkind IN ('v', 'm')
	  UNION ALL SELECT format('type %s %s %s', t.typname, t.typtype,
	                          (SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = t.oid))
	  FROM pg_type t WHERE t.typnamespace = 'antiban'::regnamespace
	  UNION ALL SELECT format('member %s', pg_describe_object(classid, objid, 0)) FROM pg_depend
	  WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
	    AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'antiban')) x(d)};
my $fresh = $node->safe_psql('fresh', $catalog_sql);
my $upgraded = $node->safe_psql('upgraded', $catalog_sql);
ok(length($fresh) > 10000, 'the catalog comparison sees the schema');
if ($fresh eq $upgraded)
{
	pass('an upgraded 0.2.0 has the catalog of a fresh 0.2.0');
}
else
{
	my %f = map { $_ => 1 } split /\n/, $fresh;
	my %u = map { $_ => 1 } split /\n/, $upgraded;
	diag("only fresh: $_") for grep { !$u{$_} } sort keys %f;
	diag("only upgraded: $_") for grep { !$f{$_} } sort keys %u;
	fail('an upgraded 0.2.0 has the catalog of a fresh 0.2.0');
}
# the comparison can fail: one column more is seen
$node->safe_psql('upgraded', q{ALTER TABLE antiban.alerts ADD COLUMN probe integer});
isnt($node->safe_psql('upgraded', $catalog_sql), $fresh, 'a catalog that differs is told apart');
$node->stop;
done_testing();
