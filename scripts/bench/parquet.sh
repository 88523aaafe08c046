#!/usr/bin/env bash
# Benchmark (not a test): orders CSV → cast → Parquet (zstd), with runnel-batch (the image's
# release binary) side by side in one run with DuckDB (`COPY (SELECT … casts) TO … (FORMAT
# parquet, COMPRESSION zstd)`, one thread and every thread) and pyarrow (`pyarrow.csv.read_csv` with
# the same types → `pq.write_table`, zstd). Reports rows/s, the ratios to DuckDB, peak RSS (which
# must not grow from 1M to 4M rows) and the bytes written beside DuckDB's file. Then the way back:
# Parquet → SQLite upsert by key (runnel-batch) beside pyarrow + sqlite3 `executemany` of the same
# rows into the same table shape.
#
#   scripts/bench/parquet.sh [ROWS...]        default: 1000000 4000000
#   RUNNEL_BENCH_BATCH=N                       records per batch (= rows per part file), default 200000
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
SIZES=("$@")
[ $# -gt 0 ] || SIZES=(1000000 4000000)
BATCH="${RUNNEL_BENCH_BATCH:-200000}"
WORK="$(mktemp -d /tmp/runnel-bench-parquet.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
[ -x /usr/bin/time ] || { apt-get install -y time >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y time >/dev/null; }; }
VENV="$ROOT/.venv-bench"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c "import duckdb, pyarrow" 2>/dev/null || "$VENV/bin/pip" install -q duckdb pyarrow

source "$(dirname "${BASH_SOURCE[0]}")/binary.sh"
BIN="$(bench_binary runnel-batch)"

cat >"$WORK/to-parquet.yaml" <<SPEC
pipeline: bench-parquet
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
load: {type: parquet, path: parts, compression: zstd}
checkpoint: {type: file, path: checkpoints}
dead_letter: {type: jsonl, path: dead}
batching: {max_records: $BATCH}
SPEC

cat >"$WORK/to-sqlite.yaml" <<SPEC
pipeline: bench-parquet-sqlite
extract: {type: parquet, path: parts/*.parquet}
load: {type: sqlite, path: runnel.db, table: orders, key: [order_id], version: updated_at}
checkpoint: {type: sqlite, path: runnel.db}
dead_letter: {type: jsonl, path: dead-sqlite}
batching: {max_records: 20000}
SPEC

cat >"$WORK/duck.py" <<'PY'
import sys, duckdb
src, dst, threads = sys.argv[1], sys.argv[2], sys.argv[3]
con = duckdb.connect()
if threads != "all":
    con.execute(f"SET threads = {int(threads)}")
con.execute(f"""COPY (
  SELECT order_id::BIGINT AS order_id, customer_name, customer_email, country, status, amount::DOUBLE AS amount,
         nullif(nullif(discount, 'NA'), '')::DOUBLE AS discount, strptime(ordered_at, '%Y-%m-%d')::TIMESTAMPTZ AS ordered_at,
         updated_at::TIMESTAMPTZ AS updated_at
  FROM read_csv('{src}', header = true, all_varchar = true)
) TO '{dst}' (FORMAT parquet, COMPRESSION zstd)""")
PY

cat >"$WORK/arrow.py" <<'PY'
import sys
import pyarrow as pa, pyarrow.compute as compute, pyarrow.csv as pc, pyarrow.parquet as pq
types = {"order_id": pa.int64(), "amount": pa.float64(), "discount": pa.float64(),
         "ordered_at": pa.timestamp("us"), "updated_at": pa.timestamp("us", tz="UTC")}
t = pc.read_csv(sys.argv[1], convert_options=pc.ConvertOptions(column_types=types, null_values=["NA", ""],
                timestamp_parsers=["%Y-%m-%d", pc.ISO8601]))
# A date has no zone: read as local time, then taken as UTC like the other two tools do.
i = t.schema.get_field_index("ordered_at")
t = t.set_column(i, "ordered_at", compute.assume_timezone(t["ordered_at"], "UTC"))
pq.write_table(t, sys.argv[2], compression="zstd")
PY

cat >"$WORK/arrow_sqlite.py" <<'PY'
import sys, glob, sqlite3
import pyarrow.parquet as pq
con = sqlite3.connect(sys.argv[2])
con.execute("PRAGMA journal_mode=WAL")
con.execute("""CREATE TABLE IF NOT EXISTS orders (order_id INTEGER PRIMARY KEY, customer_name TEXT, customer_email TEXT,
  country TEXT, status TEXT, amount REAL, discount REAL, ordered_at TEXT, updated_at TEXT)""")
sql = """INSERT INTO orders VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(order_id) DO UPDATE SET
  customer_name=excluded.customer_name, customer_email=excluded.customer_email, country=excluded.country,
  status=excluded.status, amount=excluded.amount, discount=excluded.discount, ordered_at=excluded.ordered_at,
  updated_at=excluded.updated_at WHERE excluded.updated_at >= orders.updated_at"""
for path in sorted(glob.glob(sys.argv[1])):
    for batch in pq.ParquetFile(path).iter_batches(batch_size=20000):
        cols = batch.to_pydict()
        ts = lambda v: None if v is None else v.isoformat()
        rows = zip(cols["order_id"], cols["customer_name"], cols["customer_email"], cols["country"], cols["status"],
                   cols["amount"], cols["discount"], map(ts, cols["ordered_at"]), map(ts, cols["updated_at"]))
        with con:
            con.executemany(sql, rows)
print(con.execute("SELECT count(*) FROM orders").fetchone()[0])
PY

# Wall seconds and peak RSS (KiB) of a command, from GNU time.
measure() {
    /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" >"$WORK/stdout.txt" 2>"$WORK/stderr.txt" || { cat "$WORK/stderr.txt"; return 1; }
    cat "$WORK/time.txt"
}
ratio() { python3 -c "print(round($1 / $2, 2))"; }
rate() { python3 -c "print(round($1 / $2))"; }
bytes_of() { du -cb "$@" | tail -1 | cut -f1; }

printf "\n%-9s %-34s %12s %9s %10s %12s\n" rows tool "rows/s" seconds "peak RSS" "bytes"
for n in "${SIZES[@]}"; do
    python3 scripts/bench/generate_orders.py "$n" >"$WORK/orders.csv"
    (cd "$WORK" && rm -rf parts checkpoints dead runnel.db* dead-sqlite duck*.parquet arrow.parquet arrow.db*)
    read -r run_s run_kb < <(cd "$WORK" && measure "$BIN" run to-parquet.yaml --no-progress)
    read -r d1_s d1_kb < <(measure "$VENV/bin/python" "$WORK/duck.py" "$WORK/orders.csv" "$WORK/duck1.parquet" 1)
    read -r da_s da_kb < <(measure "$VENV/bin/python" "$WORK/duck.py" "$WORK/orders.csv" "$WORK/duck.parquet" all)
    read -r pa_s pa_kb < <(measure "$VENV/bin/python" "$WORK/arrow.py" "$WORK/orders.csv" "$WORK/arrow.parquet")
    # Every writer must have written every row, with the same sum (read back by DuckDB).
    check() { "$VENV/bin/python" -c "import duckdb,sys; print(*duckdb.sql(\"SELECT count(*), round(sum(amount), 2), count(discount) FROM read_parquet('$1')\").fetchall()[0])"; }
    want="$(check "$WORK/duck.parquet")"
    for f in "$WORK/parts/*.parquet" "$WORK/arrow.parquet"; do
        got="$(check "$f")"
        [ "$got" = "$want" ] || { echo "rows/sum/non-null discounts differ: $f has $got, DuckDB's $want"; exit 1; }
    done
    run_bytes=$(bytes_of "$WORK"/parts/*.parquet)
    duck_bytes=$(bytes_of "$WORK/duck.parquet")
    for row in "runnel-batch (batches of $BATCH):$run_s:$run_kb:$run_bytes" "duckdb (1 thread):$d1_s:$d1_kb:$(bytes_of "$WORK/duck1.parquet")" \
        "duckdb ($(nproc) threads):$da_s:$da_kb:$duck_bytes" "pyarrow read_csv+write_table:$pa_s:$pa_kb:$(bytes_of "$WORK/arrow.parquet")"; do
        IFS=: read -r tool s kb b <<<"$row"
        printf "%-9s %-34s %12s %9s %6s MiB %12s\n" "$n" "$tool" "$(rate "$n" "$s")" "$s" "$((kb / 1024))" "$b"
    done
    printf "%-9s CSV → Parquet: runnel / duckdb all threads %s (goal >= 1.0), / one thread %s, / pyarrow %s; bytes runnel / duckdb %s\n" \
        "$n" "$(ratio "$da_s" "$run_s")" "$(ratio "$d1_s" "$run_s")" "$(ratio "$pa_s" "$run_s")" "$(ratio "$run_bytes" "$duck_bytes")"

    read -r rs_s rs_kb < <(cd "$WORK" && measure "$BIN" run to-sqlite.yaml --no-progress)
    read -r ps_s ps_kb < <(measure "$VENV/bin/python" "$WORK/arrow_sqlite.py" "$WORK/parts/*.parquet" "$WORK/arrow.db")
    loaded=$(python3 -c "import sqlite3; print(sqlite3.connect('$WORK/runnel.db').execute('SELECT count(*) FROM orders').fetchone()[0])")
    [ "$loaded" -eq "$n" ] || { echo "runnel loaded $loaded of $n rows into SQLite"; exit 1; }
    printf "%-9s %-34s %12s %9s %6s MiB\n" "$n" "runnel-batch parquet → sqlite" "$(rate "$n" "$rs_s")" "$rs_s" "$((rs_kb / 1024))"
    printf "%-9s %-34s %12s %9s %6s MiB\n" "$n" "pyarrow + sqlite3 executemany" "$(rate "$n" "$ps_s")" "$ps_s" "$((ps_kb / 1024))"
    printf "%-9s Parquet → SQLite upsert: runnel / pyarrow+executemany %s\n" "$n" "$(ratio "$ps_s" "$rs_s")"
done
