# tester13b: antiban.apply_pending_webhooks(max_events, max_bytes) says "no
# more bodies than max_bytes (the first event always)".  With max_bytes 0,
# negative or NULL it applies nothing at all and answers 0, as if nothing
# were pending: a caller (a pg_cron job, a script that computes its budget)
# is told the backlog is empty while it grows.  The first event must go
# (or the call must refuse the bound with an error), never a silent 0.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('t13b_edges', 'antiban.sender_workers' => '0', 'antiban.webhook_apply' => 'inline', 'antiban.lead_scoring' => 'deferred');
register_numbers($node, '1001' => {});

# (stored and applied in one transaction: the apply workers, which sweep
# pending events every second even inline, never see them)
my $store = q{
	DELETE FROM antiban.webhook_events;
	INSERT INTO antiban.webhook_events (body_raw, body_size, body_sha256, body, signature_valid, status)
	SELECT convert_to(b, 'UTF8'), length(b), sha256(convert_to(b || n, 'UTF8')), b::jsonb, true, 'pending'
	FROM generate_series(1, 2) n, LATERAL (SELECT '{"object":"whatsapp_business_account","entry":[]}'::text AS b) v;};
my $pending = q{SELECT count(*) FROM antiban.webhook_events WHERE status = 'pending';};

for my $bound ('0', '-1', 'NULL')
{
	my ($ret, $out, $err) = $node->psql('postgres',
		"BEGIN; $store SELECT antiban.apply_pending_webhooks(10, $bound); $pending COMMIT;");
	ok(($ret == 0 && $out eq "1\n1") || ($ret != 0 && $err =~ /ERROR/),
		"max_bytes $bound: the first event is applied, or the bound is refused")
		or diag("returned $ret, answered '$out' (applied, then still pending), error: $err");
}

# (what holds: a first event bigger than the bound goes alone)
is($node->safe_psql('postgres', "BEGIN; $store UPDATE antiban.webhook_events SET body_size = 100; "
		. "SELECT antiban.apply_pending_webhooks(10, 50); $pending COMMIT;"), "1\n1", 'a first event past the bound goes alone');

$node->stop;
done_testing();
