# What a failed POST means, on Debian's libcurl against servers that misbehave
# on purpose (regress/transport/transport_check drives src/cloudapi/transport.c
# as the sender's client does).  A request that reached the server whole is
# never "not sent", and libcurl never sends it a second time by itself:
#  - a kept-alive connection that dies after the server read the request:
#    libcurl would re-send it on a fresh connection (the server would count
#    it twice); the second start is refused, the outcome is ambiguous;
#  - the same, when the fresh connection then fails too (nothing listens):
#    libcurl's byte count starts again at 0 for that attempt, which once read
#    as "no byte of the body left" and let the breaker send it again;
#  - nothing listens from the start: not sent, provably;
#  - a TLS server that offers HTTP/2 first (as Meta's does): the request goes
#    over HTTP/1.1, where the rules above hold (on HTTP/2 libcurl would retry
#    a refused stream by itself, and its second start would be refused).
use strict;
use warnings;
use File::Basename qw(dirname);
use IO::Socket::INET;
use IO::Socket::SSL;
use IO::Socket::SSL::Utils;
use PostgreSQL::Test::Utils;
use Test::More;

my $check = dirname(__FILE__) . '/../transport/transport_check';
my $dir = PostgreSQL::Test::Utils::tempdir;

# the servers still running: stopped however this script ends (not by the
# forked servers themselves, which run this END block too when they exit)
my $parent = $$;
my %servers;
END { kill 'KILL', keys %servers if $$ == $parent && %servers; }

# what every server here answers to a request it answers
my $answer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";

# $serve run in a child of its own, which then exits; its pid
sub fork_server
{
	my ($serve) = @_;
	my $pid = fork();
	die "fork: $!" unless defined $pid;
	if ($pid == 0)
	{
		$serve->();
		exit 0;
	}
	$servers{$pid} = 1;
	return $pid;
}

sub stop_pid
{
	my ($pid) = @_;
	kill 'TERM', $pid;
	waitpid($pid, 0);
	delete $servers{$pid};
}

# A server that answers the first request of its first connection, reads the
# second whole, then closes that connection; it counts every request it read
# whole.  With $keep_listening it goes on accepting (and answering) more.
sub start_server
{
	my ($name, $keep_listening) = @_;
	my $listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 5, ReuseAddr => 1)
	  or die "listen: $!";
	my $port = $listen->sockport;
	my $count_file = "$dir/$name.count";
	my $pid = fork_server(sub {
		my $count = 0;
		my $note = sub { open(my $f, '>', $count_file) or die; print $f $count; close $f; };
		$note->();
		my $serve = sub {
			my ($conn, $answers) = @_;
			for my $i (1 .. 100)
			{
				my $req = read_request($conn);
				last unless defined $req;
				$count++;
				$note->();
				last if $i > $answers;
				print $conn $answer;
			}
			close $conn;
		};
		my $first = $listen->accept or exit 0;
		# (gone: nothing listens any more before libcurl can try again)
		close $listen unless $keep_listening;
		$serve->($first, 1);
		if ($keep_listening)
		{
			while (my $conn = $listen->accept) { $serve->($conn, 100); }
			close $listen;
		}
	});
	close $listen;
	return { pid => $pid, url => "http://127.0.0.1:$port/v24.0/1001/messages", count_file => $count_file };
}

sub read_request
{
	my ($conn) = @_;
	my $buf = '';
	while (index($buf, "\r\n\r\n") < 0)
	{
		my $n = sysread($conn, $buf, 65536, length $buf);
		return undef unless $n;
	}
	my ($head, $rest) = split /\r\n\r\n/, $buf, 2;
	my ($length) = $head =~ /^content-length:\s*(\d+)/mi;
	while (length($rest) < ($length // 0))
	{
		my $n = sysread($conn, $rest, 65536, length $rest);
		return undef unless $n;
	}
	return $head;
}

sub stop_server
{
	my ($server) = @_;
	stop_pid($server->{pid});
	return slurp_file($server->{count_file}) + 0;
}

sub run_check
{
	my ($url, $n) = @_;
	my $out = `$check $url $n`;
	is($?, 0, "transport_check ran against $url");
	return { map { my ($i, $what, $why) = split / /, $_, 3; ($i => [ $what, $why // '' ]) } split /\n/, $out };
}

my $server = start_server('listening', 1);
my $got = run_check($server->{url}, 2);
is($got->{1}[0], 'OK', 'kept-alive server: the first request is answered');
is($got->{2}[0], 'AMBIGUOUS', 'kept-alive server: the request whose reply was lost is ambiguous');
like($got->{2}[1], qr/aborted by an application callback/i, "kept-alive server: libcurl's second start was refused");
is(stop_server($server), 2, 'kept-alive server: it read two requests, the second never again');

$server = start_server('gone', 0);
$got = run_check($server->{url}, 2);
is($got->{1}[0], 'OK', 'server that goes away: the first request is answered');
is($got->{2}[0], 'AMBIGUOUS', 'server that goes away: a request it read whole is ambiguous, not "not sent"');
like($got->{2}[1], qr/connect/i, "server that goes away: libcurl's new connection was refused");
is(stop_server($server), 2, 'server that goes away: it read both requests');

# a port bound and kept, never listening: connecting to it is refused
my $closed = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp') or die "bind: $!";
$got = run_check('http://127.0.0.1:' . $closed->sockport . '/v24.0/1001/messages', 1);
is($got->{1}[0], 'NOT_SENT', 'nothing listens: not sent (retried at once)');
close $closed;

# A TLS server whose ALPN prefers h2 to http/1.1; it notes the protocol of
# each connection, answers requests over HTTP/1.1 and drops an h2 one.
my ($ca, $ca_key) = CERT_create(CA => 1, subject => { commonName => 'antiban test CA' });
my ($cert, $key) = CERT_create(
	issuer => [ $ca, $ca_key ],
	purpose => 'server',
	subject => { commonName => 'localhost' },
	subjectAltNames => [ [ DNS => 'localhost' ], [ IP => '127.0.0.1' ] ]);
PEM_cert2file($ca, "$dir/ca.crt");
PEM_cert2file($cert, "$dir/tls.crt");
PEM_key2file($key, "$dir/tls.key");
my $tls = IO::Socket::SSL->new(
	LocalAddr => '127.0.0.1',
	LocalPort => 0,
	Listen => 5,
	ReuseAddr => 1,
	SSL_server => 1,
	SSL_cert_file => "$dir/tls.crt",
	SSL_key_file => "$dir/tls.key",
	SSL_alpn_protocols => [ 'h2', 'http/1.1' ]) or die "TLS listen: $SSL_ERROR";
my $tls_port = $tls->sockport;
my $tls_pid = fork_server(sub {
	while (my $conn = $tls->accept)
	{
		my $alpn = $conn->alpn_selected // '(none)';
		open(my $f, '>>', "$dir/alpn.log") or die;
		print $f "$alpn\n";
		close $f;
		if ($alpn eq 'h2') { close $conn; next; }
		print $conn $answer while defined read_request($conn);
		close $conn;
	}
});
close $tls;
{
	local $ENV{TRANSPORT_CHECK_CAINFO} = "$dir/ca.crt";
	$got = run_check("https://127.0.0.1:$tls_port/v24.0/1001/messages", 2);
}
stop_pid($tls_pid);
is_deeply([ map { "@$_" } @$got{ 1, 2 } ], [ 'OK HTTP/1.1', 'OK HTTP/1.1' ],
	'server offering HTTP/2 first: both requests answered over HTTP/1.1');
is(-e "$dir/alpn.log" ? slurp_file("$dir/alpn.log") : '(no connection)', "http/1.1\n", 'server offering HTTP/2 first: one connection, http/1.1 chosen by ALPN');

done_testing();
