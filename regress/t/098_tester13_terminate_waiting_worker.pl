# tester13: an ops person stops a webhook apply worker that waits for a
# lock (another session sits idle in a transaction holding a message):
# pg_terminate_backend() answers true, but the worker's SIGTERM handler only
# sets a flag read between batches, so the worker keeps waiting as long as
# the lock is held; only pg_cancel_backend() or killing the holder frees it.
# Expected: the worker leaves (its batch rolled back, the events pending)
# and is started again.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Digest::SHA qw(hmac_sha256_hex);
use Time::HiRes qw(usleep);
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $secret = 'tester13-terminate';
my $node = antiban_node('t13_term', 'antiban.sender_workers' => '0', 'antiban.webhook_apply' => 'worker',
	'antiban.webhook_apply_workers' => '1');
register_numbers($node, '1001' => {});
$node->safe_psql('postgres', qq{
	SELECT antiban.set_secret('app_secret', '$secret');
	SELECT antiban.send_template('+5511987300001', 'oferta', 'pt_BR');
	UPDATE antiban.outbox SET state = 'sent', attempts = 1, wamid = 'wamid.T13T1', sent_at = now();});
my $body = '{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":'
	. '{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000001","phone_number_id":"1001"},'
	. '"statuses":[{"id":"wamid.T13T1","status":"read","timestamp":"' . time() . '","recipient_id":"5511987300001"}]}}]}]}';

my $held = $node->background_psql('postgres');
$held->query_safe('BEGIN');
$held->query_safe('SELECT id FROM antiban.outbox WHERE wamid = \'wamid.T13T1\' FOR UPDATE');
$node->safe_psql('postgres', "SELECT count(*) FROM antiban.ingest_webhooks(ARRAY[convert_to(\$b\$$body\$b\$, 'UTF8')], ARRAY['sha256="
	. hmac_sha256_hex($body, $secret) . "'])");
ok(wait_for($node, q{SELECT count(*) > 0 FROM pg_locks l JOIN pg_stat_activity a USING (pid)
	WHERE NOT l.granted AND a.backend_type = 'antiban webhook apply'}), 'the apply worker waits for the held message');
my $pid = $node->safe_psql('postgres', q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'antiban webhook apply'});
is($node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)"), 't', 'pg_terminate_backend answers true');
my $gone = 0;
for (1 .. 300)	# 30 s, the lock still held
{
	if ($node->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE pid = $pid") eq '0') { $gone = 1; last; }
	usleep(100_000);
}
ok($gone, 'the terminated worker leaves although the lock is still held');
is($node->safe_psql('postgres', q{SELECT status FROM antiban.webhook_events}), 'pending', 'its event is still pending');
$held->query_safe('ROLLBACK');
$held->quit;
ok(wait_for($node, q{SELECT status = 'applied' FROM antiban.webhook_events}), 'once the lock is gone the event is applied');
$node->stop;
done_testing();
