# The dashboard page in Debian's headless Chromium, driven by playwright-core
# (regress/browser/dashboard_check.mjs): behind basic auth it loads with no
# console error (a Content-Security-Policy violation would be one), shows
# every number with the health and mode SQL has, the queue per number as
# SQL counts it, campaigns as not set up (costs and leads are); clicking an
# alert's Acknowledge button acknowledges it in antiban.alerts; and a
# full-page screenshot is kept as tmp_check/dashboard.png.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use Digest::SHA;
use File::Temp qw(tempdir);
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $browser_dir = "$FindBin::RealBin/../browser";
my $chromium = $ENV{CHROMIUM} // '/usr/bin/chromium';
plan skip_all => "Debian's chromium is not installed ($chromium): apt-get install chromium" unless -x $chromium;
plan skip_all => 'node is not installed: apt-get install nodejs' unless system('node --version >/dev/null 2>&1') == 0;
plan skip_all => "playwright-core is not installed in $browser_dir (npm ci --prefix regress/browser; run-tests.sh does it)"
  unless -d "$browser_dir/node_modules/playwright-core";

my $node = antiban_node('browser', 'antiban.sender_workers' => '0');
register_numbers($node,
	'3000000001' => { throughput_level => "'HIGH'", health => 96, quality_rating => "'GREEN'", display_phone_number => "'+55 11 4000-0001'" },
	'3000000002' => { health => 58, mode => "'throttled'", rate_factor => 0.5, quality_rating => "'YELLOW'",
		previous_quality => "'GREEN'", display_phone_number => "'+55 11 4000-0002'",
		change_reason => "'-24: 12 x 131048 (spam rate limit) in 200 recent sends'" },
	'3000000003' => { health => 22, mode => "'paused'", quality_rating => "'RED'", previous_quality => "'YELLOW'",
		hard_block => 'true', display_phone_number => "'+55 11 4000-0003'",
		change_reason => "'paused: quality RED and status FLAGGED'" });
$node->safe_psql('postgres', q{
	UPDATE antiban.portfolios SET name = 'Investimentos', messaging_limit = 'TIER_2K';
	CREATE ROLE receiver LOGIN IN ROLE antiban_receiver;
	CREATE ROLE dashboard LOGIN IN ROLE antiban_dashboard;
	SELECT count(antiban.send_template('+55119' || lpad(i::text, 8, '0'), 'oferta', 'pt_BR')) FROM generate_series(1, 40) i;
	INSERT INTO antiban.health_events (at, number_id, phone_number_id, health_before, health_after, mode_before, mode_after,
	                                   factor_before, factor_after, reason)
	VALUES (antiban.now() - interval '20 hours', 2, '3000000002', 100, 84, 'active', 'active', 1, 1, '-16: errors'),
	       (antiban.now() - interval '9 hours', 2, '3000000002', 84, 58, 'active', 'throttled', 1, 0.5, '-24: 131048'),
	       (antiban.now() - interval '5 hours', 3, '3000000003', 100, 61, 'active', 'throttled', 1, 0.5, 'quality YELLOW'),
	       (antiban.now() - interval '2 hours', 3, '3000000003', 61, 22, 'throttled', 'paused', 0.5, 0.5, 'quality RED');
	INSERT INTO antiban.quality_history (observed_at, phone_number_id, source, event, quality_rating)
	VALUES (antiban.now() - interval '23 hours', '3000000001', 'poll', 'poll', 'GREEN'),
	       (antiban.now() - interval '23 hours', '3000000002', 'poll', 'poll', 'GREEN'),
	       (antiban.now() - interval '9 hours', '3000000002', 'webhook', 'quality', 'YELLOW'),
	       (antiban.now() - interval '23 hours', '3000000003', 'poll', 'poll', 'GREEN'),
	       (antiban.now() - interval '5 hours', '3000000003', 'webhook', 'quality', 'YELLOW'),
	       (antiban.now() - interval '2 hours', '3000000003', 'webhook', 'quality', 'RED');
	INSERT INTO antiban.send_errors (at, number_id, code, source)
	SELECT antiban.now() - i * interval '3 minutes', 2, 131048, 'send' FROM generate_series(1, 12) i
	UNION ALL SELECT antiban.now() - i * interval '7 minutes', 1, 130429, 'send' FROM generate_series(1, 4) i;
	SELECT antiban.raise_alert('critical', '3000000003', 'quality_dropped',
	                           'quality fell from YELLOW to RED: antiban slows this number down before Meta acts');
	SELECT antiban.raise_alert('warning', '3000000002', 'number_throttled', '-24: 12 x 131048 (spam rate limit) in 200 recent sends');
	SELECT antiban.raise_alert('info', NULL, 'portfolio_limit_80', 'portfolio 100 reached 1,612 of its 2,000 unique recipients', '100');});
my $alert = $node->safe_psql('postgres', q{SELECT id FROM antiban.alerts WHERE kind = 'quality_dropped'});

my $dir = tempdir(CLEANUP => 1);
PostgreSQL::Test::Utils::append_to_file("$dir/auth", 'ops:sha256:' . Digest::SHA::sha256_hex('page-pass') . "\n");
my $r = start_receiver($node, admin_user => 'dashboard', admin_auth_file => "$dir/auth");

my $screenshot = "$PostgreSQL::Test::Utils::tmp_check/dashboard.png";
unlink $screenshot;
# Chromium writes caches under HOME: give it one of its own
local $ENV{HOME} = $dir;
local $ENV{DASHBOARD_USER} = 'ops';
local $ENV{DASHBOARD_PASSWORD} = 'page-pass';
local $ENV{CHROMIUM} = $chromium;
my $out = `node $browser_dir/dashboard_check.mjs $r->{admin_url}/ $screenshot $alert 2>&1`;
my $status = $?;
my ($json) = $out =~ /^(\{.*\})\s*$/m;
my $seen = $json ? decode_json($json) : {};
is($status, 0, 'the page loaded and the script ran to its end') or diag($out);
is($seen->{status}, 200, 'the page answers 200 behind basic auth');
is(join("\n", @{ $seen->{console_errors} // ['no answer'] }), '', 'no console error, no Content-Security-Policy violation');

my $sql_numbers = $node->safe_psql('postgres',
	q{SELECT string_agg(phone_number_id || '=' || health || '/' || mode, ',' ORDER BY phone_number_id) FROM antiban.numbers});
is(join(',', map { "$_=$seen->{numbers}{$_}{health}/$seen->{numbers}{$_}{mode}" } sort keys %{ $seen->{numbers} // {} }),
	$sql_numbers, 'every number is shown with the health and mode SQL has');
is(join(',', map { "$_:$seen->{queue}{$_}" } sort keys %{ $seen->{queue} // {} }),
	$node->safe_psql('postgres', q{SELECT string_agg(phone_number_id || ':' || count, ',' ORDER BY phone_number_id)
		FROM (SELECT phone_number_id, count(*) FROM antiban.outbox WHERE state = 'queued' GROUP BY 1) q}),
	'the queue per number as SQL counts it');
is(join(',', sort @{ $seen->{not_set_up} // [] }), 'campaigns',
	'campaigns shows as not set up (its view does not exist); costs and leads are set up');
ok($seen->{acknowledged}, 'the alert shows acknowledged after its button was clicked');
is($node->safe_psql('postgres', "SELECT acknowledged_at IS NOT NULL FROM antiban.alerts WHERE id = $alert"), 't',
	'antiban.alerts has acknowledged_at for it');
is($node->safe_psql('postgres', 'SELECT count(*) FROM antiban.alerts WHERE acknowledged_at IS NOT NULL'), 1,
	'and only for it');

open(my $fh, '<:raw', $screenshot);
my $magic = '';
read($fh, $magic, 8) if $fh;
is($magic, "\x89PNG\r\n\x1a\n", "a PNG screenshot is kept: $screenshot");
cmp_ok(-s $screenshot // 0, '>', 50_000, 'of a page with something on it');

stop_receiver($r);
done_testing();
