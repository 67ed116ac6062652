# The receiver survives load it did not ask for: a request framed two ways
# (two Content-Length headers, or one with Transfer-Encoding) gets 400; a
# client that trickles its headers or its body a byte at a time is cut at
# its deadline (--header-timeout, --body-timeout), however often it sends;
# past --max-connections-per-ip a client's extra connections are closed at
# once; and once the slow ones are cut, a normal request is answered.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use HTTP::Tiny;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(usleep time);
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('limits', 'antiban.sender_workers' => '0');
$node->safe_psql('postgres', q{
	SELECT antiban.set_secret('app_secret', 'limits-app-secret');
	SELECT antiban.set_secret('webhook_verify_token', 'limits-verify');
	CREATE ROLE receiver LOGIN IN ROLE antiban_receiver;
	CREATE ROLE dashboard LOGIN IN ROLE antiban_dashboard;});
my $r = start_receiver($node, admin_user => 'dashboard',
	args => [ '--header-timeout', '2', '--body-timeout', '3', '--max-connections-per-ip', '20' ]);
my $http = HTTP::Tiny->new(timeout => 30, keep_alive => 0);

sub connect_raw
{
	# (not "return ... or die": return binds tighter, so a failed connect came back undef)
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $r->{port}, Proto => 'tcp', Timeout => 10)
	  or die "connect: $!";
	return $s;
}
# The status line the receiver answers to a raw request.
sub raw_status
{
	my ($request) = @_;
	my $s = connect_raw();
	print $s $request;
	my $line = '';
	if (IO::Select->new($s)->can_read(30)) { $line = <$s> // ''; }
	close $s;
	return $line =~ m{^HTTP/1\.[01] (\d{3})} ? $1 : "no answer ($line)";
}
# Whether the server closed the socket (EOF or reset) within the timeout.
sub closed_within
{
	my ($s, $seconds) = @_;
	return 0 unless IO::Select->new($s)->can_read($seconds);
	my $n = sysread($s, my $buf, 4096);
	return !defined $n || $n == 0 || $buf =~ m{^HTTP/1\.[01] };
}
sub metric
{
	my ($name) = @_;
	my $m = $http->get("$r->{admin_url}/metrics");
	return $m->{content} =~ /^\Q$name\E (\d+)$/m ? $1 : -1;
}

# ---- 1. Ambiguous framing ----
is(raw_status("POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
		. "Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}"), '400', 'two Content-Length headers get 400');
is(raw_status("POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
		. "Content-Length: 7\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"), '400',
	'Content-Length with Transfer-Encoding gets 400');
is(raw_status("POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
		. "Content-Length: 2\r\n\r\n{}"), '401', 'one Content-Length is read as usual (unsigned: 401)');

# ---- 2. Deadlines: a byte every 200 ms never idles, but is cut ----
sub trickle
{
	my ($prefix, $drip, $seconds) = @_;
	my $s = connect_raw();
	print $s $prefix;
	my $start = time();
	while (time() - $start < $seconds)
	{
		return (1, time() - $start) if closed_within($s, 0.2);
		local $SIG{PIPE} = 'IGNORE';
		return (1, time() - $start) unless defined syswrite($s, $drip);
	}
	return (0, $seconds);
}
my $cut_before = metric('antiban_receiver_connections_cut_total');
my ($cut, $after) = trickle("POST /webhook HTTP/1.1\r\nHost: x\r\n", 'X', 60);
ok($cut, sprintf('headers sent a byte at a time are cut (after %.1f s, deadline 2 s)', $after));
($cut, $after) = trickle("POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n",
	'x', 60);
ok($cut, sprintf('a body sent a byte at a time is cut (after %.1f s, body deadline 3 s)', $after));
cmp_ok(metric('antiban_receiver_connections_cut_total') - $cut_before, '>=', 2, 'both counted as cut');

# The handshake GET, once the receiver has reaped the client's closed sockets.
# (on a loaded machine the receiver may not have reaped them yet, and the
# per-IP limit still counts them: its refusal, a connection closed at once,
# is status 599; the request is retried until answered or 120 s pass, never
# waited on by time)
sub handshake_once_reaped
{
	my ($challenge) = @_;
	my $deadline = time() + 120;
	my $g;
	while (1)
	{
		$g = $http->get("$r->{url}/webhook?hub.mode=subscribe&hub.verify_token=limits-verify&hub.challenge=$challenge");
		last if $g->{status} != 599 || time() > $deadline;
		select(undef, undef, undef, 0.2);
	}
	return $g;
}

# ---- 3. Slow clients are cut, then a normal request is answered ----
my @idle = map { connect_raw() } 1 .. 20;
my $cut_idle = grep { closed_within($_, 20) } @idle;	# libmicrohttpd alone: 30 s
close $_ for @idle;
is($cut_idle, 20, 'twenty connections that send nothing are cut at their header deadline');
my $g = handshake_once_reaped(42);
is("$g->{status} $g->{content}", '200 42', 'then a normal request is answered');
stop_receiver($r);

# ---- 4. Connections per IP (a receiver with a long header deadline) ----
$r = start_receiver($node, args => [ '--header-timeout', '300', '--max-connections-per-ip', '20' ]);
@idle = map { connect_raw() } 1 .. 30;
my $select = IO::Select->new(@idle);
my %closed;
my $deadline = time() + 30;
while (keys %closed < 10 && time() < $deadline)
{
	for my $s ($select->can_read(1))
	{
		my $n = sysread($s, my $buf, 4096);
		if (!defined $n || $n == 0) { $closed{$s} = 1; $select->remove($s); }
	}
}
is(scalar(keys %closed), 10, 'of 30 connections from one IP, the 10 past --max-connections-per-ip are closed');
close $_ for @idle;
$g = handshake_once_reaped(43);
is("$g->{status} $g->{content}", '200 43', 'once they are gone, a request from that IP is answered');

stop_receiver($r);
$node->stop;
done_testing();
