# No role escapes its rights.  Each login role that is a member of an antiban
# role plants code where a careless privileged query would find it first (an
# operator in a schema it owns, a pg_temp.text or pg_temp.jsonb domain) and
# then calls every antiban function it may call, in a fresh session.  The
# planted code records where it ran: it must never run at all, and no secret
# may leave antiban.secrets.  Then the catalog: every function that runs with
# rights other than the caller's pins search_path and is owned by
# antiban_owner, which is no superuser.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Digest::SHA qw(hmac_sha256_hex);
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $app_secret = 'app-secret-never-leaves-0001';
my $node = antiban_node('privileges');
register_numbers($node, '1001' => {}, '1002' => {});
$node->safe_psql('postgres', qq{
	SELECT antiban.set_secret('app_secret', '$app_secret');
	SELECT antiban.set_secret('access_token', 'EAAG-token-never-leaves-0002', '200');
	SELECT antiban.set_secret('webhook_verify_token', 'verify-token-never-leaves-0003');
	CREATE TABLE public.canary (ran_as name, session_role name, what text);
	GRANT INSERT, SELECT ON public.canary TO PUBLIC;
	CREATE ROLE app LOGIN IN ROLE antiban_app;
	CREATE ROLE reader LOGIN IN ROLE antiban_reader;
	CREATE ROLE receiver LOGIN IN ROLE antiban_receiver;
	CREATE ROLE admin LOGIN IN ROLE antiban_admin;
});
# one schema of its own per role and session: the kit is planted afresh each time
$node->safe_psql('postgres', join("\n", map { "CREATE SCHEMA ${_}_own1 AUTHORIZATION $_; CREATE SCHEMA ${_}_own2 AUTHORIZATION $_;" }
	qw(app reader receiver admin)));

# The attacker's kit, planted by the role itself: every piece records that it
# ran (and as whom), then tries to copy the secrets.
sub kit
{
	my ($schema) = @_;
	my $spy = q{
		BEGIN
			INSERT INTO public.canary VALUES (current_user, session_user, %s);
			BEGIN
				INSERT INTO public.canary SELECT current_user, session_user, s.value::pg_catalog.text FROM antiban.secrets s;
			EXCEPTION WHEN OTHERS THEN NULL;
			END;
			RETURN %s;
		END};
	my $body = sub { my ($what, $ret) = @_; sprintf($spy, "'$what'", $ret) };
	return join("\n",
		"CREATE FUNCTION $schema.eq_text(a pg_catalog.text, b pg_catalog.text) RETURNS pg_catalog.bool LANGUAGE plpgsql AS \$f\$"
		  . $body->('operator =(text,text)', 'a OPERATOR(pg_catalog.=) b') . "\$f\$;",
		"CREATE OPERATOR $schema.= (LEFTARG = pg_catalog.text, RIGHTARG = pg_catalog.text, FUNCTION = $schema.eq_text);",
		"CREATE FUNCTION $schema.eq_kind(a antiban.secret_kind, b antiban.secret_kind) RETURNS pg_catalog.bool LANGUAGE plpgsql AS \$f\$"
		  . $body->('operator =(secret_kind,secret_kind)', 'a::pg_catalog.text OPERATOR(pg_catalog.=) b::pg_catalog.text') . "\$f\$;",
		"CREATE OPERATOR $schema.= (LEFTARG = antiban.secret_kind, RIGHTARG = antiban.secret_kind, FUNCTION = $schema.eq_kind);",
		"CREATE FUNCTION $schema.eq_int8(a pg_catalog.int8, b pg_catalog.int8) RETURNS pg_catalog.bool LANGUAGE plpgsql AS \$f\$"
		  . $body->('operator =(bigint,bigint)', 'a OPERATOR(pg_catalog.=) b') . "\$f\$;",
		"CREATE OPERATOR $schema.= (LEFTARG = pg_catalog.int8, RIGHTARG = pg_catalog.int8, FUNCTION = $schema.eq_int8);",
		"CREATE FUNCTION $schema.field(a pg_catalog.jsonb, b pg_catalog.text) RETURNS pg_catalog.text LANGUAGE plpgsql AS \$f\$"
		  . $body->('operator ->>(jsonb,text)', 'a OPERATOR(pg_catalog.->>) b') . "\$f\$;",
		"CREATE OPERATOR $schema.->> (LEFTARG = pg_catalog.jsonb, RIGHTARG = pg_catalog.text, FUNCTION = $schema.field);",
		"CREATE FUNCTION pg_temp.spy_text(v pg_catalog.text) RETURNS pg_catalog.bool LANGUAGE plpgsql AS \$f\$"
		  . $body->('pg_temp.text domain', 'true') . "\$f\$;",
		"CREATE DOMAIN pg_temp.text AS pg_catalog.text CHECK (pg_temp.spy_text(VALUE));",
		"CREATE FUNCTION pg_temp.spy_jsonb(v pg_catalog.jsonb) RETURNS pg_catalog.bool LANGUAGE plpgsql AS \$f\$"
		  . $body->('pg_temp.jsonb domain', 'true') . "\$f\$;",
		"CREATE DOMAIN pg_temp.jsonb AS pg_catalog.jsonb CHECK (pg_temp.spy_jsonb(VALUE));",
		"CREATE TABLE pg_temp.numbers (id int);",
		"CREATE TABLE pg_temp.secrets (kind text, value text);");
}

# What each role calls, once with its own schema first and once with pg_temp first.
my $signed_body = '{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511400000001","phone_number_id":"1001"},"contacts":[{"profile":{"name":"Ana"},"wa_id":"5511987650009"}],"messages":[{"from":"5511987650009","id":"wamid.in-1","timestamp":"1700000000","type":"text","text":{"body":"PARAR"}}],"statuses":[{"id":"wamid.x","status":"delivered","timestamp":"1700000000","recipient_id":"5511987650002","biz_opaque_callback_data":"1"}]}},{"field":"account_update","value":{"event":"ACCOUNT_VIOLATION"}}]}]}';
my %calls = (
	app => q{
		SELECT * FROM antiban.decide('+5511987650002', 'marketing', consume => false);
		SELECT * FROM antiban.try_consume('1001', 1, '+5511987650002', false);
		SELECT antiban.send_template('+5511987650002', 'oferta', 'pt_BR', '["Ana"]', idempotency_key => 'k-' || pg_backend_pid());
		SELECT antiban.send_template('+5511987650002', 'oferta', 'pt_BR', '["Ana"]', idempotency_key => 'k-' || pg_backend_pid());
		SELECT antiban.send('+5511987650002', '{"type": "template", "template": {"name": "x", "language": {"code": "pt_BR"}}}', 'utility');
		SELECT antiban.mark_read('wamid.abc', '1001');
		SELECT antiban.cancel(1);
		SELECT antiban.send_text('+5511987650002', 'oi');
		SELECT * FROM antiban.lint_template('[{"type": "BODY", "text": "Olá {{1}}, seu pedido saiu."}]', 'utility');
	},
	reader => q{
		SELECT count(*) FROM antiban.buckets;
		SELECT count(*) FROM antiban.portfolio_usage;
		SELECT count(*) FROM antiban.number_health;
		SELECT count(*) FROM antiban.queue_depth;
		SELECT count(*) FROM antiban.secrets_status;
		SELECT * FROM antiban.journal_stats();
		SELECT * FROM antiban.decisions LIMIT 1;
		SELECT count(*) FROM antiban.circuit_breakers;
		SELECT count(*) FROM antiban.breaker_events;
		SELECT count(*) FROM antiban.outbox_requeues;
		SELECT * FROM antiban.lint_text('Informe sua senha.');
	},
	receiver => q{
		SELECT * FROM antiban.ingest_webhook('{}', NULL);
		SELECT * FROM antiban.ingest_webhook('{"object":"x"}', 'sha256=00');
		SELECT * FROM antiban.ingest_webhook(convert_to($b$SIGNED_BODY$b$, 'UTF8'), 'SIGNATURE');
		SELECT antiban.webhook_verify('guess');
	},
	admin => q{
		SELECT antiban.set_secret('app_secret', 'app-secret-never-leaves-0001');
		SELECT antiban.set_secret('access_token', 'EAAG-token-never-leaves-0002', '200');
		SELECT antiban.open_service_window('+5511987650002', '1001');
		SELECT antiban.set_marketing_opt_out('+5511987650002', '1001', false);
		SELECT antiban.set_mode('1002', 'paused', 'test');
		SELECT antiban.release_mode('1002');
		SELECT antiban.start_warmup('1002');
		SELECT antiban.evaluate_health();
		SELECT antiban.flush_journal();
		SELECT antiban.reload_config();
		SELECT antiban.acknowledge_alert(1);
		SELECT antiban.clear_secret('webhook_verify_token');
		SELECT * FROM antiban.requeue(ARRAY[999999]::bigint[]);
	});

my $sessions = 0;
for my $role (sort keys %calls)
{
	for my $path ("${role}_own1, pg_catalog", 'pg_temp, pg_catalog')
	{
		(my $schema = $path) =~ s/, .*//;
		$schema = "${role}_own2" if $schema eq 'pg_temp';
		# each session stores its own signed body (a different one: no duplicate)
		my $body = $signed_body . (' ' x ++$sessions);
		(my $sql = $calls{$role}) =~ s/SIGNED_BODY/$body/;
		$sql =~ s/SIGNATURE/'sha256=' . hmac_sha256_hex($body, $app_secret)/e;
		# a fresh session: antiban's caches load under the attacker's settings;
		# the last line is a control: the kit does fire in the caller's own query
		my ($ret, $out, $err) = $node->psql('postgres',
			kit($schema) . "\nSET search_path = $path;\n" . $sql
			  . "\nSELECT 'control'::text;\n",
			extra_params => [ '-U', $role ], on_error_stop => 0);
		unlike($err, qr/permission denied for (table|function|schema)/,
			"$role ($path): every call it is allowed to make runs");
		unlike($out . $err, qr/never-leaves/, "$role ($path): no secret in what it sees");
	}
}
is($node->safe_psql('postgres', q{SELECT count(*) FROM public.canary WHERE ran_as <> session_role}), '0',
	'nothing planted ever ran with rights other than the caller\'s');
is($node->safe_psql('postgres', q{SELECT count(*) FROM public.canary}), $sessions,
	'the planted code ran only in the callers\' own control statements, never inside antiban');
is($node->safe_psql('postgres', q{SELECT count(*) FROM public.canary WHERE what ~ 'never-leaves'}), '0',
	'no secret was copied out');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.webhook_events WHERE signature_valid}), '2',
	'the signed webhooks were applied as usual (one per receiver session)');

# The catalog: the rule the routes above test, for every function.
is($node->safe_psql('postgres', q{
	SELECT string_agg(p.oid::regprocedure::text, ', ')
	FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
	WHERE p.pronamespace = 'antiban'::regnamespace
	  AND (p.prosecdef OR l.lanname = 'plpgsql' OR (l.lanname = 'sql' AND p.prosqlbody IS NULL))
	  AND p.proconfig IS DISTINCT FROM ARRAY['search_path=pg_catalog, antiban, pg_temp']}), '',
	'every SECURITY DEFINER function and every function parsed at run time pins search_path to pg_catalog, antiban, pg_temp');
is($node->safe_psql('postgres', q{
	SELECT string_agg(p.oid::regprocedure::text, ', ')
	FROM pg_proc p WHERE p.pronamespace = 'antiban'::regnamespace AND p.prosecdef
	  AND p.proowner <> 'antiban_owner'::regrole}), '',
	'every SECURITY DEFINER function is owned by antiban_owner');
is($node->safe_psql('postgres', q{
	SELECT rolsuper OR rolcanlogin OR rolbypassrls OR rolcreaterole OR rolcreatedb
	       OR EXISTS (SELECT 1 FROM pg_auth_members m WHERE m.roleid = r.oid)
	FROM pg_roles r WHERE rolname = 'antiban_owner'}), 'f',
	'antiban_owner is NOLOGIN, no superuser, and nobody is a member');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM pg_proc WHERE pronamespace = 'antiban'::regnamespace AND prosecdef
	  AND (SELECT rolsuper FROM pg_roles WHERE oid = proowner)}), '0',
	'no antiban function runs as a superuser');

# The secrets table itself is nobody's to read but antiban_owner's.
for my $role (qw(app reader receiver admin))
{
	my ($ret, $out, $err) = $node->psql('postgres', 'SELECT value FROM antiban.secrets',
		extra_params => [ '-U', $role ]);
	like($err, qr/permission denied for table secrets/, "$role cannot read antiban.secrets");
}
my ($ret, $out, $err) = $node->psql('postgres', 'SHOW antiban.alert_webhook_url',
	extra_params => [ '-U', 'reader' ]);
like($err, qr/must be superuser|permission denied|pg_read_all_settings/,
	'the alert webhook URL (a credential) is hidden from non-superusers');

$node->stop;
done_testing();
