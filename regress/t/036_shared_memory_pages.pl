# Which pages back PostgreSQL's shared memory, where antiban keeps its
# buckets, people and journal.  With huge_pages = try PostgreSQL 15 does not
# say what it got; the postmaster reads it from the kernel
# (/proc/self/smaps) when it builds the segment, antiban.shared_memory()
# returns it, the Prometheus view exports it, and the journal writer logs
# once per segment, with a hint, when it is base-size pages (every decision
# reads that memory at random: a TLB miss each time).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('shared_memory_pages', 'antiban.sender_workers' => '0', 'restart_after_crash' => 'on');

my ($bytes, $page, $huge) = split /\|/, $node->safe_psql('postgres',
	'SELECT antiban_bytes, page_bytes, huge_pages FROM antiban.shared_memory()');
# the buckets alone take antiban.max_buckets (262,144 by default) entries
cmp_ok($bytes, '>', 262144 * 64, "antiban's own shared memory is counted ($bytes bytes)");
like($page, qr/^(4096|2097152|1073741824)$/, "the page size is read from the kernel ($page bytes)");
is($huge, $page > 4096 ? 't' : 'f', 'huge_pages says whether it is larger than a base page');
my $small = $page == 4096;

# how many times the log has given the advice so far (the journal writer
# logs it once it runs): waits up to 60 s for $want, or only $tenths of a
# second when checking that no more come
sub advice_count
{
	my ($want, $tenths) = @_;
	my $count;
	for (1 .. ($tenths // 600))
	{
		$count = () = slurp_file($node->logfile) =~ /LOG:  antiban: shared memory is on 4 kB pages/g;
		last if $count >= $want;
		usleep(100_000);
	}
	return $count;
}

is(advice_count($small ? 1 : 1, $small ? undef : 20), $small ? 1 : 0, 'the log says so when the pages are small');
if ($small)
{
	like(slurp_file($node->logfile), qr/HINT:  Reserve huge pages for PostgreSQL \(vm\.nr_hugepages/,
		'with how to fix it');
}
else
{
	pass('(no hint on huge pages)');
}

# Prometheus: the same figure
is($node->safe_psql('postgres', q{SELECT value FROM antiban.prometheus_metrics
	WHERE name = 'antiban_shared_memory_page_bytes'}), $page, 'the metric exports it');

# readers may call it; a role with the schema but not the function may not
$node->safe_psql('postgres', q{
	CREATE ROLE ops LOGIN IN ROLE antiban_reader;
	CREATE ROLE hook LOGIN IN ROLE antiban_receiver;});
is($node->safe_psql('postgres', 'SELECT page_bytes FROM antiban.shared_memory()', extra_params => ['-U', 'ops']),
	$page, 'antiban_reader may call it');
my ($ret, $out, $err) = $node->psql('postgres', 'SELECT * FROM antiban.shared_memory()', extra_params => ['-U', 'hook']);
like($err, qr/permission denied for function shared_memory/, 'antiban_receiver may not');

# The journal writer restarting alone does not say it again (one segment) ...
my $writer = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE backend_type = 'antiban journal writer'");
$node->safe_psql('postgres', "SELECT pg_terminate_backend($writer)");
$node->poll_query_until('postgres', "SELECT count(*) = 1 FROM pg_stat_activity
	WHERE backend_type = 'antiban journal writer' AND pid <> $writer")
	or die 'the journal writer did not come back';
is(advice_count($small ? 2 : 1, 20), $small ? 1 : 0, 'a worker restarting alone does not repeat it');

# ... a restart after a crash builds a new segment, read again, and a clean
# restart too
my $victim = $node->background_psql('postgres');
my $victim_pid = $victim->query_safe('SELECT pg_backend_pid()');
kill 'KILL', $victim_pid;
eval { $victim->quit };
$node->poll_query_until('postgres', 'SELECT 1', '1') or die 'no crash restart';
is(advice_count($small ? 2 : 0), $small ? 2 : 0, 'a crash restart reads the new segment and says it again');
is($node->safe_psql('postgres', 'SELECT page_bytes FROM antiban.shared_memory()'), $page,
	'the same pages after the crash restart');
$node->restart;
is(advice_count($small ? 3 : 0), $small ? 3 : 0, 'and once per start');
$node->stop;

# With the logging collector on (the usual setup outside Debian), the
# advice reaches its files: the postmaster building the segment runs before
# the collector starts, so the journal writer says it
SKIP:
{
	skip 'huge pages back shared memory here: no advice to look for', 1 unless $small;
	my $collected = antiban_node('pages_collector', 'antiban.sender_workers' => '0',
		'logging_collector' => 'on', 'log_directory' => 'collected', 'log_filename' => 'postgresql.log');
	my $file = $collected->data_dir . '/collected/postgresql.log';
	my $found = 0;
	for (1 .. 600)
	{
		$found = -e $file && slurp_file($file) =~ /LOG:  antiban: shared memory is on 4 kB pages/;
		last if $found;
		usleep(100_000);
	}
	ok($found, "the logging collector's file has it");
	$collected->stop;
}
done_testing();
