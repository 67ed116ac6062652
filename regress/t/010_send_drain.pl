# 1,000 messages over 3 numbers reach the Cloud API simulator exactly once,
# with no limit violated, and every outbox row ends 'sent' with its wamid.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $sim = start_simulator('--token', 'EAAG-drain-token');
sim_post($sim, '/_sim/config', {
	numbers => { map { ("100$_" => { throughput => 1000, portfolio => 'p1', waba => '200' }) } 1 .. 3 },
	portfolios => { p1 => { limit => 'unlimited' } } });

my $node = antiban_node('drain', 'antiban.graph_base_url' => $sim->{url},
	'antiban.sender_workers' => 2, 'antiban.max_inflight' => 32);
register_numbers($node, map { ("100$_" => { throughput_level => "'HIGH'" }) } 1 .. 3);
$node->safe_psql('postgres', q{
	UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED';
	SELECT antiban.set_secret('access_token', 'EAAG-drain-token', '200');
	SELECT count(antiban.send_template('+55119' || lpad(i::text, 8, '0'), 'boas_vindas', 'pt_BR',
	                                   jsonb_build_array('Lead ' || i)))
	FROM generate_series(1, 1000) i;});

ok(wait_for($node, q{SELECT count(*) = 1000 FROM antiban.outbox WHERE state = 'sent'}, 120),
	'all 1,000 messages sent')
  or diag($node->safe_psql('postgres', 'SELECT state, reason, count(*) FROM antiban.outbox GROUP BY 1, 2'));

my $ledger = sim_ledger($sim);
is($ledger->{accepted}, 1000, 'the simulator accepted exactly 1,000');
is($ledger->{duplicates}, 0, 'no message was sent twice');
is($ledger->{violations}{$_}, 0, "no $_ violation") for qw(throughput pair_rate messaging_limit marketing_cap);

my %callbacks = map { $_->{callback} => $_->{wamid} } @{ sim_messages($sim) };
my $rows = $node->safe_psql('postgres', q{SELECT string_agg(id || '=' || wamid, ',' ORDER BY id) FROM antiban.outbox});
my $matched = grep { my ($id, $wamid) = split /=/; ($callbacks{$id} // '') eq $wamid } split /,/, $rows;
is($matched, 1000, 'each row carries the wamid Meta gave for its biz_opaque_callback_data');
is($node->safe_psql('postgres', q{SELECT count(DISTINCT phone_number_id) FROM antiban.outbox}), '3',
	'traffic went over the three numbers');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.outbox WHERE sent_at IS NULL OR sending_at IS NULL OR queued_at IS NULL}),
	'0', 'every transition is timestamped');
like($node->safe_psql('postgres', q{SELECT string_agg(DISTINCT query, ',') FROM pg_stat_activity WHERE backend_type = 'antiban sender'}),
	qr/antiban sender \d/, 'pg_stat_activity shows what the senders do');

$node->stop;
stop_simulator($sim);
done_testing();
