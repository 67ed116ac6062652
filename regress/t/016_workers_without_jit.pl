# antiban's background workers run short queries: they must never pay for
# JIT compilation.  With jit_above_cost = 0 every query of a session with
# JIT on would be compiled; auto_explain logs each of the workers' queries
# with its plan, and none of them may show a "JIT:" section.  A client
# session in the same server still compiles (the control: JIT is really
# available here).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = PostgreSQL::Test::Cluster->new('no_jit');
$node->init;
$node->append_conf('postgresql.conf', <<'EOC');
shared_preload_libraries = 'antiban, auto_explain'
antiban.database_name = 'postgres'
antiban.sender_tick = '100ms'
antiban.monitor_interval = '1s'
antiban.graph_base_url = 'http://127.0.0.1:9'
antiban.journal_flush_interval = '50ms'
jit = on
jit_above_cost = 0
auto_explain.log_min_duration = 0
auto_explain.log_nested_statements = on
log_line_prefix = '%b|'
EOC
$node->start;

# The control: a client query is compiled when JIT is available at all.
my $plan = $node->safe_psql('postgres', 'EXPLAIN (ANALYZE) SELECT sum(i) FROM generate_series(1, 10) i');
plan skip_all => 'JIT is not available in this server' unless $plan =~ /JIT:/;
pass('a client session with jit = on compiles its queries');

$node->safe_psql('postgres', 'CREATE EXTENSION antiban');
register_numbers($node, '1001' => {});

# Each worker's entries in the log: "<backend type>|LOG:  duration: ... plan:"
# followed by the plan's lines, which have no prefix.
sub worker_plans
{
	my %plans;
	my $current = '';
	for my $line (split /\n/, slurp_file($node->logfile))
	{
		if ($line =~ /^([^|]*)\|\w+:\s+(.*)/)
		{
			$current = $1;
			$plans{$current}{count}++ if $2 =~ /^duration: .* plan:/;
			next;
		}
		$plans{$current}{jit}++ if $line =~ /^\s*JIT:/;
	}
	return \%plans;
}

# Wait until the sender (every tick), the monitor and the journal writer
# (started with the extension) have run queries.
my $plans;
my $deadline = time() + 120;
while (time() < $deadline)
{
	$plans = worker_plans();
	last if ($plans->{'antiban sender'}{count} // 0) >= 20
	  && ($plans->{'antiban monitor'}{count} // 0) > 0;
	select(undef, undef, undef, 0.2);
}
for my $worker ('antiban sender', 'antiban monitor')
{
	cmp_ok($plans->{$worker}{count} // 0, '>', 0, "$worker queries were logged with their plans");
	is($plans->{$worker}{jit} // 0, 0, "none of the $worker queries was JIT-compiled");
}
is(join(',', map { "$_: $plans->{$_}{jit}" } grep { /^antiban/ && $plans->{$_}{jit} } sort keys %$plans), '',
	'no antiban worker compiled anything');
cmp_ok($plans->{'client backend'}{jit} // 0, '>', 0, 'while client sessions did');

$node->stop;
done_testing();
