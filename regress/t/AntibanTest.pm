# Helpers shared by antiban's TAP tests.
package AntibanTest;

use strict;
use warnings;
use Exporter 'import';
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

our @EXPORT = qw(antiban_node register_numbers start_simulator sim_get sim_post
  sim_ledger sim_messages stop_simulator wait_for start_receiver stop_receiver);

my $simulator_bin = dirname(__FILE__) . '/../simulator/antiban-sim';
my $receiver_bin = dirname(__FILE__) . '/../../src/receiver/antiban-receiver';
my $dashboard_dir = dirname(__FILE__) . '/../../src/dashboard/dist';
my $http = HTTP::Tiny->new(timeout => 10, keep_alive => 0);

# A started node with antiban preloaded, the extension created in 'postgres'.
sub antiban_node
{
	my ($name, %conf) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	my $extra = join('', map { "$_ = '$conf{$_}'\n" } sort keys %conf);
	$node->append_conf('postgresql.conf', <<"EOC" . $extra);
shared_preload_libraries = 'antiban'
antiban.database_name = 'postgres'
antiban.journal_flush_interval = '50ms'
antiban.monitor = off
EOC
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION antiban');
	# Until the journal writer's first flush has read how the server last
	# stopped (antiban.journal_stats().previous_shutdown 'unknown'), a bucket
	# seen for the first time counts as empty since the start: a new pair on
	# the real clock would be held.  Wait for it, where the writer runs (the
	# library preloaded, its database the one the extension was created in).
	my $writer_runs = $node->safe_psql('postgres', q{
		SELECT 'antiban' = ANY (string_to_array(replace(current_setting('shared_preload_libraries'), ' ', ''), ','))
		   AND current_setting('antiban.database_name', true) = current_database()});
	if ($writer_runs eq 't')
	{
		wait_for($node, q{SELECT previous_shutdown <> 'unknown' FROM antiban.journal_stats()}, 180)
		  or die "the journal writer of node $name did not flush within 180 s";
	}
	return $node;
}

# One TIER_250 portfolio, one WABA, the given numbers (id => SQL column values).
sub register_numbers
{
	my ($node, %numbers) = @_;
	my $sql = "INSERT INTO antiban.portfolios (business_id, messaging_limit) VALUES ('100', 'TIER_250');
		INSERT INTO antiban.wabas (waba_id, portfolio_id) VALUES ('200', 1);";
	for my $id (sort keys %numbers)
	{
		my $cols = $numbers{$id};
		my @names = ('phone_number_id', 'waba_id', sort keys %$cols);
		my @values = ("'$id'", 1, map { $cols->{$_} } sort keys %$cols);
		$sql .= sprintf("INSERT INTO antiban.numbers (%s) VALUES (%s);",
			join(', ', @names), join(', ', @values));
	}
	$node->safe_psql('postgres', $sql);
}

# Start the Cloud API simulator on a free port with the given options.
sub start_simulator
{
	my (@options) = @_;
	my $dir = tempdir(CLEANUP => 1);
	my $port_file = "$dir/port";
	my $log = $PostgreSQL::Test::Utils::log_path . '/simulator_' . time() . "_$$.log";
	my $pid = fork();
	die "fork: $!" unless defined $pid;
	if ($pid == 0)
	{
		open(STDOUT, '>>', $log);
		open(STDERR, '>&', \*STDOUT);
		exec($simulator_bin, '--port', '0', '--port-file', $port_file, @options)
		  or die "exec $simulator_bin: $!";
	}
	for (1 .. 100)
	{
		last if -s $port_file;
		usleep(50_000);
	}
	my $port = PostgreSQL::Test::Utils::slurp_file($port_file);
	chomp $port;
	die "simulator did not start (see $log)" unless $port;
	return { pid => $pid, port => $port, url => "http://127.0.0.1:$port", log => $log };
}

sub sim_get
{
	my ($sim, $path) = @_;
	my $r = $http->get("$sim->{url}$path");
	die "GET $path: $r->{status} $r->{content}" unless $r->{success};
	return $r->{content};
}

sub sim_post
{
	my ($sim, $path, $body) = @_;
	my $r = $http->post("$sim->{url}$path",
		{ content => ref $body ? encode_json($body) : $body,
		  headers => { 'content-type' => 'application/json' } });
	die "POST $path: $r->{status} $r->{content}" unless $r->{success};
	return $r->{content};
}

sub sim_ledger
{
	my ($sim) = @_;
	return decode_json(sim_get($sim, '/_sim/ledger'));
}

# Accepted messages: [ { wamid, number, to, type, template, callback, at } ]
sub sim_messages
{
	my ($sim) = @_;
	my @rows;
	for my $line (split /\n/, sim_get($sim, '/_sim/messages'))
	{
		my @f = split /\t/, $line;
		push @rows, { wamid => $f[0], number => $f[1], to => $f[2], type => $f[3],
			template => $f[4], callback => $f[5], at => $f[6] };
	}
	return \@rows;
}

sub stop_simulator
{
	my ($sim) = @_;
	kill 'TERM', $sim->{pid};
	waitpid($sim->{pid}, 0);
}

# Start antiban-receiver for a node, as a login role of antiban_receiver.
# With admin_user (a login role of antiban_dashboard) it also opens the
# admin listener on a free port (admin_url), serving the built page from
# src/dashboard/dist; admin_auth_file requires basic auth.  args: more
# command-line options (an array ref).
sub start_receiver
{
	my ($node, %opt) = @_;
	my $dir = tempdir(CLEANUP => 1);
	my $log = $PostgreSQL::Test::Utils::log_path . '/receiver_' . time() . "_$$.log";
	my $conninfo = sprintf('host=%s port=%d dbname=postgres user=receiver', $node->host, $node->port);
	my @admin;
	if ($opt{admin_user})
	{
		@admin = ('--admin-port', 0, '--admin-port-file', "$dir/admin_port", '--admin-conninfo',
			sprintf('host=%s port=%d dbname=postgres user=%s', $node->host, $node->port, $opt{admin_user}),
			'--admin-assets', $opt{admin_assets} // $dashboard_dir);
		push @admin, '--admin-auth-file', $opt{admin_auth_file} if $opt{admin_auth_file};
	}
	my $pid = fork();
	die "fork: $!" unless defined $pid;
	if ($pid == 0)
	{
		open(STDOUT, '>>', $log);
		open(STDERR, '>&', \*STDOUT);
		exec($receiver_bin, '--conninfo', $conninfo, '--port', $opt{port} // 0,
			'--port-file', "$dir/port", @admin, @{ $opt{args} // [] }) or die "exec $receiver_bin: $!";
	}
	for (1 .. 100)
	{
		last if -s "$dir/port" && (!@admin || -s "$dir/admin_port");
		usleep(50_000);
	}
	my $port = -s "$dir/port" ? PostgreSQL::Test::Utils::slurp_file("$dir/port") : '';
	chomp $port;
	die "receiver did not start (see $log)" unless $port;
	my $r = { pid => $pid, port => $port, url => "http://127.0.0.1:$port", log => $log };
	if (@admin)
	{
		my $admin_port = PostgreSQL::Test::Utils::slurp_file("$dir/admin_port");
		chomp $admin_port;
		$r->{admin_port} = $admin_port;
		$r->{admin_url} = "http://127.0.0.1:$admin_port";
	}
	return $r;
}

sub stop_receiver
{
	my ($r, $signal) = @_;
	kill $signal // 'TERM', $r->{pid};
	waitpid($r->{pid}, 0);
}

# Poll a SQL condition until true or the timeout (seconds) passes.
sub wait_for
{
	my ($node, $sql, $timeout) = @_;
	my $deadline = time() + ($timeout // 120);
	while (time() < $deadline)
	{
		my $v = $node->safe_psql('postgres', $sql);
		return 1 if $v eq 't';
		usleep(100_000);
	}
	return 0;
}

1;
