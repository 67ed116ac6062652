# tester13: the webhook apply across pg_partman's monthly partitions.
# Events of many months (and some past the premade ones, in the default
# partition) pending at once, applied by antiban.apply_pending_webhooks in
# small batches that span partitions, a message's delivered in one month
# and its read in another; antiban.apply_webhooks called with ids only (the
# inline path); every event applied once, every message at its furthest
# state, the updates credits equal to the moves.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Digest::SHA qw(hmac_sha256_hex);
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('t13_parts', 'antiban.sender_workers' => '0');
register_numbers($node, '1001' => {});
my $messages = 40;
$node->safe_psql('postgres', qq{
	SELECT antiban.set_secret('app_secret', 'tester13-parts');
	SELECT count(antiban.send_template('+55119871' || lpad(i::text, 5, '0'), 'oferta', 'pt_BR')) FROM generate_series(1, $messages) i;
	UPDATE antiban.outbox SET state = 'sent', attempts = 1, wamid = 'wamid.T13P' || id, sent_at = now();
	CREATE TABLE public.t13_moves (message bigint, old_state text, new_state text);
	CREATE FUNCTION public.t13_log_move() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS \$\$
	BEGIN INSERT INTO public.t13_moves VALUES (NEW.id, OLD.state, NEW.state); RETURN NULL; END \$\$;
	CREATE TRIGGER t13_log_move AFTER UPDATE ON antiban.outbox FOR EACH ROW
	WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION public.t13_log_move();
	SET client_min_messages = warning;
	CREATE SCHEMA partman;
	CREATE EXTENSION pg_partman SCHEMA partman;
	UPDATE antiban.settings SET value = '400 days' WHERE name = 'retention.webhook_events';});
like($node->safe_psql('postgres', q{SELECT antiban.manage_partitions()}), qr/partitions/, 'pg_partman partitions the events');
ok($node->safe_psql('postgres', q{SELECT count(*) FROM pg_partition_tree('antiban.webhook_posts') WHERE isleaf}) >= 3,
	'into several partitions');

# A pending status event stored as the receiver stores one, received at a chosen time.
my $events_sql = q{
	CREATE FUNCTION pg_temp.pending(n integer, status text, at timestamptz) RETURNS bigint LANGUAGE sql AS $$
		INSERT INTO antiban.webhook_events (body_raw, body_size, body_sha256, body, signature_valid, status, received_at)
		SELECT convert_to(b, 'UTF8'), length(b), sha256(convert_to(b, 'UTF8')), b::jsonb, true, 'pending', at
		FROM (SELECT format('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":'
		                    '{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000001","phone_number_id":"1001"},'
		                    '"statuses":[{"id":"wamid.T13P%s","status":"%s","timestamp":"%s","recipient_id":"55119871%s"}]}}]}]}',
		                    n, status, extract(epoch FROM now())::bigint, lpad(n::text, 5, '0')) AS b) v
		RETURNING id
	$$;
};

# ---- 1. a year of pending events, applied in batches of 7 ----
# message i: delivered received (i * 9) days ago, read 8 days later (often
# the next month's partition); messages 31-40: delivered and read in the
# future, past every premade partition (the default one)
is($node->safe_psql('postgres', $events_sql . qq{
	BEGIN;
	SELECT count(pg_temp.pending(i, 'delivered', now() - (i * 9) * interval '1 day'))
	     + count(pg_temp.pending(i, 'read', now() - (i * 9 - 8) * interval '1 day'))
	FROM generate_series(1, 30) i;
	SELECT count(pg_temp.pending(i, 'delivered', now() + interval '300 days' + i * interval '1 hour'))
	     + count(pg_temp.pending(i, 'read', now() + interval '330 days' + i * interval '1 hour'))
	FROM generate_series(31, $messages) i;
	SELECT count(DISTINCT p.tableoid) >= 10 FROM antiban.webhook_posts p JOIN antiban.webhook_outcomes o USING (id, received_at) WHERE o.status = 'pending';
	CREATE TEMP TABLE rounds AS SELECT 0 AS r, 0 AS applied;
	DO \$\$ DECLARE n integer; k integer := 0; BEGIN
		LOOP
			n := antiban.apply_pending_webhooks(7);
			EXIT WHEN n = 0 OR k > 100;
			k := k + 1;
			INSERT INTO rounds VALUES (k, n);
		END LOOP;
	END \$\$;
	SELECT sum(applied) FROM rounds;
	COMMIT;}), "60\n20\nt\n80", 'events of more than ten partitions, all 80 applied in batches of 7');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.webhook_events WHERE status <> 'applied'}), '0',
	'every event applied whole');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.outbox WHERE state <> 'read'}), '0',
	'every message read, its furthest state');
is($node->safe_psql('postgres', q{SELECT (SELECT sum(updates) FROM antiban.webhook_events) = (SELECT count(*) FROM public.t13_moves)}),
	't', 'the updates credits equal the moves');
is($node->safe_psql('postgres', q{SELECT count(*) FROM (SELECT message, new_state FROM public.t13_moves GROUP BY 1, 2 HAVING count(*) > 1) d}),
	'0', 'no message moved to the same state twice');

# ---- 2. ids only (the inline path), events of old months ----
$node->safe_psql('postgres', q{
	SELECT antiban.send_template('+5511987200001', 'oferta', 'pt_BR'), antiban.send_template('+5511987200002', 'oferta', 'pt_BR');
	UPDATE antiban.outbox SET state = 'sent', attempts = 1, wamid = 'wamid.T13P' || id, sent_at = now() WHERE wamid IS NULL;
	DELETE FROM public.t13_moves WHERE old_state = 'queued';});
is($node->safe_psql('postgres', $events_sql . q{
	BEGIN;
	SELECT antiban.apply_webhooks(ARRAY[pg_temp.pending(41, 'read', now() - interval '200 days'),
	                                    pg_temp.pending(42, 'delivered', now() - interval '100 days'),
	                                    pg_temp.pending(42, 'read', now() + interval '400 days')]);
	COMMIT;}), '3', 'apply_webhooks(ids) applies events of three partitions');
is($node->safe_psql('postgres', q{SELECT string_agg(state::text, ',' ORDER BY id) FROM antiban.outbox WHERE id IN (41, 42)}),
	'read,read', 'their messages are read');
is($node->safe_psql('postgres', q{SELECT (SELECT sum(updates) FROM antiban.webhook_events) = (SELECT count(*) FROM public.t13_moves)}),
	't', 'and the credits still equal the moves');

# ---- 3. the inline ingest after the hand-over ----
my $body = '{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":'
	. '{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000001","phone_number_id":"1001"},'
	. '"statuses":[{"id":"wamid.T13P1","status":"read","timestamp":"' . time() . '","recipient_id":"5511987100001"}]}}]}]}';
my $event = $node->safe_psql('postgres', "SELECT event_id FROM antiban.ingest_webhook(convert_to(\$b\$$body\$b\$, 'UTF8'), 'sha256="
	. hmac_sha256_hex($body, 'tester13-parts') . "')");
is($node->safe_psql('postgres', "SELECT status FROM antiban.webhook_events WHERE id = $event"), 'applied', 'an ingested event is applied at once');

$node->stop;
done_testing();
