# A set enqueue (antiban.send_template_many) runs its own statements over the
# whole set (the keys' lookup, the outbox INSERT, the journal's numbers):
# over a large set or a large outbox they are easily estimated past
# jit_above_cost, and compiling them costs more than running them.  They run
# with JIT off whatever the caller's setting; the caller's own statements
# still compile (the control), and its setting is back after the call.
#
# jit_above_cost = 0 in the caller's session stands for "a set large enough":
# every statement with JIT on is compiled.  auto_explain logs each nested
# statement with its plan, to the client, and none of antiban's may show a
# "JIT:" section.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('send_many_jit', 'antiban.sender_workers' => 0);
register_numbers($node, '1001' => { throughput_level => "'HIGH'" });
$node->safe_psql('postgres', q{UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED'});

my $plan = $node->safe_psql('postgres',
	'SET jit_above_cost = 0; EXPLAIN (ANALYZE) SELECT sum(i) FROM generate_series(1, 10) i');
plan skip_all => 'JIT is not available in this server' unless $plan =~ /JIT:/;

# Twice the same keys: the second call finds them in the outbox (its keys'
# lookup returns rows), the first inserts them.
my $call = q{SELECT count(*) FROM antiban.send_template_many(
	ARRAY['+5511991000001', '+5511991000002', '+5511991000003'], 'oferta', 'pt_BR', NULL, 'utility',
	idempotency_keys => ARRAY['jit-1', 'jit-2', 'jit-3']);};
my ($stdout, $stderr);
# The session's numbers cache is filled first (it is the session's, loaded
# before the set's own statements run).
$node->psql('postgres', qq{
SELECT antiban.send_template('+5511991000009', 'oferta', 'pt_BR', NULL, 'utility');
SET jit = on;
SET jit_above_cost = 0;
LOAD 'auto_explain';
SET auto_explain.log_min_duration = 0;
SET auto_explain.log_nested_statements = on;
SET auto_explain.log_level = notice;
SET client_min_messages = notice;
$call
$call
RESET client_min_messages;
SHOW jit;
}, stdout => \$stdout, stderr => \$stderr, on_error_die => 1);

# Each logged plan: its query text, and whether it was compiled.
my @plans;
for my $entry (split /NOTICE:\s+duration: [0-9.]+ ms\s+plan:\n/, $stderr)
{
	next unless $entry =~ /^Query Text: (.*)$/m;
	my $text = $1;
	push @plans, { text => $text, jit => ($entry =~ /^\s*JIT:/m ? 1 : 0) };
}
my @caller = grep { $_->{text} =~ /send_template_many/ } @plans;
my @own = grep { $_->{text} =~ /antiban\./ && $_->{text} !~ /send_template_many/ } @plans;

is(scalar(@caller), 2, 'both calls were logged with their plans');
ok((grep { $_->{jit} } @caller) == 2, "the caller's statements were JIT-compiled");
ok((grep { $_->{text} =~ /^INSERT INTO antiban\.outbox/ } @own) >= 1, "the set's outbox INSERT was logged");
ok((grep { $_->{text} =~ /idempotency_key = ANY/ } @own) >= 2, "the set's key lookups were logged");
is(join("\n", map { $_->{text} } grep { $_->{jit} } @own), '', "none of antiban's own statements was compiled");
like($stdout, qr/^on$/m, "the caller's jit is on again after the calls");
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.outbox WHERE idempotency_key LIKE 'jit-%'}),
	'3', 'and the set made its three messages once');

$node->stop;
done_testing();
