# Secrets: an admin (not only a superuser) can set them, and no error a caller
# can provoke around them shows the value, neither to the client nor in the
# server log.  The server logs every statement and every error statement, so
# a value that got through anywhere would be in the log.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('secrets',
	'log_statement' => 'all',
	'log_min_duration_statement' => '0',
	'log_min_error_statement' => 'error',
	'log_error_verbosity' => 'verbose',
	'restart_after_crash' => 'on');
register_numbers($node, '1001' => {});
$node->safe_psql('postgres', q{
	CREATE ROLE admin LOGIN IN ROLE antiban_admin;
	CREATE ROLE reader LOGIN IN ROLE antiban_reader;
	CREATE TABLE public.notes (note text NOT NULL CHECK (length(note) < 5));
	GRANT INSERT ON public.notes TO admin;
});

# Every value below contains "LEAK": none may appear anywhere.
my @as_admin = (
	[ 'set as admin', q{SELECT antiban.set_secret('app_secret', 'app-LEAK-01-valid')}, 0 ],
	[ 'token set as admin', q{SELECT antiban.set_secret('access_token', 'EAAG-LEAK-02-valid', '200')}, 0 ],
	[ 'token without its WABA', q{SELECT antiban.set_secret('access_token', 'EAAG-LEAK-03')}, 1 ],
	[ 'null kind', q{SELECT antiban.set_secret(NULL, 'EAAG-LEAK-04-null-kind')}, 1 ],
	[ 'null kind, short value', q{SELECT antiban.set_secret(NULL, 'LEAK')}, 1 ],
	[ 'unknown kind (fails before the function starts)', q{SELECT antiban.set_secret('acces_token', 'EAAG-LEAK-05')}, 1 ],
	[ 'wrong arity', q{SELECT antiban.set_secret('app_secret', 'EAAG-LEAK-06', '200', 'x')}, 1 ],
	[ 'bad cast', q{SELECT antiban.set_secret('app_secret', 'EAAG-LEAK-07'::integer::text)}, 1 ],
	[ 'unknown WABA', q{SELECT antiban.set_secret('access_token', 'EAAG-LEAK-08', '999')}, 1 ],
	[ 'arguments swapped', q{SELECT antiban.set_secret('access_token', '200', 'EAAG-LEAK-09')}, 1 ],
	[ 'inside a DO block', q{DO $$ BEGIN PERFORM antiban.set_secret(NULL, 'EAAG-LEAK-10'); END $$}, 1 ],
	[ 'syntax error', q{SELECT antiban.set_secret('app_secret', 'EAAG-LEAK-11'}, 1 ],
	[ 'a failing row next to it', q{INSERT INTO public.notes VALUES ('EAAG-LEAK-12') \; SELECT antiban.set_secret('app_secret', 'EAAG-LEAK-12')}, 1 ],
	[ 'clear a token with a bad WABA', q{SELECT antiban.clear_secret('access_token', 'EAAG-LEAK-13')}, 1 ],
	[ 'verify a guessed token', q{SELECT antiban.webhook_verify('verify-LEAK-14')}, 1 ],
	[ 'dollar-quoted', q{SELECT antiban.set_secret($$app_secret$$, $x$app-LEAK-16-dollar$x$)}, 0 ],
	[ 'dollar-quoted bad cast', q{SELECT antiban.set_secret('app_secret', $x$LEAK-17$x$::int::text)}, 1 ],
	[ 'a Unicode-escaped name', q{SELECT antiban.U&"set_\0073ecret"('app_secret', 'app-LEAK-18-unicode')}, 0 ],
);
for my $case (@as_admin)
{
	my ($name, $sql, $fails) = @$case;
	my ($ret, $out, $err) = $node->psql('postgres', $sql, extra_params => [ '-U', 'admin' ]);
	if ($fails) { isnt($ret, 0, "$name: refused") }
	else { is($ret, 0, "$name: works") or diag($err) }
	unlike($out . $err, qr/LEAK/, "$name: the client sees no secret");
}
my ($ret, $out, $err) = $node->psql('postgres', q{SELECT antiban.set_secret('app_secret', 'EAAG-LEAK-15')},
	extra_params => [ '-U', 'reader' ]);
like($err, qr/permission denied for function set_secret/, 'a reader may not set secrets');
unlike($err, qr/LEAK/, 'and is not shown the value it tried');

# A URL setting given with user:password@ is refused, and PostgreSQL's error quotes the value:
# the superuser's client and the server log see it masked.
($ret, $out, $err) = $node->psql('postgres',
	q{ALTER SYSTEM SET antiban.lead_llm_url = 'https://user:pw-LEAK-19@llm.example/v1/chat/completions'});
isnt($ret, 0, 'a URL setting with credentials is refused');
unlike($out . $err, qr/LEAK/, 'and the error does not show them');

is($node->safe_psql('postgres', q{SELECT string_agg(kind || ':' || length, ',' ORDER BY kind) FROM antiban.secrets_status}),
	'access_token:18,app_secret:19', 'the admin\'s secrets are stored (lengths only in the view)');
($ret, $out, $err) = $node->psql('postgres', 'SELECT value FROM antiban.secrets', extra_params => [ '-U', 'admin' ]);
like($err, qr/permission denied for table secrets/, 'and not even the admin reads them back');
is($node->safe_psql('postgres', q{SELECT antiban.clear_secret('app_secret')}, extra_params => [ '-U', 'admin' ]),
	't', 'the admin clears a secret');

# A backend that dies while running set_secret: the postmaster's report quotes
# the statement it was running.
my $victim = $node->background_psql('postgres');
$victim->query_until(qr/started/, q{
	\echo started
	SELECT antiban.set_secret('app_secret', 'app-LEAK-19-crash'), pg_sleep(600);
});
my $pid;
for (1 .. 100)
{
	$pid = $node->safe_psql('postgres', q{SELECT pid FROM pg_stat_activity WHERE query LIKE '%pg_sleep(600)%' AND pid <> pg_backend_pid()});
	last if $pid;
	select(undef, undef, undef, 0.1);
}
ok($pid, 'a backend is running set_secret');
kill 'KILL', $pid;
eval { $victim->quit };
ok($node->poll_query_until('postgres', 'SELECT true'), 'the server came back');

my $log = slurp_file($node->logfile);
like($log, qr/Failed process was running: SELECT antiban\.set_secret\('app_secret', '\*\*\*'\)/,
	'the crash report names the statement, masked');
like($log, qr/statement: SELECT antiban\.set_secret\('app_secret', '\*\*\*'\)/,
	'statements that carry a secret are logged masked');
like($log, qr/invalid input value for enum antiban\.secret_kind/,
	'errors raised before set_secret starts are in the log');
unlike($log, qr/LEAK/, 'no secret value anywhere in the server log');

$node->stop;
done_testing();
