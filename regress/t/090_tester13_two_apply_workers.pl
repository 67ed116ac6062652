# tester13: two webhook apply workers (antiban.webhook_apply = worker) under
# concurrent ingest.  Several sessions post at once: each message's
# delivered and read in different calls (so in different batches, maybe of
# different workers), Meta's retries (the same bytes) and repeats (the same
# status again), inbound messages of the same persons from every session;
# a worker is killed with SIGKILL while its batch waits for a lock.  Then:
# every event applied once, every message at its furthest state, the
# events' updates credits add up to the rows moved (a trigger logs each
# move), every inbound message recorded once and counted once by its lead,
# nothing left pending or queued.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Digest::SHA qw(hmac_sha256_hex);
use POSIX ();
use Time::HiRes qw(usleep);
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $secret = 'tester13-two-workers';
my $messages = 480;
my $sessions = 5;
my $persons = 6;
# (099 runs this with T13_FALLBACK=1: some calls also carry a status
# apply_statuses cannot take, so their batches fall back to event-by-event
# apply, which locks in posting order while the other worker locks in id
# order: deadlocks the retries must resolve)
my $fallback = $ENV{T13_FALLBACK} // 0;
my $node = antiban_node($fallback ? 't13_fallback' : 't13_workers', 'antiban.sender_workers' => '0', 'antiban.webhook_apply' => 'worker',
	'restart_after_crash' => 'on', 'deadlock_timeout' => '100ms');
register_numbers($node, '1001' => {});
$node->safe_psql('postgres', qq{
	SELECT antiban.set_secret('app_secret', '$secret');
	CREATE ROLE receiver LOGIN IN ROLE antiban_receiver;
	SELECT count(antiban.send_template('+55119870' || lpad(i::text, 5, '0'), 'oferta', 'pt_BR')) FROM generate_series(1, $messages) i;
	UPDATE antiban.outbox SET state = 'sent', attempts = 1, wamid = 'wamid.T13W' || id, sent_at = now();
	-- every change of a message, in the transaction that made it
	CREATE TABLE public.t13_moves (message bigint, old_state text, new_state text);
	CREATE FUNCTION public.t13_log_move() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS \$\$
	BEGIN INSERT INTO public.t13_moves VALUES (NEW.id, OLD.state, NEW.state); RETURN NULL; END \$\$;
	CREATE TRIGGER t13_log_move AFTER UPDATE ON antiban.outbox FOR EACH ROW
	-- (a move as apply_statuses counts one: the state, the wamid or the pricing changed)
	WHEN ((OLD.state, OLD.wamid, OLD.billable, OLD.pricing_model, OLD.pricing_type, OLD.pricing_category)
	      IS DISTINCT FROM (NEW.state, NEW.wamid, NEW.billable, NEW.pricing_model, NEW.pricing_type, NEW.pricing_category))
	EXECUTE FUNCTION public.t13_log_move();});
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'antiban webhook apply'}),
	'2', 'two apply workers');

my $now = time();
my $seq = 0;
sub status_body
{
	my ($n, $status) = @_;
	$seq++;
	return sprintf('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":'
		. '{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000001","phone_number_id":"1001"},'
		. '"statuses":[{"id":"wamid.T13W%d","status":"%s","timestamp":"%d","recipient_id":"55119870%05d"%s}]}}]}]}',
		$n, $status, $now - 600 + $seq, $n,
		# (delivered carries Meta's pricing: the message is charged then, once)
		$status eq 'delivered' ? ',"pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"utility"}' : '');
}
my $inbound = 0;
sub message_body
{
	my ($person, $tag) = @_;
	$inbound++;
	return sprintf('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":'
		. '{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000001","phone_number_id":"1001"},'
		. '"contacts":[{"profile":{"name":"P%d"},"wa_id":"55119880%05d"}],'
		. '"messages":[{"from":"55119880%05d","id":"wamid.T13IN%s","timestamp":"%d","type":"text","text":{"body":"quero investir %d mil"}}]}}]}]}',
		$person, $person, $person, $tag, $now - 600 + $inbound, $inbound);
}
sub sign { return 'sha256=' . hmac_sha256_hex($_[0], $secret); }
sub ingest_sql
{
	my @bodies = @_;
	return 'SELECT count(*) FROM antiban.ingest_webhooks(ARRAY['
		. join(',', map { "convert_to(\$b\$$_\$b\$, 'UTF8')" } @bodies) . '], ARRAY['
		. join(',', map { "'" . sign($_) . "'" } @bodies) . '])';
}

# Each session's calls, planned here so the bodies (and their number) are known.
my %sent_by_person;
my @plans = map { [] } 1 .. $sessions;
for my $s (0 .. $sessions - 1)
{
	my @mine = grep { $_ % $sessions == $s } 1 .. $messages;
	# in chunks of 10: delivered by this session, read by the next one (so
	# either may come first, in batches of either worker), Meta's retry of
	# the read (same bytes) and a repeated delivered (new bytes) by a third
	my $i = 0;
	while (my @chunk = splice(@mine, 0, 10))
	{
		my @delivered = map { status_body($_, 'delivered') } @chunk;
		my @read = map { status_body($_, 'read') } @chunk;
		my @msgs = map { my $p = 1 + ($_ + $s) % $persons; $sent_by_person{$p}++; message_body($p, "$s." . ($inbound + 1)) } 1 .. 3;
		if ($fallback)
		{
			# a failure whose error code is not a number
			my $bad = sprintf('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":'
				. '{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000001","phone_number_id":"1001"},'
				. '"statuses":[{"id":"wamid.T13W%d","status":"failed","timestamp":"%d","recipient_id":"55119870%05d",'
				. '"errors":[{"code":"x%d","title":"bad"}]}]}}]}]}', $chunk[-1], $now - 600 + (++$seq), $chunk[-1], $seq);
			$plans[$s][ 3 * $i ] = [ reverse(@delivered), $bad, $msgs[0] ];
		}
		else
		{
			$plans[$s][ 3 * $i ] = [ @delivered, $msgs[0] ];
		}
		$plans[ ($s + 1) % $sessions ][ 3 * $i + 1 ] = [ @read, $msgs[1] ];
		$plans[ ($s + 2) % $sessions ][ 3 * $i + 2 ] = [ @read[0 .. 2], status_body($chunk[0], 'delivered'), $msgs[2] ];
		$i++;
	}
}

sub run_sessions
{
	my @kids;
	for my $s (0 .. $#plans)
	{
		my $pid = fork();
		die "fork: $!" unless defined $pid;
		if ($pid == 0)
		{
			my $ok = 1;
			for my $call (@{ $plans[$s] })
			{
				my $done = 0;
				for my $try (1 .. 30)
				{
					my ($rc) = $node->psql('postgres', ingest_sql(@$call), extra_params => [ '-U', 'receiver' ]);
					if ($rc == 0) { $done = 1; last; }
					sleep 1;
				}
				$ok = 0 unless $done;
			}
			POSIX::_exit($ok ? 0 : 1);
		}
		push @kids, $pid;
	}
	return @kids;
}

# ---- 1. four sessions at once ----
my @kids = run_sessions();
my $answered = 0;
for my $pid (@kids) { waitpid($pid, 0); $answered++ if $? == 0; }
is($answered, $sessions, 'every session stored all its calls');

# ---- 2. a worker killed mid-batch ----
# another session holds message 1; a batch with its status waits for it
my $held = $node->background_psql('postgres');
$held->query_safe('BEGIN');
$held->query_safe('SELECT id FROM antiban.outbox WHERE id = 1 FOR UPDATE');
(my $held_pid = $held->query_safe('SELECT pg_backend_pid()')) =~ s/\D//g;
$node->safe_psql('postgres', ingest_sql(status_body(1, 'read'), message_body(1, 'crash'), status_body(2, 'read')),
	extra_params => [ '-U', 'receiver' ]);
$sent_by_person{1}++;
# (the worker blocked by the held message, not one that waits a moment for
# the other worker: that wait may be over by the next query)
my $victim = '';
for (1 .. 600)
{
	$victim = $node->safe_psql('postgres', qq{SELECT a.pid FROM pg_stat_activity a
		WHERE a.backend_type = 'antiban webhook apply' AND $held_pid = ANY (pg_blocking_pids(a.pid)) LIMIT 1});
	last if $victim ne '';
	usleep(100_000);
}
ok($victim ne '', 'a worker waits for the held message');
kill 'KILL', $victim;
eval { $held->quit };
# the postmaster restarts every process after a crash
# (connections fail while it restarts)
my $back = 0;
for (1 .. 600)
{
	my ($rc, $out) = $node->psql('postgres', q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'antiban webhook apply'});
	if ($rc == 0 && $out eq '2') { $back = 1; last; }
	usleep(200_000);
}
ok($back, 'both workers are back after the crash');

# ---- 3. more concurrent ingest after the restart ----
@plans = map { [ @$_[ 0 .. 2 ] ] } @plans;	# (their bodies again: Meta's retries, all duplicates)
@kids = run_sessions();
$answered = 0;
for my $pid (@kids) { waitpid($pid, 0); $answered++ if $? == 0; }
is($answered, $sessions, 'every session stored its retries');

# ---- what must hold ----
ok(wait_for($node, q{SELECT count(*) = 0 FROM antiban.webhook_events WHERE status = 'pending'}, 300),
	'no event left pending');
if ($fallback)
{
	is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.webhook_events WHERE status <> 'applied'
		AND NOT (status = 'partial' AND body::text LIKE '%"failed"%')}), '0',
		'every event applied whole but those with the bad status');
	is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.outbox WHERE state NOT IN ('read', 'failed')}), '0',
		'every message is read (or failed), its furthest state');
}
else
{
	is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.webhook_events WHERE status <> 'applied'}), '0',
		'every event applied whole');
	is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.outbox WHERE state <> 'read'}), '0',
		'every message is read, its furthest state');
}
is($node->safe_psql('postgres', q{SELECT count(*) FROM (SELECT message, new_state FROM public.t13_moves
	WHERE new_state IS DISTINCT FROM old_state GROUP BY 1, 2 HAVING count(*) > 1) d}), '0', 'no message moved to the same state twice');
is($node->safe_psql('postgres', q{SELECT (SELECT sum(updates) FROM antiban.webhook_events e
	WHERE e.body::text LIKE '%statuses%' AND NOT e.body::text LIKE '%"messages":[%')
	= (SELECT count(*) FROM public.t13_moves)}), 't', "the status events' updates add up to the messages moved");
is($node->safe_psql('postgres', q{SELECT count(*) FROM (SELECT wamid FROM antiban.interactions WHERE wamid LIKE 'wamid.T13IN%'
	GROUP BY 1 HAVING count(*) > 1) d}), '0', 'every inbound message recorded once');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.interactions WHERE wamid LIKE 'wamid.T13IN%'}),
	$inbound, "and all $inbound recorded");
ok(wait_for($node, q{SELECT count(*) = 0 FROM antiban.lead_event_queue}, 300), 'no lead event left queued');
is($node->safe_psql('postgres', q{SELECT count(*) || ' ' || count(DISTINCT message_id) FROM antiban.message_costs}),
	"$messages $messages", 'every message charged once') unless $fallback;
# (volume tier positions may repeat between batches committing together:
# README, Volume tiers; not checked)
for my $p (sort { $a <=> $b } keys %sent_by_person)
{
	is($node->safe_psql('postgres', sprintf(q{SELECT count(*) || ' ' || coalesce(max(f.messages), -1)
		FROM antiban.leads l LEFT JOIN antiban.lead_features f ON f.conversation_id = l.id
		WHERE l.person_id = antiban.person_id(1, '+55119880%05d')}, $p)), "1 $sent_by_person{$p}",
		"person $p: one lead that counted each of their $sent_by_person{$p} messages once");
}
diag('moves: ' . $node->safe_psql('postgres', q{SELECT string_agg(m, ', ') FROM (SELECT old_state || '->' || new_state || ' ' || count(*) AS m FROM public.t13_moves GROUP BY old_state, new_state ORDER BY 1) x}));
my $log = slurp_file($node->logfile);
my @deadlocks = $log =~ /(deadlock detected)/g;
my @left = $log =~ /(left to the antiban leads worker)/g;
diag(scalar(@deadlocks) . ' deadlocks and ' . scalar(@left) . ' lead batches left to the leads worker in the log');

$node->stop;
done_testing();
