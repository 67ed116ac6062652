# Without shared_preload_libraries the extension installs, and every function
# that needs shared memory says so, with a hint, instead of crashing.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('not_preloaded');
$node->init;
$node->start;

is($node->psql('postgres', 'CREATE EXTENSION antiban'), 0, 'CREATE EXTENSION works without preloading');
$node->safe_psql('postgres', q{
	INSERT INTO antiban.portfolios (business_id) VALUES ('100');
	INSERT INTO antiban.wabas (waba_id, portfolio_id) VALUES ('200', 1);
	INSERT INTO antiban.numbers (phone_number_id, waba_id) VALUES ('1001', 1);});

for my $call ("SELECT antiban.try_consume('1001')",
	"SELECT antiban.decide('+5511987654321', 'utility')",
	"SELECT * FROM antiban.buckets",
	"SELECT antiban.flush_journal()",
	"SELECT * FROM antiban.shared_memory()")
{
	my ($ret, $out, $err) = $node->psql('postgres', $call, extended_query => 0,
		on_error_stop => 0, extra_params => ['-v', 'VERBOSITY=verbose']);
	like($err, qr/55000: antiban is not loaded through shared_preload_libraries/,
		"$call: clear error with SQLSTATE 55000");
	like($err, qr/HINT:  Add antiban to shared_preload_libraries/, "$call: hint says how to fix it");
}
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server is still up');
$node->stop;
done_testing();
