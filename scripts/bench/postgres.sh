#!/usr/bin/env bash
# Benchmark (not a test): PostgreSQL ingest ceiling vs runnel-batch on the same 1M-row CSV.
#
#   scripts/bench/postgres.sh [ROWS]        (default 1,000,000)
#
#   1. psql -c "\copy bench.copy_target FROM orders.csv CSV HEADER"  — the ingest ceiling: a typed
#      table with a primary key, no casting, no validation, no idempotence.
#   2. runnel-batch run (the image binary): CSV parse, cast, validate, then per batch in one
#      transaction the upsert + checkpoint into an identical, empty table: new keys, so each batch
#      takes the insert fast path (COPY straight into the table under a savepoint).
#   3. the same again after `checkpoint reset`: every key exists, so every batch goes through
#      COPY into staging + guarded ON CONFLICT upsert (a replay, or an update stream).
#   4. the extract direction: `psql \copy (SELECT … ORDER BY updated_at, order_id) TO file.csv` (the
#      read ceiling: one ordered scan, no paging, no checkpoint) vs runnel-batch reading the same
#      table in keyset pages ordered by (cursor, key) into CSV part files, with the index the README
#      names on (updated_at, order_id) (goal >= 0.5). Set RUNNEL_BENCH_NO_INDEX=1 to see the cost
#      of a missing index (each page then scans and sorts the table; the run warns).
#
# Needs a PostgreSQL: $RUNNEL_BENCH_PG_URL, or the test server's RUNNEL_TEST_PG_* variables
# (scripts/services/postgres.sh), or a throwaway cluster started here under $TMPDIR.
# Prints rows/s of each and the ratios (goals: >= 1.0 for the load into the empty table, >= 0.5
# for the replay). Batches of 50,000 rows (RUNNEL_BENCH_BATCH to change): each batch is a
# transaction whose COPY the server starts only when the batch is encoded, and 10,000-row batches
# measured 0.95 of \copy where 50,000 measured 1.12 (medians of five).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS="${1:-1000000}"
WORK="${RUNNEL_BENCH_DIR:-/tmp/runnel-bench-postgres}"
mkdir -p "$WORK"

started_here=""
if [ -z "${RUNNEL_BENCH_PG_URL:-}" ]; then
    if [ -z "${RUNNEL_TEST_PG_PORT:-}" ] || ! pg_isready -q -h "${RUNNEL_TEST_PG_HOST:-127.0.0.1}" -p "$RUNNEL_TEST_PG_PORT" 2>/dev/null; then
        # shellcheck source=../services/postgres.sh
        source scripts/services/postgres.sh
        RUNNEL_TEST_PG_PORT="${RUNNEL_TEST_PG_PORT:-5433}" postgres_start "$WORK/pg"
        started_here=1
    fi
    RUNNEL_BENCH_PG_URL="postgres://${RUNNEL_TEST_PG_USER:-runnel}:${RUNNEL_TEST_PG_PASSWORD:-runnel-test-secret}@${RUNNEL_TEST_PG_HOST:-127.0.0.1}:${RUNNEL_TEST_PG_PORT:-5433}/${RUNNEL_TEST_PG_DATABASE:-runnel}"
fi
cleanup() { if [ -n "$started_here" ]; then postgres_stop "$WORK/pg"; fi; }
trap cleanup EXIT

# Connection parts for the spec (the password goes through the environment, as from a Secret).
proto_less="${RUNNEL_BENCH_PG_URL#postgres://}"
creds="${proto_less%%@*}"; hostpart="${proto_less#*@}"
export BENCH_PG_USER="${creds%%:*}" BENCH_PG_PASSWORD="${creds#*:}"
hostport="${hostpart%%/*}"; export BENCH_PG_DB="${hostpart#*/}"
export BENCH_PG_HOST="${hostport%%:*}" BENCH_PG_PORT="${hostport##*:}"

source "$(dirname "${BASH_SOURCE[0]}")/binary.sh"
BIN="$(bench_binary runnel-batch)"

CSV="$WORK/orders-$ROWS.csv"
if [ ! -f "$CSV" ]; then
    echo "bench: generating $ROWS rows into $CSV" >&2
    # The generator the other benchmarks use (deterministic, 9 columns like the quickstart's).
    python3 scripts/bench/generate_orders.py "$ROWS" > "$CSV"
fi

DDL="(order_id bigint PRIMARY KEY, customer_name text, customer_email text, country text, status text,
      amount double precision, discount double precision, ordered_at timestamptz, updated_at timestamptz)"
psql -q -v ON_ERROR_STOP=1 "$RUNNEL_BENCH_PG_URL" <<SQL
DROP SCHEMA IF EXISTS bench CASCADE;
CREATE SCHEMA bench;
CREATE TABLE bench.copy_target $DDL;
CREATE TABLE bench.runnel_target $DDL;
SQL

now() { date +%s.%N; }

echo "bench: psql \\copy …" >&2
t0=$(now)
psql -q -v ON_ERROR_STOP=1 "$RUNNEL_BENCH_PG_URL" -c "\\copy bench.copy_target FROM '$CSV' WITH (FORMAT csv, HEADER true)"
t1=$(now)
copy_s=$(echo "$t1 - $t0" | bc -l)

# The connection section both specs use (the password stays a reference to the environment).
CONNECTION='  connection:
    host: ${BENCH_PG_HOST}
    port: ${BENCH_PG_PORT}
    database: ${BENCH_PG_DB}
    user: ${BENCH_PG_USER}
    password: ${BENCH_PG_PASSWORD}
    tls: disable'
SPEC="$WORK/bench.yaml"
cat > "$SPEC" <<YAML
pipeline: bench-postgres
extract:
  type: csv
  path: $CSV
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
  on_invalid: drop
  rules:
    - {field: order_id, required: true, type: int, min: 1}
    - {field: amount, required: true, type: double, min: 0}
    - {field: status, required: true, one_of: [pending, paid, shipped, cancelled, refunded]}
load:
  type: postgres
$CONNECTION
  schema: bench
  table: runnel_target
  key: [order_id]
  version: updated_at
  columns: {order_id: bigint, customer_name: text, customer_email: text, country: text, status: text,
            amount: double precision, discount: double precision, ordered_at: timestamptz, updated_at: timestamptz}
checkpoint:
  type: postgres
  schema: bench
batching:
  max_records: ${RUNNEL_BENCH_BATCH:-50000}
YAML

echo "bench: runnel-batch run …" >&2
t0=$(now)
"$BIN" run "$SPEC" --no-progress --log-level warning >"$WORK/runnel-summary.txt"
t1=$(now)
runnel_s=$(echo "$t1 - $t0" | bc -l)

echo "bench: runnel-batch run again after checkpoint reset (every key exists) …" >&2
"$BIN" checkpoint reset "$SPEC" >/dev/null
t0=$(now)
"$BIN" run "$SPEC" --no-progress --log-level warning >"$WORK/runnel-summary-replay.txt"
t1=$(now)
replay_s=$(echo "$t1 - $t0" | bc -l)

copied=$(psql -Atq "$RUNNEL_BENCH_PG_URL" -c "SELECT count(*) FROM bench.copy_target")
loaded=$(psql -Atq "$RUNNEL_BENCH_PG_URL" -c "SELECT count(*) FROM bench.runnel_target")
diff=$(psql -Atq "$RUNNEL_BENCH_PG_URL" -c "SELECT count(*) FROM (SELECT * FROM bench.copy_target EXCEPT SELECT * FROM bench.runnel_target) x")

copy_rps=$(echo "$copied / $copy_s" | bc -l)
runnel_rps=$(echo "$loaded / $runnel_s" | bc -l)
printf '%-34s %10s rows %8.2f s %10.0f rows/s\n' "psql \\copy (ingest ceiling)" "$copied" "$copy_s" "$copy_rps"
printf '%-34s %10s rows %8.2f s %10.0f rows/s\n' "runnel-batch (cast+validate+upsert)" "$loaded" "$runnel_s" "$runnel_rps"
replay_rps=$(echo "$loaded / $replay_s" | bc -l)
printf '%-34s %10s rows %8.2f s %10.0f rows/s\n' "runnel-batch, replay (all upserts)" "$loaded" "$replay_s" "$replay_rps"
printf 'ratio runnel / copy: %.2f new keys (goal >= 1.0), %.2f replay; rows differing between the tables: %s\n' \
    "$(echo "$runnel_rps / $copy_rps" | bc -l)" "$(echo "$replay_rps / $copy_rps" | bc -l)" "$diff"

# 4. The extract direction.
if [ -z "${RUNNEL_BENCH_NO_INDEX:-}" ]; then
    psql -q -v ON_ERROR_STOP=1 "$RUNNEL_BENCH_PG_URL" -c "CREATE INDEX ON bench.copy_target (updated_at, order_id)"
fi
psql -q -v ON_ERROR_STOP=1 "$RUNNEL_BENCH_PG_URL" -c "ANALYZE bench.copy_target"
echo "bench: psql \\copy (SELECT … ORDER BY) TO …" >&2
t0=$(now)
psql -q -v ON_ERROR_STOP=1 "$RUNNEL_BENCH_PG_URL" \
    -c "\\copy (SELECT * FROM bench.copy_target ORDER BY updated_at, order_id) TO '$WORK/extract-copy.csv' WITH (FORMAT csv, HEADER true)"
t1=$(now)
copy_out_s=$(echo "$t1 - $t0" | bc -l)

rm -rf "$WORK/extract-parts" "$WORK/extract-checkpoints" "$WORK/extract-dead-letters"
EXTRACT_SPEC="$WORK/bench-extract.yaml"
cat > "$EXTRACT_SPEC" <<YAML
pipeline: bench-postgres-extract
extract:
  type: postgres
$CONNECTION
  schema: bench
  table: copy_target
  cursor: updated_at
  key: order_id
load:
  type: csv
  path: $WORK/extract-parts
checkpoint:
  type: file
  path: $WORK/extract-checkpoints
dead_letter:
  type: jsonl
  path: $WORK/extract-dead-letters
batching:
  max_records: ${RUNNEL_BENCH_BATCH:-10000}
YAML
echo "bench: runnel-batch run (postgres → CSV parts) …" >&2
t0=$(now)
"$BIN" run "$EXTRACT_SPEC" --no-progress --log-level warning >"$WORK/runnel-summary-extract.txt"
t1=$(now)
extract_s=$(echo "$t1 - $t0" | bc -l)
extracted=$(cat "$WORK"/extract-parts/*.csv | grep -vc '^order_id,' || true)
copy_out_rps=$(echo "$copied / $copy_out_s" | bc -l)
extract_rps=$(echo "$extracted / $extract_s" | bc -l)
printf '%-34s %10s rows %8.2f s %10.0f rows/s\n' "psql \\copy (SELECT) TO (read ceiling)" "$copied" "$copy_out_s" "$copy_out_rps"
printf '%-34s %10s rows %8.2f s %10.0f rows/s\n' "runnel-batch extract (keyset pages)" "$extracted" "$extract_s" "$extract_rps"
printf 'ratio runnel / copy, extract: %.2f (goal >= 0.50)%s\n' "$(echo "$extract_rps / $copy_out_rps" | bc -l)" \
    "${RUNNEL_BENCH_NO_INDEX:+ — without the index on (updated_at, order_id)}"
