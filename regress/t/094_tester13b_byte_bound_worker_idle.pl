# tester13b: the webhook apply worker (antiban.webhook_apply = worker) with
# a backlog of big bodies.  apply_pending_webhooks(batch) now stops a batch
# at 32 MB of bodies, so with big bodies it applies fewer events than the
# batch size although more are waiting; the worker takes "fewer than the
# batch size" to mean "drained" and sleeps a tick (1 s) before the next
# batch.  A backlog of big bodies then drains at one byte-bounded batch per
# second instead of batch after batch.  Asserted on what happened, not on
# time: the worker is never seen waiting, idle, while events it could apply
# are pending and none of them moves.  A long antiban.webhook_apply_gather
# (10 s): a batch cut short by its bytes is a backlog, and goes on at once,
# without the gather a batch that was not full waits first (for a while it
# waited the gather instead: a stall of 10 s per batch here).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('t13b_bytes', 'antiban.sender_workers' => '0', 'antiban.webhook_apply' => 'worker',
	'antiban.webhook_apply_workers' => '1', 'antiban.lead_scoring' => 'deferred', 'antiban.webhook_apply_gather' => '10s');
register_numbers($node, '1001' => {});
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'antiban webhook apply'}),
	'1', 'one apply worker');

# 30 pending events as Meta's big ones count: 12 MB each as received (the
# stored body is small; the bound reads body_size), so a batch takes three
# (0, 12 and 24 MB before it: under 32 MB), and ten batches drain them.
my $events = 30;
$node->safe_psql('postgres', qq{
	INSERT INTO antiban.webhook_events (body_raw, body_size, body_sha256, body, signature_valid, status)
	SELECT convert_to(b, 'UTF8'), 12 * 1024 * 1024, sha256(convert_to(b, 'UTF8')), b::jsonb, true, 'pending'
	FROM generate_series(1, $events) n,
	     LATERAL (SELECT format('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":'
	                            '{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000001","phone_number_id":"1001"},'
	                            '"contacts":[{"profile":{"name":"B%s"},"wa_id":"5511987%s"}],'
	                            '"messages":[{"from":"5511987%s","id":"wamid.T13B%s","timestamp":"%s","type":"text","text":{"body":"Oi"}}]}}]}]}',
	                            n, lpad(n::text, 6, '0'), lpad(n::text, 6, '0'), n, extract(epoch FROM now())::bigint - 600 + n) AS b) v});

# Sample the backlog and the worker's state until it is drained: a stall is
# the same pending count in three samples in a row with the worker idle
# and waiting on its latch (wait event Extension) in each of them; idle with
# no wait event is a worker between two batches, which a loaded machine may
# not have scheduled yet.
my ($stalls, $run, $last, $deadline) = (0, 0, -1, time() + 180);
while (time() < $deadline)
{
	my ($pending, $state) = split /\|/, $node->safe_psql('postgres', q{
		SELECT (SELECT count(*) FROM antiban.webhook_events WHERE status = 'pending'),
		       (SELECT string_agg(state || ':' || coalesce(wait_event, ''), ',') FROM pg_stat_activity
		        WHERE backend_type = 'antiban webhook apply')});
	last if $pending == 0;
	# (from the first batch on: stored directly, not by ingest, the events
	# wake no worker, and the first batch waits for the one-second tick)
	if ($pending < $events && $state =~ /^idle:Extension$/ && $pending == $last) { $run++; } else { $run = 0; }
	$stalls++ if $run == 2;
	$last = $pending;
	usleep(100_000);
}
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.webhook_events WHERE status = 'pending'}), '0',
	'the backlog is drained in the end');
is($node->safe_psql('postgres', q{SELECT string_agg(DISTINCT array_to_string(problems, '; '), ' | ') FROM antiban.webhook_events WHERE status <> 'applied'}), '',
	'every event applied without problems');
is($stalls, 0, 'the worker never sat idle while events it could apply were pending and none moved');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.interactions WHERE wamid LIKE 'wamid.T13B%'}), "$events",
	'every inbound message recorded once');
is($node->safe_psql('postgres', q{SELECT sum(updates) FROM antiban.webhook_events}), "$events",
	'the credits add up to the messages recorded');

$node->stop;
done_testing();
