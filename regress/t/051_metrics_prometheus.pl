# A real Prometheus (Debian's) scrapes the receiver's /metrics every second,
# with basic auth, and its query API gives back what SQL says: the queued
# messages, each number's health, the open alerts, and the receiver's own
# count of refused webhook handshakes.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use Digest::SHA;
use File::Temp qw(tempdir);
use Time::HiRes qw(usleep);
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $prometheus = '/usr/bin/prometheus';
plan skip_all => "Debian's prometheus is not installed ($prometheus): apt-get install prometheus"
  unless -x $prometheus;

my $node = antiban_node('prometheus', 'antiban.sender_workers' => '0');
register_numbers($node, '1001' => { health => 88 }, '1002' => { health => 47, mode => "'throttled'" });
$node->safe_psql('postgres', q{
	CREATE ROLE receiver LOGIN IN ROLE antiban_receiver;
	CREATE ROLE dashboard LOGIN IN ROLE antiban_dashboard;
	SELECT count(antiban.send_template('+55119' || lpad(i::text, 8, '0'), 'oferta', 'pt_BR')) FROM generate_series(1, 13) i;
	SELECT antiban.raise_alert('warning', '1002', 'number_throttled', 'slowed down');});

my $dir = tempdir(CLEANUP => 1);
PostgreSQL::Test::Utils::append_to_file("$dir/auth", 'prometheus:sha256:' . Digest::SHA::sha256_hex('scrape-pass') . "\n");
PostgreSQL::Test::Utils::append_to_file("$dir/password", 'scrape-pass');
my $r = start_receiver($node, admin_user => 'dashboard', admin_auth_file => "$dir/auth");

my $http = HTTP::Tiny->new(timeout => 30, keep_alive => 0);
$http->get("$r->{url}/webhook?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1") for 1 .. 3;

my $prom_port = PostgreSQL::Test::Cluster::get_free_port();
PostgreSQL::Test::Utils::append_to_file("$dir/prometheus.yml", <<"EOC");
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: antiban
    basic_auth:
      username: prometheus
      password_file: $dir/password
    static_configs:
      - targets: ['127.0.0.1:$r->{admin_port}']
EOC
my $log = $PostgreSQL::Test::Utils::log_path . '/prometheus_' . time() . "_$$.log";
my $pid = fork();
die "fork: $!" unless defined $pid;
if ($pid == 0)
{
	open(STDOUT, '>>', $log);
	open(STDERR, '>&', \*STDOUT);
	exec($prometheus, "--config.file=$dir/prometheus.yml", "--storage.tsdb.path=$dir/data",
		"--web.listen-address=127.0.0.1:$prom_port", '--log.level=warn') or die "exec $prometheus: $!";
}

# Prometheus' answer to an instant query: { labels => value } for each series.
sub query
{
	my ($expr) = @_;
	my $res = $http->get("http://127.0.0.1:$prom_port/api/v1/query?" . $http->www_form_urlencode({ query => $expr }));
	return undef unless $res->{success};
	my $body = decode_json($res->{content});
	return undef unless $body->{status} eq 'success';
	return { map { (encode_json($_->{metric}) => $_->{value}[1]) } @{ $body->{data}{result} } };
}

# Poll until the expression has a value (the scrape happened), 120 s at most.
sub value_of
{
	my ($expr) = @_;
	for (1 .. 1200)
	{
		my $v = query($expr);
		return (values %$v)[0] if $v && keys %$v == 1;
		usleep(100_000);
	}
	return undef;
}

is(value_of('up{job="antiban"}'), 1, 'Prometheus scrapes the admin listener, with basic auth');
is(value_of('sum(antiban_outbox_messages{state="queued"})'),
	$node->safe_psql('postgres', q{SELECT count(*) FROM antiban.outbox WHERE state = 'queued'}),
	'queued messages, as Prometheus stored them, equal SQL');
for my $number ('1001', '1002')
{
	is(value_of(qq{antiban_number_health{phone_number_id="$number"}}),
		$node->safe_psql('postgres', "SELECT health FROM antiban.numbers WHERE phone_number_id = '$number'"),
		"health of $number equals SQL");
}
is(value_of('antiban_number_mode{phone_number_id="1002",mode="throttled"}'), 1, 'the mode of a number');
is(value_of('sum(antiban_alerts_open)'),
	$node->safe_psql('postgres', 'SELECT count(*) FROM antiban.alerts WHERE acknowledged_at IS NULL'), 'open alerts equal SQL');
is(value_of('antiban_receiver_webhook_requests_total{code="403"}'), 3, 'the receiver\'s own counter of refused handshakes');
like(value_of('antiban_receiver_metrics_query_seconds'), qr/^[0-9.e-]+$/, 'how long the database part of a scrape took');

kill 'TERM', $pid;
waitpid($pid, 0);
stop_receiver($r);
done_testing();
