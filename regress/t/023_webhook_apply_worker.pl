# Webhook ingest in batches.  The receiver sends every POST that arrived
# while its previous call ran in one call of antiban.ingest_webhooks, so
# many POSTs share one commit; with antiban.webhook_apply = worker (inline
# is the default) that call only stores, and the webhook apply worker applies what
# a commit stored right after it (having let antiban.webhook_apply_gather
# pass, so one batch takes what several commits stored), and on its
# one-second tick whatever no commit woke it for, also after a crash.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use HTTP::Tiny;
use Digest::SHA qw(hmac_sha256_hex);
use Time::HiRes qw(usleep);
use POSIX ();
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $secret = 'app-secret-batches-01';
my $node = antiban_node('apply_worker', 'antiban.sender_workers' => '0', 'antiban.webhook_apply' => 'worker');
register_numbers($node, '1001' => {});
$node->safe_psql('postgres', qq{
	SELECT antiban.set_secret('app_secret', '$secret');
	CREATE ROLE receiver LOGIN IN ROLE antiban_receiver;
	CREATE ROLE dashboard LOGIN IN ROLE antiban_dashboard;
	SELECT count(antiban.send_template('+55119876' || lpad(i::text, 5, '0'), 'oferta', 'pt_BR')) FROM generate_series(1, 40) i;
	UPDATE antiban.outbox SET state = 'sent', attempts = 1, wamid = 'wamid.W' || id, sent_at = now();});

# A status POST for message n, one change, as Meta usually sends.
sub status_body
{
	my ($n, $status) = @_;
	return sprintf('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":'
		. '{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000001","phone_number_id":"1001"},'
		. '"statuses":[{"id":"wamid.W%d","status":"%s","timestamp":"%d","recipient_id":"55119876%05d"}]}}]}]}',
		$n, $status, time(), $n);
}
sub sign { return 'sha256=' . hmac_sha256_hex($_[0], $secret); }
sub ingest_sql
{
	my @bodies = @_;
	return 'SELECT count(*) FILTER (WHERE stored AND NOT duplicate) FROM antiban.ingest_webhooks(ARRAY['
		. join(',', map { "convert_to(\$b\$$_\$b\$, 'UTF8')" } @bodies) . '], ARRAY['
		. join(',', map { "'" . sign($_) . "'" } @bodies) . '])';
}

# ---- 1. The worker applies what a commit stored ----
is($node->safe_psql('postgres', 'SHOW antiban.webhook_apply'), 'worker', 'the worker applies (antiban.webhook_apply = worker)');
is($node->safe_psql('postgres', ingest_sql(map { status_body($_, 'delivered') } 1 .. 5),
		extra_params => [ '-U', 'receiver' ]), '5', 'five POSTs stored in one call');
ok(wait_for($node, q{SELECT count(*) = 5 FROM antiban.webhook_events WHERE status = 'applied' AND applied_at >= received_at}),
	'the worker applied all five, each with its applied_at');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.outbox WHERE id <= 5 AND state = 'delivered'}), '5',
	'and their messages are delivered');
ok(wait_for($node, q{SELECT count(*) = 2 FROM pg_stat_activity WHERE backend_type = 'antiban webhook apply'}),
	'two webhook apply workers run (antiban.webhook_apply_workers)');

# ---- 2. What no commit woke it for: its tick, and a crash ----
# a row pending while no commit wakes the worker: only its tick finds it
$node->safe_psql('postgres', q{
	INSERT INTO antiban.webhook_events (body_raw, body_size, body_sha256, body, signature_valid, status)
	SELECT convert_to(b, 'UTF8'), length(b), sha256(convert_to(b, 'UTF8')), b::jsonb, true, 'pending'
	FROM (VALUES ('} . status_body(7, 'read') . q{')) v(b)});
ok(wait_for($node, q{SELECT status = 'applied' FROM antiban.webhook_events WHERE body::text LIKE '%wamid.W7"%'}),
	'the tick applies an event no commit woke the worker for');
# Another session holds message 6, so the worker's batch with its status
# waits: the event is pending when the server crashes, and applied after.
my $held = $node->background_psql('postgres');
$held->query_safe('BEGIN');
$held->query_safe('SELECT id FROM antiban.outbox WHERE id = 6 FOR UPDATE');
$node->safe_psql('postgres', ingest_sql(status_body(6, 'read')), extra_params => [ '-U', 'receiver' ]);
ok(wait_for($node, q{SELECT count(*) > 0 FROM pg_locks l JOIN pg_stat_activity a USING (pid)
	WHERE NOT l.granted AND a.backend_type = 'antiban webhook apply'}), 'the worker waits for the held message');
is($node->safe_psql('postgres', q{SELECT status FROM antiban.webhook_events WHERE body::text LIKE '%wamid.W6"%'}),
	'pending', 'its event is pending meanwhile');
$node->stop('immediate');
eval { $held->quit };
$node->start;
ok(wait_for($node, q{SELECT count(*) = 0 FROM antiban.webhook_events WHERE status = 'pending'}),
	'after a crash and restart every pending event is applied');
is($node->safe_psql('postgres', q{SELECT string_agg(id || ' ' || state, ',' ORDER BY id) FROM antiban.outbox WHERE id IN (6, 7)}),
	'6 read,7 read', 'their messages moved');

# ---- 3. The receiver: POSTs that arrive while a call runs share the next ----
# One database connection (--pool 1).  While another session holds a lock
# that the first call needs, the other POSTs wait in the receiver's queue;
# once it is released they all go in one call, one commit.
my $r = start_receiver($node, admin_user => 'dashboard', args => [ '--pool', '1', '--batch', '500' ]);
my $http = HTTP::Tiny->new(timeout => 30, keep_alive => 0);
sub metric
{
	my ($name) = @_;
	my $m = $http->get("$r->{admin_url}/metrics");
	return $m->{content} =~ /^\Q$name\E (\d+)$/m ? $1 : -1;
}
my $calls_before = metric('antiban_receiver_ingest_calls_total');
$held = $node->background_psql('postgres');
$held->query_safe('BEGIN');
$held->query_safe('LOCK TABLE antiban.webhook_events IN SHARE ROW EXCLUSIVE MODE');
my $posts = 12;
my @kids;
sub post_in_background
{
	my ($n) = @_;
	my $pid = fork();
	die "fork: $!" unless defined $pid;
	if ($pid == 0)
	{
		my $body = status_body($n, 'delivered');
		my $res = HTTP::Tiny->new(timeout => 60, keep_alive => 0)->post("$r->{url}/webhook",
			{ content => $body, headers => { 'content-type' => 'application/json', 'x-hub-signature-256' => sign($body) } });
		# not exit(): that would run the test's END blocks, which stop the node
		POSIX::_exit($res->{status} == 200 ? 0 : 1);
	}
	push @kids, $pid;
}
# the first POST's call waits for the lock ...
post_in_background(11);
ok(wait_for($node, q{SELECT count(*) > 0 FROM pg_locks l JOIN pg_stat_activity a USING (pid)
	WHERE NOT l.granted AND a.usename = 'receiver'}), 'the first call waits for the lock');
# ... and the others wait in the receiver's queue
post_in_background($_) for 12 .. 10 + $posts;
my $queued = 0;
for (1 .. 1200)
{
	$queued = metric('antiban_receiver_webhook_queued');
	last if $queued == $posts - 1;
	usleep(50_000);
}
is($queued, $posts - 1, 'while the first call waits, the other POSTs wait in the queue');
$held->query_safe('COMMIT');
$held->quit;
my $answered = 0;
for my $pid (@kids)
{
	waitpid($pid, 0);
	$answered++ if $? == 0;
}
is($answered, $posts, 'every POST answered 200');
is(metric('antiban_receiver_ingest_calls_total') - $calls_before, 2, "$posts POSTs took two calls (two commits)");
is(metric('antiban_receiver_ingest_posts_total'), $posts, 'with every POST in them');
ok(wait_for($node, q{SELECT count(*) = 0 FROM antiban.webhook_events WHERE status = 'pending'}), 'all applied');
is($node->safe_psql('postgres', sprintf(q{SELECT count(*) FROM antiban.outbox WHERE id BETWEEN 11 AND %d AND state = 'delivered'}, 10 + $posts)),
	$posts, 'every message delivered');
stop_receiver($r);

# ---- 4. Woken by a commit, the worker gathers before it applies ----
# Four commits half a second apart, with antiban.webhook_apply_gather at
# 10 s: one batch applies all four, none before the last was stored (at
# once, the first would be applied long before the fourth arrives).
# (set at a restart: a reload reaches a worker only at its next tick, which
# a loaded machine may delay past any fixed sleep)
$node->append_conf('postgresql.conf', "antiban.webhook_apply_gather = '10s'");
$node->restart;
ok(wait_for($node, q{SELECT count(*) = 2 FROM pg_stat_activity
	WHERE backend_type = 'antiban webhook apply' AND wait_event = 'Extension'}),
	'the gather is 10 s, and both workers wait for work');
$node->safe_psql('postgres', join(";\nSELECT pg_sleep(0.5);\n", map { ingest_sql(status_body($_, 'delivered')) } 36 .. 39),
	extra_params => [ '-U', 'receiver' ]);
ok(wait_for($node, q{SELECT count(*) = 4 FROM antiban.webhook_events WHERE status = 'applied'
	AND body::text ~ 'wamid\.W3[6-9]"'}), 'the four are applied');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM antiban.webhook_events e
	WHERE e.body::text ~ 'wamid\.W3[6-9]"'
	  AND e.applied_at >= (SELECT max(x.received_at) FROM antiban.webhook_events x WHERE x.body::text ~ 'wamid\.W3[6-9]"')}),
	'4', 'in one batch, after the last of them was stored');
$node->stop;
done_testing();
