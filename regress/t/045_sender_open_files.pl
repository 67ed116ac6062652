# Each request a sender has in flight is a connection of its own (HTTP/1.1:
# src/cloudapi/transport.c), so antiban.max_inflight needs as many open
# files.  A server started under systemd gets a soft limit of 1,024: the
# sender raises its own to the hard limit, and warns when antiban.max_inflight
# and max_files_per_process together may still not fit.  The postmaster's
# limits are lowered with prlimit(1); the sender, restarted, inherits them.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

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

# the sender's pid once one runs that is not $old
sub sender_pid
{
	my ($old) = @_;
	my $pid;
	for (1 .. 600)
	{
		$pid = $node->safe_psql('postgres',
			"SELECT pid FROM pg_stat_activity WHERE backend_type = 'antiban sender'" . ($old ? " AND pid <> $old" : ''));
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

my (undef, $hard) = open_files($postmaster);
plan skip_all => "the hard limit ($hard) leaves nothing to raise" if $hard ne 'unlimited' && $hard <= 256;

system('prlimit', "--pid=$postmaster", '--nofile=256:') == 0 or die 'prlimit failed';
is((open_files($postmaster))[0], 256, 'the postmaster now has a soft limit of 256');
my $sender = restart_sender();
is_deeply([ open_files($sender) ], [ $hard, $hard ], 'the sender raised its soft limit to the hard one');
# (max_inflight 64 + max_files_per_process 1000 + 64 = 1128)
if ($hard eq 'unlimited' || $hard >= 1128)
{
	unlike(slurp_file($node->logfile), qr/may not fit its limit on open files/, 'no warning when the hard limit has room');
}
else
{
	like(slurp_file($node->logfile), qr/may not fit its limit on open files \($hard\)/, 'a warning: this hard limit has no room');
}

# a hard limit below max_inflight (64) + max_files_per_process (1000) + 64
my $offset = -s $node->logfile;
system('prlimit', "--pid=$postmaster", '--nofile=256:512') == 0 or die 'prlimit failed';
$sender = restart_sender();
is_deeply([ open_files($sender) ], [ 512, 512 ], 'the sender raised its soft limit to the lower hard one');
my $log = '';
for (1 .. 600)
{
	$log = substr(slurp_file($node->logfile), $offset);
	last if $log =~ /may not fit/;
	usleep(100_000);
}
like($log, qr/WARNING:  antiban sender: antiban.max_inflight \(64\) may not fit its limit on open files \(512\)/,
	'the warning names antiban.max_inflight and the limit');
like($log, qr/HINT:  Raise the server's limit on open files to at least 1128/, 'and the limit to set');

$node->stop;
done_testing();
