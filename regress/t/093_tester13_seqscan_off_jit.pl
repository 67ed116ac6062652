# tester13: the lead flow's functions now run with enable_seqscan = off
# (SET on the function, so for everything they call).  A scan that has no
# index to use is then still a sequential scan, costed at disable_cost
# (1e10): far past jit_above_cost (100000, the default), so in a client
# session (jit = on, the default) such a statement is compiled with LLVM,
# optimized and inlined (past jit_optimize_above_cost and
# jit_inline_above_cost too), at every execution.  Only antiban's workers
# and the ingest call turn JIT off; an admin's antiban.process_lead_events()
# does not.  Default JIT settings here: nothing is forced to compile.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use Digest::SHA qw(hmac_sha256_hex);
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = PostgreSQL::Test::Cluster->new('t13_jit');
$node->init;
$node->append_conf('postgresql.conf', <<'EOC');
shared_preload_libraries = 'antiban, auto_explain'
antiban.database_name = 'postgres'
antiban.monitor = off
antiban.sender_workers = 0
antiban.lead_scoring = deferred
antiban.lead_scoring_interval = '1h'
jit = on
auto_explain.log_min_duration = 0
auto_explain.log_nested_statements = on
log_line_prefix = '%b|%a|'
EOC
$node->start;
my $plan = $node->safe_psql('postgres', 'SET jit_above_cost = 0; EXPLAIN (ANALYZE) SELECT sum(i) FROM generate_series(1, 10) i');
plan skip_all => 'JIT is not available in this server' unless $plan =~ /JIT:/;
$node->safe_psql('postgres', 'CREATE EXTENSION antiban');
# The antiban leads worker looks for the extension every 5 s and, once it
# finds it, scores the queue at once (the hour's interval runs from there):
# it must have made that first pass before anything is queued below, or it
# may take the events this test counts and processes.  It says it is off
# (no LLM URL) right after that pass.
ok(wait_for($node, q{SELECT count(*) = 1 FROM pg_stat_activity
	WHERE backend_type = 'antiban leads' AND query LIKE 'off:%'}, 120), 'the leads worker made its first pass');
register_numbers($node, '1001' => {});
$node->safe_psql('postgres', q{
	SELECT antiban.set_secret('app_secret', 'tester13-jit');
	CREATE ROLE admin LOGIN IN ROLE antiban_admin;});

# a few inbound messages, queued (deferred scoring)
for my $n (1 .. 3)
{
	my $body = encode_json({ object => 'whatsapp_business_account',
		entry => [ { id => '200', changes => [ { field => 'messages', value => {
			messaging_product => 'whatsapp',
			metadata => { display_phone_number => '5511900000001', phone_number_id => '1001' },
			contacts => [ { profile => { name => "P$n" }, wa_id => "551198730000$n" } ],
			messages => [ { from => "551198730000$n", id => "wamid.T13J$n", timestamp => '' . time(),
				type => 'text', text => { body => 'Quero investir 300 mil em CDB' } } ] } } ] } ] });
	(my $lit = $body) =~ s/'/''/g;
	$node->safe_psql('postgres', "SELECT count(*) FROM antiban.ingest_webhook(convert_to('$lit', 'UTF8'), 'sha256="
		. hmac_sha256_hex($body, 'tester13-jit') . "')");
}
is($node->safe_psql('postgres', 'SELECT count(*) FROM antiban.lead_event_queue'), '3', 'three lead events queued');

# an admin processes the queue, in an ordinary session (jit and its costs as shipped)
my $offset = -s $node->logfile;
is($node->safe_psql('postgres', 'SELECT antiban.process_lead_events()', extra_params => [ '-U', 'admin' ],
		connstr => $node->connstr('postgres') . ' application_name=t13admin'), '3', 'an admin processes them');
is($node->safe_psql('postgres', 'SELECT count(*) FROM antiban.leads'), '3', 'three leads made');

# statements the session named APP logged since OFFSET: how many plans, and
# the first lines of those JIT compiled
sub logged_plans
{
	my ($app, $offset) = @_;
	my $log = substr(slurp_file($node->logfile), $offset);
	my ($plans, $current, $text, @compiled) = (0, '', '', ());
	for my $line (split /\n/, $log)
	{
		if ($line =~ /^[^|]*\|([^|]*)\|\w+:\s+(.*)/)
		{
			$current = $1;
			if ($current eq $app && $2 =~ /^duration: .* plan:/) { $plans++; $text = ''; }
			next;
		}
		next unless $current eq $app;
		$text .= "$line\n";
		push @compiled, (split /\n/, $text)[0 .. 3] if $line =~ /^\s*JIT:/;
	}
	return ($plans, @compiled);
}
my ($plans, @compiled) = logged_plans('t13admin', $offset);
cmp_ok($plans, '>', 0, "the admin's statements were logged with their plans");
is(scalar(@compiled) / 4, 0, 'none of them was JIT-compiled under the default jit_above_cost')
	or diag(join("\n", @compiled[0 .. 11]));

# three pending webhook events, each an inbound text (wamid.TAGn, from
# WA_IDn) and a status, stored as the receiver stores them
sub pending_sql
{
	my ($tag, $wa_id) = @_;
	return qq{
	INSERT INTO antiban.webhook_events (body_raw, body_size, body_sha256, body, signature_valid, status)
	SELECT convert_to(b, 'UTF8'), length(b), sha256(convert_to(b, 'UTF8')), b::jsonb, true, 'pending'
	FROM generate_series(1, 3) n,
	     LATERAL (SELECT format('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":'
	                            '{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000001","phone_number_id":"1001"},'
	                            '"contacts":[{"profile":{"name":"$tag%s"},"wa_id":"$wa_id%s"}],'
	                            '"messages":[{"from":"$wa_id%s","id":"wamid.$tag%s","timestamp":"%s","type":"text","text":{"body":"Oi"}}],'
	                            '"statuses":[{"id":"wamid.${tag}S%s","status":"delivered","timestamp":"%s","recipient_id":"$wa_id%s"}]}}]}]}',
	                            n, n, n, n, extract(epoch FROM now())::bigint, n, extract(epoch FROM now())::bigint, n) AS b) v;};
}

# The webhook apply disables sequential scans too: a superuser's (or a
# pg_cron job's) antiban.apply_pending_webhooks, in a session with jit on,
# compiled its batch statement at every call (0.4 s a batch).
# (stored and applied in one transaction: the apply workers, which sweep
# pending events every second, never see them)
$offset = -s $node->logfile;
is($node->safe_psql('postgres', 'BEGIN;' . pending_sql('T13Q', '55119873100') . q{
	SELECT antiban.apply_pending_webhooks();
	COMMIT;},
		connstr => $node->connstr('postgres') . ' application_name=t13apply'), '3', 'a superuser applies three pending webhooks');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.interactions WHERE wamid LIKE 'wamid.T13Q%'}), '3',
	'their messages were applied');
($plans, @compiled) = logged_plans('t13apply', $offset);
cmp_ok($plans, '>', 0, "the apply's statements were logged with their plans");
is(scalar(@compiled) / 4, 0, 'none of the webhook apply statements was JIT-compiled')
	or diag(join("\n", @compiled[0 .. 11]));

# A caller that lowered the JIT costs (a DBA's setting, or SET as here):
# nothing inside apply_pending_webhooks compiles either; its own statement
# (pending events locked, the byte window, the call) did, 0.1 s for three
# events, before it too was set jit = off (tester13b).
# (stored in the transaction that applies them, as above)
my $store_jit = pending_sql('T13BJ', '55119874100');

# the plans logged for statements nested in the call (CONTEXT names a
# function), and the first lines of those JIT compiled
$offset = -s $node->logfile;
is($node->safe_psql('postgres', "BEGIN; $store_jit SET LOCAL jit_above_cost = 0; SET LOCAL jit_inline_above_cost = 0; "
		. 'SET LOCAL jit_optimize_above_cost = 0; SELECT antiban.apply_pending_webhooks(); COMMIT;',
		connstr => $node->connstr('postgres') . ' application_name=t13bjit'), '3', 'three pending webhooks applied');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.interactions WHERE wamid LIKE 'wamid.T13BJ%'}), '3',
	'their messages were applied');
my $jit_log = substr(slurp_file($node->logfile), $offset);
my $nested = 0;
@compiled = ();
# one logged plan: from "duration: ... plan:" to the next line of another message
for my $entry (split /(?=^[^|\n]*\|[^|\n]*\|LOG:  duration: )/m, $jit_log)
{
	next unless $entry =~ /^[^|]*\|t13bjit\|LOG:  duration: .* plan:/;
	my ($plan_text) = split /\n(?=[^\t])/, $entry, 2;
	my ($context) = $entry =~ /\|t13bjit\|CONTEXT:  (.*)/;
	next unless defined $context;    # the top-level SELECT: the caller's own
	$nested++;
	push @compiled, "$context: " . join(' / ', grep { /JIT:|Functions:|Query Text|^\t\S/ } (split /\n/, $plan_text)[0 .. 2])
		if $plan_text =~ /^\s*JIT:/m;
}
cmp_ok($nested, '>', 0, 'the statements nested in the apply were logged with their plans');
is(scalar(@compiled), 0, 'none of the statements inside apply_pending_webhooks was JIT-compiled')
	or diag(join("\n", @compiled));

$node->stop;
done_testing();
