# Linking identifiers from many sessions at once: eight pgbench clients link
# random pairs of 60 phones (ten groups of six), so persons are created,
# extended and merged concurrently.  Afterwards the tables hold exactly the
# persons the links imply (two phones are one person iff a chain of links
# joins them), and shared memory agrees: a stop given to one phone of each
# person stops every phone of that person, before and after a restart.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('identity_concurrency', 'antiban.sender_workers' => 0);
register_numbers($node, '1001' => { throughput_level => "'HIGH'" });
$node->safe_psql('postgres', q{
	CREATE TABLE link_log (a text, b text);
	CREATE FUNCTION phone(n int) RETURNS text LANGUAGE sql IMMUTABLE RETURN '+55119000' || lpad(n::text, 5, '0');});

$node->pgbench('--no-vacuum --client=8 --jobs=2 --transactions=150 --max-tries=20', 0,
	[qr{processed: 1200/1200}], [qr{^$}], 'eight clients link 1,200 random pairs, every one once',
	{ 'identity_links' => q{
\set g random(0, 9)
\set a random(1, 6)
\set b random(1, 6)
BEGIN;
INSERT INTO link_log VALUES (phone(:g * 6 + :a), phone(:g * 6 + :b));
SELECT antiban.link_identifiers(1, ARRAY[phone(:g * 6 + :a), phone(:g * 6 + :b)], 'operator', NULL, 'pgbench');
COMMIT;
} });

# The persons the links imply: connected components of the link graph, each
# named by its smallest phone.
$node->safe_psql('postgres', q{
	CREATE TABLE implied AS
	WITH RECURSIVE edge AS (SELECT a, b FROM link_log UNION SELECT b, a FROM link_log),
	reach(root, key) AS (SELECT a, a FROM edge UNION SELECT r.root, e.b FROM reach r JOIN edge e ON e.a = r.key)
	SELECT key, min(root) AS component FROM reach GROUP BY key;});
is($node->safe_psql('postgres', q{SELECT count(*) FROM implied i LEFT JOIN antiban.person_ids p ON p.key = i.key
	WHERE p.key IS NULL}), '0', 'every linked phone names a person');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM implied x JOIN implied y ON x.key < y.key
	JOIN antiban.person_ids px ON px.key = x.key JOIN antiban.person_ids py ON py.key = y.key
	WHERE (x.component = y.component) <> (px.person_id = py.person_id)}), '0',
	'two phones are one person exactly when a chain of links joins them');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.persons p
	WHERE p.merged_into IS NULL AND NOT EXISTS (SELECT 1 FROM antiban.person_ids i WHERE i.person_id = p.id)}), '0',
	'no live person without identifiers');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.persons p JOIN antiban.persons q ON q.id = p.merged_into
	WHERE q.merged_into IS NOT NULL}), '0', 'every merged person points at a survivor');
is($node->safe_psql('postgres', q{SELECT count(DISTINCT component) = (SELECT count(*) FROM antiban.people) FROM implied}), 't',
	'as many persons as the links imply');
cmp_ok($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.person_merges}), '>', 0,
	'persons made apart were merged on the way');

# Shared memory agrees with the tables.
$node->safe_psql('postgres', q{SELECT count(antiban.set_marketing_opt_out(component, '1001', true))
	FROM (SELECT DISTINCT component FROM implied) c});
my $not_stopped = q{SELECT count(*) FROM implied i, antiban.decide(i.key, 'marketing', consume => false) d
	WHERE d.reason <> 'opted_out'};
is($node->safe_psql('postgres', $not_stopped), '0', 'a stop to one phone of each person stops all its phones');
$node->restart;
is($node->safe_psql('postgres', $not_stopped), '0', 'and after a restart, from the tables');

$node->stop;
done_testing();
