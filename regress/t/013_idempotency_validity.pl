# The same idempotency key twice sends once; a message whose validity passes
# while it waits becomes 'expired' and is never sent; cancel stops a queued
# message; read receipts and free-form replies reach Meta in their shape.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $sim = start_simulator();
sim_post($sim, '/_sim/config', {
	numbers => { '1001' => { throughput => 1000, portfolio => 'p1', waba => '200' },
	             '1002' => { throughput => 1000, portfolio => 'p1', waba => '200' } },
	portfolios => { p1 => { limit => 'unlimited' } } });
my $node = antiban_node('idem', 'antiban.graph_base_url' => $sim->{url}, 'antiban.sender_tick' => '100ms');
register_numbers($node, '1001' => { throughput_level => "'HIGH'" },
	'1002' => { rate_override => 0.1, burst_override => 1 });
$node->safe_psql('postgres', q{UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED';
	SELECT antiban.set_secret('access_token', 'EAAG-idem-token', '200');});

# Idempotency: one row, one send.
my $ids = $node->safe_psql('postgres', q{
	SELECT antiban.send_template('+5511900000001', 'pedido', 'pt_BR', '["123"]', 'utility', idempotency_key => 'order-123')
	    || ',' ||
	       antiban.send_template('+5511900000001', 'pedido', 'pt_BR', '["123"]', 'utility', idempotency_key => 'order-123')});
my ($a, $b) = split /,/, $ids;
is($a, $b, 'the same key returns the same outbox id');
ok(wait_for($node, qq{SELECT state = 'sent' FROM antiban.outbox WHERE id = $a}), 'and it is sent');
is($node->safe_psql('postgres', qq{SELECT antiban.send_template('+5511900000001', 'pedido', 'pt_BR', '["123"]', 'utility',
	idempotency_key => 'order-123')}), $a, 'even after sending, the key still answers with the same id');
is(scalar(grep { $_->{callback} eq $a } @{ sim_messages($sim) }), 1, 'Meta received it once');

# Validity: number 1002 sends one message per 10 s.  Both are admissible when
# queued together; once the first takes the token, the second (2 s to live)
# can not leave in time.
$node->safe_psql('postgres', q{BEGIN;
	SELECT antiban.send_template('+5511900000002', 'lembrete', 'pt_BR', NULL, 'utility', from_number => '1002');
	SELECT antiban.send_template('+5511900000003', 'lembrete', 'pt_BR', NULL, 'utility', from_number => '1002',
	                             valid_until => now() + interval '2 seconds');
	COMMIT;});
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.outbox
	WHERE from_number = '1002' AND queued_at IS NOT NULL AND rejected_at IS NULL}),
	'2', 'both were admissible when queued')
  or diag($node->safe_psql('postgres', q{SELECT state, reason, detail FROM antiban.outbox WHERE from_number = '1002'}));
ok(wait_for($node, q{SELECT state = 'expired' FROM antiban.outbox WHERE recipient = '+5511900000003'}, 180),
	'the message that could not leave in time expired');
like($node->safe_psql('postgres', q{SELECT reason || ': ' || detail FROM antiban.outbox WHERE recipient = '+5511900000003'}),
	qr/validit/, 'with the reason');
is(scalar(grep { $_->{to} eq '+5511900000003' } @{ sim_messages($sim) }), 0, 'and it never reached Meta');

# Cancel: a queued message behind the slow number never goes.
my $queued = $node->safe_psql('postgres', q{
	SELECT antiban.send_template('+5511900000004', 'lembrete', 'pt_BR', NULL, 'utility', from_number => '1002')});
is($node->safe_psql('postgres', "SELECT antiban.cancel($queued)"), 't', 'cancelled while queued');
sleep(1);
is($node->safe_psql('postgres', "SELECT state FROM antiban.outbox WHERE id = $queued"), 'cancelled', 'and it stays cancelled');

# A free-form reply inside the window, and a read receipt.
$node->safe_psql('postgres', q{
	SELECT antiban.open_service_window('+5511900000005', '1001');
	SELECT antiban.send_text('+5511900000005', 'Olá! Posso ajudar?', reply_to => 'wamid.IN1');
	SELECT antiban.mark_read('wamid.IN1', '1001', true);});
ok(wait_for($node, q{SELECT count(*) = 2 FROM antiban.outbox WHERE message_type IN ('text', 'read_receipt') AND state = 'sent'}),
	'the reply and the read receipt were sent');
is(sim_ledger($sim)->{marked_read}, 1, 'Meta got the read receipt');
is(sim_ledger($sim)->{duplicates}, 0, 'no duplicates');

$node->stop;
stop_simulator($sim);
done_testing();
