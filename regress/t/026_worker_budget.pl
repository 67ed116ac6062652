# antiban's background workers and max_worker_processes: past it
# PostgreSQL starts some workers and only logs "too many background
# workers" for the rest, so a sender or a webhook apply worker could be
# missing silently.  antiban says how many it needs and what to set.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

# enough (the defaults: journal writer, one sender, two apply workers, the
# leads worker, and PostgreSQL's launcher within 8)
my $node = antiban_node('worker_budget');
my $log = slurp_file($node->logfile);
unlike($log, qr/antiban needs/, 'no warning when max_worker_processes has room');

# too few: 4 sender workers and max_worker_processes 6
$node->append_conf('postgresql.conf', "max_worker_processes = 6\nantiban.sender_workers = 4\n");
my $offset = -s $node->logfile;
$node->restart;
$log = substr(slurp_file($node->logfile), $offset);
like($log, qr/WARNING:  antiban needs 8 background workers, but max_worker_processes is 6/,
	'the warning names what antiban needs and what is set');
like($log, qr/HINT:  Set max_worker_processes to at least 12/, 'and the value to set');
$node->stop;
done_testing();
