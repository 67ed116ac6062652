# The webhook apply worker, after a batch that was not full, lets
# antiban.webhook_apply_gather pass before it applies what that batch left
# behind (events committed while it ran).  Going on at once under a steady
# stream of commits made every batch as small as what arrived during the
# one before, and a small batch costs far more per event than a full one
# (bench/webhook_apply.sh): under load the worker applied batches of a few
# dozen and fell behind.  A full batch still goes on at once (a backlog).
#
# Here: batch 1 waits on a message another session holds; meanwhile an
# event commits that batch 1 cannot see (E1).  When batch 1 ends, E1 is
# pending; a third event (E3) commits half a second later.  Applying E1 at
# once made a batch of E1 alone and another of E3; gathering first applies
# both in one transaction (their rows' xmin is the batch's).  The gather is
# 10 s (its most): the test looks at E1 and commits E3 within it, which on a
# loaded machine can take more than a second or two.
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

my $secret = 'app-secret-gather-035';
my $node = antiban_node('apply_gathers', 'antiban.sender_workers' => '0', 'antiban.webhook_apply' => 'worker',
	'antiban.webhook_apply_workers' => '1', 'antiban.webhook_apply_gather' => '10s');
register_numbers($node, '1001' => {});
$node->safe_psql('postgres', qq{
	SELECT antiban.set_secret('app_secret', '$secret');
	SELECT count(antiban.send_template('+55119876' || lpad(i::text, 5, '0'), 'oferta', 'pt_BR')) FROM generate_series(1, 3) i;
	UPDATE antiban.outbox SET state = 'sent', attempts = 1, wamid = 'wamid.G' || id, sent_at = now();});

sub status_body
{
	my ($n) = @_;
	return sprintf('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":'
		. '{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000001","phone_number_id":"1001"},'
		. '"statuses":[{"id":"wamid.G%d","status":"delivered","timestamp":"%d","recipient_id":"55119876%05d"}]}}]}]}',
		$n, time(), $n);
}
sub ingest_sql
{
	my ($body) = @_;
	return "SELECT count(*) FILTER (WHERE stored AND NOT duplicate) FROM antiban.ingest_webhooks("
		. "ARRAY[convert_to(\$b\$$body\$b\$, 'UTF8')], ARRAY['sha256=" . hmac_sha256_hex($body, $secret) . "'])";
}
sub event_of { return "(SELECT w FROM antiban.webhook_events w WHERE w.body::text LIKE '%wamid.G$_[0]\"%')"; }

is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'antiban webhook apply'}),
	'1', 'one webhook apply worker');
# message 1 held: the batch that applies its status (E2) waits
my $held = $node->background_psql('postgres');
$held->query_safe('BEGIN');
$held->query_safe('SELECT id FROM antiban.outbox WHERE id = 1 FOR UPDATE');
# E1 stored in a transaction still open when batch 1 begins
my $late = $node->background_psql('postgres');
$late->query_safe('BEGIN');
is($late->query_safe(ingest_sql(status_body(2))), '1', 'E1 stored, not committed yet');
is($node->safe_psql('postgres', ingest_sql(status_body(1))), '1', 'E2 stored and committed');
ok(wait_for($node, q{SELECT count(*) > 0 FROM pg_locks l JOIN pg_stat_activity a USING (pid)
	WHERE NOT l.granted AND a.backend_type = 'antiban webhook apply'}), 'batch 1 (E2) waits for the held message');
$late->query_safe('COMMIT');
$held->query_safe('COMMIT');
ok(wait_for($node, 'SELECT (' . event_of(1) . ").status = 'applied'"), 'batch 1 applied E2');
is($node->safe_psql('postgres', 'SELECT (' . event_of(2) . ').status'), 'pending',
	'E1, committed while batch 1 ran, is left pending by it');
usleep(500_000);
is($node->safe_psql('postgres', ingest_sql(status_body(3))), '1', 'E3 stored half a second later');
ok(wait_for($node, q{SELECT count(*) = 3 FROM antiban.webhook_events WHERE status = 'applied'}), 'all three applied');
is($node->safe_psql('postgres', 'SELECT (' . event_of(2) . ').updates + (' . event_of(3) . ').updates'), '2',
	'each moved its message');
# (the transaction that applied an event wrote its outcome: that row's xmin)
is($node->safe_psql('postgres', 'SELECT count(DISTINCT o.xmin::text) FROM antiban.webhook_events x'
		. ' JOIN antiban.webhook_outcomes o USING (id, received_at)'
		. " WHERE x.body::text LIKE '%wamid.G2\"%' OR x.body::text LIKE '%wamid.G3\"%'"),
	'1', 'E1 and E3 applied in one batch: the worker gathered before applying what batch 1 left');
isnt($node->safe_psql('postgres', 'SELECT count(DISTINCT o.xmin::text) FROM antiban.webhook_outcomes o'), '1',
	'and not in batch 1');
eval { $held->quit };
eval { $late->quit };
$node->stop;
done_testing();
