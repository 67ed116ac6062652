#!/bin/sh
# Assignment benchmark: 10,000 queued leads across 200 agents (capacity 50
# each, so every lead finds a place), drained by antiban.assign_queued() in
# one call, for each policy; against a peer measured in the same run: a bare
# UPDATE of the same 10,000 rows (owner set, queue cleared) in a plain copy
# of antiban.leads with the same indexes.  Also antiban.assign_lead() called
# once per lead, the path a new qualified lead takes, with durable commits
# and without (one commit per lead: the disk's flush rate bounds it).  Each
# figure is the median of BENCH_ROUNDS (default 3) rounds, after a warm-up
# drain, the policies taking turns within each round (so a burst of load
# from elsewhere on the machine does not fall on one policy); every drain
# starts from a checkpoint and commits durably.
# Prints one table; the target is >= 5,000 assignments/s.
set -eu
ANTIBAN_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ANTIBAN_ROOT/regress/lib.sh"
# shared memory on huge pages when root may reserve them (README, "Huge pages")
ANTIBAN_HUGE_PAGES=${BENCH_HUGE_PAGES:-on}
ROUNDS=${BENCH_ROUNDS:-3}
PORT=${BENCH_PORT:-5498}
LEADS=10000
AGENTS=200

install_packages $ANTIBAN_BUILD_PACKAGES
build_and_install
ensure_cluster_user
DIR=$(mktemp -d /tmp/antiban-bench-assign.XXXXXX)
chmod 755 "$DIR"
[ "$(id -u)" = 0 ] && chown "$ANTIBAN_USER" "$DIR"
cleanup() {
	stop_cluster "$DIR"
	rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

start_cluster "$DIR" "$PORT"
cluster_psql "$DIR" "$PORT" postgres -c "CREATE DATABASE antiban"
q() { cluster_psql "$DIR" "$PORT" antiban -tA "$@"; }

say "setting up $AGENTS agents and $LEADS queued leads"
q <<EOF
CREATE EXTENSION antiban;
INSERT INTO antiban.portfolios (business_id) VALUES ('100');
-- agents offline while the leads arrive: every one of them waits in the queue
INSERT INTO antiban.agents (portfolio_id, name, languages, products, capacity, tier, presence)
SELECT 1, 'agent ' || g, '{pt,en}', CASE WHEN g % 4 = 0 THEN '{fii,cdb}'::text[] ELSE '{}' END,
       50, (ARRAY['junior', 'standard', 'senior'])[1 + g % 3]::antiban.agent_tier, 'offline'
FROM generate_series(1, $AGENTS) g;
INSERT INTO antiban.leads (portfolio_id, person_id, stage, score, language, products)
SELECT 1, g, 'qualified', (g * 37) % 101, CASE WHEN g % 10 = 0 THEN 'en' ELSE 'pt-BR' END,
       CASE WHEN g % 7 = 0 THEN '{cdb}'::text[] ELSE '{}' END
FROM generate_series(1, $LEADS) g;
-- a history to score against: won and lost leads per agent
INSERT INTO antiban.leads (portfolio_id, stage, score, owner_agent_id, closed_at)
SELECT 1, CASE WHEN random() < 0.3 THEN 'won' ELSE 'lost' END, (g * 13) % 101, 1 + g % $AGENTS, now() - interval '1 day'
FROM generate_series(1, 4000) g;
UPDATE antiban.agents SET presence = 'online';
-- the peer: the same rows, the same indexes, no triggers, no foreign keys
CREATE TABLE bare_leads (LIKE antiban.leads INCLUDING ALL);
INSERT INTO bare_leads OVERRIDING SYSTEM VALUE SELECT * FROM antiban.leads WHERE queued_at IS NOT NULL;
VACUUM ANALYZE;
EOF
queued=$(q -c "SELECT count(*) FROM antiban.leads WHERE queued_at IS NOT NULL")
[ "$queued" = "$LEADS" ] || die "expected $LEADS queued leads, found $queued"

# Put every lead back in the queue, as it was before a run.
requeue() {
	q >/dev/null <<'EOF'
UPDATE antiban.leads SET owner_agent_id = NULL, assignment_id = NULL, assigned_at = NULL, sla_due_at = NULL,
    queued_at = now(), queue_reason = 'nobody_available'
WHERE closed_at IS NULL;
DELETE FROM antiban.lead_assignments;
DELETE FROM antiban.lead_events;
VACUUM ANALYZE antiban.leads, antiban.lead_assignments, antiban.lead_events;
CHECKPOINT;
EOF
}

# rate SQL: "RATE N", leads per second for one statement whose column n says how many it did
rate() {
	q <<EOF | tail -1
SELECT clock_timestamp() AS t0 \gset
$1 \gset
SELECT round(:n / extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)) || ' ' || :n;
EOF
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

check_capacity() {
	over=$(q -c "SELECT count(*) FROM antiban.agent_load WHERE open_leads > capacity")
	[ "$over" = 0 ] || die "$over agents above capacity"
}

drain() {	# drain POLICY: assignments/s of one full drain
	requeue
	out=$(rate "SELECT antiban.assign_queued(1, policy => '$1') AS n")
	[ "${out#* }" = "$LEADS" ] || die "$1: assigned ${out#* } of $LEADS"
	check_capacity
	echo "${out% *}"
}

measure_bare() {
	for r in $(seq "$ROUNDS"); do
		q -c "UPDATE bare_leads SET owner_agent_id = NULL, queued_at = now(), queue_reason = 'all_full'" >/dev/null
		q -c "VACUUM ANALYZE bare_leads" >/dev/null
		q -c "CHECKPOINT" >/dev/null
		out=$(rate "WITH u AS (UPDATE bare_leads SET owner_agent_id = 1 + id % $AGENTS, assigned_at = now(), queued_at = NULL, queue_reason = NULL RETURNING 1) SELECT count(*) AS n FROM u")
		echo "${out% *}"
	done | median
}

measure_one_by_one() {	# measure_one_by_one SETTING: assign_lead() per lead, 1,000 leads in one session, autocommit each
	for r in $(seq "$ROUNDS"); do
		requeue
		ids=$(q -c "SELECT string_agg(format('SELECT agent_id FROM antiban.assign_lead(%s);', id), E'\n') FROM (SELECT id FROM antiban.leads WHERE queued_at IS NOT NULL ORDER BY id LIMIT 1000) s")
		t0=$(date +%s.%N)
		printf '%s\n%s\n' "$1" "$ids" | q >/dev/null
		t1=$(date +%s.%N)
		awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d\n", 1000 / (b - a) }'
	done | median
}

say "measuring ($ROUNDS rounds, the policies taking turns)"
drain least_loaded >/dev/null	# warm-up: caches, plans, first-touch of pages
: > "$DIR/rates"
for r in $(seq "$ROUNDS"); do
	for policy in least_loaded round_robin score_aware; do
		echo "$policy $(drain "$policy")" >> "$DIR/rates"
	done
done
policy_rate() { sed -n "s/^$1 //p" "$DIR/rates" | median; }
least_loaded=$(policy_rate least_loaded)
round_robin=$(policy_rate round_robin)
score_aware=$(policy_rate score_aware)
all_rates=$(awk '{ print $2 }' "$DIR/rates" | sort -n | tr '\n' ' ')
bare=$(measure_bare)
one_by_one=$(measure_one_by_one "SET synchronous_commit = on;")
one_by_one_async=$(measure_one_by_one "SET synchronous_commit = off;")
explained=$(q -c "SELECT explanation FROM antiban.lead_assignments ORDER BY id LIMIT 1")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
row() { printf '| %-52s | %12s | %8s |\n' "$1" "$2" "$3"; }
echo
echo "antiban assignment benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $LEADS queued leads, $AGENTS agents, median of $ROUNDS"
row "workload" "leads/s" "vs bare"
row "----------------------------------------------------" "------------" "--------"
row "bare UPDATE of the same rows (the peer)" "$bare" "1.00"
row "assign_queued(), least_loaded" "$least_loaded" "$(ratio "$least_loaded" "$bare")"
row "assign_queued(), round_robin" "$round_robin" "$(ratio "$round_robin" "$bare")"
row "assign_queued(), score_aware" "$score_aware" "$(ratio "$score_aware" "$bare")"
row "assign_lead(), one call and commit per lead (1,000)" "$one_by_one" "$(ratio "$one_by_one" "$bare")"
row "  the same, synchronous_commit = off" "$one_by_one_async" "$(ratio "$one_by_one_async" "$bare")"
echo
echo "every drain, sorted (leads/s): $all_rates"
echo "target: >= 5,000 assignments/s for the drain: $( [ "$least_loaded" -ge 5000 ] && echo met || echo NOT met)"
echo "an explanation: $explained"
