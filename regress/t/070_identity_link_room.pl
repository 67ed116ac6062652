# tester10: a person's links live in a shared-memory table of
# antiban.max_recipients entries.  When it has no room, what Meta tells us
# about the person must still hold: a stop is never lost because its link
# could not be kept, and a link the tables hold is never missing from the
# decisions.
#  - F1: the table is full (links made one transaction at a time, each
#    checked); a "PARAR" from a new person who writes with phone and BSUID
#    (every user since Meta's BSUID rollout) must stop marketing to the phone.
#  - F2: one transaction makes more links than fit (a Meta POST batches many
#    messages): every link the tables hold must reach the decisions, so a
#    stop given under the BSUID stops marketing to the phone.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Digest::SHA qw(hmac_sha256_hex);
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $secret = 'tester10-app-secret';

# A body signed like Meta's, through antiban.ingest_webhook; its status and problems.
sub post_signed
{
	my ($node, $body) = @_;
	my $sig = 'sha256=' . hmac_sha256_hex($body, $secret);
	return $node->safe_psql('postgres', qq{
		SELECT i.event_id AS event FROM antiban.ingest_webhook(convert_to(\$b\$$body\$b\$, 'UTF8'), '$sig') i \\gset
		SELECT w.status || coalesce(' ' || nullif(array_to_string(w.problems, '; '), ''), '')
		FROM antiban.webhook_events w WHERE w.id = :event});
}

sub inbound
{
	my ($wa, $uid, $wamid, $text) = @_;
	return qq({"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":)
	  . qq({"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000001","phone_number_id":"1001"},)
	  . qq("contacts":[{"profile":{"name":"Pessoa"},"wa_id":"$wa","user_id":"$uid"}],)
	  . qq("messages":[{"from":"$wa","from_user_id":"$uid","id":"$wamid","timestamp":"@{[time() - 60]}","type":"text","text":{"body":"$text"}}]}}]}]});
}

sub setup
{
	my ($name) = @_;
	my $node = antiban_node($name, 'antiban.max_recipients' => '1024');
	register_numbers($node, '1001' => { rate_override => 100000, burst_override => 100000 });
	$node->safe_psql('postgres', qq{
		UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED';
		SELECT antiban.set_secret('app_secret', '$secret');});
	return $node;
}

# ---- F1: the table is full; a stop from someone new is still a stop ----
my $node = setup('link_room_full');
# every stripe full: 4,000 links, one transaction each, for a table of 64 x 15
# (the ones that find no room are refused, as they should be)
is($node->safe_psql('postgres', q{
	DO $$
	DECLARE
		refused integer := 0;
	BEGIN
		FOR n IN 1 .. 4000 LOOP
			BEGIN
				PERFORM antiban.link_identifiers(1, ARRAY['+55119' || (70000000 + n), 'BR.L' || n], 'operator');
			EXCEPTION WHEN configuration_limit_exceeded THEN
				refused := refused + 1;
			END;
			COMMIT;
		END LOOP;
		RAISE NOTICE 'refused %', refused;
	END
	$$;
	SELECT count(*) > 0 FROM antiban.person_ids WHERE kind = 'bsuid'}), 't', 'the link table is filled');
# someone new writes "PARAR" with phone and BSUID, as Meta posts it now
my @status;
for my $n (1 .. 20)
{
	my $wa = '5511971000' . sprintf('%03d', $n);
	push @status, post_signed($node, inbound($wa, "BR.NEW$n", "wamid.NEW$n", 'PARAR'));
}
note("webhooks: " . join(" | ", @status));
is($node->safe_psql('postgres', q{
	SELECT string_agg(DISTINCT outcome || ' ' || reason, ', ')
	FROM generate_series(1, 20) n,
	     antiban.decide('+5511971000' || lpad(n::text, 3, '0'), 'marketing', consume => false)}),
	'REJECT opted_out', 'F1: a stop from a person with phone and BSUID holds even when their link finds no room');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM antiban.interactions WHERE wamid LIKE 'wamid.NEW%'}),
	'20', 'F1: the stop messages themselves are recorded');
# one change carrying two messages (Meta batches): a person known by phone only
# says "PARAR" next to someone whose link finds no room; her stop must not
# depend on the other message
my $t = time() - 30;
my $two = qq({"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":)
  . qq({"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000001","phone_number_id":"1001"},)
  . qq("contacts":[{"profile":{"name":"A"},"wa_id":"5511972000001","user_id":"BR.TWO1"},{"profile":{"name":"B"},"wa_id":"5511972000002"}],)
  . qq("messages":[{"from":"5511972000001","from_user_id":"BR.TWO1","id":"wamid.TWO1","timestamp":"$t","type":"text","text":{"body":"oi"}},)
  . qq({"from":"5511972000002","id":"wamid.TWO2","timestamp":"$t","type":"text","text":{"body":"PARAR"}}]}}]}]});
note('two messages: ' . post_signed($node, $two));
is($node->safe_psql('postgres', q{
	SELECT outcome || ' ' || reason FROM antiban.decide('+5511972000002', 'marketing', consume => false)}),
	'REJECT opted_out', 'F1: a stop is not lost because another message of the same change could not be linked');
$node->stop;

# ---- F2: one transaction links more than fits ----
$node = setup('link_room_batch');
my ($rc, $out, $err) = $node->psql('postgres', q{
	SELECT count(antiban.link_identifiers(1, ARRAY['+55119' || (70000000 + n), 'BR.L' || n], 'operator'))
	FROM generate_series(1, 1100) n});
note("one transaction of 1100 links: rc $rc, $err");
# a stop given under each BSUID that the tables link to a phone
$node->safe_psql('postgres', q{
	SELECT count(antiban.set_marketing_opt_out(i.key, '1001', true))
	FROM antiban.person_ids i WHERE i.kind = 'bsuid'});
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM antiban.person_ids b
	JOIN antiban.person_ids p ON p.person_id = b.person_id AND p.kind = 'phone'
	CROSS JOIN LATERAL antiban.decide(p.key, 'marketing', consume => false) d
	WHERE b.kind = 'bsuid' AND d.outcome = 'SEND'}),
	'0', 'F2: no phone linked (in antiban.person_ids) to a BSUID that said stop is still sent marketing');
$node->stop;
done_testing();
