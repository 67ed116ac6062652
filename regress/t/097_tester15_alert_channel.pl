# tester15 (issue 15 §2 and §4): alerts are scoped by row-level security in
# antiban.alerts, but every new alert is also announced with
# pg_notify('antiban_alert', <the whole row as JSON>), and any role may
# LISTEN on any channel: the app of portfolio A hears B's alerts (number,
# WABA, kind, the detail sentence).
# And genuine_alert(payload) is to tell a forged payload apart "when the
# payload says what the row says", but it compares neither subject nor
# created_at: a forger re-announcing a genuine alert with another subject
# (a template name, an endpoint) is judged genuine.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;
use Tester15Tenancy;

my $node = tenancy_node('t15_alerts');

# the app of A listens, as a dashboard of A would
my ($in, $out) = ("LISTEN antiban_alert;\n", '');
my $listener = IPC::Run::start([ 'psql', '-X', '-d', $node->connstr('postgres') . ' user=app_a' ],
	'<', \$in, '>', \$out, '2>', \$out);
my $deadline = time() + 60;
my $listening = 0;
until (($listening = $node->safe_psql('postgres',
		q{SELECT count(*) FROM pg_stat_activity WHERE usename = 'app_a' AND query ~ '^LISTEN antiban_alert'}) eq '1')
	  || time() > $deadline)
{
	$listener->pump_nb;
	usleep(100_000);
}
ok($listening, 'the app of A listens on antiban_alert');
# B's alert first, then A's: notifications arrive in commit order, so once
# A's is in, B's would be too
$node->safe_psql('postgres', q{SELECT antiban.raise_alert('warning', '3001', 'quality_dropped', 'number 3001 of Beta dropped to RED')});
$node->safe_psql('postgres', q{SELECT antiban.raise_alert('warning', '1001', 'quality_dropped', 'number 1001 of Alpha dropped to RED')});
$deadline = time() + 60;
until ($out =~ /1001 of Alpha/ || time() > $deadline)
{
	$in .= "SELECT 1;\n";
	$listener->pump_nb;
	usleep(100_000);
}
$in .= "\\q\n";
$listener->finish;
unlike($out, qr/"3001"|of Beta/, 'but not B\'s alert (its number, WABA or detail)');

# genuine_alert: the real payload is genuine; an altered one is not
my $real = $node->safe_psql('postgres', q{SELECT antiban.alert_payload(a) FROM antiban.alerts a WHERE phone_number_id = '1001'});
my ($rc, $id, $err) = as_role($node, 'app_a', "SELECT (antiban.genuine_alert(\$p\$${real}\$p\$)).id");
ok($id ne '', 'genuine_alert recognises A\'s real alert for the app of A') or diag($err);
is($node->safe_psql('postgres', "SELECT (antiban.genuine_alert(jsonb_set(\$p\$${real}\$p\$::jsonb, '{detail}',
	'\"pay the invoice to account 123\"')::text)).id IS NULL"), 't', 'a payload with another detail is a forgery');
is($node->safe_psql('postgres', "SELECT (antiban.genuine_alert(jsonb_set(\$p\$${real}\$p\$::jsonb, '{subject}',
	'\"https://evil.example/login\"')::text)).id IS NULL"), 't', 'a payload with another subject is a forgery');
is($node->safe_psql('postgres', "SELECT (antiban.genuine_alert(jsonb_set(\$p\$${real}\$p\$::jsonb, '{created_at}',
	'\"2099-01-01T00:00:00+00:00\"')::text)).id IS NULL"), 't', 'a payload with another time is a forgery');
done_testing();
