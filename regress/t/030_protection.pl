# Protection end to end, with the monitor worker and the simulator: a number
# whose quality drops is paused within one poll and ramps back; a burst of
# 131048 pauses a number with one alert while traffic moves on, nothing
# lost; a paused template stops its sends; alerts reach NOTIFY listeners
# and the alert webhook; the monitor never exceeds the management limit.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $mgmt_limit = 300;
my $sim = start_simulator('--seed', '11');
sim_post($sim, '/_sim/config', {
	numbers => { map { ("100$_" => { throughput => 1000, portfolio => 'p1', waba => '200', quality => 'GREEN' }) } 1 .. 4 },
	portfolios => { p1 => { limit => 'unlimited' } },
	templates => { '200' => [
		{ name => 'oferta', language => 'pt_BR', category => 'MARKETING', status => 'APPROVED', quality => 'GREEN' },
		{ name => 'promo', language => 'pt_BR', category => 'MARKETING', status => 'APPROVED', quality => 'GREEN' } ] },
	mgmt_limit => $mgmt_limit });

my $node = antiban_node('protection', 'antiban.graph_base_url' => $sim->{url},
	'antiban.monitor' => 'on', 'antiban.monitor_interval' => '200ms', 'antiban.poll_interval' => '2s',
	'antiban.mgmt_requests_per_hour' => $mgmt_limit, 'antiban.pause_cooldown' => '2s',
	'antiban.recovery_ramp' => '3s', 'antiban.aimd_interval' => '1s', 'antiban.template_hold' => '1s',
	'antiban.retry_base' => '50ms', 'antiban.retry_cap' => '500ms', 'antiban.sender_tick' => '200ms',
	'antiban.alert_webhook_url' => "$sim->{url}/_sim/sink");
register_numbers($node, map { ("100$_" => { throughput_level => "'HIGH'", quality_rating => "'GREEN'" }) } 1 .. 4);
$node->safe_psql('postgres', q{
	UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED';
	SELECT antiban.set_secret('access_token', 'EAAG-protection-token', '200');});

# A number's mode is a state that time changes (a pause ends after
# antiban.pause_cooldown, 2 s here, while a loaded machine may take longer
# than that to answer): tests ask antiban.health_events what happened.
# SQL true once NUMBER has entered MODE (and the reason matches REASON).
sub entered
{
	my ($number, $mode, $reason) = @_;
	my $why = defined $reason ? " AND reason ~ '$reason'" : '';
	return qq{SELECT EXISTS (SELECT FROM antiban.health_events WHERE phone_number_id = '$number'
		AND mode_before <> '$mode' AND mode_after = '$mode'$why)};
}

# 0. The monitor polls: numbers and templates arrive, one quality_history row per poll.
ok(wait_for($node, q{SELECT count(*) = 2 FROM antiban.templates WHERE status = 'APPROVED'}, 180),
	'the monitor polled the WABA\'s templates');
ok(wait_for($node, q{SELECT count(DISTINCT phone_number_id) = 4 FROM antiban.quality_history WHERE source = 'poll'}, 180),
	'and every number, into quality_history');

# 1. Quality drops to RED and Meta flags the number: paused within one poll,
# then, once Meta says GREEN again, it recovers along the ramp.
# A listener that stays connected until the alert is in the table (not for
# a fixed time the pause might outlast); psql prints notifications after
# each command it runs, so it is fed "SELECT 1" until one shows.
my ($listener_in, $listener_out) = ("LISTEN antiban_alert;\n", '');
my $listener = IPC::Run::start([ 'psql', '-X', '-d', $node->connstr('postgres') ],
	'<', \$listener_in, '>', \$listener_out, '2>', \$listener_out);
sub listener_until
{
	my ($ready) = @_;
	my $deadline = time() + 60;
	until ($ready->() || time() > $deadline)
	{
		$listener->pump_nb;
		usleep(100_000);
	}
}
listener_until(sub { $node->safe_psql('postgres',
	q{SELECT count(*) FROM pg_stat_activity WHERE query ~ '^LISTEN antiban_alert'}) eq '1' });
sim_post($sim, '/_sim/script', { number => '1003', quality => 'RED', status => 'FLAGGED' });
# (a poll every 2 s, then scoring: a loaded machine may take many periods)
ok(wait_for($node, entered('1003', 'paused'), 180),
	'a number Meta rates RED and flags is paused by the monitor\'s poll');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.alerts WHERE phone_number_id = '1003' AND kind = 'quality_dropped'}),
	'1', 'with one quality_dropped alert');
listener_until(sub { return 1 if $listener_out =~ /Asynchronous notification/;
	$listener_in .= "SELECT 1;\n"; return 0; });
$listener_in .= "\\q\n";
$listener->finish;
like($listener_out, qr/Asynchronous notification "antiban_alert" with payload "\{"id" : \d+, "kind" : "quality_dropped"\}"/,
	'NOTIFY antiban_alert carried the alert\'s id and kind (nothing a portfolio would keep to itself) to a listener');
my ($payload) = $listener_out =~ /with payload "(\{"id" : \d+, "kind" : "quality_dropped"\})"/;
is($node->safe_psql('postgres', "SELECT a.phone_number_id || ' ' || a.kind FROM antiban.genuine_alert(\$p\$$payload\$p\$) a"),
	'1003 quality_dropped', 'and the listener reads the alert it names through genuine_alert');
sim_post($sim, '/_sim/script', { number => '1003', quality => 'GREEN', status => 'CONNECTED' });
ok(wait_for($node, q{SELECT EXISTS (SELECT FROM antiban.health_events WHERE phone_number_id = '1003'
	AND mode_before = 'recovering' AND mode_after = 'active' AND factor_after = 1)}, 180),
	'once Meta says GREEN again it recovers to active');
my $ramp = $node->safe_psql('postgres', q{
	SELECT string_agg(round(factor_after::numeric, 2)::text, ' ' ORDER BY id) FROM antiban.health_events
	WHERE phone_number_id = '1003' AND mode_after = 'recovering'});
my @ramp = split / /, $ramp;
# (how many steps a 3 s ramp shows depends on how busy the machine is: the
# shape is asserted, the curve itself is the unit tests' business)
ok(@ramp >= 1 && $ramp[0] <= 0.11 && !grep({ $ramp[$_] < $ramp[$_ - 1] } 1 .. $#ramp),
	"along the ramp from 10 %, never down ($ramp)");
like($node->safe_psql('postgres', q{SELECT string_agg(mode_after::text, ',' ORDER BY id) FROM antiban.health_events
	WHERE phone_number_id = '1003' AND mode_before <> mode_after}),
	qr/paused,recovering,active/, 'health_events tell the story: paused, recovering, active');

# 2. A burst of 131048 on one number: paused with one alert, the traffic
# moves to the others, every message sent exactly once.
sim_post($sim, '/_sim/script', { number => '1002', fail_next => 100, code => 131048 });
$node->safe_psql('postgres', q{SELECT count(antiban.send_template('+55119' || lpad(i::text, 8, '0'), 'oferta', 'pt_BR'))
	FROM generate_series(1, 300) i});
ok(wait_for($node, q{SELECT count(*) = 300 FROM antiban.outbox WHERE state IN ('sent', 'delivered', 'read')}, 180),
	'all 300 messages were sent')
  or diag($node->safe_psql('postgres', 'SELECT state, reason, phone_number_id, count(*) FROM antiban.outbox GROUP BY 1, 2, 3'));
is($node->safe_psql('postgres', entered('1002', 'paused', '131048')), 't',
	'the number answering 131048 was paused, for that reason')
  or diag($node->safe_psql('postgres', q{SELECT mode_before, mode_after, reason FROM antiban.health_events
	WHERE phone_number_id = '1002' ORDER BY id}));
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.alerts WHERE phone_number_id = '1002' AND kind = 'number_paused'}),
	'1', 'with one alert, not one per message');
my $ledger = sim_ledger($sim);
is($ledger->{duplicates}, 0, 'no message reached the simulator twice');
my $on_sick = grep { $_->{number} eq '1002' } @{ sim_messages($sim) };
is($on_sick, 0, 'the paused number carried none of them');

# 3. A template Meta pauses stops its sends until it is approved again.
sim_post($sim, '/_sim/script', { template => { waba => '200', name => 'promo', status => 'PAUSED' } });
ok(wait_for($node, q{SELECT status = 'PAUSED' FROM antiban.templates WHERE name = 'promo'}, 180),
	'the monitor saw the template paused');
my $before = grep { $_->{template} eq 'promo' } @{ sim_messages($sim) };
$node->safe_psql('postgres', q{SELECT count(antiban.send_template('+55219' || lpad(i::text, 8, '0'), 'promo', 'pt_BR'))
	FROM generate_series(1, 20) i});
ok(wait_for($node, q{SELECT count(*) = 20 FROM antiban.outbox WHERE payload -> 'template' ->> 'name' = 'promo'
	AND state = 'queued' AND reason = 'template_paused'}, 180), 'its messages wait, with the reason');
sleep(2);
my $after = grep { $_->{template} eq 'promo' } @{ sim_messages($sim) };
is($after - $before, 0, 'none of them reached Meta while it was paused');
sim_post($sim, '/_sim/script', { template => { waba => '200', name => 'promo', status => 'APPROVED' } });
ok(wait_for($node, q{SELECT count(*) = 20 FROM antiban.outbox WHERE payload -> 'template' ->> 'name' = 'promo'
	AND state IN ('sent', 'delivered', 'read')}, 180), 'approved again, they go');

# 4. The alert webhook got Slack-compatible JSON.
ok(wait_for($node, q{SELECT count(*) > 0 FROM antiban.alerts WHERE delivered_at IS NOT NULL}, 180),
	'alerts were delivered to the alert webhook');
my $body = sim_get($sim, '/_sim/sink/body?i=0');
like($body, qr/^\{"text": ".*antiban \[/, 'as Slack-compatible JSON with a text field');

# 5. The management rate limit is never exceeded, whatever the polling
# schedule: poll as often as possible until the hour's budget is gone.
$node->safe_psql('postgres', q{ALTER SYSTEM SET antiban.poll_interval = '100ms'; SELECT pg_reload_conf();});
ok(wait_for($node, qq{SELECT count(*) >= $mgmt_limit FROM antiban.mgmt_calls}, 120),
	'the monitor used its whole budget');
# The answers are stored after the calls: wait until every call the
# simulator saw is counted (the budget is gone, no new call starts).
my @calls;
my $deadline = time() + 60;
do
{
	usleep(200_000);
	@calls = map { [ split /\t/ ] } split /\n/, sim_get($sim, '/_sim/mgmt_calls');
} until (scalar(@calls) == $node->safe_psql('postgres', q{SELECT count(*) FROM antiban.mgmt_calls})
	  || time() > $deadline);
cmp_ok(scalar(@calls), '<=', $mgmt_limit, scalar(@calls) . " management calls, at most $mgmt_limit an hour");
is(scalar(grep { $_->[3] ne '200' } @calls), 0, 'none was refused for the rate limit (80007)');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.mgmt_calls}), scalar(@calls),
	'antiban counted every call it made');

stop_simulator($sim);
$node->stop;
done_testing();
