#!/usr/bin/env bash
# Benchmark (not a test): marginal CPU instructions per record, counted by callgrind, which is
# repeatable on a busy machine where wall time is not. Each path runs over SMALL and LARGE
# records; (I(large) - I(small)) / (LARGE - SMALL) cancels start-up and set-up. Three paths of
# runnel-batch (release build):
#   json-sqlite   JSON Lines → cast → guarded SQLite upsert, checkpoint in the transaction
#   json-cel      JSON Lines → CEL filter + map + lowercase → JSON Lines (expressions.sh's spec)
#   csv-sqlite    CSV → null_if, cast, rules → guarded SQLite upsert (batch-sqlite.sh's spec)
# and DuckDB (one thread) doing json-cel's work, counted the same way.
#
#   scripts/bench/instructions.sh [SMALL LARGE]      default: 20000 60000
#   RUNNEL_BENCH_BIN=/path/to/runnel-or-runnel-batch  measures that binary (else the image build)
#
# Reports, per path: instructions per record, and the split the counter attributes (store, ARC,
# malloc, parsing...) with the top functions. Needs valgrind (installed if missing).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
SMALL="${1:-20000}"
LARGE="${2:-60000}"
WORK="$(mktemp -d /tmp/runnel-ipr.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
command -v valgrind >/dev/null || { apt-get install -y valgrind >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y valgrind >/dev/null; }; }
command -v sqlite3 >/dev/null || { apt-get install -y sqlite3 >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y sqlite3 >/dev/null; }; }

source "$(dirname "${BASH_SOURCE[0]}")/binary.sh"
RUNNEL="$(bench_stripped_binary "$WORK")"

for n in "$SMALL" "$LARGE"; do
    python3 scripts/bench/generate_orders_jsonl.py "$n" >"$WORK/orders-$n.jsonl"
    python3 scripts/bench/generate_orders.py "$n" >"$WORK/orders-$n.csv"
done

cat >"$WORK/json-sqlite.yaml" <<'SPEC'
pipeline: ipr-json-sqlite
extract: {type: jsonl, path: "{{INPUT}}"}
transform:
  - type: cast
    fields: {order_id: int, amount: double, discount: double, ordered_at: timestamp, updated_at: timestamp}
load: {type: sqlite, path: runnel.db, table: orders, key: [order_id], version: updated_at}
checkpoint: {type: sqlite}
dead_letter: {type: sqlite}
batching: {max_records: 20000}
SPEC
cat >"$WORK/json-cel.yaml" <<'SPEC'
pipeline: ipr-json-cel
extract: {type: jsonl, path: "{{INPUT}}"}
transform:
  - {type: filter, expr: "status in ['paid', 'shipped'] && amount > 20.0"}
  - type: map
    fields:
      total: "amount * (1.0 - discount)"
      vip: "amount > 1000.0 && country == 'US'"
  - {type: lowercase, fields: [customer_name]}
load: {type: jsonl, path: runnel-out}
dead_letter: {type: jsonl, path: dead}
batching: {max_records: 20000}
SPEC
cat >"$WORK/csv-sqlite.yaml" <<'SPEC'
pipeline: ipr-csv-sqlite
extract: {type: csv, path: "{{INPUT}}"}
transform:
  - {type: null_if, fields: [discount], values: ["NA", ""]}
  - type: cast
    fields:
      order_id: int
      amount: double
      discount: double
      ordered_at: {type: timestamp, format: "%Y-%m-%d"}
      updated_at: timestamp
validate:
  max_invalid_ratio: 0.01
  rules:
    - {field: order_id, required: true, type: int, min: 1}
    - {field: amount, required: true, min: 0}
    - {field: status, one_of: [pending, paid, shipped, cancelled, refunded]}
    - {field: ordered_at, required: true}
load: {type: sqlite, path: runnel.db, table: orders, key: [order_id], version: updated_at}
checkpoint: {type: sqlite}
dead_letter: {type: sqlite}
batching: {max_records: 20000}
SPEC

# Total instructions of one command (callgrind's summary line).
count() {
    local dir="$1"; shift
    (cd "$dir" && valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" "$@" >"$dir/log" 2>&1) \
        || { echo "run failed in $dir:"; tail -20 "$dir/log"; exit 1; }
    callgrind_annotate "$dir/cg.out" 2>/dev/null | awk '/PROGRAM TOTALS/ && !done {gsub(",", "", $1); print $1; done = 1}'
}

per_record() { python3 -c "print(round(($2 - $1) / ($LARGE - $SMALL)))"; }

declare -A RESULT
printf "\n%-12s %14s\n" path "instr/record"
for path in json-sqlite json-cel csv-sqlite; do
    ext=jsonl; [ "$path" = csv-sqlite ] && ext=csv
    totals=()
    for n in "$SMALL" "$LARGE"; do
        d="$WORK/$path-$n"; mkdir -p "$d"
        sed "s#{{INPUT}}#$WORK/orders-$n.$ext#" "$WORK/$path.yaml" >"$d/pipeline.yaml"
        totals+=("$(count "$d" "$RUNNEL" run pipeline.yaml --no-progress)")
    done
    RESULT[$path]="$(per_record "${totals[0]}" "${totals[1]}")"
    printf "%-12s %14s\n" "$path" "${RESULT[$path]}"
done

# DuckDB, one thread, the json-cel work (the expressions benchmark's query).
VENV="$ROOT/.venv-bench"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c "import duckdb" 2>/dev/null || "$VENV/bin/pip" install -q duckdb
cat >"$WORK/duck.py" <<'PY'
import sys, duckdb
con = duckdb.connect()
con.execute("SET threads = 1")
con.execute(f"""COPY (
  SELECT * REPLACE (lower(customer_name) AS customer_name),
         amount * (1.0 - discount) AS total, amount > 1000.0 AND country = 'US' AS vip
  FROM read_json('{sys.argv[1]}', format = 'newline_delimited')
  WHERE status IN ('paid', 'shipped') AND amount > 20.0
) TO '{sys.argv[2]}' (FORMAT JSON)""")
PY
totals=()
for n in "$SMALL" "$LARGE"; do
    d="$WORK/duck-$n"; mkdir -p "$d"
    totals+=("$(count "$d" "$VENV/bin/python" "$WORK/duck.py" "$WORK/orders-$n.jsonl" "$d/out.jsonl")")
done
duck="$(per_record "${totals[0]}" "${totals[1]}")"
printf "%-12s %14s\n" "duckdb (1 thread, json-cel)" "$duck"
printf "\njson-cel: runnel / duckdb instructions %s\n" "$(python3 -c "print(round(${RESULT[json-cel]} / $duck, 2))")"
