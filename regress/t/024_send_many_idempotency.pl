# Idempotency keys across the set enqueue (antiban.send_template_many) and
# the single one (antiban.send_template), between concurrent sessions: a key
# is one message whoever makes it first, a session that races another for a
# key waits for it and answers with its message, and a set that loses a key
# to a session that rolled back makes the message itself.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('send_many_idem', 'antiban.sender_workers' => 0);
register_numbers($node, '1001' => { throughput_level => "'HIGH'" }, '1002' => { throughput_level => "'HIGH'" });
$node->safe_psql('postgres', q{
	UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED';
	CREATE TABLE got (key text, id bigint);
	CREATE FUNCTION phone(n int) RETURNS text LANGUAGE sql IMMUTABLE RETURN '+55119100' || lpad(n::text, 5, '0');});

my $waiting = q{SELECT EXISTS (SELECT FROM pg_stat_activity
	WHERE wait_event_type = 'Lock' AND wait_event = 'transactionid' AND query LIKE '%send_template%')};

# ---- 1. a set holds keys uncommitted; a single send of one of them waits, then answers with the set's message ----
my $a = $node->background_psql('postgres');
my $b = $node->background_psql('postgres');
$a->query_safe('BEGIN');
my $set_ids = $a->query_safe(q{SELECT string_agg(m.id::text, ',' ORDER BY m.ord)
	FROM antiban.send_template_many(ARRAY[phone(1), phone(2), phone(3)], 'oferta', 'pt_BR', NULL, 'utility',
	                                idempotency_keys => ARRAY['race-1', 'race-2', 'race-3']) m});
my @set = split /,/, $set_ids;
is(scalar(@set), 3, 'the set made three messages');
$b->query_until(qr/started/, q{\echo started
SELECT antiban.send_template(phone(2), 'oferta', 'pt_BR', NULL, 'utility', idempotency_key => 'race-2') AS single \gset
});
ok(wait_for($node, $waiting), 'the single send waits for the set\'s transaction');
$a->query_safe('COMMIT');
is($b->query_safe('SELECT :single'), $set[1], 'then answers with the message the set made for that key');

# ---- 2. a single send holds a key uncommitted; a set waits, then answers with it ----
$a->query_safe('BEGIN');
my $single = $a->query_safe(q{SELECT antiban.send_template(phone(5), 'oferta', 'pt_BR', NULL, 'utility', idempotency_key => 'race-5')});
$b->query_until(qr/started/, q{\echo started
SELECT string_agg(m.id::text, ',' ORDER BY m.ord) AS many FROM antiban.send_template_many(ARRAY[phone(4), phone(5), phone(6)],
	'oferta', 'pt_BR', NULL, 'utility', idempotency_keys => ARRAY['race-4', 'race-5', 'race-6']) m \gset
});
ok(wait_for($node, $waiting), 'the set waits for the single send\'s transaction');
$a->query_safe('COMMIT');
my @many = split /,/, $b->query_safe(q{SELECT :'many'});
is($many[1], $single, 'the set answers with the single send\'s message for its key');
isnt($many[0], $many[2], 'and made its other two messages');

# ---- 3. the racing transaction rolls back: the set makes the message itself ----
$a->query_safe('BEGIN');
$a->query_safe(q{SELECT antiban.send_template(phone(8), 'oferta', 'pt_BR', NULL, 'utility', idempotency_key => 'race-8')});
$b->query_until(qr/started/, q{\echo started
SELECT string_agg(m.id::text, ',' ORDER BY m.ord) AS many FROM antiban.send_template_many(ARRAY[phone(7), phone(8)],
	'oferta', 'pt_BR', NULL, 'utility', idempotency_keys => ARRAY['race-7', 'race-8']) m \gset
});
ok(wait_for($node, $waiting), 'the set waits for the other transaction');
$a->query_safe('ROLLBACK');
@many = split /,/, $b->query_safe(q{SELECT :'many'});
is($node->safe_psql('postgres', qq{SELECT idempotency_key FROM antiban.outbox WHERE id = $many[1]}), 'race-8',
	'after the rollback, the set\'s own message holds the key');
$a->quit;
$b->quit;
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.outbox WHERE idempotency_key LIKE 'race-%'}), '8',
	'one message per key, eight keys');

# ---- 4. eight clients, sets and single sends over 60 shared keys ----
# each set repeats a key inside itself; every id a call got must be the one
# message of its key
$node->pgbench('--no-vacuum --client=8 --jobs=2 --transactions=100', 0,
	[qr{processed: 800/800}], [qr{^$}], 'eight clients enqueue sets and single sends over shared keys',
	{ 'send_many_keys' => q{
\set a random(1, 60)
\set b random(1, 60)
\set c random(1, 60)
INSERT INTO got SELECT k.key, m.id FROM antiban.send_template_many(ARRAY[phone(:a), phone(:b), phone(:c), phone(:a)], 'oferta', 'pt_BR', NULL, 'utility', idempotency_keys => ARRAY['k' || :a, 'k' || :b, 'k' || :c, 'k' || :a]) m JOIN unnest(ARRAY['k' || :a, 'k' || :b, 'k' || :c, 'k' || :a]) WITH ORDINALITY AS k(key, i) ON k.i = m.ord;
INSERT INTO got VALUES ('k' || :b, antiban.send_template(phone(:b), 'oferta', 'pt_BR', NULL, 'utility', idempotency_key => 'k' || :b));
} });
is($node->safe_psql('postgres', q{SELECT count(*) FROM got}), '4000', 'every call answered for every key');
is($node->safe_psql('postgres', q{SELECT count(*) FROM (SELECT idempotency_key FROM antiban.outbox
	WHERE idempotency_key LIKE 'k%' GROUP BY 1 HAVING count(*) > 1) d}), '0', 'no key made two messages');
is($node->safe_psql('postgres', q{SELECT count(*) FROM got g LEFT JOIN antiban.outbox o ON o.idempotency_key = g.key
	WHERE o.id IS DISTINCT FROM g.id}), '0', 'every answer is the one message of its key');
is($node->safe_psql('postgres', q{SELECT count(DISTINCT key) = (SELECT count(*) FROM antiban.outbox WHERE idempotency_key LIKE 'k%')
	FROM got}), 't', 'and every key used has its message');

$node->stop;
done_testing();
