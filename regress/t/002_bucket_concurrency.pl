# Many clients hammering one bucket never get more grants than the bucket
# holds plus what its rate refilled in the elapsed time.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('concurrency');
register_numbers($node,
	'1001' => { rate_override => 1, burst_override => 1000 },
	'1002' => { rate_override => 200, burst_override => 50 },
	'1003' => { rate_override => 1, burst_override => 1000 });
$node->safe_psql('postgres', 'CREATE UNLOGGED TABLE grants (number text, at timestamptz DEFAULT clock_timestamp())');

sub pgbench
{
	my ($name, $script, @args) = @_;
	my $file = $node->basedir . "/$name.sql";
	PostgreSQL::Test::Utils::append_to_file($file, $script);
	my ($stdout, $stderr);
	my $ok = IPC::Run::run(['pgbench', '-n', '-h', $node->host, '-p', $node->port,
			'-f', $file, @args, 'postgres'], '>', \$stdout, '2>', \$stderr);
	ok($ok, "$name: pgbench ran") or diag($stderr);
}

sub grants
{
	my ($number) = @_;
	return $node->safe_psql('postgres', "SELECT count(*) FROM grants WHERE number = '$number'");
}

# 1. Pinned clock: no refill at all, so exactly the capacity is granted.
pgbench('pinned', <<'EOS', '-c', '6', '-j', '2', '-t', '500');
SET antiban.pinned_now = '2030-01-01 00:00:00+00';
INSERT INTO grants (number) SELECT '1001' FROM antiban.try_consume('1001') WHERE allowed;
EOS
is(grants('1001'), 1000, '3,000 concurrent calls on a bucket of 1,000 with no refill: exactly 1,000 grants');
is($node->safe_psql('postgres', "SET antiban.pinned_now = '2030-01-01 00:00:00+00';
	SELECT granted FROM antiban.buckets WHERE phone_number_id = '1001'"),
	'1000', 'the bucket counted the same grants (seen on the same pinned clock)');

# 2. Real clock: grants <= capacity + rate x elapsed, measured around the run.
my $t0 = $node->safe_psql('postgres', 'SELECT extract(epoch FROM clock_timestamp())');
pgbench('real', <<'EOS', '-c', '6', '-j', '2', '-T', '3');
INSERT INTO grants (number) SELECT '1002' FROM antiban.try_consume('1002') WHERE allowed;
EOS
my $t1 = $node->safe_psql('postgres', 'SELECT extract(epoch FROM clock_timestamp())');
my $granted = grants('1002');
my $bound = 50 + 200 * ($t1 - $t0);
cmp_ok($granted, '<=', $bound, "rate 200/s, burst 50: $granted grants in " . sprintf('%.2f', $t1 - $t0) . " s, bound $bound");
cmp_ok($granted, '>=', 50, 'and the bucket did grant (at least its burst)');

# 3. The pair bucket under the same hammering: its burst of 45, no more.
pgbench('pair', <<'EOS', '-c', '6', '-j', '2', '-t', '100');
SET antiban.pinned_now = '2030-01-01 00:00:00+00';
INSERT INTO grants (number) SELECT 'pair' FROM antiban.try_consume('1003', 1, '+5511987654321') WHERE allowed;
EOS
is(grants('pair'), 45, '600 calls for one recipient on a HIGH number: exactly the pair burst of 45');

# 4. decide() consuming concurrently obeys the same buckets ...
$node->safe_psql('postgres', "UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED';
	UPDATE antiban.numbers SET burst_override = 300, rate_override = 1 WHERE phone_number_id = '1003'");
pgbench('decide', <<'EOS', '-c', '6', '-j', '2', '-t', '200');
SET antiban.pinned_now = '2031-01-01 00:00:00+00';
\set r random(1, 100000000)
INSERT INTO grants (number) SELECT 'decide' FROM antiban.decide('+55119' || lpad(:r::text, 8, '0'), 'utility', from_number => '1003') WHERE outcome = 'SEND';
EOS
is(grants('decide'), 300, '1,200 decides from 6 clients on a bucket of 300: exactly 300 SEND');

# 5. ... and the portfolio's messaging limit: exactly 250 new users.
$node->safe_psql('postgres', "UPDATE antiban.portfolios SET messaging_limit = 'TIER_250';
	UPDATE antiban.numbers SET burst_override = 5000 WHERE phone_number_id = '1003'");
pgbench('limit', <<'EOS', '-c', '6', '-j', '2', '-t', '200');
SET antiban.pinned_now = '2032-01-01 00:00:00+00';
\set r random(1, 100000000)
INSERT INTO grants (number) SELECT 'limit' FROM antiban.decide('+55119' || lpad(:r::text, 8, '0'), 'marketing', from_number => '1003') WHERE outcome = 'SEND';
EOS
cmp_ok(grants('limit'), '<=', 250, 'TIER_250 under 1,200 concurrent decides: never more than 250 new users');
cmp_ok(grants('limit'), '>=', 245, 'and all of it is used (a random recipient may repeat)');
is($node->safe_psql('postgres', "SET antiban.pinned_now = '2032-01-01 00:00:00+00'; SELECT used FROM antiban.portfolio_usage"),
	grants('limit'), 'the portfolio counts exactly the users it let through');
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server survived');
$node->stop;
done_testing();
