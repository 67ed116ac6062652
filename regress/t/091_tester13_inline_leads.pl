# tester13: inline lead scoring done once per apply batch (antiban.apply_webhooks
# switches the transaction to deferred, queues, then processes what it queued).
# A 200 still means the lead exists; a message and our reply's statuses in one
# batch; a failing lead step keeps the messages applied and the events queued,
# processed once later; antiban.lead_scoring is back to its value after the
# call, also after an error the caller caught; who may call the new pieces.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use Digest::SHA qw(hmac_sha256_hex);
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $secret = 'tester13-inline-secret';
# (the antiban leads worker scores an hour apart: what is queued stays
# queued until this test looks, or calls antiban.process_lead_events)
my $node = antiban_node('t13_inline', 'antiban.sender_workers' => '0', 'antiban.lead_scoring_interval' => '1h');
# (it looks for the extension every 5 s and, once it finds it, scores at
# once: that first pass must be over before section 3 queues an event, or
# it may take it, or fail on the trigger there and make it wait 5 s; it says
# it is off, no LLM URL, right after that pass)
ok(wait_for($node, q{SELECT count(*) = 1 FROM pg_stat_activity
	WHERE backend_type = 'antiban leads' AND query LIKE 'off:%'}, 120), 'the leads worker made its first pass');
register_numbers($node, '1001' => {});
$node->safe_psql('postgres', qq{
	SELECT antiban.set_secret('app_secret', '$secret');
	CREATE ROLE receiver LOGIN IN ROLE antiban_receiver;
	CREATE ROLE app LOGIN IN ROLE antiban_app;
	CREATE ROLE reader LOGIN IN ROLE antiban_reader;
	CREATE ROLE analyst LOGIN IN ROLE antiban_analyst;
	CREATE ROLE plain LOGIN;});
is($node->safe_psql('postgres', 'SHOW antiban.lead_scoring'), 'inline', 'lead scoring is inline (the default)');

my $wamid = 0;
sub message_body
{
	my ($from, $text) = @_;
	return encode_json({ object => 'whatsapp_business_account',
		entry => [ { id => '200', changes => [ { field => 'messages', value => {
			messaging_product => 'whatsapp',
			metadata => { display_phone_number => '5511900000001', phone_number_id => '1001' },
			contacts => [ { profile => { name => "P$from" }, wa_id => $from } ],
			messages => [ { from => $from, id => 'wamid.T13IN' . (++$wamid), timestamp => '' . time(),
				type => 'text', text => { body => $text } } ] } } ] } ] });
}
sub status_body
{
	my ($wamid, $to, $status) = @_;
	return encode_json({ object => 'whatsapp_business_account',
		entry => [ { id => '200', changes => [ { field => 'messages', value => {
			messaging_product => 'whatsapp',
			metadata => { display_phone_number => '5511900000001', phone_number_id => '1001' },
			statuses => [ { id => $wamid, status => $status, timestamp => '' . time(), recipient_id => $to } ] } } ] } ] });
}
sub lit { my ($s) = @_; $s =~ s/'/''/g; return "'$s'"; }
sub ingest_sql
{
	my @bodies = @_;
	return 'SELECT count(*) FILTER (WHERE stored AND NOT duplicate) FROM antiban.ingest_webhooks(ARRAY['
		. join(',', map { 'convert_to(' . lit($_) . ", 'UTF8')" } @bodies) . '], ARRAY['
		. join(',', map { "'sha256=" . hmac_sha256_hex($_, $secret) . "'" } @bodies) . '])';
}
sub leads_of
{
	my ($wa) = @_;
	return $node->safe_psql('postgres', "SELECT count(*) FROM antiban.leads WHERE person_id = antiban.person_id(1, '+$wa')");
}

# ---- 1. a 200 means the lead exists; the parameter is back after the call ----
is($node->safe_psql('postgres', 'BEGIN; ' . ingest_sql(message_body('5511987001001', 'Quero investir 100 mil')) . q{;
	SELECT current_setting('antiban.lead_scoring');
	COMMIT;}, extra_params => [ '-U', 'receiver' ]), "1\ninline",
	'lead_scoring is still inline in the transaction after the call');
is(leads_of('5511987001001'), '1', 'inline: the lead exists when the call returns');
is($node->safe_psql('postgres', 'SELECT count(*) FROM antiban.lead_event_queue'), '0', 'nothing is left queued');

# ---- 2. a person's message and our reply's statuses in one batch ----
$node->safe_psql('postgres', q{
	SELECT antiban.send_template('+5511987001002', 'oferta', 'pt_BR');
	UPDATE antiban.outbox SET state = 'sent', attempts = 1, wamid = 'wamid.T13OUT1', sent_at = now()
	WHERE recipient = '+5511987001002';});
is($node->safe_psql('postgres', ingest_sql(message_body('5511987001002', 'Tenho interesse'),
		status_body('wamid.T13OUT1', '5511987001002', 'delivered'),
		status_body('wamid.T13OUT1', '5511987001002', 'read')), extra_params => [ '-U', 'receiver' ]),
	'3', 'a message and two statuses of our reply in one call');
is(leads_of('5511987001002'), '1', 'the person has their lead');
is($node->safe_psql('postgres', q{SELECT state FROM antiban.outbox WHERE wamid = 'wamid.T13OUT1'}), 'read', 'our reply is read');
is($node->safe_psql('postgres', 'SELECT count(*) FROM antiban.lead_event_queue'), '0', 'nothing left queued');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.webhook_events WHERE status <> 'applied'}), '0',
	'every event applied');

# ---- 3. a failing lead step: messages applied, events queued, processed once later ----
$node->safe_psql('postgres', q{
	CREATE FUNCTION public.t13_no_leads() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN RAISE EXCEPTION 't13 forced lead failure'; END $$;
	CREATE TRIGGER t13_no_leads BEFORE INSERT ON antiban.leads FOR EACH ROW EXECUTE FUNCTION public.t13_no_leads();});
my ($rc, $out, $err) = $node->psql('postgres', ingest_sql(message_body('5511987001003', 'Quero falar com alguém')),
	extra_params => [ '-U', 'receiver' ]);
is($rc . ' ' . $out, '0 1', 'the POST is stored and the call succeeds although the lead step fails');
like($err, qr/left to the antiban leads worker.*t13 forced lead failure/, 'with a warning naming the error');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.interactions WHERE wamid = 'wamid.T13IN3'}), '1',
	'the message is applied');
is($node->safe_psql('postgres', q{SELECT status FROM antiban.webhook_events ORDER BY id DESC LIMIT 1}), 'applied',
	'its event is applied');
$node->safe_psql('postgres', 'DROP TRIGGER t13_no_leads ON antiban.leads');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.lead_event_queue WHERE kind = 'message'}), '1',
	'its lead event stays queued');
is(leads_of('5511987001003'), '0', 'no lead yet');
$node->safe_psql('postgres', 'SELECT antiban.process_lead_events()');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.lead_event_queue}), '0', 'processing takes the queued event');
is(leads_of('5511987001003'), '1', 'and makes the lead');
is($node->safe_psql('postgres', q{
	SELECT f.messages FROM antiban.leads l JOIN antiban.lead_features f ON f.conversation_id = l.id
	WHERE l.person_id = antiban.person_id(1, '+5511987001003')}), '1', 'with its message counted once');

# ---- 4. the parameter after an error the caller caught ----
# a status whose outbox update keeps deadlocking: apply_webhooks gives up
# after its retries, between switching to deferred and back
$node->safe_psql('postgres', q{
	SELECT antiban.send_template('+5511987001004', 'oferta', 'pt_BR');
	UPDATE antiban.outbox SET state = 'sent', attempts = 1, wamid = 'wamid.T13OUT2', sent_at = now()
	WHERE recipient = '+5511987001004';
	ALTER SYSTEM SET antiban.webhook_apply = 'worker'; SELECT pg_reload_conf();});
ok(wait_for($node, q{SELECT current_setting('antiban.webhook_apply') = 'worker'}), 'apply by the worker from now on');
$node->safe_psql('postgres', q{
	CREATE FUNCTION public.t13_deadlock() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN RAISE EXCEPTION 't13 forced deadlock' USING ERRCODE = 'deadlock_detected'; END $$;
	CREATE TRIGGER t13_deadlock BEFORE UPDATE ON antiban.outbox FOR EACH ROW
	WHEN (NEW.wamid = 'wamid.T13OUT2') EXECUTE FUNCTION public.t13_deadlock();});
$node->safe_psql('postgres', ingest_sql(status_body('wamid.T13OUT2', '5511987001004', 'delivered')),
	extra_params => [ '-U', 'receiver' ]);
my $event = $node->safe_psql('postgres', q{SELECT max(id) FROM antiban.webhook_events});
is($node->safe_psql('postgres', qq{
	BEGIN;
	DO \$\$ BEGIN
		PERFORM antiban.apply_webhooks(ARRAY[$event]::bigint[]);
		RAISE NOTICE 'not reached';
	EXCEPTION WHEN deadlock_detected THEN NULL;
	END \$\$;
	SELECT current_setting('antiban.lead_scoring');
	COMMIT;
	SELECT current_setting('antiban.lead_scoring');}), "inline\ninline",
	'lead_scoring is inline after an error the caller caught, and after the transaction');
$node->safe_psql('postgres', 'DROP TRIGGER t13_deadlock ON antiban.outbox');

# ---- 5. who may call the new pieces ----
for my $role (qw(receiver app reader analyst plain))
{
	for my $call ('antiban.defer_lead_scoring(true)',
		"antiban.apply_webhooks(ARRAY[$event]::bigint[])", 'antiban.apply_pending_webhooks(10)',
		'antiban.process_lead_events(10, 0)')
	{
		my ($rc2, $o2, $e2) = $node->psql('postgres', "SELECT $call", extra_params => [ '-U', $role ]);
		like($e2, qr/permission denied/, "$role may not call $call");
	}
	my ($rc3, $o3, $e3) = $node->psql('postgres', q{SET antiban.lead_scoring = deferred},
		extra_params => [ '-U', $role ]);
	like($e3, qr/permission denied/, "$role may not set antiban.lead_scoring");
}

$node->stop;
done_testing();
