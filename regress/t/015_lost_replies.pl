# Lost replies with slow status webhooks: the simulator accepts a send and
# then closes the connection without answering (30 % of requests, most of
# them on kept-alive connections), and its status webhooks come 5 s after
# each step, as Meta's often do.  A request that may have reached Meta is
# never POSTed again: the row waits in 'sending' (or 'unknown' once
# antiban.unconfirmed_grace has passed) until the webhook names it.  Every
# message is accepted exactly once, and every one ends settled by Meta's
# evidence.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('lost_replies', 'antiban.sender_tick' => '100ms',
	'antiban.max_inflight' => 8);
register_numbers($node, map { ("100$_" => { throughput_level => "'HIGH'" }) } 1 .. 2);
$node->safe_psql('postgres', q{
	UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED';
	SELECT antiban.set_secret('access_token', 'EAAG-lost-token', '200');
	SELECT antiban.set_secret('app_secret', 'the-app-secret');
	CREATE ROLE receiver LOGIN IN ROLE antiban_receiver;});

my $receiver = start_receiver($node);
my $sim = start_simulator('--lost-reply-rate', '0.3', '--seed', '15',
	'--webhook-url', "$receiver->{url}/webhook", '--app-secret', 'the-app-secret',
	'--webhook-delay-ms', '5000', '--webhook-retry-ms', '100', '--webhook-retry-max-ms', '500');
sim_post($sim, '/_sim/config', {
	numbers => { map { ("100$_" => { throughput => 1000, portfolio => 'p1', waba => '200' }) } 1 .. 2 },
	portfolios => { p1 => { limit => 'unlimited' } } });
$node->safe_psql('postgres', "ALTER SYSTEM SET antiban.graph_base_url = '$sim->{url}'; SELECT pg_reload_conf();");

# Queue n templates; wait until nothing is in flight and the simulator has
# delivered every status it owes (the evidence is all in).
sub send_and_settle
{
	my ($first, $last) = @_;
	$node->safe_psql('postgres', qq{
		SELECT count(antiban.send_template('+55119' || lpad(i::text, 8, '0'), 'oferta', 'pt_BR'))
		FROM generate_series($first, $last) i});
	my $ledger;
	my $deadline = time() + 240;
	while (time() < $deadline)
	{
		$ledger = sim_ledger($sim);
		my $open = $node->safe_psql('postgres', q{SELECT count(*) FROM antiban.outbox
			WHERE state IN ('queued', 'retry_wait', 'sending')});
		# a read status is the last one each accepted message produces
		last if $open eq '0' && $ledger->{webhooks}{pending} == 0
		  && $node->safe_psql('postgres', q{SELECT count(*) FROM antiban.outbox WHERE state = 'read'})
		  >= $ledger->{accepted} - $ledger->{duplicates};
		select(undef, undef, undef, 0.2);
	}
	return sim_ledger($sim);
}

# Every outbox row was accepted exactly once, and ended where Meta's
# evidence put it.
sub check_batch
{
	my ($label, $ledger, $rows) = @_;
	cmp_ok($ledger->{faults}{lost_replies}, '>', 0, "$label: replies really were lost");
	is($ledger->{duplicates}, 0, "$label: no message was accepted twice")
	  or diag('duplicates: ' . join(',', @{ $ledger->{duplicate_callbacks} }));
	my %accepted;
	$accepted{ $_->{callback} }++ for @{ sim_messages($sim) };
	my @ids = split /,/, $node->safe_psql('postgres', q{SELECT string_agg(id::text, ',' ORDER BY id) FROM antiban.outbox});
	is(scalar(grep { ($accepted{$_} // 0) == 1 } @ids), $rows,
		"$label: each of the $rows messages reached the simulator once (nothing lost)");
	is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.outbox
		WHERE state NOT IN ('sent', 'delivered', 'read', 'unknown')}), '0',
		"$label: every message is settled (sent, delivered, read or unknown)")
	  or diag($node->safe_psql('postgres', q{SELECT state, reason, count(*) FROM antiban.outbox GROUP BY 1, 2}));
	is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.outbox WHERE state <> 'read'}), '0',
		"$label: and the status webhooks carried every one to read");
}

# 1. The grace outlasts the webhooks: ambiguous rows wait in 'sending'.
my $ledger = send_and_settle(1, 100);
check_batch('grace longer than the webhooks', $ledger, 100);
cmp_ok($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.outbox WHERE reason = 'unconfirmed'}), '>', 0,
	'some answers were ambiguous, and those rows waited for evidence');
is($node->safe_psql('postgres', q{SELECT max(attempts) FROM antiban.outbox}), '1',
	'no message needed a second attempt');

# 2. The webhooks outlast the grace: rows may be marked unknown first, and
# the late evidence still settles them; nothing is sent again.
$node->safe_psql('postgres', "ALTER SYSTEM SET antiban.unconfirmed_grace = '1s'; SELECT pg_reload_conf();");
$ledger = send_and_settle(101, 150);
check_batch('grace shorter than the webhooks', $ledger, 150);
note('lost replies: ' . $ledger->{faults}{lost_replies} . ', rows marked unknown before their evidence came: '
	  . $node->safe_psql('postgres', q{SELECT count(*) FROM antiban.outbox WHERE unknown_at IS NOT NULL}));

stop_receiver($receiver);
stop_simulator($sim);
$node->stop;
done_testing();
