#!/usr/bin/env bash
# Benchmark (not a test): a generated orders CSV through cast + validate + guarded upsert into
# SQLite with runnel-batch (release build), side by side with the sqlite3 shell's `.import` of the
# same file into an identical table (plain inserts, no validation) — the reference. Reports rows/s,
# the ratio, and peak RSS for 1M and 4M rows (which must not grow with the input).
#
# Beside them, the store's ceiling (sqlite_ceiling.c): the same guarded upsert over the rows the
# Runnel run stored, already typed in memory, one row per statement and 32 (as the loader
# writes columnar batches). The goal of 1.8× `.import` is reachable only below that ceiling.
#
#   scripts/bench/batch-sqlite.sh [ROWS...]     default: 1000000 4000000
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
SIZES=("${@:-1000000 4000000}")
[ $# -gt 0 ] || SIZES=(1000000 4000000)
WORK="$(mktemp -d /tmp/runnel-bench.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
command -v sqlite3 >/dev/null || { apt-get install -y sqlite3 >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y sqlite3 >/dev/null; }; }
[ -x /usr/bin/time ] || { apt-get install -y time >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y time >/dev/null; }; }

source "$(dirname "${BASH_SOURCE[0]}")/binary.sh"
source "$(dirname "${BASH_SOURCE[0]}")/sqlite_ceiling.sh"
BIN="$(bench_binary runnel-batch)"
sqlite_ceiling_build "$WORK"
UPSERT="$(sqlite_upsert_sql orders order_id updated_at order_id customer_name customer_email country status amount discount ordered_at updated_at)"

TABLE='CREATE TABLE orders (order_id INTEGER, customer_name TEXT, customer_email TEXT, country TEXT, status TEXT,
  amount REAL, discount REAL, ordered_at TEXT, updated_at TEXT, PRIMARY KEY (order_id));'

cat >"$WORK/pipeline.yaml" <<'SPEC'
pipeline: bench-orders
extract: {type: csv, path: orders.csv}
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

# Peak RSS (KiB) and wall seconds of a command, from GNU time.
measure() {
    /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" >/dev/null 2>"$WORK/stderr.txt" || { cat "$WORK/stderr.txt"; return 1; }
    cat "$WORK/time.txt"
}

printf "\n%-9s %-26s %12s %10s %12s\n" rows tool "rows/s" "seconds" "peak RSS"
for n in "${SIZES[@]}"; do
    python3 scripts/bench/generate_orders.py "$n" >"$WORK/orders.csv"
    rm -f "$WORK/ref.db" "$WORK/runnel.db"*
    sqlite3 "$WORK/ref.db" "$TABLE"
    read -r ref_s ref_kb < <(measure sqlite3 "$WORK/ref.db" -cmd ".mode csv" ".import --skip 1 $WORK/orders.csv orders")
    sqlite3 "$WORK/runnel.db" "$TABLE"
    read -r run_s run_kb < <(measure "$BIN" run "$WORK/pipeline.yaml" --no-progress)
    loaded=$(sqlite3 "$WORK/runnel.db" "SELECT count(*) FROM orders")
    [ "$loaded" -eq "$n" ] || { echo "runnel loaded $loaded of $n rows"; exit 1; }
    ref_rate=$(python3 -c "print(round($n / $ref_s))")
    run_rate=$(python3 -c "print(round($n / $run_s))")
    printf "%-9s %-26s %12s %10s %9s MiB\n" "$n" "sqlite3 .import" "$ref_rate" "$ref_s" "$((ref_kb / 1024))"
    printf "%-9s %-26s %12s %10s %9s MiB\n" "$n" "runnel-batch (cast+valid.)" "$run_rate" "$run_s" "$((run_kb / 1024))"
    printf "%-9s ratio runnel / .import: %s\n" "$n" "$(python3 -c "print(round($ref_s / $run_s, 2))")"
    for k in 1 32; do
        read -r _ ceil_s ceil_rate < <(sqlite_ceiling "$WORK" "$WORK/runnel.db" orders 20000 "$k" "$TABLE" "$UPSERT")
        printf "%-9s %-26s %12s %10s   (runnel / ceiling %s, ceiling / .import %s)\n" "$n" "store ceiling, $k/statement" \
            "$ceil_rate" "$ceil_s" "$(python3 -c "print(round($ceil_s / $run_s, 2))")" "$(python3 -c "print(round($ref_s / $ceil_s, 2))")"
    done
done
