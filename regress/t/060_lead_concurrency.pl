# Concurrent assigners never exceed an agent's capacity, never assign a lead
# twice, and never deadlock: assign_lead() from six sessions at once on
# random leads; then assign_queued(), agents going offline and online,
# check_sla() and assign_lead() all at once.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('lead_concurrency', 'antiban.sender_workers' => 0);
$node->safe_psql('postgres', q{
	INSERT INTO antiban.portfolios (business_id) VALUES ('100');
	-- 20 agents, 5 leads each: 100 places for 400 leads
	INSERT INTO antiban.agents (portfolio_id, name, languages, capacity, presence, tier)
	SELECT 1, 'agent ' || g, '{pt,en}', 5, 'online', (ARRAY['junior', 'standard', 'senior'])[1 + g % 3]::antiban.agent_tier
	FROM generate_series(1, 20) g;
	INSERT INTO antiban.leads (portfolio_id, person_id, stage, score, language)
	SELECT 1, g, 'new', (g * 37) % 101, CASE WHEN g % 4 = 0 THEN 'en' ELSE 'pt' END
	FROM generate_series(1, 400) g;
	CREATE UNLOGGED TABLE results (lead bigint, agent bigint, reason text);
});

sub pgbench
{
	my ($name, $script, @args) = @_;
	my $file = $node->basedir . "/$name.sql";
	PostgreSQL::Test::Utils::append_to_file($file, $script);
	my ($stdout, $stderr);
	my $ok = IPC::Run::run(['pgbench', '-n', '-h', $node->host, '-p', $node->port,
			@args, 'postgres'], '>', \$stdout, '2>', \$stderr);
	ok($ok, "$name: pgbench ran without a failed transaction") or diag($stderr);
	unlike($stderr, qr/deadlock/, "$name: no deadlock");
}

sub over_capacity
{
	return $node->safe_psql('postgres', q{
		SELECT coalesce(string_agg(format('%s has %s open of %s', name, open_leads, capacity), '; '), 'none')
		FROM antiban.agent_load WHERE open_leads > capacity});
}

# ---- 1. six sessions call assign_lead() on random leads ----
pgbench('assign_lead', <<'EOS', '-c', '6', '-j', '2', '-t', '150', '-f', $node->basedir . '/assign_lead.sql');
SET antiban.pinned_now = '2030-01-02 12:00:00+00';
\set id random(1, 400)
INSERT INTO results SELECT :id, agent_id, queue_reason FROM antiban.assign_lead(:id);
EOS
is(over_capacity(), 'none', 'no agent holds more open leads than its capacity');
is($node->safe_psql('postgres', 'SELECT count(*) FROM antiban.leads WHERE owner_agent_id IS NOT NULL'),
	'100', 'every place was taken: 100 leads assigned (900 calls for 400 leads, 100 places)');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM (SELECT lead_id FROM antiban.lead_assignments GROUP BY lead_id HAVING count(*) > 1) d}),
	'0', 'no lead was assigned twice');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM antiban.leads l JOIN antiban.lead_assignments s ON s.id = l.assignment_id
	WHERE s.agent_id IS DISTINCT FROM l.owner_agent_id}),
	'0', 'each owner is the agent of the lead\'s current assignment');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM results r JOIN antiban.leads l ON l.id = r.lead
	WHERE r.agent IS NOT NULL AND r.agent IS DISTINCT FROM l.owner_agent_id}),
	'0', 'every call that answered with an agent answered with the lead\'s owner');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM antiban.leads WHERE owner_agent_id IS NULL AND id IN (SELECT lead FROM results)
	  AND (queued_at IS NULL OR queue_reason <> 'all_full')}),
	'0', 'every lead tried and not placed waits in the queue as all_full');

# ---- 2. everything at once: drains, presence changes, SLA sweeps, assign_lead ----
$node->safe_psql('postgres', q{
	UPDATE antiban.agents SET capacity = 8;
	INSERT INTO antiban.leads (portfolio_id, person_id, stage, score, language)
	SELECT 1, 1000 + g, 'new', (g * 53) % 101, 'pt' FROM generate_series(1, 200) g;
});
my $drain = $node->basedir . '/drain.sql';
my $presence = $node->basedir . '/presence.sql';
my $sweep = $node->basedir . '/sweep.sql';
my $assign = $node->basedir . '/assign.sql';
PostgreSQL::Test::Utils::append_to_file($drain, <<'EOS');
SET antiban.pinned_now = '2030-01-02 12:30:00+00';
SELECT antiban.assign_queued(1, 7);
EOS
PostgreSQL::Test::Utils::append_to_file($presence, <<'EOS');
SET antiban.pinned_now = '2030-01-02 12:30:00+00';
\set agent random(1, 20)
\set p random(0, 2)
SELECT antiban.set_agent_presence(:agent, (enum_range(NULL::antiban.agent_presence))[:p + 1]);
EOS
PostgreSQL::Test::Utils::append_to_file($sweep, <<'EOS');
SET antiban.pinned_now = '2030-01-02 12:30:00+00';
SELECT count(*) FROM antiban.check_sla(1);
EOS
PostgreSQL::Test::Utils::append_to_file($assign, <<'EOS');
SET antiban.pinned_now = '2030-01-02 12:30:00+00';
\set id random(1, 600)
SELECT * FROM antiban.assign_lead(:id);
EOS
pgbench('mixed', '', '-c', '8', '-j', '2', '-t', '120',
	'-f', "$drain\@2", '-f', "$presence\@3", '-f', "$sweep\@1", '-f', "$assign\@4");
is(over_capacity(), 'none', 'after the mix, still no agent above its capacity');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM antiban.leads
	WHERE owner_agent_id IS NULL AND id IN (SELECT lead_id FROM antiban.lead_assignments)}),
	'0', 'a lead once assigned keeps an owner (moved, or kept when nobody else can take it)');
cmp_ok($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.lead_assignments WHERE cause = 'sla_missed'}),
	'>', '0', 'the sweeps moved leads whose first response was overdue');
cmp_ok($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.lead_assignments WHERE cause = 'queue'}),
	'>', '0', 'the drains assigned queued leads');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM antiban.leads l
	WHERE l.owner_agent_id IS NOT NULL
	  AND l.owner_agent_id IS DISTINCT FROM (SELECT s.agent_id FROM antiban.lead_assignments s WHERE s.id = l.assignment_id)}),
	'0', 'owners and current assignments still agree');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM antiban.lead_assignments s
	WHERE s.ended_at IS NULL AND s.id <> (SELECT l.assignment_id FROM antiban.leads l WHERE l.id = s.lead_id)}),
	'0', 'only the current assignment of a lead is open');
$node->stop;
done_testing();
