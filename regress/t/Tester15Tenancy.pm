# tester15: two portfolios in one database and the login roles of issue 15,
# shared by regress/t/09*_tester15_*.pl.
#
#   portfolio 100 "Alpha" (A): WABA 200, numbers 1001 and 1002, template promo_a
#   portfolio 101 "Beta"  (B): WABA 300, numbers 3001 and 3002, template promo_b
#   app_a, app_b     antiban_app, mapped to A and to B
#   reader_a         antiban_reader, mapped to A
#   analyst_a        antiban_analyst, mapped to A
#   admin1           antiban_admin, not mapped (sees everything, as the issue says)
# Both WABAs have an access token; the sender is off, so nothing moves by
# itself and every assertion reads what a call did.
package Tester15Tenancy;

use strict;
use warnings;
use Exporter 'import';
use AntibanTest;

our @EXPORT = qw(tenancy_node as_role b_inbound);

sub tenancy_node
{
	my ($name, %conf) = @_;
	my $node = antiban_node($name, 'antiban.sender_workers' => 0, %conf);
	$node->safe_psql('postgres', q{
		CREATE EXTENSION pgcrypto;
		INSERT INTO antiban.portfolios (business_id, name, messaging_limit)
		VALUES ('100', 'Alpha', 'TIER_2K'), ('101', 'Beta', 'TIER_2K');
		INSERT INTO antiban.wabas (waba_id, portfolio_id, name)
		SELECT v.waba, p.id, v.name FROM antiban.portfolios p,
		    (VALUES ('100', '200', 'A'), ('101', '300', 'B')) AS v(b, waba, name) WHERE p.business_id = v.b;
		INSERT INTO antiban.numbers (phone_number_id, waba_id, display_phone_number, health)
		SELECT v.pid, w.id, v.display, v.health FROM antiban.wabas w,
		    (VALUES ('1001', '200', '+55 11 90000-1001', 80), ('1002', '200', '+55 11 90000-1002', 80),
		            ('3001', '300', '+55 21 90000-3001', 95), ('3002', '300', '+55 21 90000-3002', 95))
		    AS v(pid, waba, display, health) WHERE w.waba_id = v.waba;
		INSERT INTO antiban.templates (waba_id, name, language, status, category, components)
		SELECT w.id, v.name, 'pt_BR', 'APPROVED', 'MARKETING', v.components::jsonb FROM antiban.wabas w,
		    (VALUES ('200', 'promo_a', '[{"type": "BODY", "text": "Oi {{1}}, novidades da Alpha"}]'),
		            ('300', 'promo_b', '[{"type": "BODY", "text": "Oi {{1}}, segredo da Beta"}]')) AS v(waba, name, components)
		WHERE w.waba_id = v.waba;
		SELECT antiban.set_secret('access_token', 'token-of-waba-200', '200');
		SELECT antiban.set_secret('access_token', 'token-of-waba-300', '300');
		SELECT antiban.set_secret('app_secret', 'app-secret-for-tests');
		SELECT antiban.reload_config();
		CREATE ROLE app_a LOGIN IN ROLE antiban_app;
		CREATE ROLE app_b LOGIN IN ROLE antiban_app;
		CREATE ROLE reader_a LOGIN IN ROLE antiban_reader;
		CREATE ROLE analyst_a LOGIN IN ROLE antiban_analyst;
		CREATE ROLE admin1 LOGIN IN ROLE antiban_admin;
		SET ROLE admin1;
		SELECT antiban.grant_portfolio('app_a', '100'), antiban.grant_portfolio('app_b', '101'),
		       antiban.grant_portfolio('reader_a', '100'), antiban.grant_portfolio('analyst_a', '100');
		RESET ROLE;
		-- a signed webhook, as Meta posts it
		CREATE FUNCTION public.t15_post(body text) RETURNS text LANGUAGE plpgsql AS $$
		DECLARE
		    event bigint;
		BEGIN
		    SELECT i.event_id INTO event FROM antiban.ingest_webhook(convert_to(body, 'UTF8'),
		        'sha256=' || encode(hmac(convert_to(body, 'UTF8'), 'app-secret-for-tests', 'sha256'), 'hex')) i;
		    RETURN (SELECT w.status::text FROM antiban.webhook_events w WHERE w.id = event);
		END
		$$;
		-- an inbound text from a person (wa_id, profile name) to a number of a WABA
		CREATE FUNCTION public.t15_inbound(waba text, pid text, wa text, name text, wamid text, body text)
		RETURNS text LANGUAGE sql AS $$
		    SELECT public.t15_post(format('{"object":"whatsapp_business_account","entry":[{"id":"%s","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5500%s","phone_number_id":"%s"},"contacts":[{"profile":{"name":"%s"},"wa_id":"%s"}],"messages":[{"from":"%s","id":"%s","timestamp":"%s","type":"text","text":{"body":"%s"}}]}}]}]}',
		        waba, pid, pid, name, wa, wa, wamid, extract(epoch FROM antiban.now())::bigint, body))
		$$;});
	return $node;
}

# Run SQL as a login role (a real connection, not SET ROLE): (rc, stdout, stderr).
sub as_role
{
	my ($node, $role, $sql) = @_;
	my ($stdout, $stderr);
	my $rc = $node->psql('postgres', $sql, stdout => \$stdout, stderr => \$stderr,
		connstr => $node->connstr('postgres') . " user=$role");
	return ($rc, $stdout // '', $stderr // '');
}

# A customer of portfolio B writes to B's number 3001: a contact, an
# interaction with the text, a lead.  Returns the webhook's status.
sub b_inbound
{
	my ($node, $wa, $name, $wamid, $body) = @_;
	return $node->safe_psql('postgres',
		"SELECT public.t15_inbound('300', '3001', '$wa', '$name', '$wamid', '$body')");
}

1;
