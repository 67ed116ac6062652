# tester13: antiban's start-up warning about max_worker_processes counts
# its own workers and PostgreSQL's launcher, and its hint leaves room for
# pg_cron, but the check itself does not: with pg_cron (which antiban's
# maintenance jobs use) and pg_partman's background worker loaded before
# it, max_worker_processes = 6 holds neither all of antiban's workers nor
# gives the warning; the last one registered (the antiban leads worker)
# is silently missing, so deferred lead events are never scored.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('t13_budget');
$node->init;
$node->append_conf('postgresql.conf', <<'EOC');
shared_preload_libraries = 'pg_cron, pg_partman_bgw, antiban'
cron.database_name = 'postgres'
antiban.database_name = 'postgres'
antiban.monitor = off
antiban.sender_workers = 1
max_worker_processes = 6
EOC
$node->start;
my $log = slurp_file($node->logfile);
plan skip_all => 'pg_cron or pg_partman_bgw could not be loaded' if $log =~ /could not access file "pg_(cron|partman_bgw)"/;
$node->safe_psql('postgres', 'CREATE EXTENSION antiban');
# antiban's workers: journal writer, one sender, two apply workers, the leads worker
my $expected = 5;
my $running = 0;
for (1 .. 100)
{
	$running = $node->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'antiban%'});
	last if $running >= $expected;
	usleep(100_000);
}
$log = slurp_file($node->logfile);
ok($running >= $expected || $log =~ /antiban needs \d+ background workers/,
	"all $expected antiban workers run, or antiban warned that they cannot")
	or diag("antiban workers running: " . $node->safe_psql('postgres', q{SELECT string_agg(backend_type, ', ' ORDER BY backend_type)
		FROM pg_stat_activity WHERE backend_type LIKE 'antiban%'}) . '; '
		. join(' | ', grep { /too many background workers|antiban needs/ } split /\n/, $log));
$node->stop;
done_testing();
