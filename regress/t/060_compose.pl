# docker/compose.yaml and docker/entrypoint.sh, tested without a Docker
# engine: the compose file validates against the Compose specification's
# JSON schema (Debian's docker-compose ships it) and gives antiban what it
# needs; docker-compose itself accepts it; the entrypoint's roles do what
# they say in a dry run, never print a secret, refuse a missing one; and the
# db role's first start, run for real, leaves a cluster with antiban and
# pg_cron preloaded, the secrets set from files, the receiver's login and
# the maintenance jobs.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Basename qw(dirname);
use File::Temp qw(tempdir);

my $root = dirname(__FILE__) . '/../..';
my $compose = "$root/docker/compose.yaml";
my $entrypoint = "$root/docker/entrypoint.sh";

# 1. The compose file.
my $out = `python3 $root/regress/compose_check.py $compose 2>&1`;
for my $line (split /\n/, $out)
{
	ok(1, "compose: $1") if $line =~ /^ok - (.*)/;
	ok(0, "compose: $1") if $line =~ /^not ok - (.*)/;
	diag($line) if $line =~ /^#/;
}
like($out, qr/^compose: 0 failed$/m, 'compose_check.py ran every check') or diag($out);
$out = `cd $root/docker && docker-compose -f compose.yaml --profile demo config -q 2>&1`;
is($?, 0, 'docker-compose accepts the file (profile demo included)') or diag($out);

# 2. The entrypoint, as a plain script: syntax, dry runs, secrets.
system('sh', '-n', $entrypoint);
is($?, 0, 'entrypoint.sh parses');
my $dir = tempdir(CLEANUP => 1);
system('sh', "$root/docker/make-secrets.sh", "$dir/secrets") == 0 or die 'make-secrets.sh failed';
my %secret = map { $_ => slurp_file("$dir/secrets/$_") } qw(db_password receiver_password app_secret webhook_verify_token);
cmp_ok(length($secret{$_}), '>=', 32, "make-secrets.sh wrote a random $_") for sort keys %secret;

sub entry
{
	my ($env, @args) = @_;
	my $cmd = join(' ', map { "$_='$env->{$_}'" } sort keys %$env) . " sh $entrypoint @args 2>&1";
	my $output = `$cmd`;
	return ($? >> 8, $output);
}
my %dry = (ANTIBAN_DRY_RUN => 1, ANTIBAN_SECRETS_DIR => "$dir/secrets", PGDATA => "$dir/dry");
my ($rc, $db) = entry(\%dry, 'db');
is($rc, 0, 'db role, dry run');
like($db, qr/initdb -D \Q$dir\E\/dry .*--pwfile=\Q$dir\E\/secrets\/db_password/, 'initdb takes the password from its file');
like($db, qr/shared_preload_libraries = 'antiban, pg_cron'/, 'antiban and pg_cron are preloaded');
like($db, qr/CREATE EXTENSION antiban;\nCREATE EXTENSION pg_cron;/, 'both extensions are created');
like($db, qr/CREATE ROLE receiver LOGIN PASSWORD :'value' IN ROLE antiban_receiver/, 'the receiver gets a login of its own');
like($db, qr/antiban\.schedule_maintenance\(\)/, 'the maintenance jobs are scheduled');
like($db, qr/^\+ exec \S+postgres -D/m, 'then PostgreSQL serves');
my ($rc2, $receiver) = entry(\%dry, 'receiver');
is($rc2, 0, 'receiver role, dry run');
like($receiver, qr/antiban-receiver --listen 0\.0\.0\.0 --port 8080 --conninfo host=db port=5432 dbname=antiban user=receiver$/m,
	'the receiver connects to db as role receiver');
my ($rc3, $sim) = entry(\%dry, 'simulator');
like($sim, qr/antiban-sim --listen 0\.0\.0\.0 --port 8990 --webhook-url http:\/\/receiver:8080\/webhook/,
	'the simulator posts its webhooks to the receiver');
unlike($db . $receiver . $sim, qr/\Q$secret{$_}\E/, "no output shows $_") for sort keys %secret;
my ($rc4, $missing) = entry({ %dry, ANTIBAN_SECRETS_DIR => "$dir/nowhere" }, 'db');
isnt($rc4, 0, 'a missing secret stops the db role');
like($missing, qr/secret db_password is missing: mount it as a file at \Q$dir\E\/nowhere\/db_password/,
	'and says which file to mount');

# 3. The db role's first start, for real (no container: the same script).
my $bindir = `pg_config --bindir`;
chomp $bindir;
my $port = PostgreSQL::Test::Cluster::get_free_port();
my %real = (ANTIBAN_SECRETS_DIR => "$dir/secrets", PGDATA => "$dir/pgdata", PGBIN => $bindir,
	ANTIBAN_PG_PORT => $port, ANTIBAN_PG_SOCKET_DIR => $dir, ANTIBAN_INIT_ONLY => 1,
	ANTIBAN_GRAPH_BASE_URL => 'http://127.0.0.1:9');
my ($rc5, $init) = entry(\%real, 'db');
is($rc5, 0, 'the db role set up a cluster') or diag($init);
unlike($init, qr/\Q$secret{$_}\E/, "setting it up showed no $_") for sort keys %secret;
system("$bindir/pg_ctl", '-D', "$dir/pgdata", '-l', "$dir/pg.log", '-w', '-o', "-c listen_addresses=127.0.0.1", 'start') == 0
  or die 'the cluster the db role made does not start: ' . slurp_file("$dir/pg.log");
my $psql = "$bindir/psql -X -At -h 127.0.0.1 -p $port -d antiban";
$ENV{PGPASSWORD} = $secret{db_password};
is(`$psql -U postgres -c "SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension WHERE extname IN ('antiban', 'pg_cron', 'pg_partman')"`,
	"antiban,pg_cron,pg_partman\n", 'antiban, pg_cron and pg_partman are installed in database antiban (password login over TCP)');
is(`$psql -U postgres -c "SELECT count(*) > 1 FROM pg_partition_tree('antiban.webhook_posts') WHERE isleaf"`, "t\n",
	'webhook_events is kept by month by pg_partman');
is(`$psql -U postgres -c "SHOW shared_preload_libraries"`, "antiban, pg_cron\n", 'and preloaded');
is(`$psql -U postgres -c "SELECT count(*) FROM cron.job WHERE jobname LIKE 'antiban-%'"`, "5\n", 'the maintenance jobs are in pg_cron (antiban-partitions too)');
is(`$psql -U postgres -c "SHOW antiban.graph_base_url"`, "http://127.0.0.1:9\n", 'the Graph URL follows the environment');
$ENV{PGPASSWORD} = $secret{receiver_password};
is(`$psql -U receiver -c "SELECT antiban.webhook_verify('$secret{webhook_verify_token}'), antiban.webhook_verify('wrong')"`,
	"t|f\n", 'the receiver logs in with its password and the verify token came from its file');
$ENV{PGPASSWORD} = $secret{db_password};
is(`$psql -U postgres -c "SELECT string_agg(kind::text, ',' ORDER BY kind) FROM antiban.secrets_status"`,
	"app_secret,webhook_verify_token\n", 'the app secret is set too');
delete $ENV{PGPASSWORD};
system("$bindir/pg_ctl", '-D', "$dir/pgdata", '-w', '-m', 'fast', 'stop');
my ($rc6, $again) = entry(\%real, 'db');
is($rc6, 0, 'a second start keeps the cluster');
unlike($again, qr/initdb/, 'and does not initialise it again');

done_testing();
