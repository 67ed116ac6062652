# antiban.webhook_events is a view of the webhook posts and their outcomes;
# a write through it goes to both tables as one table would take it.  A
# view's rows are not locked for its INSTEAD OF trigger, so an UPDATE that
# copied every column of its snapshot would undo an apply that committed
# while it waited: here one waits behind an apply in progress, and the
# event stays applied, with only the column the UPDATE named changed.  An
# id given or changed is refused, as the identity column refused it.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('view_writes', 'antiban.webhook_apply_workers' => '0');
register_numbers($node, '1001' => {});
my $id = $node->safe_psql('postgres', q{
	INSERT INTO antiban.webhook_events (body_raw, body_size, body_sha256, body, signature_valid, status)
	SELECT convert_to(b, 'UTF8'), length(b), sha256(convert_to(b, 'UTF8')), b::jsonb, true, 'pending'
	FROM (SELECT '{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"1001"},"statuses":[{"id":"wamid.VIEW1","status":"delivered","timestamp":"1893456100","recipient_id":"5511988800001"}]}}]}]}' AS b) v
	RETURNING id});
like($id, qr/^\d+$/, 'an INSERT through the view returns the id the posts gave');
is($node->safe_psql('postgres', qq{
	SELECT (SELECT count(*) FROM antiban.webhook_posts WHERE id = $id) || ' '
	    || (SELECT status FROM antiban.webhook_outcomes WHERE id = $id)}),
	'1 pending', 'and wrote a post and its outcome');

# an apply in progress holds the outcome; an UPDATE through the view waits
my $apply = $node->background_psql('postgres');
$apply->query_safe('BEGIN');
$apply->query_safe("SELECT antiban.apply_webhooks(ARRAY[$id]::bigint[])");
my $update = $node->background_psql('postgres');
$update->query_until(qr/started/, qq{
	\\echo started
	UPDATE antiban.webhook_events SET body_size = body_size + 1 WHERE id = $id;
	\\echo updated
});
ok(wait_for($node, q{SELECT count(*) = 1 FROM pg_stat_activity
	WHERE wait_event_type = 'Lock' AND query LIKE '%UPDATE antiban.webhook_events SET body_size%'}),
	'the UPDATE waits for the apply');
$apply->query_safe('COMMIT');
$apply->quit;
$update->query_until(qr/updated/, '');
$update->quit;
is($node->safe_psql('postgres', qq{
	SELECT status || ' ' || (applied_at IS NOT NULL) || ' ' || (body_size = length(convert_from(body_raw, 'UTF8')) + 1)
	FROM antiban.webhook_events WHERE id = $id}),
	'applied true true', 'the apply that committed meanwhile stays, and the UPDATE changed its column');

# an id is the identity's
my ($rc, $out, $err) = $node->psql('postgres', qq{
	INSERT INTO antiban.webhook_events (id, body_raw, body_size, body_sha256, signature_valid, status)
	VALUES (999999, '\\x7b7d', 2, '\\x01', true, 'pending')});
like($err, qr/cannot insert a non-DEFAULT value into column "id"/, 'an INSERT with an id is refused');
($rc, $out, $err) = $node->psql('postgres', qq{UPDATE antiban.webhook_events SET id = id + 1000 WHERE id = $id});
like($err, qr/column "id" can only be updated to DEFAULT/, 'and an UPDATE of the id');
is($node->safe_psql('postgres', qq{
	DELETE FROM antiban.webhook_events WHERE id = $id;
	SELECT (SELECT count(*) FROM antiban.webhook_posts WHERE id = $id) + (SELECT count(*) FROM antiban.webhook_outcomes WHERE id = $id)}),
	'0', 'a DELETE through the view takes the post and its outcome');

$node->stop;
done_testing();
