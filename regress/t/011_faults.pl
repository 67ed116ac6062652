# Injected faults: 5xx, 503, dropped connections, slow answers, scripted
# error codes.  Every message ends sent, failed or dead with its reason, none
# is sent twice, ban signals pause the number with one alert, and traffic
# moves to the healthy numbers.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $sim = start_simulator('--fail-rate', '0.15', '--error-rate-2', '0.05', '--drop-rate', '0.03',
	'--slow-rate', '0.05', '--slow-ms', '300', '--seed', '7');
sim_post($sim, '/_sim/config', {
	numbers => { map { ("100$_" => { throughput => 1000, portfolio => 'p1', waba => '200' }) } 1 .. 4 },
	portfolios => { p1 => { limit => 'unlimited' } } });

# (no fault here is meant to time out: a dropped connection is closed at once
# and a slow answer takes 300 ms.  A timeout with on_unconfirmed = resend is
# a duplicate if Meta had the message, so http_timeout leaves a loaded machine
# room to read a slow answer late)
my $node = antiban_node('faults', 'antiban.graph_base_url' => $sim->{url},
	'antiban.retry_base' => '50ms', 'antiban.retry_cap' => '500ms', 'antiban.max_attempts' => 10,
	'antiban.http_timeout' => '10s', 'antiban.unconfirmed_grace' => '1s',
	'antiban.on_unconfirmed' => 'resend', 'antiban.sender_tick' => '200ms');
register_numbers($node, map { ("100$_" => { throughput_level => "'HIGH'" }) } 1 .. 4);
$node->safe_psql('postgres', q{
	UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED';
	SELECT antiban.set_secret('access_token', 'EAAG-faults-token', '200');});

sub send_batch
{
	my ($from, $to, %opt) = @_;
	my $pin = $opt{from} ? ", from_number => '$opt{from}'" : '';
	$node->safe_psql('postgres', qq{
		SELECT count(antiban.send_template('+55119' || lpad(i::text, 8, '0'), 'oferta', 'pt_BR'$pin))
		FROM generate_series($from, $to) i});
}

sub settled
{
	return wait_for($node, q{SELECT count(*) = 0 FROM antiban.outbox
		WHERE state IN ('queued', 'retry_wait', 'sending')}, 120);
}

# 1. Random faults: everything is eventually sent, once.
send_batch(1, 400);
ok(settled(), 'all messages settled despite faults')
  or diag($node->safe_psql('postgres', 'SELECT state, reason, count(*) FROM antiban.outbox GROUP BY 1, 2'));
my $ledger = sim_ledger($sim);
my $sent = $node->safe_psql('postgres', q{SELECT count(*) FROM antiban.outbox WHERE state = 'sent'});
cmp_ok($sent, '>=', 380, "nearly all were sent ($sent of 400)");
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.outbox
	WHERE state NOT IN ('sent', 'dead', 'failed') OR (state <> 'sent' AND (reason IS NULL OR error_title IS NULL))}),
	'0', 'the others are dead or failed, each with its reason and error');
is($ledger->{accepted}, $sent, 'the simulator accepted exactly the messages marked sent');
cmp_ok($ledger->{faults}{failed_500} + $ledger->{faults}{error_2} + $ledger->{faults}{dropped}, '>', 20,
	'faults really were injected');
is($ledger->{duplicates}, 0, 'no message was sent twice (dropped connections were not processed)');
cmp_ok($node->safe_psql('postgres', q{SELECT max(attempts) FROM antiban.outbox}), '>', 1, 'some needed retries');

# 2. Scripted codes on a pinned number: transient until dead, permanent fails.
sim_post($sim, '/_sim/reset', '{}');
sim_post($sim, '/_sim/config', {
	numbers => { map { ("100$_" => { throughput => 1000, portfolio => 'p1', waba => '200' }) } 1 .. 4 },
	portfolios => { p1 => { limit => 'unlimited' } } });
sim_post($sim, '/_sim/script', { fail_rate => 0, error_rate_2 => 0, drop_rate => 0, slow_rate => 0 });
sim_post($sim, '/_sim/script', { number => '1004', fail_next => 1000, code => 131000 });
send_batch(1001, 1005, from => '1004');
ok(settled(), 'scripted 131000s settled');
is($node->safe_psql('postgres', q{SELECT string_agg(DISTINCT state || ' after ' || attempts || ' with ' || error_code, ',')
	FROM antiban.outbox WHERE from_number = '1004'}), 'dead after 3 with 131000',
	'131000 is retried a few times, then the message is dead with its code')
  or diag($node->safe_psql('postgres', q{SELECT id, recipient, state, attempts, error_code, reason, detail FROM antiban.outbox WHERE from_number = '1004'}));
sim_post($sim, '/_sim/script', { number => '1004', fail_next => 1000, code => 131026 });
send_batch(1006, 1008, from => '1004');
ok(settled(), 'scripted 131026s settled');
is($node->safe_psql('postgres', q{SELECT string_agg(DISTINCT state || ' ' || error_code || ' ' || coalesce(error_details, ''), ',')
	FROM antiban.outbox WHERE id > (SELECT max(id) - 3 FROM antiban.outbox)}),
	'failed 131026 ' . ($node->safe_psql('postgres', q{SELECT error_details FROM antiban.outbox ORDER BY id DESC LIMIT 1})),
	'a permanent error fails at once, with Meta\'s code and details stored');

# 3. A ban signal: the number is paused, one alert, the rest goes elsewhere.
sim_post($sim, '/_sim/script', { number => '1001', fail_next => 1000, code => 131048 });
$node->safe_psql('postgres', q{UPDATE antiban.numbers SET health = 100 WHERE phone_number_id = '1001'});
send_batch(2001, 2300);
ok(settled(), 'messages settled after a ban signal');
# (what happened, from health_events: the mode itself is a state time ends)
is($node->safe_psql('postgres', q{SELECT EXISTS (SELECT FROM antiban.health_events WHERE phone_number_id = '1001'
	AND mode_before <> 'paused' AND mode_after = 'paused' AND reason ~ '131048')}), 't',
	'131048 paused the number');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.alerts WHERE kind = 'number_paused' AND phone_number_id = '1001'}),
	'1', 'one alert, not one per message');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.outbox WHERE id > 1008 AND state <> 'sent'}), '0',
	'every message still went out, through the other numbers');
my $on_1001 = grep { $_->{number} eq '1001' } @{ sim_messages($sim) };
is($on_1001, 0, 'nothing was accepted on the paused number');
$ledger = sim_ledger($sim);
is($ledger->{duplicates}, 0, 'still no duplicates');
is($ledger->{violations}{throughput} + $ledger->{violations}{pair_rate}, 0, 'and no limit violated');

$node->stop;
stop_simulator($sim);
done_testing();
