# tester13: the real receiver, two apply workers (antiban.webhook_apply =
# worker), POSTs from several clients at once, and a server crash in the
# middle (an apply worker killed with SIGKILL: the postmaster restarts
# everything, the receiver's connections die).  Each client posts until it
# gets a 200, as Meta retries.  Then: every body stored once, every event
# applied, every message at its furthest state, the updates credits equal
# to the rows moved, every inbound message recorded once.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use HTTP::Tiny;
use Digest::SHA qw(hmac_sha256_hex);
use Time::HiRes qw(usleep);
use POSIX ();
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $receiver;
END { kill 'KILL', $receiver->{pid} if $receiver; }

my $secret = 'tester13-receiver-crash';
my $messages = 120;
my $clients = 4;
# (097 runs this with T13_INLINE=1: antiban.webhook_apply = inline, the
# receiver's backend killed instead, and the leads checked too)
my $inline = $ENV{T13_INLINE} // 0;
my $node = antiban_node($inline ? 't13_recv_inline' : 't13_recv', 'antiban.sender_workers' => '0',
	'antiban.webhook_apply' => $inline ? 'inline' : 'worker',
	'restart_after_crash' => 'on');
register_numbers($node, '1001' => {});
$node->safe_psql('postgres', qq{
	SELECT antiban.set_secret('app_secret', '$secret');
	CREATE ROLE receiver LOGIN IN ROLE antiban_receiver;
	SELECT count(antiban.send_template('+55119872' || lpad(i::text, 5, '0'), 'oferta', 'pt_BR')) FROM generate_series(1, $messages) i;
	UPDATE antiban.outbox SET state = 'sent', attempts = 1, wamid = 'wamid.T13R' || id, sent_at = now();
	CREATE TABLE public.t13_moves (message bigint, old_state text, new_state text);
	CREATE FUNCTION public.t13_log_move() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS \$\$
	BEGIN INSERT INTO public.t13_moves VALUES (NEW.id, OLD.state, NEW.state); RETURN NULL; END \$\$;
	CREATE TRIGGER t13_log_move AFTER UPDATE ON antiban.outbox FOR EACH ROW
	WHEN ((OLD.state, OLD.wamid) IS DISTINCT FROM (NEW.state, NEW.wamid)) EXECUTE FUNCTION public.t13_log_move();});
$receiver = start_receiver($node);

my $now = time();
my @bodies;		# [client] => [bodies]
for my $n (1 .. $messages)
{
	my $c = $n % $clients;
	for my $status ('delivered', 'read')
	{
		# read by the next client: either may arrive first
		my $to = $status eq 'read' ? ($c + 1) % $clients : $c;
		push @{ $bodies[$to] }, sprintf('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":'
			. '{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000001","phone_number_id":"1001"},'
			. '"statuses":[{"id":"wamid.T13R%d","status":"%s","timestamp":"%d","recipient_id":"55119872%05d"}]}}]}]}',
			$n, $status, $now - 300 + $n, $n);
	}
	push @{ $bodies[$c] }, sprintf('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":'
		. '{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000001","phone_number_id":"1001"},'
		. '"contacts":[{"profile":{"name":"P%d"},"wa_id":"55119882%05d"}],'
		. '"messages":[{"from":"55119882%05d","id":"wamid.T13RIN%d","timestamp":"%d","type":"text","text":{"body":"oi %d"}}]}}]}]}',
		$n % 7, $n % 7, $n % 7, $n, $now - 300 + $n, $n);
}
my $total = 0;
$total += scalar(@$_) for @bodies;

my @kids;
for my $c (0 .. $clients - 1)
{
	my $pid = fork();
	die "fork: $!" unless defined $pid;
	if ($pid == 0)
	{
		my $http = HTTP::Tiny->new(timeout => 30, keep_alive => 1);
		my $failed = 0;
		for my $body (@{ $bodies[$c] })
		{
			my $ok = 0;
			# as Meta: again until a 200 (here for up to two minutes)
			for my $try (1 .. 240)
			{
				my $res = $http->post("$receiver->{url}/webhook", { content => $body,
					headers => { 'content-type' => 'application/json', 'x-hub-signature-256' => 'sha256=' . hmac_sha256_hex($body, $secret) } });
				if ($res->{status} == 200) { $ok = 1; last; }
				usleep(500_000);
			}
			$failed++ unless $ok;
		}
		POSIX::_exit($failed ? 1 : 0);
	}
	push @kids, $pid;
}

# the crash: once some events are stored, while the clients still post
ok(wait_for($node, sprintf(q{SELECT count(*) >= %d FROM antiban.webhook_events}, $total / 4)), 'a quarter of the POSTs stored');
my $victim = $node->safe_psql('postgres', $inline ? q{SELECT pid FROM pg_stat_activity WHERE usename = 'receiver' LIMIT 1}
	: q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'antiban webhook apply' LIMIT 1});
kill 'KILL', $victim;
note($inline ? "killed the receiver's backend $victim" : "killed apply worker $victim");

my $answered = 0;
for my $pid (@kids) { waitpid($pid, 0); $answered++ if $? == 0; }
is($answered, $clients, 'every client got a 200 for each of its POSTs (retrying through the crash)');

my $ready = 0;
for (1 .. 600)
{
	my ($rc, $out) = $node->psql('postgres', q{SELECT count(*) = 0 FROM antiban.webhook_events WHERE status = 'pending'});
	if ($rc == 0 && $out eq 't') { $ready = 1; last; }
	usleep(200_000);
}
ok($ready, 'no event left pending');
is($node->safe_psql('postgres', q{SELECT count(*) || ' ' || count(DISTINCT body_sha256) FROM antiban.webhook_events}),
	"$total $total", "all $total bodies stored, each once");
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.webhook_events WHERE status <> 'applied'}), '0', 'all applied whole');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.outbox WHERE state <> 'read'}), '0', 'every message read');
is($node->safe_psql('postgres', q{SELECT (SELECT sum(updates) FROM antiban.webhook_events WHERE body ? 'entry' AND body::text NOT LIKE '%"messages": [%')
	= (SELECT count(*) FROM public.t13_moves)}), 't', 'the updates credits equal the moves');
is($node->safe_psql('postgres', q{SELECT count(*) || ' ' || count(DISTINCT wamid) FROM antiban.interactions WHERE wamid LIKE 'wamid.T13RIN%'}),
	"$messages $messages", 'every inbound message recorded once');

if ($inline)
{
	# inline lead scoring: each call scores its batch's leads before its 200,
	# but a lead step that failed (a warning, counted below) leaves its
	# events queued for the antiban leads worker, which scores every second
	# (and its batch in flight when the server crashed comes back to the
	# queue): the queue drains, moments after the last 200
	ok(wait_for($node, q{SELECT count(*) = 0 FROM antiban.lead_event_queue}, 300), 'no lead event left queued');
	is($node->safe_psql('postgres', q{SELECT string_agg(f.messages::text, ',' ORDER BY f.messages) FROM antiban.leads l
		JOIN antiban.lead_features f ON f.conversation_id = l.id}),
		join(',', sort { $a <=> $b } map { my $p = $_; scalar(grep { $_ % 7 == $p } 1 .. $messages) } 0 .. 6),
		'one lead per person, each message counted once');
	my $log = slurp_file($node->logfile);
	my @deadlocks = $log =~ /(deadlock detected)/g;
	my @left = $log =~ /(left to the antiban leads worker)/g;
	diag(scalar(@deadlocks) . ' deadlocks and ' . scalar(@left) . ' lead batches left to the leads worker in the log');
}

stop_receiver($receiver);
undef $receiver;
$node->stop;
done_testing();
