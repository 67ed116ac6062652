# Webhooks end to end: the simulator posts signed status webhooks to
# antiban-receiver, which stores them through antiban.ingest_webhook; a
# message queued in SQL ends 'read' with its price.  The receiver answers
# Meta's GET handshake, refuses bad signatures (401, keeping only the size,
# hash and first kilobyte of such a body) and oversized bodies (413), every
# status the simulator posts is believed (it is ours: wamid, or recipient
# and number), and when it is killed and restarted while the simulator keeps
# posting nothing is lost: every event the simulator saw answered 200 is in
# the table.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use HTTP::Tiny;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('webhooks', 'antiban.sender_tick' => '100ms');
register_numbers($node, map { ("100$_" => { throughput_level => "'HIGH'" }) } 1 .. 2);
$node->safe_psql('postgres', q{
	UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED';
	SELECT antiban.set_secret('access_token', 'EAAG-hooks-token', '200');
	SELECT antiban.set_secret('app_secret', 'the-app-secret');
	SELECT antiban.set_secret('webhook_verify_token', 'verify-token-123');
	CREATE ROLE receiver LOGIN IN ROLE antiban_receiver;});

my $receiver = start_receiver($node);
my $sim = start_simulator('--webhook-url', "$receiver->{url}/webhook", '--app-secret', 'the-app-secret',
	'--webhook-delay-ms', '20', '--webhook-retry-ms', '100', '--webhook-retry-max-ms', '500');
sim_post($sim, '/_sim/config', {
	numbers => { map { ("100$_" => { throughput => 1000, portfolio => 'p1', waba => '200',
		display => "+55 11 90000-000$_" }) } 1 .. 2 },
	portfolios => { p1 => { limit => 'unlimited' } },
	templates => { '200' => [ { name => 'oferta', language => 'pt_BR', category => 'MARKETING', status => 'APPROVED' } ] } });
$node->safe_psql('postgres', "ALTER SYSTEM SET antiban.graph_base_url = '$sim->{url}'; SELECT pg_reload_conf();");

my $http = HTTP::Tiny->new(timeout => 10);

# Meta's handshake.
my $r = $http->get("$receiver->{url}/webhook?hub.mode=subscribe&hub.verify_token=verify-token-123&hub.challenge=1158201444");
is($r->{status} . ' ' . $r->{content}, '200 1158201444', 'GET with the right verify token echoes the challenge');
$r = $http->get("$receiver->{url}/webhook?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1158201444");
is($r->{status}, 403, 'a wrong verify token gets 403');

# Refusals.
$r = $http->post("$receiver->{url}/webhook", { content => '{"object":"whatsapp_business_account","entry":[]}',
	headers => { 'content-type' => 'application/json', 'x-hub-signature-256' => 'sha256=' . ('0' x 64) } });
is($r->{status}, 401, 'a bad signature gets 401');
# curl, not HTTP::Tiny: the receiver answers 413 from Content-Length and closes
my $big = $node->basedir . '/big.json';
PostgreSQL::Test::Utils::append_to_file($big, 'x' x (4 * 1024 * 1024));
my $code = `curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data-binary \@$big $receiver->{url}/webhook`;
is($code, '413', 'a body over 3 MB gets 413');
# Unsigned bodies near the 3 MB limit, each different: nobody's word, so
# each keeps 1 KB (twenty of them used to keep 60 MB).
my $unsigned = $node->basedir . '/unsigned.json';
for my $i (1 .. 5)
{
	open(my $fh, '>', $unsigned) or die "$unsigned: $!";
	print $fh '{"object":"whatsapp_business_account","entry":[{"id":"' . $i . '","pad":"' . ('y' x (2900 * 1024)) . '"}]}';
	close($fh);
	$code = `curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -H 'X-Hub-Signature-256: sha256=@{[ '1' x 64 ]}' --data-binary \@$unsigned $receiver->{url}/webhook`;
	is($code, '401', "unsigned body $i of 2.9 MB gets 401");
}
is($node->safe_psql('postgres', q{SELECT count(*) || ' bodies, ' || floor(sum(body_size) / 1024 / 1024) || ' MB posted, '
	|| max(octet_length(body_raw)) || ' bytes kept at most' FROM antiban.webhook_events WHERE body_size > 1024 * 1024}),
	'5 bodies, 14 MB posted, 1024 bytes kept at most', 'of an unsigned body only its size, hash and first KB are kept');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.webhook_events WHERE signature_valid}), '0',
	'nothing was applied from them');

# 1. End to end: queued in SQL, read with its price.
$node->safe_psql('postgres', q{SELECT count(antiban.send_template('+55119' || lpad(i::text, 8, '0'), 'oferta', 'pt_BR'))
	FROM generate_series(1, 200) i});
ok(wait_for($node, q{SELECT count(*) = 200 FROM antiban.outbox WHERE state = 'read' AND pricing_category IS NOT NULL}, 180),
	'every message ended read, with its pricing')
  or diag($node->safe_psql('postgres', q{SELECT state, pricing_category IS NULL, count(*) FROM antiban.outbox GROUP BY 1, 2}));
is($node->safe_psql('postgres', q{SELECT string_agg(DISTINCT pricing_model || '/' || pricing_type || '/' || pricing_category, ',')
	FROM antiban.outbox}), 'PMP/regular/marketing', 'PMP pricing stored per message');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.outbox WHERE sent_at IS NULL OR read_at IS NULL}),
	'0', 'sent and read are timestamped (delivered too, unless Meta folded it into read)');

# 2. The receiver dies while the simulator keeps posting; it comes back on the same port.
my $failed_before = sim_ledger($sim)->{webhooks}{failed};
stop_receiver($receiver, 'KILL');
$node->safe_psql('postgres', q{SELECT count(antiban.send_template('+55219' || lpad(i::text, 8, '0'), 'oferta', 'pt_BR'))
	FROM generate_series(1, 300) i});
# (the receiver stays down until the simulator's ledger shows a post that failed on it)
sub ledger_until
{
	my ($ready) = @_;
	my $deadline = time() + 120;
	my $ledger = sim_ledger($sim);
	until ($ready->($ledger) || time() > $deadline)
	{
		select(undef, undef, undef, 0.1);
		$ledger = sim_ledger($sim);
	}
	return $ledger;
}
ok(ledger_until(sub { $_[0]{webhooks}{failed} > $failed_before })->{webhooks}{failed} > $failed_before,
	'a webhook post met the dead receiver');
$receiver = start_receiver($node, port => $receiver->{port});
ok(wait_for($node, q{SELECT count(*) = 500 FROM antiban.outbox WHERE state = 'read'}, 180),
	'after the restart every message still reached read')
  or diag($node->safe_psql('postgres', q{SELECT state, count(*) FROM antiban.outbox GROUP BY 1}));
my $ledger = ledger_until(sub { $_[0]{webhooks}{pending} == 0 });
cmp_ok($ledger->{webhooks}{attempts}, '>', $ledger->{webhooks}{posted}, 'posts failed while the receiver was down, and were retried');
is($ledger->{webhooks}{pending}, 0, 'the simulator has nothing left to deliver');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.webhook_events WHERE signature_valid}),
	$ledger->{webhooks}{posted}, 'every post answered 200 is in the webhook table, once');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.webhook_events WHERE signature_valid AND status <> 'applied'}),
	'0', 'and every one was applied')
  or diag($node->safe_psql('postgres', q{SELECT status, problems FROM antiban.webhook_events WHERE status <> 'applied'}));

stop_receiver($receiver);
stop_simulator($sim);
$node->stop;
done_testing();
