# tester10 (issue 10): identity claims tried with Meta's real payload shapes
# (signed bodies through antiban.ingest_webhook) and the documented roles.
# Each check names its finding in /work/notes/tester10-findings.md.
#  F4: a status naming a BSUID user as recipient_user_id (Meta's field) must
#      settle a message whose answer was lost, and its 131050 must opt out.
#  F6: a user_preferences stop naming the person by parent_user_id only.
#  F7: a stop review resolved as a stop: the contact and decisions agree.
#  F8: a system message's new parent BSUID (system.parent_user_id) is linked.
#  F5: an antiban_admin member reads antiban.people and makes an operator link.
# (A TAP test rather than a pg_regress case: a failing pg_regress case stops
# "make installcheck" before every TAP test.)
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('identity_meta_shapes');
my $out = $node->safe_psql('postgres', <<'SQL');
\i regress/fixture.sql
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
RESET client_min_messages;
SELECT antiban.set_secret('app_secret', 'app-secret-for-tests') \gset
UPDATE antiban.numbers SET rate_override = 1000, burst_override = 1000;
CREATE TEMP TABLE r (k text PRIMARY KEY, v text);
CREATE FUNCTION pg_temp.post(body text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    event bigint;
BEGIN
    SELECT i.event_id INTO event FROM antiban.ingest_webhook(convert_to(body, 'UTF8'),
        'sha256=' || encode(hmac(convert_to(body, 'UTF8'), 'app-secret-for-tests', 'sha256'), 'hex')) i;
    RETURN (SELECT w.status || coalesce(' ' || nullif(array_to_string(w.problems, '; '), ''), '')
            FROM antiban.webhook_events w WHERE w.id = event);
END
$$;
CREATE FUNCTION pg_temp.messages(value text) RETURNS text LANGUAGE sql AS $$
    SELECT format('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000001","phone_number_id":"1001"},%s}}]}]}', value)
$$;
CREATE FUNCTION pg_temp.preferences(value text) RETURNS text LANGUAGE sql AS $$
    SELECT format('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"user_preferences","value":{"messaging_product":"whatsapp","user_preferences":[%s]}}]}]}', value)
$$;
CREATE FUNCTION pg_temp.marketing(who text) RETURNS text LANGUAGE sql AS $$
    SELECT outcome || ' ' || reason FROM antiban.decide(who, 'marketing', consume => false)
$$;

-- F4: sent to a BSUID, answer lost; the status names recipient_user_id only
SELECT antiban.send_template('BR.555abc', 'oferta', 'pt_BR', category => 'utility', from_number => '1001') AS sent_ok \gset
UPDATE antiban.outbox SET state = 'sending', attempts = 1 WHERE id = :sent_ok;
INSERT INTO r SELECT 'F4 sent webhook', pg_temp.post(pg_temp.messages(format('"statuses":[{"id":"wamid.T10-555","status":"sent","timestamp":"1893456010","recipient_user_id":"BR.555abc","biz_opaque_callback_data":"%s"}]', :sent_ok)));
INSERT INTO r SELECT 'F4 sent state', state || ' ' || coalesce(wamid, '-') FROM antiban.outbox WHERE id = :sent_ok;
SELECT antiban.send_template('BR.556abc', 'oferta', 'pt_BR', from_number => '1001') AS failed_one \gset
UPDATE antiban.outbox SET state = 'sending', attempts = 1 WHERE id = :failed_one;
INSERT INTO r SELECT 'F4 131050 webhook', pg_temp.post(pg_temp.messages(format('"statuses":[{"id":"wamid.T10-556","status":"failed","timestamp":"1893456020","recipient_user_id":"BR.556abc","biz_opaque_callback_data":"%s","errors":[{"code":131050,"title":"Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business."}]}]', :failed_one)));
INSERT INTO r SELECT 'F4 131050 state', state::text FROM antiban.outbox WHERE id = :failed_one;
INSERT INTO r SELECT 'F4 131050 marketing', pg_temp.marketing('BR.556abc');

-- F6: phone, BSUID and parent known; the stop names the parent only
SELECT pg_temp.post(pg_temp.messages('"contacts":[{"profile":{"name":"Pia"},"wa_id":"5511955550300","user_id":"BR.300abc","parent_user_id":"BR.ENT.300abc"}],"messages":[{"from":"5511955550300","from_user_id":"BR.300abc","from_parent_user_id":"BR.ENT.300abc","id":"wamid.T10-P1","timestamp":"1893456040","type":"text","text":{"body":"oi"}}]'));
INSERT INTO r SELECT 'F6 webhook', pg_temp.post(pg_temp.preferences('{"parent_user_id":"BR.ENT.300abc","detail":"","category":"marketing_messages","value":"stop","timestamp":1893456050}'));
INSERT INTO r SELECT 'F6 marketing', pg_temp.marketing('+5511955550300');

-- F7: doubtful message, a later resume, a reviewer says stop, then a merge with an older resume
SELECT pg_temp.post(pg_temp.messages(format('"contacts":[{"profile":{"name":"Rui"},"wa_id":"5511955551111"}],"messages":[{"from":"5511955551111","id":"wamid.T10-R1","timestamp":"%s","type":"text","text":{"body":"não tenho interesse"}}]', 1893456000 - 300)));
SELECT pg_temp.post(pg_temp.preferences(format('{"wa_id":"5511955551111","category":"marketing_messages","value":"resume","timestamp":%s}', 1893456000 - 200)));
SELECT antiban.resolve_stop_review(id, true) FROM antiban.stop_reviews WHERE wamid = 'wamid.T10-R1';
SELECT pg_temp.post(pg_temp.preferences(format('{"wa_id":"","user_id":"BR.1111r","category":"marketing_messages","value":"resume","timestamp":%s}', 1893456000 - 100)));
SELECT pg_temp.post(pg_temp.messages(format('"contacts":[{"profile":{"name":"Rui"},"wa_id":"5511955551111","user_id":"BR.1111r"}],"messages":[{"from":"5511955551111","from_user_id":"BR.1111r","id":"wamid.T10-R2","timestamp":"%s","type":"text","text":{"body":"ok"}}]', 1893456000 - 50)));
INSERT INTO r SELECT 'F7 decision and contact', d.outcome || ' ' || d.reason || ' / contact opted out: ' || k.marketing_opt_out
FROM antiban.decide('+5511955551111', 'marketing', consume => false) d, antiban.contacts k WHERE k.wa_id = '5511955551111';

-- F8: "PARAR" under a BSUID, then user_changed_user_id with a new BSUID and a new parent
SELECT pg_temp.post(pg_temp.messages('"contacts":[{"profile":{"name":"Ugo","username":"@ugo"},"user_id":"BR.old9"}],"messages":[{"from_user_id":"BR.old9","id":"wamid.T10-Y1","timestamp":"1893456010","type":"text","text":{"body":"PARAR"}}]'));
SELECT pg_temp.post(pg_temp.messages('"messages":[{"from_user_id":"BR.old9","id":"wamid.T10-Y2","timestamp":"1893456020","type":"system","system":{"body":"User Ugo changed their user id","user_id":"BR.new9","parent_user_id":"BR.ENT.new9","type":"user_changed_user_id"}}]'));
INSERT INTO r SELECT 'F8 new bsuid', pg_temp.marketing('BR.new9');
INSERT INTO r SELECT 'F8 new parent', pg_temp.marketing('BR.ENT.new9');

-- F5: an operator (antiban_admin) reads the people and makes an operator link
SELECT pg_temp.post(pg_temp.messages('"contacts":[{"profile":{"name":"Caio"},"wa_id":"5511955550100","user_id":"BR.100abc"}],"messages":[{"from":"5511955550100","from_user_id":"BR.100abc","id":"wamid.T10-IN1","timestamp":"1893456030","type":"text","text":{"body":"oi"}}]'));
SET client_min_messages = warning;
DROP ROLE IF EXISTS t10_operator;
RESET client_min_messages;
CREATE ROLE t10_operator;
GRANT antiban_admin TO t10_operator;
GRANT ALL ON r TO t10_operator;
SET ROLE t10_operator;
DO $$
BEGIN
    INSERT INTO r SELECT 'F5 people', array_to_string(identifiers, ' ') FROM antiban.people
    WHERE 'BR.100abc' = ANY (identifiers);
EXCEPTION WHEN insufficient_privilege THEN
    INSERT INTO r VALUES ('F5 people', SQLERRM);
END
$$;
DO $$
BEGIN
    INSERT INTO r SELECT 'F5 operator link',
        (antiban.link_identifiers(1, ARRAY['+5511955550700', 'BR.700abc'], 'operator') IS NOT NULL)::text;
EXCEPTION WHEN insufficient_privilege THEN
    INSERT INTO r VALUES ('F5 operator link', SQLERRM);
END
$$;
RESET ROLE;
SELECT k || '=' || coalesce(v, '(null)') FROM r ORDER BY k;
SQL

my %got = map { split /=/, $_, 2 } grep { /=/ } split /\n/, $out;
note("$_ = $got{$_}") for sort keys %got;
is($got{'F4 sent webhook'}, 'applied', 'F4: a status naming recipient_user_id, ours by callback, is believed');
is($got{'F4 sent state'}, 'sent wamid.T10-555', 'F4: it settles the message whose answer was lost');
is($got{'F4 131050 state'}, 'failed', 'F4: a 131050 naming recipient_user_id fails the message');
is($got{'F4 131050 marketing'}, 'REJECT opted_out', 'F4: and stops marketing to the person');
is($got{'F6 webhook'}, 'applied', 'F6: a stop naming parent_user_id only is applied');
is($got{'F6 marketing'}, 'REJECT opted_out', 'F6: and stops marketing to the phone of that person');
is($got{'F7 decision and contact'}, 'REJECT opted_out / contact opted out: true',
	'F7: after a review stop and a merge, the contact says what decisions do');
is($got{'F8 new bsuid'}, 'REJECT opted_out', 'F8: the new BSUID of a changed user id is the same person');
is($got{'F8 new parent'}, 'REJECT opted_out', 'F8: so is the new parent BSUID');
is($got{'F5 people'}, '+5511955550100 BR.100abc', 'F5: an antiban_admin member reads antiban.people');
is($got{'F5 operator link'}, 'true', 'F5: and makes an operator link');
$node->stop;
done_testing();
