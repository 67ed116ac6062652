#!/bin/sh
# Lead model benchmark.
#  1. Quality: for 5 seeds, the model trained on the corpus (LIBLINEAR,
#     held-out share 20% of each outcome) against a keyword baseline (a fixed
#     list of hot words a sales team would pick, calibrated on the same
#     training share: the won rate per number of hot words) on the same
#     held-out conversations: AUC, log loss, Brier score, calibration error.
#  2. Speed: 1,000,000 conversations built from the corpus vectors (each with
#     its engagement moved in time), half in a portfolio with its own model:
#     scoring alone (SELECT), antiban.rescore_leads() writing every score
#     (first time: inserts; again: updates); and the cost of noting messages
#     (antiban.note_lead_event per message, antiban.note_lead_events per
#     batch of 100) against the inbound-message apply it would follow
#     (antiban.apply_messages), in the same run.
# BENCH_LEADS changes the million; BENCH_INGEST the 5,000 messages.
set -eu
ANTIBAN_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ANTIBAN_ROOT/regress/lib.sh"
# shared memory on huge pages when root may reserve them (README, "Huge pages")
ANTIBAN_HUGE_PAGES=${BENCH_HUGE_PAGES:-on}
LEADS=${BENCH_LEADS:-1000000}
INGEST=${BENCH_INGEST:-5000}
PORT=${BENCH_PORT:-5498}

install_packages $ANTIBAN_BUILD_PACKAGES
build_and_install
ensure_cluster_user
DIR=$(work_dir leadmodel)
cleanup() { stop_cluster "$DIR"; rm -rf "$DIR"; }
trap cleanup EXIT INT TERM

start_cluster "$DIR" "$PORT"
as_cluster_user sh -c "printf 'antiban.sender_workers = 0\nantiban.monitor = off\nshared_buffers = 1GB\nmax_wal_size = 8GB\n' >> '$DIR/pgdata/postgresql.conf'"
start_cluster "$DIR" "$PORT"
cluster_psql "$DIR" "$PORT" postgres -c "CREATE DATABASE antiban"
sql() { cluster_psql "$DIR" "$PORT" antiban -tA "$@"; }
now() { date +%s.%N; }
per_second() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

t0=$(now)
sql -c "CREATE EXTENSION antiban" >/dev/null
t1=$(now)
say "CREATE EXTENSION (default model trained on the corpus): $(seconds "$t0" "$t1") s"

# ---- 1. quality ----
say "quality: model against keywords on held-out corpus conversations, 5 seeds"
sql -v hot="{cdb,lci,lca,tesouro,acoes,fii,previdencia,investir,aplicar,rendimento,rende,quanto,mil,conta,assessor,ligar,reuniao,urgente,hoje,invest,account,call,invertir,cuenta,llamar,asesor}" \
	-f "$ANTIBAN_ROOT/bench/lead_quality.sql" | grep -E '^[0-9]+[|]' > "$DIR/quality.txt"
cat "$DIR/quality.txt" >&2
echo "antiban lead model benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg)"
echo "== quality (mean ± sd over 5 seeds, $(sql -c "SELECT held_out_examples FROM antiban.lead_models WHERE id = 1") held-out conversations each)"
awk -F'|' '
	{ for (i = 2; i <= NF; i++) { s[i] += $i; q[i] += $i * $i } n++ }
	END {
		split("model AUC|model log loss|model Brier|model calibration error|keywords AUC|keywords log loss|keywords Brier|keywords calibration error", name, "|")
		for (i = 2; i <= NF; i++) {
			m = s[i] / n; sd = sqrt(q[i] / n - m * m); if (sd != sd) sd = 0
			printf "%-28s %.3f ± %.3f\n", name[i - 1], m, sd
		}
	}' "$DIR/quality.txt"

# ---- 2. speed ----
say "building $LEADS conversations from the corpus"
sql -v leads="$LEADS" -f "$ANTIBAN_ROOT/bench/lead_speed_setup.sql" >/dev/null
sql -c "VACUUM ANALYZE antiban.lead_features" -c "CHECKPOINT" >/dev/null
features_size=$(sql -c "SELECT pg_size_pretty(pg_total_relation_size('antiban.lead_features'))")

score_only="SELECT count(*), avg(r.score) FROM antiban.lead_features f
	LEFT JOIN antiban.lead_models own ON own.active AND own.portfolio_id = f.portfolio_id
	CROSS JOIN LATERAL antiban.lead_score(coalesce(own.id, antiban.active_lead_model()), f.features,
	                                      f.feature_values, f.engagement, '2026-03-01') r"
t0=$(now); sql -c "$score_only" >/dev/null; t1=$(now)
score_rate=$(per_second "$LEADS" "$t0" "$t1")
t0=$(now); first=$(sql -c "SELECT antiban.rescore_leads(at => '2026-03-01')"); t1=$(now)
first_rate=$(per_second "$first" "$t0" "$t1")
sql -c "VACUUM antiban.lead_scores" -c "CHECKPOINT" >/dev/null
t0=$(now); again=$(sql -c "SELECT antiban.rescore_leads(at => '2026-03-02')"); t1=$(now)
again_rate=$(per_second "$again" "$t0" "$t1")
scores_size=$(sql -c "SELECT pg_size_pretty(pg_total_relation_size('antiban.lead_scores'))")
spread=$(sql -c "SELECT string_agg(format('%s-%s: %s%%', b * 10, b * 10 + 9, share), ', ' ORDER BY b)
	FROM (SELECT b, round(100.0 * n / sum(n) OVER (), 1) AS share
	      FROM (SELECT least(score / 10, 9) b, count(*) n FROM antiban.lead_scores GROUP BY 1) x) y")

# ---- 3. the ingest path ----
say "ingest: $INGEST inbound messages applied, without and with note_lead_event"
ingest=$(sql -v n="$INGEST" -f "$ANTIBAN_ROOT/bench/lead_ingest.sql" | tail -1)
without=$(echo "$ingest" | cut -d'|' -f1)
with=$(echo "$ingest" | cut -d'|' -f2)
batched=$(echo "$ingest" | cut -d'|' -f3)

echo "== speed ($(nproc) cores, client and server on the same machine)"
echo "lead_features: $LEADS conversations, $features_size"
echo "score only (SELECT ... lead_score):        $score_rate leads/s"
echo "rescore_leads(), first (1M inserts):       $first_rate leads/s ($first scored)"
echo "rescore_leads(), again (1M updates):       $again_rate leads/s ($again scored; target 50,000)"
echo "lead_scores: $scores_size; scores by decile: $spread"
echo "inbound message applied (apply_messages):           $without µs"
echo "... and note_lead_event after each (features, score): $with µs"
echo "note_lead_events in batches of 100, per message:      $batched µs"
