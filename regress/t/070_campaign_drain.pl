# A campaign of 400 people drained against the Cloud API simulator on a
# server-wide pinned clock, in a TIER_250 portfolio (the smallest Meta has),
# allowed 09:00-12:00, with 20 utility messages of other traffic sent first
# and a 20 % reserve: pace_campaigns() run every 10 minutes of the pinned
# clock releases it at 66.7 an hour until the budget left after the
# reserve (250 - 20 utility - 50 kept = 180) is used.  The simulator's
# ledger shows no violation and no duplicate; the outbox shows every
# campaign message released and sent inside the window, each person once,
# spread over the hours instead of at once, and the utility traffic all
# sent.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $sim = start_simulator('--token', 'EAAG-campaign-token');
sim_post($sim, '/_sim/config', {
	numbers => { map { ("100$_" => { throughput => 80, portfolio => 'p1', waba => '200' }) } 1 .. 2 },
	portfolios => { p1 => { limit => 250 } } });

my $node = antiban_node('campaign', 'antiban.graph_base_url' => $sim->{url},
	'antiban.sender_workers' => 1, 'antiban.pinned_now' => '2030-05-06 08:00:00+00');
# A bucket of 100 messages per number: each step of the pinned clock refills
# it, and the clock stands still while a slice drains.
register_numbers($node, '1001' => { burst_override => 100 }, '1002' => { burst_override => 100 });

# Move the server-wide pinned clock (the sender's too) and wait until every
# backend and the sender see it.
sub clock_to
{
	my ($at) = @_;
	$node->safe_psql('postgres', "ALTER SYSTEM SET antiban.pinned_now = '$at'");
	$node->reload;
	ok(wait_for($node, "SELECT antiban.now() = '$at'"), "the clock is at $at") or BAIL_OUT('clock');
}

# Nothing due is left waiting: the sender sent what the clock allows.
sub drained
{
	return 1 if wait_for($node, q{SELECT count(*) = 0 FROM antiban.outbox
		WHERE state IN ('queued', 'sending', 'retry_wait') AND not_before <= antiban.now()}, 120);
	diag($node->safe_psql('postgres', q{SELECT state, reason, detail, not_before, antiban.now(), count(*)
		FROM antiban.outbox GROUP BY 1, 2, 3, 4}));
	diag($node->safe_psql('postgres', q{SELECT backend_type, state, query FROM pg_stat_activity WHERE backend_type LIKE 'antiban%'}));
	BAIL_OUT('the outbox does not drain');
}

# Buckets start empty at start-up and fill as the (pinned) clock moves.
clock_to('2030-05-06 08:50:00+00');
$node->safe_psql('postgres', q{
	SELECT antiban.set_secret('access_token', 'EAAG-campaign-token', '200');
	INSERT INTO antiban.templates (waba_id, name, language, status, category, components) VALUES
	    (1, 'promo', 'pt_BR', 'APPROVED', 'MARKETING', '[{"type": "BODY", "text": "Oi {{1}}, novidades"}]'),
	    (1, 'receipt', 'pt_BR', 'APPROVED', 'UTILITY', '[{"type": "BODY", "text": "Recibo {{1}}"}]');
	CREATE TABLE shoppers AS
	SELECT '+551198' || lpad(i::text, 7, '0') AS recipient, jsonb_build_array('Cliente ' || i) AS params
	FROM generate_series(1, 400) i;
	SELECT count(antiban.send_template('+551197' || lpad(i::text, 7, '0'), 'receipt', 'pt_BR',
	                                   jsonb_build_array('R' || i), category => 'utility'))
	FROM generate_series(1, 20) i;});
ok(drained(), 'the utility traffic went first');

my $id = $node->safe_psql('postgres', q{
	SELECT antiban.create_campaign('may', 'promo', 'pt_BR', 'shoppers', params => 'params',
	                               window_start => '09:00', window_end => '12:00', reserve => 0.2)});
like($node->safe_psql('postgres', "SELECT summary FROM antiban.plan_campaign($id)"),
	qr/^400 of 400 eligible; needs 400 new recipients, 180 left today: finishes /,
	'the plan: 400 eligible, 180 of the budget left after the utility traffic and the reserve');
is($node->safe_psql('postgres', "SELECT antiban.start_campaign($id)"), 'running', 'started');

my ($h, $m) = (8, 50);
while ($h < 12 || ($h == 12 && $m <= 30))
{
	clock_to(sprintf('2030-05-06 %02d:%02d:00+00', $h, $m));
	$node->safe_psql('postgres', 'SELECT antiban.pace_campaigns()');
	ok(drained(), sprintf('%02d:%02d: the released slice is sent', $h, $m));
	($h, $m) = $m == 50 ? ($h + 1, 0) : ($h, $m + 10);
}

my $ledger = sim_ledger($sim);
is($ledger->{duplicates}, 0, 'the simulator saw no message twice');
is($ledger->{violations}{$_}, 0, "no $_ violation") for qw(throughput pair_rate messaging_limit marketing_cap);
my @promo = grep { ($_->{template} // '') eq 'promo' } @{ sim_messages($sim) };
my %people = map { $_->{to} => 1 } @promo;
is(scalar(@promo), 180, 'the campaign used exactly the budget left after other traffic and the reserve');
is(scalar(keys %people), scalar(@promo), 'each person received it once');
cmp_ok(scalar(@promo) + 20, '<=', 250, 'no more unique people in 24 h than the portfolio\'s limit');

is($node->safe_psql('postgres', qq{
	SELECT count(*) FROM antiban.campaign_recipients r JOIN antiban.outbox o ON o.id = r.outbox_id
	WHERE r.campaign_id = $id AND (o.sent_at IS NULL
	   OR r.released_at < '2030-05-06 09:00+00' OR r.released_at >= '2030-05-06 12:00+00'
	   OR o.sent_at < '2030-05-06 09:00+00' OR o.sent_at >= '2030-05-06 12:00+00')}), '0',
	'every campaign message was released and sent inside its window');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.outbox WHERE category = 'utility' AND state = 'sent'}),
	'20', 'the utility traffic was all sent');
my $hours = $node->safe_psql('postgres', qq{
	SELECT string_agg(n::text, ',' ORDER BY hour) FROM (
	    SELECT date_trunc('hour', released_at) AS hour, count(*) AS n FROM antiban.campaign_recipients
	    WHERE campaign_id = $id AND status = 'released' GROUP BY 1) x});
my @per_hour = split /,/, $hours;
is(scalar(@per_hour), 3, "released over the window's three hours ($hours), not at once");
cmp_ok($_, '<=', 67, "no hour above the pace of 66.7 ($_)") for @per_hour;
is($node->safe_psql('postgres', qq{SELECT pending FROM antiban.campaign_funnel WHERE campaign_id = $id}), '220',
	'the rest waits for tomorrow\'s budget');
like($node->safe_psql('postgres', "SELECT summary FROM antiban.plan_campaign($id)"),
	qr/^220 of 220 eligible; needs 220 new recipients, 0 left today: finishes /,
	'the plan now says what is left, and that the budget is spent');

$node->stop;
stop_simulator($sim);
done_testing();
