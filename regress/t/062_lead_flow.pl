# Every conversation becomes a lead, end to end: signed webhooks posted
# through antiban-receiver on a pinned clock (Monday 2030-01-07 in Sao
# Paulo, UTC-3) make a lead per person, score it with reasons, qualify and
# assign it; its owner misses the 15-minute first-response SLA and
# antiban.check_sla() moves it; the second owner's reply stops the clock.
# A person who writes with a BSUID and then with their phone is one person
# with one lead, and a Brazilian wa_id without the ninth digit finds the
# same lead.  With deferred scoring, a webhook only queues and the
# "antiban leads" worker makes and scores the lead.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use Digest::SHA qw(hmac_sha256_hex);
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $receiver;
END { kill 'KILL', $receiver->{pid} if $receiver; }

my $node = antiban_node('lead_flow', 'antiban.sender_workers' => 0);
register_numbers($node, '1001' => {});
$node->safe_psql('postgres', q{
	SELECT antiban.set_secret('app_secret', 'the-app-secret');
	CREATE ROLE receiver LOGIN IN ROLE antiban_receiver;
	-- qualify_score 20: three messages we never answered have no "replies" (only answers to our
	-- messages are), so the default model scores this hot text in the 20s, below the default 60
	UPDATE antiban.lead_routing SET policy = 'least_loaded', first_response_sla = '15 minutes', qualify_score = 20
	WHERE portfolio_id = 1;
	INSERT INTO antiban.agents (portfolio_id, name, capacity, presence)
	VALUES (1, 'Ana', 5, 'online'), (1, 'Bia', 5, 'online');
	SELECT antiban.set_working_hours(1, '{"mon-fri": "09:00-18:00"}');
	SELECT antiban.set_working_hours(2, '{"mon-fri": "09:00-18:00"}');});
my $http = HTTP::Tiny->new(timeout => 30);

# Pin the clock of every new session to a local time in Sao Paulo.  The
# receiver connects once the clock is first pinned; it may see a later pin
# only after a while (a reload), so every message it gets carries a time at
# or before that first one.
sub pin
{
	my ($local) = @_;
	$node->safe_psql('postgres', qq{
		ALTER SYSTEM SET antiban.pinned_now = '$local -03';
		SELECT pg_reload_conf();});
	return $node->safe_psql('postgres', "SELECT extract(epoch FROM timestamptz '$local -03')::bigint");
}

sub query
{
	my ($sql) = @_;
	my ($rc, $out, $err) = $node->psql('postgres', "SET timezone = 'America/Sao_Paulo'; $sql");
	return $rc == 0 ? $out : "ERROR: $err";
}

my $wamid = 0;
# POST one messages change through the receiver, signed like Meta: its HTTP status.
sub post_messages
{
	my ($contact, @messages) = @_;
	my $body = encode_json({ object => 'whatsapp_business_account',
		entry => [ { id => '200', changes => [ { field => 'messages', value => {
			messaging_product => 'whatsapp',
			metadata => { display_phone_number => '5511900000001', phone_number_id => '1001' },
			contacts => [$contact], messages => \@messages } } ] } ] });
	my $r = $http->post("$receiver->{url}/webhook", { content => $body,
		headers => { 'content-type' => 'application/json',
			'x-hub-signature-256' => 'sha256=' . hmac_sha256_hex($body, 'the-app-secret') } });
	return $r->{status};
}

sub text
{
	my ($from, $at, $body, %ids) = @_;
	return { %ids, ($from ? (from => $from) : ()), id => 'wamid.LF' . (++$wamid), timestamp => "$at",
		type => 'text', text => { body => $body } };
}

# ---- Monday 09:00: a hot conversation arrives in one delivery ----
my $t = pin('2030-01-07 09:00');
$receiver = start_receiver($node);
is(post_messages({ profile => { name => 'Carla' }, wa_id => '5511987650004' },
		text('5511987650004', $t - 10, 'Quero investir 500 mil em LCI, prazo de 2 anos'),
		{ from => '5511987650004', id => 'wamid.LF' . (++$wamid), timestamp => '' . ($t - 5), type => 'button',
		  button => { text => 'Falar com especialista', payload => 'talk' } },
		text('5511987650004', $t - 2, 'Podemos conversar amanhã?')), 200,
	'three messages of a new person are posted and stored');
is(query(q{SELECT count(*) || ' ' || min(source) FROM antiban.leads}), '1 organic', 'they made one organic lead');
my $lead = query(q{SELECT id FROM antiban.leads});
is(query("SELECT stage FROM antiban.leads WHERE id = $lead"), 'qualified', 'its score qualified it');
ok(query("SELECT score >= antiban.lead_qualify_score(1) FROM antiban.leads WHERE id = $lead") eq 't',
	'at or above the qualification threshold');
like(query("SELECT detail FROM antiban.lead_events WHERE lead_id = $lead AND kind = 'score' ORDER BY id LIMIT 1"),
	qr/^score none -> \d+: \+\d+ /, 'the score came with its reasons');
my $first = query("SELECT owner_agent_id FROM antiban.leads WHERE id = $lead");
like($first, qr/^[12]$/, 'it was assigned at once');
is(query("SELECT to_char(sla_due_at, 'HH24:MI') FROM antiban.leads WHERE id = $lead"), '09:15',
	'its first reply is due at 09:15');

# ---- the same person, Meta's wa_id without the ninth digit: the same lead ----
pin('2030-01-07 09:05');
is(post_messages({ profile => { name => 'Carla' }, wa_id => '551187650004' },
		text('551187650004', $t - 1, 'Oi, alguém aí?')), 200, 'a message from 551187650004 is stored');
is(query(q{SELECT count(*) FROM antiban.leads}), '1', 'it went to the same lead');
is(query("SELECT messages FROM antiban.lead_features WHERE conversation_id = $lead"), '4', 'the lead has read 4 messages');

# ---- 09:16: nobody answered; check_sla moves it ----
pin('2030-01-07 09:16');
my $second = $first == 1 ? 2 : 1;
is(query(q{SELECT string_agg(format('%s:%s->%s %s', lead_id, from_agent, to_agent, cause), ', ') FROM antiban.check_sla()}),
	"$lead:$first->$second sla_missed", 'the SLA was missed: the lead moves to the other agent');
is(query(q{SELECT count(*) FROM antiban.alerts WHERE kind = 'lead_sla_missed'}), '1', 'with an alert');

# ---- 09:20: the new owner's reply leaves: first response, met ----
pin('2030-01-07 09:20');
my $reply = query(q{SELECT antiban.send_text('+5511987650004', 'Olá Carla! Podemos falar às 10h?')});
like($reply, qr/^\d+$/, 'the reply is queued (the service window is open)');
query("UPDATE antiban.outbox SET state = 'sending' WHERE id = $reply");
query("UPDATE antiban.outbox SET state = 'sent', wamid = 'wamid.OUT1' WHERE id = $reply");
is(query("SELECT state FROM antiban.lead_sla WHERE lead_id = $lead"), 'met', 'sent within the second owner\'s SLA: met');
is(query(q{SELECT string_agg(format('%s %s/%s', name, met, missed), ', ' ORDER BY agent_id) FROM antiban.agent_sla}),
	join(', ', map { $_ == $first ? (($_ == 1 ? 'Ana' : 'Bia') . ' 0/1') : (($_ == 1 ? 'Ana' : 'Bia') . ' 1/0') } 1, 2),
	'per agent: one missed, one met');

# ---- one person, two identifiers: one lead ----
pin('2030-01-07 09:30');
is(post_messages({ profile => { name => 'Davi' }, user_id => 'BR.davi' },
		text(undef, $t - 100, 'oi', from_user_id => 'BR.davi')), 200, 'a person known by a BSUID writes');
is(post_messages({ profile => { name => 'Davi' }, wa_id => '5511987650005' },
		text('5511987650005', $t - 99, 'bom dia')), 200, 'a phone nobody linked yet writes');
is(query(q{SELECT count(*) FROM antiban.leads WHERE closed_at IS NULL AND id <> } . $lead), '2',
	'two persons so far, two leads');
is(post_messages({ profile => { name => 'Davi' }, wa_id => '5511987650005', user_id => 'BR.davi' },
		text('5511987650005', $t - 98, 'sou eu, Davi', from_user_id => 'BR.davi')), 200,
	'a message carrying both is stored');
is(query(q{SELECT count(*) FROM antiban.leads WHERE closed_at IS NULL AND person_id = antiban.person_id(1, 'BR.davi')}),
	'1', 'the persons merged and so did their leads: one open lead');
is(query(q{SELECT count(*) FROM antiban.leads WHERE merged_into IS NOT NULL}), '1', 'the other is folded into it');
is(query(q{SELECT messages FROM antiban.lead_features f JOIN antiban.leads l ON l.id = f.conversation_id
	WHERE l.closed_at IS NULL AND l.person_id = antiban.person_id(1, '+5511987650005')}), '3',
	'the surviving lead counts all three messages');

# ---- the timeline tells it all, in order ----
is(query("SELECT string_agg(kind, ',' ORDER BY n) FROM (SELECT kind, row_number() OVER () AS n
		FROM antiban.lead_timeline($lead) WHERE kind IN ('assigned', 'sla_missed', 'reassigned', 'first_response')) t"),
	'assigned,sla_missed,reassigned,first_response', 'the lead\'s timeline: assigned, missed, reassigned, answered');
is(query("SELECT count(*) FROM antiban.lead_timeline($lead) WHERE kind IN ('message', 'tap') AND direction = 'in'"), '4',
	'and its four inbound messages');
is(query(q{SELECT count(*) FROM antiban.webhook_events WHERE status <> 'applied'}), '0', 'every webhook was applied whole');

# ---- deferred scoring: the webhook only queues; the "antiban leads" worker makes and scores the lead ----
{
	my $body = encode_json({ object => 'whatsapp_business_account',
		entry => [ { id => '200', changes => [ { field => 'messages', value => {
			messaging_product => 'whatsapp',
			metadata => { display_phone_number => '5511900000001', phone_number_id => '1001' },
			contacts => [ { profile => { name => 'Eva' }, wa_id => '5511987650006' } ],
			messages => [ text('5511987650006', $t - 50, 'Quero aplicar 200 mil no Tesouro Direto') ] } } ] } ] });
	my $signature = 'sha256=' . hmac_sha256_hex($body, 'the-app-secret');
	(my $literal = $body) =~ s/'/''/g;
	# (one transaction: the worker cannot see the queue before the check)
	is($node->safe_psql('postgres', qq{
		BEGIN;
		SET LOCAL antiban.lead_scoring = deferred;
		SELECT count(*) FROM antiban.ingest_webhook(convert_to('$literal', 'UTF8'), '$signature');
		SELECT count(*) || ' lead, ' || (SELECT count(*) FROM antiban.lead_event_queue WHERE kind = 'message') || ' queued'
		FROM antiban.leads WHERE person_id = antiban.person_id(1, '+5511987650006');
		COMMIT;}), "1\n0 lead, 1 queued", 'deferred: the webhook made no lead and queued its message');
	ok($node->poll_query_until('postgres', q{
		SELECT l.score IS NOT NULL AND NOT EXISTS (SELECT 1 FROM antiban.lead_event_queue)
		FROM antiban.leads l WHERE l.person_id = antiban.person_id(1, '+5511987650006')}),
		'the antiban leads worker made the lead and scored it, nobody calling process_lead_events');
	is(query(q{SELECT source || ' ' || messages FROM antiban.leads l JOIN antiban.lead_features f ON f.conversation_id = l.id
		WHERE l.person_id = antiban.person_id(1, '+5511987650006')}), 'organic 1', 'an organic lead with its message');
}

stop_receiver($receiver);
undef $receiver;
$node->stop;
done_testing();
