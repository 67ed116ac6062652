# What a Meta error code does is the same whether the sender meets it in a
# send answer or a failed status webhook brings it: the same pause kind,
# the same health counter, one rate decrease by antiban.aimd_decrease for
# 130429 (and none more from the monitor), marketing to the person deferred
# 24 h for 131049 while utility still goes, an opt-out for 131050, and the
# legacy 471 treated as 131048.  One congestion event told through both
# channels costs one decrease.  Workers, receiver and simulator together.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

# Each code meets one number in a send answer and another in a webhook.
my @codes = (131048, 471, 130429, 131049, 131050);
my %by_send = map { ($codes[$_] => sprintf('10%02d', 2 * $_ + 1)) } 0 .. $#codes;
my %by_hook = map { ($codes[$_] => sprintf('10%02d', 2 * $_ + 2)) } 0 .. $#codes;
my $both = '1020';    # one congestion event, told both ways
my @numbers = (sort(values %by_send, values %by_hook), $both);

# (a rate cut by 130429 climbs back every antiban.aimd_probe_interval: an hour
# here, so that the 0.700 asserted below does not depend on how fast this
# machine gets there)
my $node = antiban_node('meta_codes', 'antiban.sender_tick' => '100ms', 'antiban.aimd_decrease' => '0.7',
	'antiban.aimd_probe_interval' => '1h', 'antiban.retry_base' => '50ms', 'antiban.retry_cap' => '500ms');
register_numbers($node, map { ($_ => { throughput_level => "'HIGH'", quality_rating => "'GREEN'" }) } @numbers);
$node->safe_psql('postgres', q{
	UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED';
	SELECT antiban.set_secret('access_token', 'EAAG-codes-token', '200');
	SELECT antiban.set_secret('app_secret', 'the-app-secret');
	CREATE ROLE receiver LOGIN IN ROLE antiban_receiver;});
my $receiver = start_receiver($node);
my $sim = start_simulator('--webhook-url', "$receiver->{url}/webhook", '--app-secret', 'the-app-secret',
	'--webhook-delay-ms', '20', '--webhook-retry-ms', '100', '--webhook-retry-max-ms', '500');
sim_post($sim, '/_sim/config', {
	numbers => { map { ($_ => { throughput => 1000, portfolio => 'p1', waba => '200' }) } @numbers },
	portfolios => { p1 => { limit => 'unlimited' } },
	templates => { '200' => [ { name => 'oferta', language => 'pt_BR', category => 'MARKETING', status => 'APPROVED' } ] } });
$node->safe_psql('postgres', "ALTER SYSTEM SET antiban.graph_base_url = '$sim->{url}'; SELECT pg_reload_conf();");

sub recipient
{
	my ($number) = @_;
	return sprintf("+5511987%06d", $number);
}

# Script the failures, then send one marketing template from each number.
sim_post($sim, '/_sim/script', [ map {
	({ number => $by_send{$_}, fail_next => 1, code => $_ },
	 { number => $by_hook{$_}, fail_async_next => 1, code => $_ }) } @codes ]);
$node->safe_psql('postgres', join('', map {
	sprintf("SELECT antiban.send_template('%s', 'oferta', 'pt_BR', from_number => '%s');", recipient($_), $_) }
	sort(values %by_send, values %by_hook)));
ok(wait_for($node, sprintf(q{SELECT count(*) = %d FROM antiban.send_errors}, 2 * @codes), 180),
	'every scripted error reached antiban, by its door')
  or diag($node->safe_psql('postgres', q{SELECT number_id, code, source FROM antiban.send_errors ORDER BY id}));

# What a number and its recipient went through, in one line.
sub fingerprint
{
	my ($number) = @_;
	my $r = recipient($number);
	return $node->safe_psql('postgres', qq{
		SELECT concat_ws(' | ', n.mode, 'hard ' || n.hard_block, 'rate ' || round(n.rate_factor::numeric, 3),
			(SELECT string_agg(a.severity || ' ' || a.kind, ',' ORDER BY a.id) FROM antiban.alerts a
			 WHERE a.phone_number_id = n.phone_number_id),
			(SELECT concat_ws(',', 'spam ' || nullif(s.spam_errors, 0), 'policy ' || nullif(s.policy_errors, 0),
				'throughput ' || nullif(s.throughput_errors, 0), 'marketing_cap ' || nullif(s.marketing_cap_errors, 0),
				'blocks ' || nullif(s.blocks_day, 0))
			 FROM antiban.number_signals() s WHERE s.number_id = n.id),
			-- what concerns the person (not the buckets of the moment, which time changes);
			-- 24 h counted from the number's 131049 as recorded (not from now: a loaded
			-- machine, or the restart below, may take minutes to get here)
			(SELECT 'marketing ' || CASE WHEN d.reason = 'opted_out' THEN 'rejected: opted out'
				WHEN d.reason = 'marketing_cap' AND d.not_before > (SELECT max(e.at) FROM antiban.send_errors e
					WHERE e.number_id = n.id AND e.code = 131049) + interval '23 hours 59 minutes'
				THEN 'deferred >= 24 h' WHEN d.reason = 'marketing_cap' THEN 'deferred < 24 h' ELSE 'allowed' END
			 FROM antiban.decide('$r', 'marketing', consume => false) d),
			(SELECT 'utility ' || CASE WHEN d.reason IN ('opted_out', 'marketing_cap') THEN 'held' ELSE 'allowed' END
			 FROM antiban.decide('$r', 'utility', consume => false) d))
		FROM antiban.numbers n WHERE n.phone_number_id = '$number'});
}

my %expected = (
	131048 => 'paused | hard false | rate 1.000 | critical number_paused | spam 1 | marketing allowed | utility allowed',
	471 => 'paused | hard false | rate 1.000 | critical number_paused | spam 1 | marketing allowed | utility allowed',
	130429 => 'throttled | hard false | rate 0.700 | warning number_throttled | throughput 1 | marketing allowed | utility allowed',
	131049 => 'active | hard false | rate 1.000 | marketing_cap 1 | marketing deferred >= 24 h | utility allowed',
	131050 => 'active | hard false | rate 1.000 | blocks 1 | marketing rejected: opted out | utility allowed',
);
for my $code (@codes)
{
	my $send = fingerprint($by_send{$code});
	my $hook = fingerprint($by_hook{$code});
	is($send, $expected{$code}, "$code in a send answer: $send");
	is($hook, $send, "$code in a failed status webhook does the same");
}
is($node->safe_psql('postgres', q{SELECT string_agg(DISTINCT source, ',' ORDER BY source) FROM antiban.send_errors}),
	'send,webhook', 'both doors were used');

# The monitor sees the 130429s the sender and the webhook acted on: no second cut.
$node->safe_psql('postgres', 'SELECT count(*) FROM antiban.evaluate_health()');
is($node->safe_psql('postgres', sprintf(q{SELECT string_agg(round(rate_factor::numeric, 3)::text, ',' ORDER BY id)
	FROM antiban.numbers WHERE phone_number_id IN ('%s', '%s')}, $by_send{130429}, $by_hook{130429})),
	'0.700,0.700', 'the monitor did not cut again for the same 130429');

# 131049: the deferral is stored for the person (it survives a restart).
# (read through to_jsonb: without the column this says 0 instead of failing to run)
# (24 h from each number's 131049 as recorded, as in fingerprint)
is($node->safe_psql('postgres', sprintf(q{SELECT count(*) FROM antiban.recipient_facts f
	JOIN (VALUES ('%s', '%s'), ('%s', '%s')) p (recipient, number) USING (recipient)
	WHERE (to_jsonb(f) ->> 'marketing_not_before')::timestamptz > (SELECT max(e.at) FROM antiban.send_errors e
		JOIN antiban.numbers n ON n.id = e.number_id WHERE n.phone_number_id = p.number AND e.code = 131049)
		+ interval '23 hours 59 minutes'},
	recipient($by_send{131049}), $by_send{131049}, recipient($by_hook{131049}), $by_hook{131049})), '2',
	'131049 deferred marketing to both people by 24 h in recipient_facts');

# One congestion event, told both ways: two messages leave together, Meta
# answers one with 130429 and posts the other's failure (130429) later.
sim_post($sim, '/_sim/script', [ { number => $both, fail_next => 1, code => 130429 },
	{ number => $both, fail_async_next => 1, code => 130429 } ]);
$node->safe_psql('postgres', "BEGIN;
	SELECT antiban.send_template('+5511988880001', 'oferta', 'pt_BR', from_number => '$both');
	SELECT antiban.send_template('+5511988880002', 'oferta', 'pt_BR', from_number => '$both');
	COMMIT;");
ok(wait_for($node, qq{SELECT count(*) = 2 FROM antiban.send_errors e JOIN antiban.numbers n ON n.id = e.number_id
	WHERE n.phone_number_id = '$both'}, 180), 'the answer and the webhook both arrived');
is($node->safe_psql('postgres', qq{SELECT string_agg(source, ',' ORDER BY source) FROM antiban.send_errors e
	JOIN antiban.numbers n ON n.id = e.number_id WHERE n.phone_number_id = '$both'}), 'send,webhook',
	'one by each door');
$node->safe_psql('postgres', 'SELECT count(*) FROM antiban.evaluate_health()');
is($node->safe_psql('postgres', qq{SELECT round(rate_factor::numeric, 3) FROM antiban.numbers WHERE phone_number_id = '$both'}),
	'0.700', 'one congestion event, one decrease by antiban.aimd_decrease');
is($node->safe_psql('postgres', qq{SELECT count(*) FROM antiban.health_events WHERE phone_number_id = '$both'
	AND factor_after < factor_before}), '1', 'health_events shows exactly one decrease')
  or diag($node->safe_psql('postgres', qq{SELECT e.source, e.request_at, e.at, n.rate_decreased_at
	FROM antiban.send_errors e JOIN antiban.numbers n ON n.id = e.number_id WHERE n.phone_number_id = '$both'}));

stop_receiver($receiver);
stop_simulator($sim);

# After a restart the deferral is read back from recipient_facts.
$node->restart;
is(fingerprint($by_hook{131049}) =~ s/.*\| (marketing [^|]*\| utility .*)$/$1/r, 'marketing deferred >= 24 h | utility allowed',
	'after a restart, marketing to the 131049 person still waits and utility goes');
$node->stop;
done_testing();
