# A number configured at Meta's STANDARD level (80 msg/s) whose server
# allows only 20: the first burst of 130429 answers, all for requests
# already in flight, is one congestion event and costs one decrease; the
# rate then climbs back quickly under the rate where congestion was met,
# and settles near what the server allows, never at the floor.  Asserted
# on the rate controller's event rows; the achieved rate is reported.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $allowed = 20;
my $count = 400;
my $sim = start_simulator();
sim_post($sim, '/_sim/config', {
	numbers => { '1001' => { throughput => $allowed, portfolio => 'p1', waba => '200' } },
	portfolios => { p1 => { limit => 'unlimited' } } });
my $node = antiban_node('congestion', 'antiban.graph_base_url' => $sim->{url},
	'antiban.sender_tick' => '100ms', 'antiban.retry_base' => '200ms', 'antiban.retry_cap' => '2s',
	'antiban.max_attempts' => 100, 'antiban.monitor' => 'on', 'antiban.monitor_interval' => '500ms',
	'antiban.aimd_probe_interval' => '2s');
register_numbers($node, '1001' => { throughput_level => "'STANDARD'", quality_rating => "'GREEN'" });
$node->safe_psql('postgres', q{
	UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED';
	SELECT antiban.set_secret('access_token', 'EAAG-congestion-token', '200');});

$node->safe_psql('postgres', qq{
	SELECT count(antiban.send_template('+55119' || lpad(i::text, 8, '0'), 'atualizacao_pedido', 'pt_BR',
		jsonb_build_array('#' || i), 'utility')) FROM generate_series(1, $count) i});
ok(wait_for($node, qq{SELECT count(*) = $count FROM antiban.outbox WHERE state = 'sent'}, 150),
	"all $count were sent")
  or diag($node->safe_psql('postgres', q{SELECT state, reason, count(*) FROM antiban.outbox GROUP BY 1, 2}));

my $events = $node->safe_psql('postgres', q{
	SELECT string_agg(to_char(factor_after, 'FM0.000') || ' ' || reason, E'\n' ORDER BY id)
	FROM antiban.health_events WHERE phone_number_id = '1001' AND factor_after IS DISTINCT FROM factor_before});
note("rate changes:\n$events");
ok($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.send_errors WHERE code = 130429}) > 1,
	'the server answered 130429 more than once');
# one congestion event, one decrease: a 130429 for a request sent before the
# last decrease, or within Meta's one-second count after it (1 s + the 20 ms
# arrival jitter), is the event that decrease answered
note('130429 answers for requests sent before the first decrease: ' . $node->safe_psql('postgres', q{
	SELECT count(*) FROM antiban.send_errors s
	WHERE s.code = 130429 AND s.request_at <= (SELECT min(at) FROM antiban.health_events
	                                           WHERE phone_number_id = '1001' AND factor_after < factor_before)}));
is($node->safe_psql('postgres', q{
	WITH d AS (SELECT at, lag(at) OVER (ORDER BY id) AS previous FROM antiban.health_events
	           WHERE phone_number_id = '1001' AND factor_after < factor_before)
	SELECT count(*) FROM d WHERE previous IS NOT NULL AND NOT EXISTS (
		SELECT FROM antiban.send_errors s WHERE s.code = 130429 AND s.request_at > d.previous + interval '1.02 s'
		                                    AND s.at <= d.at)}),
	'0', 'every decrease answered a request sent after the one before it had taken effect');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM antiban.health_events WHERE phone_number_id = '1001' AND factor_after <= 0.05}), '0',
	'the rate never fell to the floor (5 %)');
# (the monitor writes that row at its own pace, possibly after the drain)
ok(wait_for($node, q{
	SELECT count(*) >= 1 FROM antiban.health_events
	WHERE phone_number_id = '1001' AND reason LIKE 'climbing back under%'}, 120),
	'the rate climbed back quickly under the rate of the last congestion')
  or diag($node->safe_psql('postgres', q{SELECT mode, rate_factor FROM antiban.numbers WHERE phone_number_id = '1001'}));
# the achieved rate over the second half of the drain, at Meta, against what it allowed
my @at = sort { $a <=> $b } map { $_->{at} } @{ sim_messages($sim) };
my @half = @at[int(@at / 2) .. $#at];
my $achieved = (@half - 1) / ($half[-1] - $half[0]);
note(sprintf('achieved %.1f msg/s of %d allowed (%.0f %%) over the last %d messages', $achieved, $allowed,
	100 * $achieved / $allowed, scalar @half));

$node->stop;
stop_simulator($sim);
done_testing();
