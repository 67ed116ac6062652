# People, not strings, end to end: the sender worker sends to a fake Meta
# that answers like Meta does (a Brazilian mobile's wa_id without its ninth
# digit, an Argentinian one with its mobile 9), and every webhook reaches
# antiban through antiban-receiver with a body signed like Meta's.
#  - Brazil: we send to +5531988880301; the answer and the reply use
#    553188880301; the reply opens the window for +5531988880301 and a
#    "PARAR" from 553188880301 stops marketing to +5531988880301.
#  - BSUID: a person writes with phone and BSUID; a stop naming only the
#    BSUID stops marketing to the phone; a sender known only by a
#    "user.<digits>" BSUID is applied, and a batch with a bad recipient is
#    not rolled back.
#  - A resume older than a stop, posted after it, leaves the person out.
#  - A wa_id no rule explains (Argentina's 9) is linked from the answer.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP;
use Digest::SHA qw(hmac_sha256_hex);
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

# A fake Graph API: every send is accepted; contacts[0].wa_id is Meta's id
# for the 'to' (its digits unless the test says otherwise).  One request per
# connection, so the sender's parallel connections never wait on each other.
sub start_fake_meta
{
	my (%wa_id_for) = @_;
	my $server = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 128,
		ReuseAddr => 1, Proto => 'tcp') or die "listen: $!";
	my $pid = fork();
	die "fork: $!" unless defined $pid;
	if ($pid == 0)
	{
		my $n = 0;
		while (my $c = $server->accept)
		{
			my $data = '';
			while ($data !~ /\r\n\r\n/)
			{
				last unless sysread($c, $data, 65536, length $data);
			}
			my ($head, $body) = split /\r\n\r\n/, $data, 2;
			my ($len) = ($head // '') =~ /content-length:\s*(\d+)/i;
			$body //= '';
			while (length($body) < ($len // 0))
			{
				last unless sysread($c, $body, $len - length $body, length $body);
			}
			my $req = eval { decode_json($body) } // {};
			my $to = $req->{to} // '';
			(my $digits = $to) =~ s/\D//g;
			my $answer = encode_json({ messaging_product => 'whatsapp',
				contacts => [ { input => $to, wa_id => $wa_id_for{$to} // $digits } ],
				messages => [ { id => 'wamid.FAKE' . (++$n) } ] });
			print $c "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
			  . 'Content-Length: ' . length($answer) . "\r\n\r\n" . $answer;
			close $c;
		}
		exit 0;
	}
	my $url = 'http://127.0.0.1:' . $server->sockport;
	close $server;
	return { pid => $pid, url => $url };
}

my ($node, $meta, $receiver);
# a test that dies must not leave its helpers holding prove's output open
END
{
	kill 'KILL', $meta->{pid} if $meta;
	kill 'KILL', $receiver->{pid} if $receiver;
}

$node = antiban_node('identity', 'antiban.sender_tick' => '100ms');
register_numbers($node, '1001' => { throughput_level => "'HIGH'" }, '1002' => { throughput_level => "'HIGH'" });
$node->safe_psql('postgres', q{
	UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED';
	SELECT antiban.set_secret('access_token', 'EAAG-identity-token', '200');
	SELECT antiban.set_secret('app_secret', 'the-app-secret');
	CREATE ROLE receiver LOGIN IN ROLE antiban_receiver;});
$meta = start_fake_meta('+5531988880301' => '553188880301', '+541112345678' => '5491112345678');
$node->safe_psql('postgres', "ALTER SYSTEM SET antiban.graph_base_url = '$meta->{url}'; SELECT pg_reload_conf();");
$receiver = start_receiver($node);
my $http = HTTP::Tiny->new(timeout => 30);

# POST a webhook through the receiver, signed with the app secret; its HTTP status.
sub post_signed
{
	my ($field, $value) = @_;
	my $body = encode_json({ object => 'whatsapp_business_account',
		entry => [ { id => '200', changes => [ { field => $field, value => $value } ] } ] });
	my $r = $http->post("$receiver->{url}/webhook", { content => $body,
		headers => { 'content-type' => 'application/json',
			'x-hub-signature-256' => 'sha256=' . hmac_sha256_hex($body, 'the-app-secret') } });
	return $r->{status};
}

my $wamid = 0;
# An inbound text on number 1002 (from: Meta's wa_id, or '' for a username user).
sub inbound
{
	my ($from, $text, %opt) = @_;
	my $contact = { profile => { name => 'Cliente' }, wa_id => $from };
	my $message = { from => $from, id => 'wamid.IN' . (++$wamid), timestamp => '' . time(),
		type => 'text', text => { body => $text } };
	if ($opt{user_id})
	{
		$contact->{user_id} = $opt{user_id};
		$message->{from_user_id} = $opt{user_id};
	}
	return post_signed('messages', { messaging_product => 'whatsapp',
		metadata => { display_phone_number => '5511900000002', phone_number_id => '1002' },
		contacts => [$contact], messages => [$message] });
}

sub preference
{
	my ($wa_id, $user_id, $value, $at) = @_;
	return post_signed('user_preferences', { messaging_product => 'whatsapp',
		user_preferences => [ { wa_id => $wa_id, user_id => $user_id, detail => '',
			category => 'marketing_messages', value => $value, timestamp => $at } ] });
}

# A query's output, or its error (the checks go on whatever one says).
sub query
{
	my ($sql) = @_;
	my ($rc, $out, $err) = $node->psql('postgres', $sql);
	return $rc == 0 ? $out : "ERROR: $err";
}

# Poll until a query says true (an error is not true), at most $timeout seconds.
sub wait_until
{
	my ($sql, $timeout) = @_;
	my $deadline = time() + $timeout;
	while (time() < $deadline)
	{
		return 1 if query($sql) eq 't';
		select(undef, undef, undef, 0.1);
	}
	return 0;
}

sub decide
{
	my ($who, $category) = @_;
	return query("SELECT outcome || ' ' || reason FROM antiban.decide('$who', '$category', consume => false)");
}

# 1. Brazil's ninth digit.
my $promo = query(q{SELECT antiban.send_template('+5531988880301', 'oferta', 'pt_BR')});
ok(wait_until("SELECT state = 'sent' FROM antiban.outbox WHERE id = $promo", 60), 'the template to +5531988880301 was sent')
  or diag(query("SELECT state, reason, detail, error_title FROM antiban.outbox WHERE id = $promo"));
is(query("SELECT wa_id FROM antiban.outbox WHERE id = $promo"), '553188880301',
	"Meta's wa_id for it (no ninth digit) is kept on the message");
is(inbound('553188880301', 'Quero saber mais'), 200, 'the reply from 553188880301 is stored');
my ($rc, $out, $err) = $node->psql('postgres', q{SELECT antiban.send_text('+5531988880301', 'Olá! Rende 12% a.a.')});
is($rc, 0, 'the reply opened the service window for +5531988880301: send_text is accepted') or diag($err);
is(inbound('553188880301', 'PARAR'), 200, '"PARAR" from 553188880301 is stored');
is(decide('+5531988880301', 'marketing'), 'REJECT opted_out', 'marketing to the number we sent to is rejected');
like(decide('+5531988880302', 'marketing'), qr/^SEND/, 'another line of the same area code is not');
is(query(q{SELECT count(*) || ' ' || bool_and(marketing_opt_out) FROM antiban.contacts
	WHERE antiban.recipient_key(wa_id) = '+5531988880301'}), '1 true', 'one contact, opted out');

# 2. A BSUID: the stop that names only the BSUID stops the phone.
is(inbound('5511955550100', 'Olá', user_id => 'BR.100abc'), 200, 'a message with phone and BSUID is stored');
like(decide('+5511955550100', 'marketing'), qr/^SEND/, 'marketing goes before the stop');
is(preference('', 'BR.100abc', 'stop', time()), 200, 'a stop with wa_id "" and only the BSUID is stored');
is(decide('+5511955550100', 'marketing'), 'REJECT opted_out', 'marketing to the phone is rejected');
is(query(q{SELECT count(*) || ' ' || string_agg(wa_id || '/' || user_id || '/' || marketing_opt_out, ',')
	FROM antiban.contacts WHERE wa_id = '5511955550100' OR user_id = 'BR.100abc'}), '1 5511955550100/BR.100abc/true',
	'one contact links both ids and says opted out');
# a sender known only by a "user.<digits>" BSUID
is(inbound('', 'oi', user_id => 'user.777000'), 200, 'a message from a user.<digits> BSUID is stored');
is(query(q{SELECT status || ' ' || cardinality(problems) FROM antiban.webhook_events ORDER BY id DESC LIMIT 1}),
	'applied 0', 'and applied');
is(decide('user.777000', 'service'), 'SEND sticky_sender', 'its window is open on the number it wrote to');
query(q{CREATE TABLE leads (n int, phone text);
	INSERT INTO leads VALUES (1, '+5511955550301'), (2, '5511955550302'), (3, 'user.777000'), (4, '+5511955550304')});
($rc, $out, $err) = $node->psql('postgres', q{SELECT count(antiban.send_template(phone, 'oferta', 'pt_BR', category => 'utility',
	idempotency_key => 'lead-' || n)) FROM leads});
is($rc . ' ' . $out, '0 4', 'a batch with a bad recipient is not rolled back') or diag($err);
is(query(q{SELECT string_agg(state || ':' || reason, ' ' ORDER BY idempotency_key) FROM antiban.outbox
	WHERE idempotency_key LIKE 'lead-%' AND (state = 'rejected' OR reason = 'invalid_recipient')}),
	'rejected:invalid_recipient', 'only the bad recipient is rejected, with its reason');

# 3. A resume older than a stop, posted after it.
my $now = time();
is(inbound('5511955550200', 'oi'), 200, 'a lead writes');
is(preference('5511955550200', '', 'stop', $now - 60), 200, 'a stop is stored');
is(preference('5511955550200', '', 'resume', $now - 120), 200, 'an older resume posted later is stored');
is(decide('+5511955550200', 'marketing'), 'REJECT opted_out', 'the person stays opted out');
is(query(q{SELECT marketing_opt_out FROM antiban.contacts WHERE wa_id = '5511955550200'}), 't',
	'and the contact says so');

# 4. Argentina: Meta answers with the mobile 9, and the reply uses it.
my $ar = query(q{SELECT antiban.send_template('+541112345678', 'aviso', 'es_AR', category => 'utility')});
ok(wait_until("SELECT state = 'sent' AND wa_id = '5491112345678' FROM antiban.outbox WHERE id = $ar", 60),
	'the answer gave another wa_id');
is(query(q{SELECT array_to_string(identifiers, ' ') || ' ' || learnt_from[2] FROM antiban.people
	WHERE person_id = antiban.person_id(1, '+541112345678')}), '+541112345678 +5491112345678 send_answer',
	'the recipient and its wa_id are one person');
is(inbound('5491112345678', 'sí'), 200, 'the reply from 5491112345678 is stored');
($rc, $out, $err) = $node->psql('postgres', q{SELECT antiban.send_text('+541112345678', '¡Hola!')});
is($rc, 0, 'it opened the window for +541112345678') or diag($err);

# 5. After a restart, the links are read back from antiban.person_ids and
# each stored fact finds its person again.
stop_receiver($receiver);
undef $receiver;
$node->restart;
is(decide('+5511955550100', 'marketing'), 'REJECT opted_out', 'after a restart the BSUID stop still stops the phone');
is(decide('+5531988880301', 'marketing'), 'REJECT opted_out', 'and the stop from 553188880301 the number we sent to');
is(decide('+5511955550200', 'marketing'), 'REJECT opted_out', 'and the older resume still changes nothing');
# (buckets start empty after a restart: SEND or QUEUE, but not REJECT no_service_window)
like(decide('+541112345678', 'service'), qr/^(SEND|QUEUE) /, 'and the window the reply in Meta\'s form opened is open');

kill 'TERM', $meta->{pid};
waitpid($meta->{pid}, 0);
undef $meta;
$node->stop;
done_testing();
