# tester13b: 093 checks that a superuser's antiban.apply_pending_webhooks in
# a jit = on session compiles nothing under the default JIT costs.
# apply_webhooks and process_lead_events carry SET jit = off, but
# apply_pending_webhooks itself (a SQL function, BEGIN ATOMIC) does not: its
# own statement (pending events locked, the byte window, the call) is
# planned with the caller's JIT settings.  A DBA who lowered
# jit_above_cost (or a session that SETs it to 0, as this test does) gets
# that statement compiled, inlined and optimized at every batch (about
# 0.1 s here for three events).  Nothing inside the apply should compile.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = PostgreSQL::Test::Cluster->new('t13b_jit');
$node->init;
$node->append_conf('postgresql.conf', <<'EOC');
shared_preload_libraries = 'antiban, auto_explain'
antiban.database_name = 'postgres'
antiban.monitor = off
antiban.sender_workers = 0
antiban.webhook_apply = inline
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
register_numbers($node, '1001' => {});
# (stored in the transaction that applies them: the apply workers, which
# sweep pending events every second even inline, never see them)
my $store = q{
	INSERT INTO antiban.webhook_events (body_raw, body_size, body_sha256, body, signature_valid, status)
	SELECT convert_to(b, 'UTF8'), length(b), sha256(convert_to(b, 'UTF8')), b::jsonb, true, 'pending'
	FROM generate_series(1, 3) n,
	     LATERAL (SELECT format('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":'
	                            '{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000001","phone_number_id":"1001"},'
	                            '"contacts":[{"profile":{"name":"J%s"},"wa_id":"55119874100%s"}],'
	                            '"messages":[{"from":"55119874100%s","id":"wamid.T13BJ%s","timestamp":"%s","type":"text","text":{"body":"Oi"}}]}}]}]}',
	                            n, n, n, n, extract(epoch FROM now())::bigint) AS b) v;};

# the plans logged for statements nested in the call (CONTEXT names a
# function), and the first lines of those JIT compiled
my $offset = -s $node->logfile;
is($node->safe_psql('postgres', "BEGIN; $store SET LOCAL jit_above_cost = 0; SET LOCAL jit_inline_above_cost = 0; "
		. 'SET LOCAL jit_optimize_above_cost = 0; SELECT antiban.apply_pending_webhooks(); COMMIT;',
		connstr => $node->connstr('postgres') . ' application_name=t13bjit'), '3', 'three pending webhooks applied');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.interactions WHERE wamid LIKE 'wamid.T13BJ%'}), '3',
	'their messages were applied');
my $log = substr(slurp_file($node->logfile), $offset);
my ($nested, @compiled) = (0, ());
# one logged plan: from "duration: ... plan:" to the next line of another message
for my $entry (split /(?=^[^|\n]*\|[^|\n]*\|LOG:  duration: )/m, $log)
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
