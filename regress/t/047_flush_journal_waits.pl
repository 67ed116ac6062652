# antiban.flush_journal() returns once every decision made before it is in
# antiban.decisions, including the ones the journal writer has taken from the
# ring and not yet committed.  Before, it stored only what was still in the
# ring: a count right after it missed the writer's batch in flight, which is
# how TAP 038 failed on a loaded CI machine (20,000 messages sent, fewer
# consumed SEND decisions counted).  Here the writer is held inside its
# transaction by a slow trigger, so the race is not left to chance.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('flush_waits', 'antiban.pinned_now' => '2030-01-01 00:00:00+00');
register_numbers($node, '1001' => { rate_override => 1000, burst_override => 1000 });

# Once public.hold_writer has a row, each insert into antiban.decisions
# sleeps 4 s before its transaction may commit.
$node->safe_psql('postgres', q{
	CREATE TABLE public.hold_writer (on_ boolean);
	CREATE FUNCTION public.slow_journal() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		IF EXISTS (SELECT 1 FROM public.hold_writer) THEN
			PERFORM pg_catalog.pg_sleep(4);
		END IF;
		RETURN NULL;
	END $$;
	CREATE TRIGGER slow_journal AFTER INSERT ON antiban.decisions
		FOR EACH STATEMENT EXECUTE FUNCTION public.slow_journal();
	GRANT SELECT ON public.hold_writer TO PUBLIC;
	INSERT INTO public.hold_writer VALUES (true);});

$node->safe_psql('postgres', q{SELECT count(*) FROM generate_series(1, 30) i,
	antiban.decide('+55119' || lpad(i::text, 8, '0'), 'marketing')});
ok($node->poll_query_until('postgres', q{SELECT wait_event = 'PgSleep' FROM pg_stat_activity
	WHERE backend_type = 'antiban journal writer'}),
	'the journal writer took the 30 decisions and is held inside its transaction');
is($node->safe_psql('postgres', q{SELECT antiban.flush_journal();
	SELECT count(*) FROM antiban.decisions}),
	"0\n30", 'flush_journal took nothing from the ring and waited for the writer: the 30 decisions are there');

# A caller that holds the table the writer inserts into does not hang: the
# writer gives up its wait (lock_timeout), carries its batch over, and its
# transaction ends; the batch is stored once the table is free.
$node->safe_psql('postgres', 'DELETE FROM public.hold_writer');
my ($out, $err) = ('', '');
$node->psql('postgres', q{SET statement_timeout = '60s';
	BEGIN;
	LOCK TABLE antiban.decisions IN SHARE MODE;
	SELECT count(*) FROM generate_series(31, 40) i,
		antiban.decide('+55119' || lpad(i::text, 8, '0'), 'marketing');
	SELECT pg_sleep(0.5);
	SELECT antiban.flush_journal() >= 0;
	COMMIT;}, stdout => \$out, stderr => \$err);
like($out, qr/^10\n\nt$/, 'flush_journal in a transaction that holds antiban.decisions returns') or diag($err);
ok($node->poll_query_until('postgres', 'SELECT count(*) = 40 FROM antiban.decisions'),
	'and every decision is stored once, none twice');
is($node->safe_psql('postgres', 'SELECT count(DISTINCT recipient) FROM antiban.decisions'), '40',
	'one decision per recipient');

$node->stop;
done_testing();
