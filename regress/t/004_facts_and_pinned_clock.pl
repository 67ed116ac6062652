# Shared-memory state follows the transaction, and the test clock stays in
# its own domain:
#  - an opt-out or a service window is seen by other sessions only after the
#    transaction that states it commits, never after a rollback, not even
#    across a restart; PREPARE TRANSACTION is refused while one is pending;
#  - sessions that pin antiban.pinned_now themselves (SET, PGOPTIONS) never
#    change what real-clock sessions see (portfolio usage, buckets,
#    recipients), not even after a restart, while a server-wide pin still
#    drives the shared state;
#  - rows stamped after the loading session's clock are not loaded.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('facts', 'max_prepared_transactions' => 2, 'antiban.sender_workers' => 0);
register_numbers($node,
	'1001' => { rate_override => 1000, burst_override => 1000 },
	'1002' => { rate_override => 1000, burst_override => 1000 });

# New buckets start full once the journal writer has read how the server
# last stopped: wait for it, so that decisions below are not held by a bucket.
sub wait_for_writer
{
	ok(wait_for($node, q{SELECT previous_shutdown <> 'unknown' FROM antiban.journal_stats()}),
		'the journal writer has read how the server last stopped');
}
wait_for_writer();

sub marketing_sql
{
	my ($who) = @_;
	return "SELECT outcome || ' ' || reason FROM antiban.decide('$who', 'marketing', from_number => '1001', consume => false)";
}

sub reply_sql
{
	my ($who) = @_;
	return "SELECT outcome || ' ' || reason FROM antiban.decide('$who', 'service', from_number => '1002', consume => false)";
}

sub marketing { return $node->safe_psql('postgres', marketing_sql($_[0])); }
sub reply { return $node->safe_psql('postgres', reply_sql($_[0])); }

# ---- 1. Another session sees a change only once it is committed ----

my $a = $node->background_psql('postgres');
my $b = $node->background_psql('postgres');

$a->query_safe('BEGIN');
$a->query_safe(q{SELECT antiban.set_marketing_opt_out('+5511922220001', '1001', true)});
$a->query_safe(q{SELECT antiban.open_service_window('+5511922220001', '1002')});
is($a->query_safe(marketing_sql('+5511922220001')), 'REJECT opted_out', 'the transaction sees its own opt-out');
is($a->query_safe(reply_sql('+5511922220001')), 'SEND pinned_number', 'and its own service window');
is($b->query_safe(marketing_sql('+5511922220001')), 'SEND pinned_number', 'another session does not see the opt-out before commit');
is($b->query_safe(reply_sql('+5511922220001')), 'REJECT no_service_window', 'nor the window');
$a->query_safe('COMMIT');
is($b->query_safe(marketing_sql('+5511922220001')), 'REJECT opted_out', 'it sees the opt-out after commit');
is($b->query_safe(reply_sql('+5511922220001')), 'SEND pinned_number', 'and the window');

# opting back in, the same way
$a->query_safe('BEGIN');
$a->query_safe(q{SELECT antiban.set_marketing_opt_out('+5511922220001', '1001', false)});
is($b->query_safe(marketing_sql('+5511922220001')), 'REJECT opted_out', 'an uncommitted opt-in is not seen by others');
$a->query_safe('ROLLBACK');
is($b->query_safe(marketing_sql('+5511922220001')), 'REJECT opted_out', 'nor after it rolled back');
$a->quit;
$b->quit;

# ---- 2. What a rolled-back transaction stated is not stored either ----

$node->safe_psql('postgres', q{SELECT antiban.set_marketing_opt_out('+5511922220003', '1001', true)});
$node->safe_psql('postgres', q{
	BEGIN;
	SELECT antiban.set_marketing_opt_out('+5511922220003', '1001', false);
	SELECT antiban.decide('+5511922220003', 'utility', from_number => '1002');
	ROLLBACK;
	BEGIN;
	SELECT antiban.set_marketing_opt_out('+5511922220004', '1001', true);
	SELECT antiban.open_service_window('+5511922220004', '1002');
	SELECT antiban.decide('+5511922220004', 'utility', from_number => '1002');
	ROLLBACK;
	SELECT antiban.flush_journal()});
is($node->safe_psql('postgres', q{SELECT recipient || ' ' || marketing_opt_out || ' ' || (window_until IS NOT NULL)
	FROM antiban.recipient_state WHERE recipient IN ('+5511922220003', '+5511922220004') ORDER BY 1}),
	"+5511922220003 true false\n+5511922220004 false false",
	'stored: the committed opt-out, and of the rolled-back ones only the sends (they stay: conservative)');
$node->restart;
wait_for_writer();
is(marketing('+5511922220003'), 'REJECT opted_out', 'after a restart, still opted out (the opt-in rolled back)');
# (its pair bucket may be refilling after the restart: look at the reason only)
isnt($node->safe_psql('postgres', q{SELECT reason FROM antiban.decide('+5511922220004', 'marketing', consume => false)}),
	'opted_out', 'and the other still opted in');
is(reply('+5511922220004'), 'REJECT no_service_window', 'with no window');

# ---- 3. PREPARE TRANSACTION ----

my ($ret, $out, $err) = $node->psql('postgres', q{
	BEGIN;
	SELECT antiban.set_marketing_opt_out('+5511922220005', '1001', true);
	PREPARE TRANSACTION 'with_opt_out'});
like($err, qr/cannot prepare a transaction that changed a marketing opt-out or a service window/,
	'PREPARE TRANSACTION with a pending opt-out is refused');
is($node->safe_psql('postgres', 'SELECT count(*) FROM pg_prepared_xacts'), '0', 'nothing was prepared');
is(marketing('+5511922220005'), 'SEND pinned_number', 'and the opt-out did not take effect');
$node->safe_psql('postgres', q{
	BEGIN;
	SAVEPOINT s;
	SELECT antiban.open_service_window('+5511922220005', '1002');
	ROLLBACK TO SAVEPOINT s;
	SELECT antiban.decide('+5511922220005', 'utility', consume => false);
	PREPARE TRANSACTION 'nothing_pending'});
is($node->safe_psql('postgres', 'SELECT gid FROM pg_prepared_xacts'), 'nothing_pending',
	'a transaction whose changes were rolled back to a savepoint prepares');
$node->safe_psql('postgres', q{COMMIT PREPARED 'nothing_pending'});

# ---- 4. Sessions on their own pinned clock stay in their own domain ----

$node->safe_psql('postgres', q{
	SELECT antiban.decide('+5511922229001', 'marketing', from_number => '1001');
	SELECT antiban.try_consume('1002', 3, '+5511922229001');
	SELECT antiban.flush_journal()});

# What a real-clock session sees; bucket tokens refill with time, so compare
# the buckets that exist and what they granted and denied.
my $real_view = q{
	SELECT (SELECT string_agg(business_id || ':' || used, ',') FROM antiban.portfolio_usage)
	    || ' | ' || (SELECT string_agg(kind || ':' || phone_number_id || ':' || coalesce(recipient, '-')
	                                   || ':' || granted || ':' || denied, ','
	                                   ORDER BY kind, phone_number_id, recipient) FROM antiban.buckets)
	    || ' | ' || (SELECT count(*) FROM antiban.recipient_state)};
my $before = $node->safe_psql('postgres', $real_view);
# buckets do not survive a restart: after one, compare the rest
my $real_stored = q{
	SELECT (SELECT string_agg(business_id || ':' || used, ',') FROM antiban.portfolio_usage)
	    || ' | ' || (SELECT count(*) FROM antiban.recipient_state)
	    || ' | ' || (SELECT count(*) FROM antiban.recipient_state WHERE marketing_opt_out OR window_until IS NOT NULL)};
my $stored_before = $node->safe_psql('postgres', $real_stored);
like($before, qr/^100:\d+ \| .*number:1002:.* \| \d+$/, "the real-clock view before: $before");

my $pinned_work = q{
	SELECT count(*) FROM generate_series(1, 20) i,
	       antiban.decide('+55119333' || lpad(i::text, 5, '0'), 'marketing') WHERE outcome = 'SEND';
	SELECT antiban.try_consume('1002', 5, '+5511922229001');
	SELECT antiban.decide('+5511922229001', 'utility', from_number => '1001');
	SELECT antiban.send_template('+5511922229002', 'oferta', 'pt_BR', '["10%"]', 'marketing') > 0;
	SELECT antiban.set_marketing_opt_out('+5511922229001', '1001', true);
	SELECT antiban.open_service_window('+5511922229003', '1002');
	SELECT antiban.flush_journal() >= 0;
	SELECT used FROM antiban.portfolio_usage};
my $in_2035 = $node->safe_psql('postgres', "SET antiban.pinned_now = '2035-06-01 12:00:00+00';" . $pinned_work);
like($in_2035, qr/^20\n.*\n21$/s, 'a session pinned to 2035 (SET) sent 20 templates and sees them counted');
is($node->safe_psql('postgres', q{SET antiban.pinned_now = '2035-06-01 12:00:00+00';
	SELECT used FROM antiban.portfolio_usage}), '21', 'another session pinned the same way shares its domain');
{
	local $ENV{PGOPTIONS} = '-c antiban.pinned_now=2020-03-01T08:00:00+00';
	my $in_2020 = $node->safe_psql('postgres', $pinned_work);
	like($in_2020, qr/^20\n/, 'a session pinned to 2020 (PGOPTIONS) sent 20 templates');
}
is($node->safe_psql('postgres', $real_view), $before,
	'the real-clock view is unchanged: portfolio usage, buckets and stored recipients');
is(marketing('+5511922229001'), 'SEND pinned_number', 'the pinned opt-out did not reach real-clock sessions');
is(reply('+5511922229003'), 'REJECT no_service_window', 'nor the pinned window');
$node->restart;
wait_for_writer();
is($node->safe_psql('postgres', $real_stored), $stored_before, 'nor after a restart (usage, stored recipients)');
is(reply('+5511922229003'), 'REJECT no_service_window', 'and the pinned window was not stored');

# ---- 5. A server-wide pin is the real domain: the workers' ----

$node->safe_psql('postgres', q{ALTER SYSTEM SET antiban.pinned_now = '2031-01-01 00:00:00+00'});
$node->reload;
ok(wait_for($node, q{SELECT antiban.now() = '2031-01-01 00:00:00+00'}), 'the clock is pinned server-wide');
$node->safe_psql('postgres', q{SELECT antiban.decide('+5511922229500', 'marketing', from_number => '1001');
	SELECT antiban.flush_journal()});
is($node->safe_psql('postgres', q{SELECT last_reached_at FROM antiban.recipient_state WHERE recipient = '+5511922229500'}),
	'2031-01-01 00:00:00+00', 'a server-wide pin records and stores in the shared domain');
is($node->safe_psql('postgres', q{SET antiban.pinned_now = '2031-01-01 00:00:00+00';
	SELECT count(*) FROM antiban.buckets WHERE recipient = '+5511922229500'}), '0',
	'while a session that sets the same time itself is on its own');
$node->safe_psql('postgres', q{ALTER SYSTEM RESET antiban.pinned_now});
$node->reload;
ok(wait_for($node, q{SELECT antiban.now() > '2031-01-01 00:00:00+00' OR antiban.now() < '2030-01-01'}),
	'the clock is real again');

# ---- 6. Rows stamped after the loading clock are not loaded ----

$node->safe_psql('postgres', q{
	INSERT INTO antiban.recipient_reach (portfolio_id, recipient, last_number_id, last_sent_at, last_reached_at)
	SELECT 1, '+5511922229600', id, now() + interval '10 years', now() + interval '10 years'
	FROM antiban.numbers WHERE phone_number_id = '1002';
	INSERT INTO antiban.recipient_facts (portfolio_id, recipient, marketing_opt_out, window_until,
	                                     window_number_id, window_opened_at)
	SELECT 1, '+5511922229601', true, now() + interval '10 years 1 day', id, now() + interval '10 years'
	FROM antiban.numbers WHERE phone_number_id = '1002'});
$node->restart;
wait_for_writer();
my $usage = $node->safe_psql('postgres', 'SELECT used FROM antiban.portfolio_usage');
my $fresh = $node->safe_psql('postgres', q{SELECT outcome || ' ' || reason
	FROM antiban.decide('+5511922229600', 'marketing', consume => false)});
like($fresh, qr/^SEND /, 'a recipient whose stored send is stamped in the future can be sent to');
unlike($fresh, qr/sticky_sender/, 'and that send does not make a sticky sender');
is(reply('+5511922229601'), 'REJECT no_service_window', 'a window opened in the future is not open');
is(marketing('+5511922229601'), 'REJECT opted_out', 'but an opt-out is kept, whatever its row says about time');
$node->safe_psql('postgres', q{SELECT antiban.decide('+5511922229600', 'marketing', from_number => '1001')});
is($node->safe_psql('postgres', 'SELECT used FROM antiban.portfolio_usage'), $usage + 1,
	'and that recipient counts when reached now');

$node->stop;
done_testing();
