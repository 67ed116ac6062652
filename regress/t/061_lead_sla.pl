# The first-response SLA on a pinned clock: a lead assigned on Monday morning
# is reassigned when its 15 minutes pass, with an alert; one assigned on
# Friday at 17:55 is due on Monday (business hours), moves to the night
# shift when its owner's day ends, stays with the night agent who misses it
# (nobody else is on shift: an alert says so), and moves again on Monday
# once that agent is offline.  Sao Paulo is UTC-3 all of 2030.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('lead_sla', 'antiban.sender_workers' => 0);

# Run SQL as of a local time in Sao Paulo ("2030-01-07 09:00").
sub at
{
	my ($local, $sql) = @_;
	return $node->safe_psql('postgres', qq{
		SET timezone = 'America/Sao_Paulo';
		SET antiban.pinned_now = '$local';
		$sql});
}

at('2030-01-07 08:00', q{
	INSERT INTO antiban.portfolios (business_id) VALUES ('100');
	UPDATE antiban.lead_routing SET policy = 'least_loaded', first_response_sla = '15 minutes' WHERE portfolio_id = 1;
	INSERT INTO antiban.agents (portfolio_id, name, capacity, presence)
	VALUES (1, 'Ana', 5, 'online'), (1, 'Bia', 5, 'online'), (1, 'Caio', 5, 'online');
	SELECT antiban.set_working_hours(1, '{"mon-fri": "09:00-18:00"}');
	SELECT antiban.set_working_hours(2, '{"mon-fri": "09:00-18:00"}');
	SELECT antiban.set_working_hours(3, '{"fri-sun": "22:00-06:00"}');
});

sub owner { return at($_[0], "SELECT coalesce(owner_agent_id::text, 'none') FROM antiban.leads WHERE id = $_[1]"); }
sub state { return at($_[0], "SELECT state FROM antiban.lead_sla WHERE lead_id = $_[1]"); }
sub moves { return at($_[0], q{SELECT string_agg(format('%s:%s->%s %s', lead_id, from_agent, coalesce(to_agent::text, 'stays'), cause), ', ' ORDER BY lead_id) FROM antiban.check_sla()}); }

# ---- Monday: missed after 15 minutes, reassigned, alerted ----
at('2030-01-07 09:00', q{INSERT INTO antiban.leads (portfolio_id, stage, score, language) VALUES (1, 'qualified', 70, 'pt')});
is(owner('2030-01-07 09:00', 1), '1', 'Monday 09:00: the new qualified lead goes to Ana');
is(at('2030-01-07 09:00', 'SELECT sla_due_at FROM antiban.leads WHERE id = 1'), '2030-01-07 09:15:00-03',
	'its first reply is due at 09:15');
is(moves('2030-01-07 09:14'), '', '09:14: nothing is overdue, nothing moves');
is(state('2030-01-07 09:14', 1), 'running', 'the lead\'s SLA is running');
is(moves('2030-01-07 09:16'), '1:1->2 sla_missed', '09:16: Ana missed it; the lead moves to Bia');
is(owner('2030-01-07 09:16', 1), '2', 'Bia owns it');
is(at('2030-01-07 09:16', q{SELECT count(*) FROM antiban.alerts WHERE kind = 'lead_sla_missed' AND subject = 'lead 1'}),
	'1', 'an alert was raised for the lead');
like(at('2030-01-07 09:16', q{SELECT detail FROM antiban.alerts WHERE subject = 'lead 1'}),
	qr/^no first reply from Ana within 15 min of business hours; moved to Bia$/, 'the alert says who missed it and where it went');
is(at('2030-01-07 09:16', q{SELECT string_agg(kind, ', ' ORDER BY id) FROM antiban.lead_events WHERE lead_id = 1}),
	'assigned, sla_missed, reassigned', 'the lead\'s log: assigned, missed, reassigned');
is(at('2030-01-07 09:16', 'SELECT sla_due_at FROM antiban.leads WHERE id = 1'), '2030-01-07 09:31:00-03',
	'Bia\'s own 15 minutes start at the reassignment');
is(moves('2030-01-07 09:17'), '', 'checking again moves nothing');
is(at('2030-01-07 09:20', 'SELECT antiban.record_first_response(1)'), 'met', 'Bia replies at 09:20: met');

# ---- Friday 17:55: due on Monday, in business hours ----
at('2030-01-11 17:55', q{INSERT INTO antiban.leads (portfolio_id, stage, score, language) VALUES (1, 'qualified', 40, 'pt')});
is(owner('2030-01-11 17:55', 2), '1', 'Friday 17:55: Ana (less loaded than Bia, Caio off shift) gets lead 2');
is(at('2030-01-11 17:55', 'SELECT sla_due_at FROM antiban.leads WHERE id = 2'), '2030-01-14 09:10:00-03',
	'5 minutes on Friday, 10 on Monday: due Monday 09:10');
is(moves('2030-01-11 18:30'), '', 'Friday 18:30: Ana is off shift, but nobody is on shift to take it');
is(owner('2030-01-11 18:30', 2), '1', 'so it stays with Ana');
is(state('2030-01-11 18:30', 2), 'running', 'and its SLA is running, paused until Monday');

# ---- Friday 22:30: the night shift takes it ----
is(moves('2030-01-11 22:30'), '2:1->3 off_shift', 'Friday 22:30: Caio is on shift; Ana\'s unanswered lead moves to him');
is(at('2030-01-11 22:30', 'SELECT sla_due_at FROM antiban.leads WHERE id = 2'), '2030-01-11 22:45:00-03',
	'Caio\'s clock runs in his shift');
is(at('2030-01-11 22:30', q{SELECT string_agg(sla_outcome, ', ' ORDER BY id) FROM antiban.lead_assignments WHERE lead_id = 2}),
	'moved', 'Ana\'s assignment ended as moved, not missed');

# ---- Friday 22:50: missed, and nobody else can take it ----
is(moves('2030-01-11 22:50'), '2:3->stays sla_missed', 'Friday 22:50: Caio missed it; nobody else is on shift');
like(at('2030-01-11 22:50', q{SELECT detail FROM antiban.alerts WHERE subject = 'lead 2'}),
	qr/^no first reply from Caio within 15 min of business hours; nobody else can take it, it stays: none of 2 matching agents is online and on shift \(0 away, 0 offline, 2 off shift\)$/,
	'the alert says it stays, and why');
is(moves('2030-01-11 22:55'), '', 'the miss is reported once');
is(at('2030-01-11 23:00', 'SELECT antiban.set_agent_presence(3, \'offline\')'), '0',
	'Caio goes offline at 23:00: still nobody on shift to take his lead');
is(owner('2030-01-11 23:00', 2), '3', 'it waits with him');

# ---- Monday 09:00: the day shift takes it from the offline agent ----
is(moves('2030-01-14 09:00'), '2:3->1 agent_offline', 'Monday 09:00: Caio is offline, Ana takes the lead');
is(at('2030-01-14 09:00', 'SELECT sla_due_at FROM antiban.leads WHERE id = 2'), '2030-01-14 09:15:00-03',
	'with her own 15 minutes');
is(at('2030-01-14 09:05', 'SELECT antiban.record_first_response(2)'), 'met', 'Ana replies at 09:05: met');

# ---- the record ----
is(at('2030-01-14 09:05', q{
	SELECT string_agg(format('%s %s/%s/%s', name, met, missed, moved) || coalesce(' ' || met_rate, ''), ', ' ORDER BY agent_id)
	FROM antiban.agent_sla}),
	'Ana 1/1/1 0.500, Bia 1/0/0 1.000, Caio 0/1/0 0.000', 'met/missed/moved and the met rate per agent');
is(at('2030-01-14 09:05', q{SELECT string_agg(format('%s %s %s', lead_id, state, misses), ', ' ORDER BY lead_id) FROM antiban.lead_sla}),
	'1 met 1, 2 met 1', 'per lead: both met in the end, each after one miss');
is(at('2030-01-14 09:05', q{SELECT string_agg(cause, ', ' ORDER BY id) FROM antiban.lead_assignments}),
	'assign, sla_missed, assign, off_shift, agent_offline', 'every assignment, with its cause');
is(at('2030-01-14 09:05', q{SELECT count(*) FROM antiban.lead_assignments WHERE explanation = ''}), '0',
	'and each with an explanation');
$node->stop;
done_testing();
