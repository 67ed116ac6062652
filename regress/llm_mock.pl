#!/usr/bin/perl
# A local stand-in for an OpenAI-compatible chat-completions endpoint, for
# the tests of the LLM step (regress/t/070_lead_llm.pl).  Core Perl only.
#
#   perl regress/llm_mock.pl PORT_FILE LOG_FILE [EXPECTED_KEY]
#
# Listens on 127.0.0.1 (a free port, written to PORT_FILE), answers each
# POST in a child process, and appends one JSON line per request to
# LOG_FILE: what a test may check (model, response_format, whether the
# bearer key was the expected one, the message ids shown, the mode), never
# the key itself.
#
# Each request is scripted by the lead's own words: a message containing
# "mock:MODE" picks the answer, so the script holds whatever order requests
# arrive in.  Modes:
#   ok (the default)  slots read from the messages: "N mil" (amount), "N anos"
#                     (horizon), "CDB" (product), "vou pensar" (objection
#                     later), each quoting the words and naming the message
#   slow              waits 15 s (past the caller's timeout), then answers as
#                     ok; it stops waiting when the caller hangs up
#   invalid_json      200 with a body that is not JSON
#   schema_mismatch   200, the message content is JSON without the schema's keys
#   bad_evidence      200, right schema, a quote the lead never wrote
#   http_500          500 with an error body
use strict;
use warnings;
use IO::Select;
use IO::Socket::INET;
use JSON::PP;

my ($port_file, $log_file, $expected_key) = @ARGV;
die "usage: $0 PORT_FILE LOG_FILE [EXPECTED_KEY]\n" unless $port_file && $log_file;

my $server = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 64,
	ReuseAddr => 1, Proto => 'tcp') or die "listen: $!";
$SIG{CHLD} = 'IGNORE';
open(my $pf, '>', "$port_file.tmp") or die "$port_file: $!";
print $pf $server->sockport, "\n";
close $pf;
rename("$port_file.tmp", $port_file) or die "rename: $!";

sub read_request
{
	my ($c) = @_;
	my $data = '';
	while ($data !~ /\r\n\r\n/)
	{
		return undef unless sysread($c, $data, 65536, length $data);
	}
	my ($head, $body) = split /\r\n\r\n/, $data, 2;
	my ($len) = $head =~ /^content-length:\s*(\d+)/im;
	$body //= '';
	while (length($body) < ($len // 0))
	{
		last unless sysread($c, $body, $len - length $body, length $body);
	}
	my ($auth) = $head =~ /^authorization:\s*Bearer\s+(\S+)/im;
	return ($head, $body, $auth);
}

sub respond
{
	my ($c, $status, $body) = @_;
	my $reason = $status == 200 ? 'OK' : 'Internal Server Error';
	print $c "HTTP/1.1 $status $reason\r\nContent-Type: application/json\r\nConnection: close\r\n"
	  . 'Content-Length: ' . length($body) . "\r\n\r\n" . $body;
}

sub envelope
{
	my ($content) = @_;
	return encode_json({ id => 'chatcmpl-mock', object => 'chat.completion', model => 'mock',
		choices => [ { index => 0, finish_reason => 'stop',
			message => { role => 'assistant', content => $content } } ],
		usage => { prompt_tokens => 100, completion_tokens => 20, total_tokens => 120 } });
}

# The slots a careful model would fill from these messages.
sub slots_from
{
	my (@messages) = @_;
	my %answer = (amount => undef, horizon => undef, product => undef, objections => []);
	for my $m (@messages)
	{
		my ($id, $text) = ($m->{message_id}, $m->{text});
		if (!$answer{amount} && $text =~ /((\d+)\s*mil)/i)
		{
			$answer{amount} = { reais => $2 * 1000, evidence => $1, message_id => $id };
		}
		if (!$answer{horizon} && $text =~ /((\d+)\s*anos)/i)
		{
			$answer{horizon} = { months => $2 * 12, evidence => $1, message_id => $id };
		}
		if (!$answer{product} && $text =~ /(CDB)/i)
		{
			$answer{product} = { value => 'cdb', evidence => $1, message_id => $id };
		}
		if ($text =~ /(vou pensar)/i)
		{
			push @{ $answer{objections} }, { value => 'later', evidence => $1, message_id => $id };
		}
	}
	return \%answer;
}

sub answer
{
	my ($c, $body, $auth) = @_;
	my $req = eval { decode_json($body) } // {};
	# (the content is already characters: decoded by the outer decode_json)
	my $shown = eval { JSON::PP->new->decode($req->{messages}[1]{content})->{messages} } // [];
	my $all_text = join("\n", map { $_->{text} // '' } @$shown);
	my ($mode) = $all_text =~ /mock:(\w+)/;
	$mode //= 'ok';
	my $format = $req->{response_format} // {};
	my $entry = { mode => $mode, model => $req->{model},
		format => $format->{type}, strict => ($format->{json_schema}{strict} ? 1 : 0),
		schema_keys => [ sort keys %{ $format->{json_schema}{schema}{properties} // {} } ],
		key_ok => (defined $expected_key && defined $auth && $auth eq $expected_key) ? 1 : 0,
		message_ids => [ map { $_->{message_id} } @$shown ] };
	open(my $log, '>>', $log_file) or die "$log_file: $!";
	print $log encode_json($entry), "\n";
	close $log;

	if ($mode eq 'slow')
	{
		# (a caller that gave up closed the connection: nobody to answer,
		# and no child left holding the test's output open)
		return if IO::Select->new($c)->can_read(15);
		$mode = 'ok';
	}
	if ($mode eq 'ok')
	{
		respond($c, 200, envelope(JSON::PP->new->encode(slots_from(@$shown))));
	}
	elsif ($mode eq 'invalid_json')
	{
		respond($c, 200, '<html>upstream hiccup</html>');
	}
	elsif ($mode eq 'schema_mismatch')
	{
		respond($c, 200, envelope('{"lead_score": 97, "verdict": "hot"}'));
	}
	elsif ($mode eq 'bad_evidence')
	{
		my $id = @$shown ? $shown->[0]{message_id} : 0;
		respond($c, 200, envelope(JSON::PP->new->encode({ amount => { reais => 5000000,
			evidence => 'quero aplicar 5 milhoes', message_id => $id },
			horizon => undef, product => undef, objections => [] })));
	}
	else
	{
		respond($c, 500, '{"error": {"message": "The server had an error", "type": "server_error"}}');
	}
}

while (1)
{
	my $c = $server->accept or next;
	my $pid = fork();
	if (!defined $pid)
	{
		close $c;
		next;
	}
	if ($pid == 0)
	{
		close $server;
		my ($head, $body, $auth) = read_request($c);
		answer($c, $body, $auth) if defined $head;
		close $c;
		exit 0;
	}
	close $c;
}
