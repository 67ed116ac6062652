# Each request a sender has in flight is a connection of its own (HTTP/1.1:
# src/cloudapi/transport.c), so antiban.max_inflight needs as many open
# files.  A server started under systemd gets a soft limit of 1,024: the
# sender raises its own to the hard limit, and warns when antiban.max_inflight
# and PostgreSQL's own files together might still not fit (once per start,
# and on a reload only when something changed).  The postmaster's limits are
# lowered with prlimit(1); the sender, restarted, inherits them.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

plan skip_all => 'needs /proc and prlimit(1)'
  unless -r "/proc/$$/limits" && system('prlimit --version >/dev/null 2>&1') == 0;

my $node = antiban_node('sender_open_files');
my ($postmaster) = slurp_file($node->data_dir . '/postmaster.pid') =~ /^(\d+)/ or die 'no postmaster pid';

# (soft, hard) open-files limits of a process
sub open_files
{
	my ($pid) = @_;
	my ($soft, $hard) = slurp_file("/proc/$pid/limits") =~ /^Max open files\s+(\S+)\s+(\S+)/m
	  or die "no open-files line for $pid";
	return ($soft, $hard);
}

# the pid of a sender other than $old that is past its start (it reports its
# activity only once its limit is set)
sub sender_pid
{
	my ($old) = @_;
	for (1 .. 600)
	{
		my $pid = $node->safe_psql('postgres',
			"SELECT pid FROM pg_stat_activity WHERE backend_type = 'antiban sender'
			   AND query LIKE 'antiban sender %'" . ($old ? " AND pid <> $old" : ''));
		return $pid if $pid;
		usleep(100_000);
	}
	die 'no antiban sender';
}

# a new sender, started under what the postmaster has now
sub restart_sender
{
	my $old = sender_pid();
	$node->safe_psql('postgres', "SELECT pg_terminate_backend($old)");
	return sender_pid($old);
}

# the log since $offset once it matches $re (or after 60 s)
sub log_after
{
	my ($offset, $re) = @_;
	my $log = '';
	for (1 .. 600)
	{
		$log = substr(slurp_file($node->logfile), $offset);
		last if $log =~ $re;
		usleep(100_000);
	}
	return $log;
}

my (undef, $hard) = open_files($postmaster);
if ($hard ne 'unlimited' && $hard < 512)
{
	$node->stop;
	plan skip_all => "the hard limit ($hard) is below the 512 this test lowers it to";
}

my $offset = -s $node->logfile;
system('prlimit', "--pid=$postmaster", '--nofile=256:') == 0 or die 'prlimit failed';
is((open_files($postmaster))[0], 256, 'the postmaster now has a soft limit of 256');
my $sender = restart_sender();
is_deeply([ open_files($sender) ], [ $hard, $hard ], 'the sender raised its soft limit to the hard one');

# a hard limit below what antiban.max_inflight (64) and PostgreSQL's files need
$offset = -s $node->logfile;
system('prlimit', "--pid=$postmaster", '--nofile=256:512') == 0 or die 'prlimit failed';
$sender = restart_sender();
is_deeply([ open_files($sender) ], [ 512, 512 ], 'the sender raised its soft limit to the lower hard one');
my $log = log_after($offset, qr/HINT:.*open files/);
like($log, qr/WARNING:  open files limit of antiban sender might be too low for antiban.max_inflight = 64/,
	'the warning names antiban.max_inflight');
like($log, qr/DETAIL:  The limit is 512;/, 'and the limit');
my ($wanted) = $log =~ /HINT:  Raise the server's hard limit on open files to at least (\d+) /;
ok(defined $wanted && $wanted > 512, 'the hint gives a limit above the one in force (' . ($wanted // 'none') . ')');

# a reload that changes nothing says nothing again; one that raises
# antiban.max_inflight does
$offset = -s $node->logfile;
$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
# (a second signal before the sender took the first would be one reload:
# the test would then not see the quiet one, but could not fail for it)
usleep(1_000_000);
$node->append_conf('postgresql.conf', "antiban.max_inflight = 200\n");
$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
$log = log_after($offset, qr/max_inflight = 200/);
like($log, qr/might be too low for antiban.max_inflight = 200/, 'a reload that raised antiban.max_inflight warns');
unlike($log, qr/max_inflight = 64/, 'the reload that changed nothing did not');

$node->stop;
done_testing();
