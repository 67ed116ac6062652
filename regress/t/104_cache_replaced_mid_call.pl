# A backend's copy of the numbers (numbers_cache.c) may be replaced in the
# middle of a call that holds a pointer into it: a trigger, a SQL function
# or a decision reloads it when another session committed a change or a
# setting moved.  The replaced copy must stay readable until the
# transaction ends.  glibc is told to fill freed memory with a pattern and
# to keep no per-thread free lists, so a read of a freed copy reads that
# pattern (a portfolio that does not exist, a wild pointer) instead of
# stale but plausible bytes: without the fix this test fails or crashes
# the backend every time.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

$ENV{GLIBC_TUNABLES} = 'glibc.malloc.tcache_count=0:glibc.malloc.perturb=165';
my $node = antiban_node('cache_replaced');
register_numbers($node, map { ($_ => { throughput_level => "'HIGH'", quality_rating => "'GREEN'" }) } qw(1001 1002 1003));

# A trigger on what antiban.note_consent writes moves a setting that shapes
# the cache and makes a decision, which reloads it: meta_error_act is then
# between reading its number and acting on the person.
$node->safe_psql('postgres', q{
	CREATE FUNCTION public.reload_numbers_cache() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp AS $$
	BEGIN
		PERFORM set_config('antiban.throughput_headroom',
			(current_setting('antiban.throughput_headroom')::float8 * 0.5)::text, true);
		PERFORM count(*) FROM antiban.decide('+5511987000099', 'utility', consume => false);
		RETURN NULL;
	END $$;
	CREATE TRIGGER reload_numbers_cache AFTER INSERT ON antiban.consent_events
		FOR EACH ROW EXECUTE FUNCTION public.reload_numbers_cache();});

my $done = $node->safe_psql('postgres', q{
	SELECT antiban.act_on_error((SELECT id FROM antiban.numbers WHERE phone_number_id = '1002'),
		NULL, 131050, 400, 'send', NULL, '+5511987000002')});
like($done, qr/opted_out/, "131050 acted on while the cache was replaced under it: $done");
is($node->safe_psql('postgres', q{SELECT string_agg(portfolio_id || ' ' || marketing_opt_out, ',')
	FROM antiban.recipient_facts WHERE recipient = '+5511987000002'}), '1 true',
	'the opt-out is stored for the number\'s portfolio');
is($node->safe_psql('postgres', q{SELECT reason FROM antiban.decide('+5511987000002', 'marketing', consume => false)}),
	'opted_out', 'and decisions see it');

# The same in one transaction that keeps going: many replacements, each
# caller's copy still readable, none leaked past the transaction's end.
$node->safe_psql('postgres', q{
	BEGIN;
	SELECT antiban.act_on_error((SELECT id FROM antiban.numbers WHERE phone_number_id = n),
		NULL, 131050, 400, 'send', NULL, r)
	FROM (VALUES ('1001', '+5511987000001'), ('1003', '+5511987000003')) v (n, r);
	COMMIT;});
is($node->safe_psql('postgres', q{SELECT string_agg(recipient || ' ' || portfolio_id, ',' ORDER BY recipient)
	FROM antiban.recipient_facts WHERE marketing_opt_out}),
	'+5511987000001 1,+5511987000002 1,+5511987000003 1', 'every opt-out landed in its portfolio');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_backend_memory_contexts
	WHERE name = 'antiban numbers cache'}), '0', 'a fresh session holds no cache before it needs one');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM antiban.decide('+5511987000099', 'utility', consume => false);
	SELECT set_config('antiban.throughput_headroom', '0.5', false);
	SELECT count(*) FROM antiban.decide('+5511987000099', 'utility', consume => false);
	SELECT count(*) FROM pg_backend_memory_contexts WHERE name = 'antiban numbers cache'}),
	"1\n0.5\n1\n1", 'after the transaction only the current copy is kept');

# A copy loaded inside a transaction sees that transaction's own rows; if it
# rolls back, the copy must go too.  Another session's commit (through
# dblink) moves the generation while this one has a number not committed.
$node->safe_psql('postgres', 'CREATE EXTENSION dblink');
my $connstr = $node->connstr('postgres') =~ s/'/''/gr;
$node->safe_psql('postgres', qq{
	BEGIN;
	INSERT INTO antiban.numbers (phone_number_id, waba_id, throughput_level, quality_rating)
		VALUES ('1099', 1, 'HIGH', 'GREEN');
	SELECT dblink_exec('$connstr', 'UPDATE antiban.numbers SET quality_rating = quality_rating WHERE false');
	SELECT count(*) FROM antiban.decide('+5511987000098', 'utility', from_number => '1099', consume => false);
	ROLLBACK;});
my ($rc, $out, $err) = $node->psql('postgres',
	q{SELECT outcome FROM antiban.decide('+5511987000098', 'utility', from_number => '1099', consume => false)});
like($err, qr/1099/, 'a number whose insert rolled back is unknown again, not kept in the copy')
  or diag("rc $rc, out $out");

# PREPARE TRANSACTION would skip the reload every backend does at commit.
($rc, $out, $err) = $node->psql('postgres', q{
	BEGIN;
	UPDATE antiban.numbers SET quality_rating = 'YELLOW' WHERE phone_number_id = '1003';
	PREPARE TRANSACTION 'numbers_changed';});
like($err, qr/cannot prepare a transaction that changed the numbers, WABAs, portfolios, secrets or templates of antiban/, 'PREPARE of a configuration change is refused');
is($node->safe_psql('postgres', q{SELECT quality_rating FROM antiban.numbers WHERE phone_number_id = '1003'}),
	'GREEN', 'and nothing of it stays');

# The sender acts on an error Meta answers in the transaction that records
# the answers.  If acting fails (here a trigger refuses the send_errors row
# of a 131050), the answers are still recorded and the sender goes on.
$node->safe_psql('postgres', q{
	DROP TRIGGER reload_numbers_cache ON antiban.consent_events;
	UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED';
	SELECT antiban.set_secret('access_token', 'EAAG-cache-token', '200');
	CREATE FUNCTION public.refuse_131050() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		IF NEW.code = 131050 THEN
			RAISE EXCEPTION 'refused by the test';
		END IF;
		RETURN NEW;
	END $$;
	CREATE TRIGGER refuse_131050 BEFORE INSERT ON antiban.send_errors
		FOR EACH ROW EXECUTE FUNCTION public.refuse_131050();});
my $sim = start_simulator();
sim_post($sim, '/_sim/config', {
	numbers => { map { ($_ => { throughput => 1000, portfolio => 'p1', waba => '200' }) } qw(1001 1002 1003) },
	portfolios => { p1 => { limit => 'unlimited' } },
	templates => { '200' => [ { name => 'oferta', language => 'pt_BR', category => 'UTILITY', status => 'APPROVED' } ] } });
sim_post($sim, '/_sim/script', { fail_rate => 0, error_rate_2 => 0, drop_rate => 0, slow_rate => 0 });
sim_post($sim, '/_sim/script', { number => '1001', fail_next => 1, code => 131050 });
$node->safe_psql('postgres', "ALTER SYSTEM SET antiban.graph_base_url = '$sim->{url}'; SELECT pg_reload_conf();");
my $log_offset = -s $node->logfile;
$node->safe_psql('postgres', q{SELECT antiban.send_template('+5511987000011', 'oferta', 'pt_BR', from_number => '1001')});
ok(wait_for($node, q{SELECT state = 'failed' FROM antiban.outbox WHERE recipient = '+5511987000011'}, 180),
	'the answered 131050 is recorded on its message although acting on it failed')
  or diag($node->safe_psql('postgres', q{SELECT id, state, error_code FROM antiban.outbox}));
ok($node->log_contains('WARNING:  antiban sender: could not act on error 131050', $log_offset),
	'the sender says what it could not do');
$node->safe_psql('postgres', q{SELECT antiban.send_template('+5511987000012', 'oferta', 'pt_BR', from_number => '1001')});
ok(wait_for($node, q{SELECT state = 'sent' AND wamid IS NOT NULL FROM antiban.outbox WHERE recipient = '+5511987000012'}, 180),
	'the sender goes on with the next message');

# A deadlock or a serialization failure while acting is tried again: the
# first try of this 131049 fails as a serialization failure would.
$node->safe_psql('postgres', q{
	CREATE SEQUENCE public.send_error_tries;
	GRANT USAGE ON SEQUENCE public.send_error_tries TO PUBLIC;
	CREATE FUNCTION public.fail_first_try() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		IF NEW.code = 131049 AND nextval('public.send_error_tries') = 1 THEN
			RAISE EXCEPTION 'could not serialize access (the test)' USING ERRCODE = 'serialization_failure';
		END IF;
		RETURN NEW;
	END $$;
	CREATE TRIGGER fail_first_try BEFORE INSERT ON antiban.send_errors
		FOR EACH ROW EXECUTE FUNCTION public.fail_first_try();});
sim_post($sim, '/_sim/script', { number => '1001', fail_next => 1, code => 131049 });
$node->safe_psql('postgres', q{SELECT antiban.send_template('+5511987000013', 'oferta', 'pt_BR', from_number => '1001')});
ok(wait_for($node, q{SELECT count(*) = 1 FROM antiban.send_errors e JOIN antiban.outbox o ON o.id = e.message_id
	WHERE o.recipient = '+5511987000013' AND e.code = 131049}, 180),
	'a serialization failure while acting is tried again: the 131049 is recorded once');
is($node->safe_psql('postgres', q{SELECT last_value FROM public.send_error_tries}), '2', 'on its second try');
unlike(slurp_file($node->logfile, $log_offset), qr/terminated by exit code|violates foreign key/,
	'no sender died');
stop_simulator($sim);
$node->stop;
done_testing();
