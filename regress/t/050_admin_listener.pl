# The receiver's private admin listener: a second port with its own
# database role (antiban_dashboard), basic auth from a file (bcrypt and
# sha256 hashes), the dashboard's JSON (every panel in one object; a panel
# whose view does not exist is null and lights up when it is created), the
# one write it allows (acknowledging an alert, only with the same-origin
# header), /metrics in Prometheus' text format with the receiver's own
# counters and the database's samples, and the database side kept cheap: on
# a 200,000-row outbox the metrics query reads no table whole.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use MIME::Base64;
use Digest::SHA;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('admin', 'antiban.sender_workers' => '0');
register_numbers($node, '1001' => { throughput_level => "'HIGH'", health => 91 },
	'1002' => { health => 64, mode => "'throttled'", rate_factor => 0.5 });
$node->safe_psql('postgres', q{
	UPDATE antiban.portfolios SET messaging_limit = 'TIER_2K';
	CREATE ROLE receiver LOGIN IN ROLE antiban_receiver;
	CREATE ROLE dashboard LOGIN IN ROLE antiban_dashboard;
	SELECT count(antiban.send_template('+55119' || lpad(i::text, 8, '0'), 'oferta', 'pt_BR')) FROM generate_series(1, 7) i;
	INSERT INTO antiban.send_errors (number_id, code, source) VALUES (1, 131048, 'send'), (1, 131048, 'webhook'), (2, 130429, 'send');
	SELECT antiban.raise_alert('critical', '1001', 'quality_dropped', 'quality fell from GREEN to RED');
	SELECT antiban.raise_alert('warning', NULL, 'portfolio_limit_80', 'portfolio 100 is at 80 %', '100');
	SELECT antiban.flush_journal();});

# One user with a bcrypt hash, one with a sha256 one; comments and blank lines.
my $auth = $node->basedir . '/admin.auth';
PostgreSQL::Test::Utils::append_to_file($auth, "# dashboard users\n\nops:"
	  . crypt('bcrypt-pass', '$2b$05$abcdefghijklmnopqrstuu') . "\n"
	  . "prom:sha256:" . unpack('H*', Digest::SHA::sha256('sha-pass')) . "\n");
my $r = start_receiver($node, admin_user => 'dashboard', admin_auth_file => $auth);
isnt($r->{admin_port}, $r->{port}, 'the admin listener has its own port');

my $http = HTTP::Tiny->new(timeout => 30, keep_alive => 0);
my %ops = (Authorization => 'Basic ' . encode_base64('ops:bcrypt-pass', ''));
my %prom = (Authorization => 'Basic ' . encode_base64('prom:sha-pass', ''));
sub get { my ($path, %h) = @_; return $http->get("$r->{admin_url}$path", { headers => \%h }); }
sub post { my ($path, %h) = @_; return $http->post("$r->{admin_url}$path", { headers => \%h, content => '' }); }

# Where things are, and who may see them.
is($http->get("$r->{url}/metrics")->{status}, 404, 'the public webhook port does not serve /metrics');
is(get('/webhook')->{status} . '', '401', 'the admin port has no webhook path (and asks for credentials first)');
my $res = get('/health');
is($res->{status} . ' ' . $res->{content}, '200 {"receiver":"up","database":"up"}', '/health needs no credentials');
$res = get('/metrics');
is($res->{status}, 401, 'no credentials: 401');
like($res->{headers}{'www-authenticate'} // '', qr/^Basic realm="antiban dashboard"/, 'with a basic-auth challenge');
is(get('/metrics', Authorization => 'Basic ' . encode_base64('ops:wrong', ''))->{status}, 401, 'a wrong password: 401');
is(get('/metrics', Authorization => 'Basic ' . encode_base64('nobody:bcrypt-pass', ''))->{status}, 401, 'an unknown user: 401');
is(get('/metrics', Authorization => 'Basic ' . encode_base64('prom:bcrypt-pass', ''))->{status}, 401,
	'another user\'s password: 401');
is(get('/metrics', %ops)->{status}, 200, 'bcrypt user: 200');
is(get('/metrics', %ops)->{status}, 200, 'bcrypt user again (remembered): 200');
is(get('/metrics', %prom)->{status}, 200, 'sha256 user: 200');

# The page and its headers.
$res = get('/', %ops);
is($res->{status}, 200, 'the page is served');
like($res->{content}, qr{<script src="app\.js" defer></script>}, 'from the built assets');
unlike($res->{content}, qr{<script>|<style>|\sstyle=|\son[a-z]+=}i, 'with no inline script or style');
like($res->{headers}{'content-security-policy'}, qr/default-src 'none'; script-src 'self'; style-src 'self'/,
	'under a strict Content-Security-Policy');
is($res->{headers}{'x-frame-options'}, 'DENY', 'and not framed');
is(get('/uPlot.iife.min.js', %ops)->{headers}{'content-type'}, 'text/javascript; charset=utf-8', 'the chart library is served');
is(get('/../README.md', %ops)->{status}, 404, 'nothing outside the assets folder');

# The dashboard's JSON matches SQL.
$res = get('/api/dashboard', %ops);
is($res->{status}, 200, '/api/dashboard answers');
my $dash = decode_json($res->{content});
is(join(',', map { "$_->{phone_number_id}=$_->{health}/$_->{mode}" } @{ $dash->{panels}{numbers} }),
	$node->safe_psql('postgres', q{SELECT string_agg(phone_number_id || '=' || health || '/' || mode, ',' ORDER BY phone_number_id) FROM antiban.numbers}),
	'every number with its health and mode, as in antiban.numbers');
is(join(',', map { "$_->{phone_number_id}:$_->{queued}" } @{ $dash->{panels}{queue} }),
	$node->safe_psql('postgres', q{SELECT string_agg(phone_number_id || ':' || count, ',' ORDER BY phone_number_id)
		FROM (SELECT phone_number_id, count(*) FROM antiban.outbox WHERE state = 'queued' GROUP BY 1) q}),
	'queue depth per number, as in antiban.outbox');
is(join(',', map { "$_->{code}:$_->{last_hour}" } sort { $a->{code} <=> $b->{code} } @{ $dash->{panels}{errors} }),
	'130429:1,131048:2', 'errors by code');
is($dash->{panels}{budget}[0]{messaging_limit}, 2000, 'the portfolio budget');
ok(exists $dash->{panels}{campaigns} && !defined $dash->{panels}{campaigns}, 'campaigns: not set up (null)');
is(get('/api/panels/experiments', %ops)->{status}, 404, 'a panel without its view: 404');
is(get('/api/panels/leads', %ops)->{content}, '[]', 'the leads panel (antiban.dashboard_leads) is set up: no leads yet');
is(get('/api/panels/Bad;name', %ops)->{status}, 404, 'a bad panel name: 404');

# A panel lights up when its view appears: no change to the receiver or page.
$node->safe_psql('postgres', q{
	CREATE VIEW antiban.dashboard_campaigns AS SELECT 'spring' AS name, 120 AS sent, 3.5 AS cost_usd;
	CREATE VIEW antiban.dashboard_experiments AS SELECT 1 AS n;});
like(get('/api/panels/experiments', %ops)->{content}, qr/not granted to dashboard/, 'a view not granted says so');
$node->safe_psql('postgres', 'GRANT SELECT ON antiban.dashboard_campaigns TO antiban_reader');
is(get('/api/panels/campaigns', %ops)->{content}, '[{"name":"spring","sent":120,"cost_usd":3.5}]',
	'a new view is a new panel once granted to antiban_reader');
is_deeply(decode_json(get('/api/dashboard', %ops)->{content})->{panels}{campaigns},
	[ { name => 'spring', sent => 120, cost_usd => 3.5 } ], 'and is in /api/dashboard');

# Acknowledging: the only write, same-origin only.
my $alert = $node->safe_psql('postgres', q{SELECT id FROM antiban.alerts WHERE kind = 'quality_dropped'});
is(post("/api/alerts/$alert/ack", %ops)->{status}, 403, 'without the dashboard header: 403');
is(post("/api/alerts/$alert/ack", %ops, 'X-Requested-With' => 'antiban-dashboard', Origin => 'http://evil.example')->{status},
	403, 'from another origin: 403');
is(post("/api/alerts/$alert/ack", %ops, 'X-Requested-With' => 'antiban-dashboard', 'Sec-Fetch-Site' => 'cross-site')->{status},
	403, 'a cross-site fetch: 403');
is(post("/api/alerts/$alert/ack", 'X-Requested-With' => 'antiban-dashboard')->{status}, 401, 'without credentials: 401');
is($node->safe_psql('postgres', "SELECT acknowledged_at IS NULL FROM antiban.alerts WHERE id = $alert"), 't',
	'none of these acknowledged it');
$res = post("/api/alerts/$alert/ack", %ops, 'X-Requested-With' => 'antiban-dashboard',
	Origin => "http://127.0.0.1:$r->{admin_port}", 'Sec-Fetch-Site' => 'same-origin');
is($res->{status} . ' ' . $res->{content}, '200 {"acknowledged":true}', 'from the page: acknowledged');
is($node->safe_psql('postgres', "SELECT acknowledged_at IS NOT NULL AND acknowledged_by = 'dashboard' FROM antiban.alerts WHERE id = $alert"),
	't', 'antiban.alerts shows it acknowledged by the dashboard role');
is(post("/api/alerts/$alert/ack", %ops, 'X-Requested-With' => 'antiban-dashboard')->{status}, 409, 'twice: 409');
is(get("/api/alerts/$alert/ack", %ops)->{status}, 404, 'GET does not acknowledge');

# The role can do nothing else.
my ($ret, $out, $err) = $node->psql('postgres', "UPDATE antiban.numbers SET health = 1",
	extra_params => [ '-U', 'dashboard' ]);
like($err, qr/permission denied/, 'the dashboard role cannot change numbers');
($ret, $out, $err) = $node->psql('postgres', "SELECT count(*) FROM antiban.secrets", extra_params => [ '-U', 'dashboard' ]);
like($err, qr/permission denied/, 'nor read secrets');
($ret, $out, $err) = $node->psql('postgres', "SELECT antiban.set_mode('1001', 'paused', 'x')", extra_params => [ '-U', 'dashboard' ]);
like($err, qr/permission denied/, 'nor steer numbers');

# /metrics: the receiver's counters follow the webhook port.
$http->get("$r->{url}/webhook?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1");
$http->get("$r->{url}/nowhere");
# a decision of the last minute, however slowly the steps above ran
$node->safe_psql('postgres', q{SELECT antiban.decide('+5511988887777', 'marketing', consume => false);
	SELECT antiban.flush_journal();});
my $text = get('/metrics', %prom)->{content};
like(get('/metrics', %prom)->{headers}{'content-type'}, qr{^text/plain; version=0\.0\.4}, 'exposition format 0.0.4');
like($text, qr/^antiban_receiver_webhook_requests_total\{code="403"\} 1$/m, 'a refused handshake counted as 403');
like($text, qr/^antiban_receiver_webhook_requests_total\{code="404"\} 2$/m, 'wrong paths (/metrics, /nowhere) counted as 404');
like($text, qr/^antiban_receiver_database_up 1$/m, 'the database was read');

# Every line is a comment or a sample; each family has HELP and TYPE once,
# before its samples, and its samples are together.
my (%help, %type, %seen, $bad, $current);
for my $line (split /\n/, $text)
{
	if ($line =~ /^# HELP (\w+) /) { $help{$1}++; next; }
	if ($line =~ /^# TYPE (\w+) (counter|gauge|histogram)$/) { $type{$1}++; $current = $1; next; }
	if ($line =~ /^(\w+)(\{(\w+="(?:[^"\\]|\\.)*")(,\w+="(?:[^"\\]|\\.)*")*\})? (-?[0-9.e+-]+|\+Inf|-Inf|NaN)$/)
	{
		my $family = $1;
		$family =~ s/_(bucket|sum|count)$// if $family =~ /^antiban_receiver_webhook_post_seconds_/;
		$bad .= "out of its family: $line\n" if !$current || $family ne $current;
		$seen{$family}++;
		next;
	}
	$bad .= "not a sample: $line\n";
}
is($bad // '', '', 'every line parses as the text format, samples under their own TYPE');
is(join(',', grep { $help{$_} != 1 || ($type{$_} // 0) != 1 } keys %help), '', 'one HELP and one TYPE per family');
for my $family (qw(antiban_outbox_messages antiban_outbox_oldest_age_seconds antiban_decisions_last_minute
	antiban_bucket_fill_ratio antiban_bucket_granted_total antiban_number_health antiban_number_mode
	antiban_number_quality antiban_send_errors_last_hour antiban_alerts_open antiban_portfolio_reached
	antiban_portfolio_limit antiban_webhook_events_pending antiban_webhook_apply_lag_seconds
	antiban_webhook_events_last_5min antiban_sender_due_wait_seconds antiban_journal_buffered
	antiban_receiver_webhook_requests_total antiban_receiver_webhook_post_seconds))
{
	ok($seen{$family}, "$family is exposed");
}
sub samples { return { map { /^(\S+) (\S+)$/ ? ($1 => $2) : () } split /\n/, $_[0] }; }
sub queued { my $s = samples($_[0]); return ($s->{'antiban_outbox_messages{state="queued",phone_number_id="1001"}'} // 0)
	  + ($s->{'antiban_outbox_messages{state="queued",phone_number_id="1002"}'} // 0); }
my %sample = %{ samples($text) };
my $queued_sql = $node->safe_psql('postgres', q{SELECT count(*) FROM antiban.outbox WHERE state = 'queued'});
is(queued($text), $queued_sql, 'queued messages as in SQL');
is($sample{'antiban_number_health{phone_number_id="1002"}'}, 64, 'health per number as in SQL');
is($sample{'antiban_number_mode{phone_number_id="1002",mode="throttled"}'}, 1, 'mode per number as a state set');
is($sample{'antiban_send_errors_last_hour{code="131048",phone_number_id="1001"}'}, 2, 'errors by code and number');
is($sample{'antiban_alerts_open{severity="warning"}'}, 1, 'open alerts by severity (the critical one was acknowledged)');

# Cheap on a large outbox: 200,000 settled messages (written around the state
# machine's trigger), analysed; the metrics query must reach the outbox and
# the decision log only through indexes.
$node->safe_psql('postgres', q{
	ALTER TABLE antiban.outbox DISABLE TRIGGER outbox_transition;
	INSERT INTO antiban.outbox (recipient, message_type, category, payload, state, not_before, number_id, phone_number_id, sent_at)
	SELECT '+5511' || lpad(i::text, 9, '0'), 'template', 'marketing', '{}',
	       (CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'read' END)::antiban.message_state,
	       now() - interval '2 days', 1, '1001', now() - interval '2 days'
	FROM generate_series(1, 200000) i;
	ALTER TABLE antiban.outbox ENABLE TRIGGER outbox_transition;
	INSERT INTO antiban.decisions (decided_at, recipient, category, priority, outcome, reason, consumed, detail)
	SELECT now() - interval '2 days' + i * interval '100 ms', 'x', 'marketing', 'normal', 'SEND', 'healthiest', true, ''
	FROM generate_series(1, 200000) i;
	ANALYZE antiban.outbox; ANALYZE antiban.decisions;});
my $plan = decode_json($node->safe_psql('postgres',
	'SET ROLE dashboard; EXPLAIN (FORMAT JSON) SELECT * FROM antiban.prometheus_metrics'));
my @scans;
my $walk;
$walk = sub {
	my ($n) = @_;
	push @scans, "$n->{'Node Type'} on $n->{'Relation Name'}"
	  if ($n->{'Node Type'} // '') eq 'Seq Scan' && ($n->{'Relation Name'} // '') =~ /^(outbox|decisions)$/;
	$walk->($_) for @{ $n->{Plans} // [] };
};
$walk->($plan->[0]{Plan});
is(join(', ', @scans), '', 'no sequential scan of the outbox or the decisions in the metrics query');
$text = get('/metrics', %prom)->{content};
like($text, qr/^antiban_outbox_messages_estimated\{state="read"\} 1[0-9]{5}$/m,
	'settled states are estimated from the statistics');
is(queued($text), $queued_sql, 'and waiting ones still counted exactly');

stop_receiver($r);
done_testing();
