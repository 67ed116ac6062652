# antiban.flush_journal() returns once every decision made before it is in
# antiban.decisions, including the ones the journal writer has taken from the
# ring and not yet committed.  Before, it stored only what was still in the
# ring: a count right after it missed the writer's batch in flight, which is
# how TAP 038 failed on a loaded CI machine (20,000 messages sent, fewer
# consumed SEND decisions counted).  Here a trigger holds the writer inside
# its transaction for as long as the test wants, so nothing is left to chance.
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

# While public.hold_writer has a row, an insert into antiban.decisions waits;
# then, while public.gate_on has one, it takes a lock on public.gate.
$node->safe_psql('postgres', q{
	CREATE TABLE public.hold_writer (on_ boolean);
	CREATE TABLE public.gate_on (on_ boolean);
	CREATE TABLE public.gate (on_ boolean);
	GRANT SELECT ON public.hold_writer, public.gate_on TO PUBLIC;
	GRANT ALL ON public.gate TO PUBLIC;
	CREATE FUNCTION public.slow_journal() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		WHILE EXISTS (SELECT 1 FROM public.hold_writer) LOOP
			PERFORM pg_catalog.pg_sleep(0.05);
		END LOOP;
		IF EXISTS (SELECT 1 FROM public.gate_on) THEN
			LOCK TABLE public.gate IN SHARE MODE;
		END IF;
		RETURN NULL;
	END $$;
	CREATE TRIGGER slow_journal AFTER INSERT ON antiban.decisions
		FOR EACH STATEMENT EXECUTE FUNCTION public.slow_journal();});

sub writer_held
{
	return $node->poll_query_until('postgres', q{SELECT wait_event = 'PgSleep' FROM pg_stat_activity
		WHERE backend_type = 'antiban journal writer'});
}
sub waits_on_writer
{
	my ($pid) = @_;
	return $node->poll_query_until('postgres', qq{SELECT wait_event = 'transactionid' FROM pg_stat_activity
		WHERE pid = $pid});
}
# (what flush_journal printed comes first, once it has returned)
sub last_line
{
	my ($out) = @_;
	return (split /\n/, $out)[-1];
}
sub decide
{
	my ($from, $to) = @_;
	$node->safe_psql('postgres', qq{SELECT count(*) FROM generate_series($from, $to) i,
		antiban.decide('+55119' || lpad(i::text, 8, '0'), 'marketing')});
}

# ---- 1. The writer holds decisions: flush_journal waits for its commit ----
$node->safe_psql('postgres', 'INSERT INTO public.hold_writer VALUES (true)');
decide(1, 30);
ok(writer_held(), 'the journal writer took decisions and is held inside its transaction');
my $caller = $node->background_psql('postgres');
my $pid = $caller->query_safe('SELECT pg_backend_pid()');
$caller->query_until(qr/flushing/, "\\echo flushing\nSELECT antiban.flush_journal();\n");
ok(waits_on_writer($pid), "flush_journal waits for the writer's transaction");
$node->safe_psql('postgres', 'DELETE FROM public.hold_writer');
# (the caller's next query runs once flush_journal has returned)
is(last_line($caller->query_safe('SELECT count(*) FROM antiban.decisions')), '30',
	'when it returns, the 30 decisions are in antiban.decisions');

# ---- 2. A caller holding what the writer needs does not hang ----
# The writer waits for public.gate, which the caller holds while it waits
# for the writer: the writer gives up its lock wait (lock_timeout), carries
# its batch over and commits, and flush_journal returns without it; the
# batch is stored at the writer's next flush, once, after the caller commits.
$node->safe_psql('postgres', 'INSERT INTO public.hold_writer VALUES (true); INSERT INTO public.gate_on VALUES (true)');
decide(31, 40);
ok(writer_held(), 'the writer holds ten more decisions');
$caller->query_safe(q{SET statement_timeout = '120s'});
$caller->query_safe('BEGIN');
$caller->query_safe('LOCK TABLE public.gate IN ACCESS EXCLUSIVE MODE');
$caller->query_until(qr/flushing/, "\\echo flushing\nSELECT antiban.flush_journal();\n");
ok(waits_on_writer($pid), 'the caller, holding public.gate, waits for the writer');
$node->safe_psql('postgres', 'DELETE FROM public.hold_writer');
is(last_line($caller->query_safe('SELECT count(*) FROM antiban.decisions')), '30',
	'flush_journal returned once the writer gave up its wait and carried the batch over');
$caller->query_safe('COMMIT');
$caller->quit;
ok($node->poll_query_until('postgres', 'SELECT count(*) = 40 FROM antiban.decisions'),
	"the writer's next flush stored the carried batch");
is($node->safe_psql('postgres', 'SELECT count(DISTINCT recipient) FROM antiban.decisions'), '40',
	'one decision per recipient, none twice');

$node->stop;
done_testing();
