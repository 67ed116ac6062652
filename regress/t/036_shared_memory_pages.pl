# Which pages back PostgreSQL's shared memory, where antiban keeps its
# buckets, people and journal.  With huge_pages = try PostgreSQL 15 does not
# say what it got; antiban.shared_memory() reads it from the kernel
# (/proc/self/smaps), the Prometheus view exports it, and the server log
# says at start, with a hint, when it is 4 kB pages (every decision reads
# that memory at random: on small pages a TLB miss each time).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('shared_memory_pages', 'antiban.sender_workers' => '0');

my ($bytes, $page, $huge) = split /\|/, $node->safe_psql('postgres',
	'SELECT antiban_bytes, page_bytes, huge_pages FROM antiban.shared_memory()');
# the buckets alone take antiban.max_buckets (262,144 by default) entries
cmp_ok($bytes, '>', 262144 * 64, "antiban's own shared memory is counted ($bytes bytes)");
like($page, qr/^(4096|2097152)$/, "the page size is read from the kernel ($page bytes)");
is($huge, $page >= 2097152 ? 't' : 'f', 'huge_pages says whether it is a huge page');

my $log = slurp_file($node->logfile);
if ($page == 4096)
{
	like($log, qr/LOG:  antiban: shared memory is on 4 kB pages/, 'the server log says so at start');
	like($log, qr/HINT:  Reserve huge pages for PostgreSQL \(vm\.nr_hugepages/, 'with how to fix it');
}
else
{
	unlike($log, qr/antiban: shared memory is on/, 'no advice when huge pages back it');
	pass('(no hint either)');
}

# Prometheus: the same figure; readers may see it, not a tenant's login
is($node->safe_psql('postgres', q{SELECT value FROM antiban.prometheus_metrics
	WHERE name = 'antiban_shared_memory_page_bytes'}), $page, 'the metric exports it');
$node->safe_psql('postgres', q{
	CREATE ROLE ops LOGIN IN ROLE antiban_reader;
	CREATE ROLE outsider LOGIN;});
is($node->safe_psql('postgres', 'SELECT page_bytes FROM antiban.shared_memory()', extra_params => ['-U', 'ops']),
	$page, 'antiban_reader may call it');
my ($ret, $out, $err) = $node->psql('postgres', 'SELECT * FROM antiban.shared_memory()', extra_params => ['-U', 'outsider']);
like($err, qr/permission denied/, 'a role without antiban rights may not');

# a restart reads the pages again (the postmaster logs once per start)
$node->restart;
my $starts = () = slurp_file($node->logfile) =~ /antiban: shared memory is on 4 kB pages/g;
is($starts, $page == 4096 ? 2 : 0, 'said once per server start');
$node->stop;
done_testing();
