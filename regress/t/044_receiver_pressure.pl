# Near --max-connections the receiver's deadlines shrink: past the limit
# libmicrohttpd stops accepting, so connections held by clients that send
# nothing (or a body that never ends) would keep a normal request waiting
# for their full --header-timeout.  From 75 % of the limit open, a client
# gets 1 s for its headers and 2 s for its body; below it, the configured
# deadlines hold.  (bench/receiver_load.sh measures it with 5,000 slow
# clients.)
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use HTTP::Tiny;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time);
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('pressure', 'antiban.sender_workers' => '0');
$node->safe_psql('postgres', q{
	SELECT antiban.set_secret('webhook_verify_token', 'pressure-verify');
	CREATE ROLE receiver LOGIN IN ROLE antiban_receiver;
	CREATE ROLE dashboard LOGIN IN ROLE antiban_dashboard;});
# 16 connections at most (pressure from 12), deadlines far longer than any wait here
my $r = start_receiver($node, admin_user => 'dashboard',
	args => [ '--threads', '1', '--max-connections', '16', '--header-timeout', '300', '--body-timeout', '300' ]);
my $http = HTTP::Tiny->new(timeout => 60, keep_alive => 0);
my $verify = "$r->{url}/webhook?hub.mode=subscribe&hub.verify_token=pressure-verify&hub.challenge=";

sub connect_raw
{
	# (not "return ... or die": return binds tighter, so a failed connect came back undef)
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $r->{port}, Proto => 'tcp', Timeout => 10)
	  or die "connect: $!";
	return $s;
}
sub metric
{
	my ($name) = @_;
	my $m = $http->get("$r->{admin_url}/metrics");
	return $m->{content} =~ /^\Q$name\E (\d+)$/m ? $1 : -1;
}
# Whether the server has closed the socket (EOF or reset) by now.
sub closed_now
{
	my ($s) = @_;
	return 0 unless IO::Select->new($s)->can_read(0);
	my $n = sysread($s, my $buf, 4096);
	return !defined $n || $n == 0;
}

# ---- 1. Below the mark: the configured deadline holds ----
my @few = map { connect_raw() } 1 .. 3;
sleep 3;	# under pressure they would be cut after 1 s
is(scalar(grep { closed_now($_) } @few), 0, 'three silent connections (under 75 % of the limit) are left open');
close $_ for @few;
is(metric('antiban_receiver_connections_cut_under_pressure_total'), 0, 'nothing cut under pressure');

# ---- 2. At the limit: the slow are cut, a normal request gets in ----
# Sixteen clients that send a byte every 0.2 s (so libmicrohttpd's idle timeout never
# cuts them): half trickle their headers, half send headers and trickle a body.
my $head = "POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
my (@held, %open);
for my $i (1 .. 16)
{
	my $s = connect_raw();
	print $s ($i % 2 ? "${head}Content-Length: 100000\r\n\r\n{" : "POST /webhook HTTP/1.1\r\n");
	push @held, $s;
	$open{$s} = $i % 2 ? 'x' : "X-a: b\r\n";
}
# libmicrohttpd accepts no more: this one waits in the listen queue until some are cut
# (without shorter deadlines, for the 300 s of --header-timeout)
my $get = connect_raw();
print $get "GET /webhook?hub.mode=subscribe&hub.verify_token=pressure-verify&hub.challenge=44 HTTP/1.1\r\n"
  . "Host: x\r\nConnection: close\r\n\r\n";
my $answer = '';
my $until = time() + 120;
local $SIG{PIPE} = 'IGNORE';
while (time() < $until)
{
	if (IO::Select->new($get)->can_read(0.2))
	{
		my $n = sysread($get, my $buf, 4096);
		last unless $n;
		$answer .= $buf;
		next;
	}
	for my $s (@held)
	{
		next unless exists $open{$s};
		if (closed_now($s)) { delete $open{$s}; next; }
		my $drip = $open{$s};
		syswrite($s, substr($drip, 0, 1));
		$open{$s} = substr($drip, 1) . substr($drip, 0, 1);
	}
}
like($answer, qr{^HTTP/1\.1 200 .*\r\n\r\n44$}s,
	'with 16 of 16 connections held by slow clients, a normal request is answered');
# the cuts stop once fewer than 12 are open: at least 5 of the 16 went
my $pressed = -1;
for (1 .. 300)
{
	$pressed = metric('antiban_receiver_connections_cut_under_pressure_total');
	last if $pressed >= 5;
	select(undef, undef, undef, 0.2);
}
cmp_ok($pressed, '>=', 5, 'the slow clients were cut under pressure (counted)');
cmp_ok(metric('antiban_receiver_connections_cut_total'), '>=', $pressed, 'and counted among all cuts');
cmp_ok(scalar(grep { !exists $open{$_} || closed_now($_) } @held), '>=', 5,
	'at least 5 of the 16 were closed by the receiver');
close $_ for @held, $get;

stop_receiver($r);
$node->stop;
done_testing();
