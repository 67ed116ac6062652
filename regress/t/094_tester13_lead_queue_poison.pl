# tester13: with inline scoring, a lead step that fails now leaves the
# batch's lead events queued "for the antiban leads worker" (before, the
# change itself was rolled back and marked).  The worker takes the oldest
# queued events, 5000 at a time, in one transaction: one event that keeps
# failing (here: a person whose lead cannot be inserted) fails the whole
# batch every time, so every event queued behind it, whose own failure was
# passing, is never processed: those persons never get a lead.
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

my $secret = 'tester13-poison';
my $node = antiban_node('t13_poison', 'antiban.sender_workers' => '0', 'antiban.lead_scoring_interval' => '200ms');
register_numbers($node, '1001' => {});
$node->safe_psql('postgres', qq{
	SELECT antiban.set_secret('app_secret', '$secret');
	CREATE ROLE receiver LOGIN IN ROLE antiban_receiver;
	-- the persons whose lead cannot be made: for good, and for now
	CREATE TABLE public.t13_refused (wa_id text PRIMARY KEY);
	CREATE FUNCTION public.t13_refuse() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS \$\$
	BEGIN
		IF EXISTS (SELECT 1 FROM public.t13_refused r WHERE antiban.person_id(NEW.portfolio_id, r.wa_id) = NEW.person_id) THEN
			RAISE EXCEPTION 't13: no lead for person %', NEW.person_id;
		END IF;
		RETURN NEW;
	END \$\$;
	CREATE TRIGGER t13_refuse BEFORE INSERT ON antiban.leads FOR EACH ROW EXECUTE FUNCTION public.t13_refuse();});

my $n = 0;
sub post
{
	my ($from) = @_;
	$n++;
	my $body = encode_json({ object => 'whatsapp_business_account',
		entry => [ { id => '200', changes => [ { field => 'messages', value => {
			messaging_product => 'whatsapp',
			metadata => { display_phone_number => '5511900000001', phone_number_id => '1001' },
			contacts => [ { profile => { name => "P$from" }, wa_id => $from } ],
			messages => [ { from => $from, id => "wamid.T13Q$n", timestamp => '' . time(),
				type => 'text', text => { body => 'Quero investir 50 mil' } } ] } } ] } ] });
	(my $lit = $body) =~ s/'/''/g;
	my ($rc, $out, $err) = $node->psql('postgres', "SELECT count(*) FROM antiban.ingest_webhook(convert_to('$lit', 'UTF8'), 'sha256="
		. hmac_sha256_hex($body, $secret) . "') WHERE stored", extra_params => [ '-U', 'receiver' ]);
	return $rc == 0 ? $out : "error: $err";
}
sub leads_of
{
	my ($wa) = @_;
	return $node->safe_psql('postgres', "SELECT count(*) FROM antiban.leads WHERE person_id = antiban.person_id(1, '+$wa')");
}

# a person whose lead can never be made: the message is applied, the event queued
$node->safe_psql('postgres', q{INSERT INTO public.t13_refused VALUES ('+5511987400001')});
is(post('5511987400001'), '1', 'the message of the refused person is stored (and applied)');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.interactions WHERE wamid = 'wamid.T13Q1'}), '1', 'applied');

# another whose lead fails only this once
$node->safe_psql('postgres', q{INSERT INTO public.t13_refused VALUES ('+5511987400002')});
is(post('5511987400002'), '1', 'the message of a person whose lead fails for now is stored');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.lead_event_queue}) > 0 ? 'queued' : 'none', 'queued',
	'lead events wait in the queue');
$node->safe_psql('postgres', q{DELETE FROM public.t13_refused WHERE wa_id = '+5511987400002'});

# a later person is served inline as usual
is(post('5511987400003'), '1', 'a third person writes');
is(leads_of('5511987400003'), '1', 'and gets a lead inline');

# the passing failure is gone: the antiban leads worker (every 200 ms) should make that lead
ok(wait_for($node, q{SELECT count(*) = 1 FROM antiban.leads WHERE person_id = antiban.person_id(1, '+5511987400002')}, 60),
	'the lead whose failure passed is made by the leads worker, although an older queued event keeps failing');
is(leads_of('5511987400001'), '0', 'the refused person still has none');

# fix13: the event that always fails is set aside, never dropped: it stays
# queued with its error, the log says so and an alert tells an operator
ok(wait_for($node, q{SELECT count(*) = 1 FROM antiban.lead_event_queue WHERE attempts >= 3}, 60), 'the failing event is set aside');
is($node->safe_psql('postgres', q{SELECT kind || ' ' || attempts || ' ' || (last_error LIKE 't13: no lead for person%')
	FROM antiban.lead_event_queue}), 'message 3 true', 'and stays queued with its failures and its error');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.alerts WHERE kind = 'lead_event_set_aside'}), '1', 'one alert names it');
like(slurp_file($node->logfile), qr/WARNING:  antiban: queued lead event \d+ set aside after failing 3 times: t13: no lead/,
	'the log warns');
is($node->safe_psql('postgres', q{SELECT antiban.process_lead_events(10)}), '0', 'process_lead_events skips it');
$node->safe_psql('postgres', q{DELETE FROM public.t13_refused; UPDATE antiban.lead_event_queue SET attempts = 0});
ok(wait_for($node, q{SELECT count(*) = 1 FROM antiban.leads WHERE person_id = antiban.person_id(1, '+5511987400001')}, 60),
	'once its cause is gone and an operator resets it, the worker makes its lead');

$node->stop;
done_testing();
