# The Graph API endpoint's circuit breaker against a dead endpoint: the
# simulator's port has nobody listening, then the simulator starts again on
# it.  Messages are held, not dead (no attempt counted); the breaker opens
# once with one alert; it probes with growing waits, each probe waiting its
# turn; it closes when a probe is answered, and every message is then
# accepted exactly once.  First with the management GET as the probe
# (counted in antiban.mgmt_calls only once Meta could see it), then, with
# the hour's management budget used up, with one message as the probe.
# Everything is asserted on the outbox, the breaker's history and the
# simulator's ledger, never on how long something took.
use strict;
use warnings;
use File::Temp qw(tempdir);
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

# A port, then nobody on it.
my $sim = start_simulator();
my ($port, $url) = ($sim->{port}, $sim->{url});
stop_simulator($sim);

my $dir = tempdir(CLEANUP => 1);
my $config = "$dir/sim.json";
open(my $fh, '>', $config) or die "$config: $!";
print $fh encode_json({
	numbers => { map { ("100$_" => { throughput => 1000, portfolio => 'p1', waba => '200' }) } 1 .. 2 },
	portfolios => { p1 => { limit => 'unlimited' } } });
close $fh;

my ($base, $cap) = (0.2, 1.0);	# seconds
my $node = antiban_node('breaker', 'antiban.graph_base_url' => $url,
	'antiban.breaker_failures' => 3, 'antiban.breaker_probe_base' => '200ms',
	'antiban.breaker_probe_cap' => '1s', 'antiban.max_attempts' => 3,
	'antiban.retry_base' => '50ms', 'antiban.retry_cap' => '200ms',
	'antiban.sender_tick' => '100ms', 'antiban.http_timeout' => '3s');
register_numbers($node, map { ("100$_" => { throughput_level => "'HIGH'" }) } 1 .. 2);
$node->safe_psql('postgres', q{
	UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED';
	SELECT antiban.set_secret('access_token', 'EAAG-breaker-token', '200');});
my $endpoint = $node->safe_psql('postgres',
	q{SELECT current_setting('antiban.graph_base_url') || '/' || current_setting('antiban.graph_version')});

sub sql { return $node->safe_psql('postgres', $_[0]) }

sub send_batch
{
	my ($from, $to) = @_;
	sql(qq{SELECT count(antiban.send_template('+55119' || lpad(i::text, 8, '0'), 'oferta', 'pt_BR'))
		FROM generate_series($from, $to) i});
}

# Wait for 'n' more failed probes after event id 'after'.
sub failed_probes_after
{
	my ($after, $n) = @_;
	return wait_for($node, qq{SELECT count(*) >= $n FROM antiban.breaker_events
		WHERE id > $after AND reason IN ('probe_failed', 'probe_lost')}, 120);
}

# The waits the breaker chose: the k-th one (k failed probes so far) lies in
# [c/2, c] with c = min(cap, base * 2^k), and no probe went before its time.
sub check_backoff
{
	my ($label, $after) = @_;
	my @waits = split /\n/, sql(qq{SELECT failed_probes || ' ' || extract(epoch FROM probe_wait)
		FROM antiban.breaker_events WHERE id > $after AND to_state = 'open' ORDER BY id});
	cmp_ok(scalar(@waits), '>=', 4, "$label: opened, then at least three failed probes");
	my ($ok, $k_seen) = (1, '');
	for my $row (@waits)
	{
		my ($k, $wait) = split / /, $row;
		my $c = $base * 2**$k;
		$c = $cap if $c > $cap;
		$ok = 0 unless $wait >= $c / 2 - 1e-6 && $wait <= $c + 1e-6;
		$k_seen .= "$k,";
	}
	ok($ok, "$label: each wait is exponential in the failed probes, capped, jittered") or diag(join("\n", @waits));
	like($k_seen, qr/^0,1,2,3,/, "$label: failed probes counted one by one from the opening");
	is(sql(qq{SELECT count(*) FROM (SELECT at, lag(next_probe_at) OVER (ORDER BY id) AS due, to_state
		FROM antiban.breaker_events WHERE id > $after) e WHERE to_state = 'half_open' AND at < due}), '0',
		"$label: no probe went before its time");
	is(sql(qq{SELECT count(*) FROM (SELECT to_state, lead(from_state) OVER (ORDER BY id) AS next_from
		FROM antiban.breaker_events WHERE id > $after) e
		WHERE to_state = 'half_open' AND next_from IS DISTINCT FROM 'half_open' AND next_from IS NOT NULL}), '0',
		"$label: one probe at a time (each half-open ends before anything else)");
}

# Each outbox row of the batch accepted exactly once by the simulator.
sub accepted_once
{
	my ($sim, $from_id) = @_;
	my %accepted;
	$accepted{ $_->{callback} }++ for @{ sim_messages($sim) };
	my @ids = split /,/, sql(qq{SELECT string_agg(id::text, ',') FROM antiban.outbox WHERE id >= $from_id});
	return (scalar(@ids), scalar(grep { ($accepted{$_} // 0) == 1 } @ids));
}

# ---- 1. Nobody listens: held, one alert, probes back off (GET probes) ----
send_batch(1, 10);
ok(failed_probes_after(0, 3), 'the breaker opened and three probes failed')
  or diag(sql(q{SELECT * FROM antiban.breaker_events}), "\n", sql(q{SELECT state, reason, count(*) FROM antiban.outbox GROUP BY 1, 2}));
is(sql(q{SELECT count(*) FROM antiban.breaker_events WHERE reason = 'connection_failures'}), '1',
	'it opened once, after connection-level failures in a row');
is(sql(q{SELECT string_agg(DISTINCT state || '/' || attempts || '/' || reason, ',') FROM antiban.outbox}),
	'queued/0/endpoint_unreachable', 'every message is held: queued, no attempt counted, none dead or failed');
is(sql(q{SELECT count(*) FROM antiban.alerts WHERE kind = 'endpoint_unreachable'}), '1', 'one alert');
is(sql(qq{SELECT count(*) FROM antiban.alerts WHERE kind = 'endpoint_unreachable' AND subject = '$endpoint'
	AND severity = 'critical'}), '1', 'the alert names the endpoint');
is(sql(qq{SELECT state IN ('open', 'half_open') AND consecutive_failures >= 3 AND opened_at IS NOT NULL
	FROM antiban.circuit_breakers WHERE endpoint = '$endpoint'}), 't', 'antiban.circuit_breakers shows it open');
check_backoff('GET probes', 0);
like(sql(q{SELECT detail FROM antiban.breaker_events WHERE to_state = 'half_open' ORDER BY id LIMIT 1}),
	qr/^probe: GET 100[12]\?fields=id/, 'the probe is a management GET, sending nothing to anyone');
is(sql(q{SELECT count(*) FROM antiban.mgmt_calls}), '0', 'refused probes did not spend the management budget');

# ---- the endpoint answers again ----
my $restarted = sql(q{SELECT clock_timestamp()});
$sim = start_simulator('--port', $port, '--config', $config);
ok(wait_for($node, q{SELECT count(*) = 10 FROM antiban.outbox WHERE state = 'sent'}, 120), 'every message was sent')
  or diag(sql(q{SELECT state, reason, count(*) FROM antiban.outbox GROUP BY 1, 2}));
# figures for the reader (not asserted: time depends on the machine)
diag(sql(qq{SELECT format('down: %s probes, held %s s; closed %s ms after the simulator was started, all sent %s ms after',
	count(*) FILTER (WHERE to_state = 'half_open'),
	round(extract(epoch FROM max(at) FILTER (WHERE to_state = 'closed') - min(at))::numeric, 1),
	round(extract(epoch FROM max(at) FILTER (WHERE to_state = 'closed') - '$restarted'::timestamptz)::numeric * 1000),
	round(extract(epoch FROM (SELECT max(sent_at) FROM antiban.outbox) - '$restarted'::timestamptz)::numeric * 1000))
	FROM antiban.breaker_events}));
my $ledger = sim_ledger($sim);
is($ledger->{accepted}, 10, 'the simulator accepted ten messages');
is($ledger->{duplicates}, 0, 'none twice');
my ($rows, $once) = accepted_once($sim, 1);
is($once, $rows, "each of the $rows outbox rows reached the simulator exactly once");
is(sql(q{SELECT string_agg(DISTINCT attempts::text, ',') FROM antiban.outbox}), '1',
	'each message counts one attempt: the one that reached Meta');
is(sql(q{SELECT from_state || ' -> ' || to_state || ' ' || reason FROM antiban.breaker_events ORDER BY id DESC LIMIT 1}),
	'half_open -> closed probe_answered', 'a probe was answered and closed it');
is(sql(qq{SELECT state || ' ' || consecutive_failures || ' ' || failed_probes FROM antiban.circuit_breakers
	WHERE endpoint = '$endpoint'}), 'closed 0 0', 'antiban.circuit_breakers shows it closed');
is(sql(q{SELECT count(*) || ' ' || string_agg(http_status::text, ',') FROM antiban.mgmt_calls WHERE path ~ '^100[12]\?fields=id$'}),
	'1 200', 'the probe that reached the simulator is counted as one management call');
is($ledger->{mgmt_calls}{200}{total}, 1, 'and the simulator saw exactly that one');
is(sql(q{SELECT count(*) FROM antiban.alerts WHERE kind = 'endpoint_unreachable'}), '1', 'still one alert');

# ---- 2. Down again, no management budget left: one message is the probe ----
my $after = sql(q{SELECT max(id) FROM antiban.breaker_events});
my $first = sql(q{SELECT max(id) + 1 FROM antiban.outbox});
sql(q{SELECT antiban.acknowledge_alert(id) FROM antiban.alerts});
stop_simulator($sim);
sql(q{INSERT INTO antiban.mgmt_calls (waba_id, path, http_status)
	SELECT 1, 'used up by the test', 200 FROM generate_series(1, current_setting('antiban.mgmt_requests_per_hour')::int)});
send_batch(101, 105);
ok(failed_probes_after($after, 3), 'without budget: the breaker opened and three message probes failed');
like(sql(qq{SELECT string_agg(DISTINCT regexp_replace(detail, '[0-9]+', 'N', 'g'), ',') FROM antiban.breaker_events
	WHERE id > $after AND to_state = 'half_open'}), qr/^probe: message N \(no WABA with an access token/,
	'each probe was one message');
is(sql(qq{SELECT string_agg(DISTINCT state || '/' || attempts, ',') FROM antiban.outbox WHERE id >= $first}),
	'queued/0', 'the messages, probes included, are held with no attempt counted');
is(sql(q{SELECT count(*) FILTER (WHERE acknowledged_at IS NULL) || ' of ' || count(*) FROM antiban.alerts
	WHERE kind = 'endpoint_unreachable'}), '1 of 2', 'one new alert for the new opening');
check_backoff('message probes', $after);

$sim = start_simulator('--port', $port, '--config', $config);
ok(wait_for($node, qq{SELECT count(*) = 5 FROM antiban.outbox WHERE id >= $first AND state = 'sent'}, 120),
	'every message was sent')
  or diag(sql(q{SELECT state, reason, count(*) FROM antiban.outbox GROUP BY 1, 2}));
$ledger = sim_ledger($sim);
is($ledger->{accepted}, 5, 'the simulator accepted five messages');
is($ledger->{duplicates}, 0, 'none twice');
($rows, $once) = accepted_once($sim, $first);
is($once, $rows, "each of the $rows outbox rows reached the simulator exactly once");
is(sql(qq{SELECT reason || ': ' || regexp_replace(detail, '[0-9]+', 'N', 'g') FROM antiban.breaker_events
	WHERE id > $after ORDER BY id DESC LIMIT 1}), 'probe_answered: HTTP N to the probe, message N',
	'the probe message was answered and closed it');
is(sql(qq{SELECT string_agg(DISTINCT attempts::text, ',') FROM antiban.outbox WHERE id >= $first}), '1',
	'each counts the one attempt that reached Meta');
is($ledger->{mgmt_calls}{200}{total} // 0, 0, 'no management call was made without budget');

# ---- 3. A message dead of Meta's errors, requeued: sent once, its first life kept ----
sim_post($sim, '/_sim/script', { number => '1001', fail_next => 3, code => 131000 });
my $dead = sql(q{SELECT antiban.send_template('+5511900000201', 'oferta', 'pt_BR', from_number => '1001')});
ok(wait_for($node, qq{SELECT state = 'dead' FROM antiban.outbox WHERE id = $dead}, 120),
	'a message answered 131000 each time died after its attempts');
is(sql(qq{SELECT attempts || ' ' || error_code FROM antiban.outbox WHERE id = $dead}), '3 131000',
	'three attempts, Meta\'s code kept');
is(sql(qq{SELECT array_agg(r) FROM antiban.requeue(ARRAY[$dead]::bigint[]) r}), "{$dead}", 'requeued');
ok(wait_for($node, qq{SELECT state = 'sent' FROM antiban.outbox WHERE id = $dead}, 120), 'and sent');
is(scalar(grep { $_->{callback} eq $dead } @{ sim_messages($sim) }), 1, 'the simulator accepted it once');
is(sql(qq{SELECT attempts || ' ' || requeue_count FROM antiban.outbox WHERE id = $dead}), '1 1',
	'one attempt in its new life, one requeue');
is(sql(qq{SELECT from_state || ' ' || attempts || ' ' || error_code FROM antiban.outbox_requeues WHERE outbox_id = $dead}),
	'dead 3 131000', 'its first life is kept');
is(sim_ledger($sim)->{duplicates}, 0, 'no duplicates');

$node->stop;
stop_simulator($sim);
done_testing();
