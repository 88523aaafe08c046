#!/usr/bin/env bash
# Benchmark (not a test): PostgreSQL change data capture (`postgres_cdc`) against a plain Python
# logical-replication consumer doing the same work in the same run (scripts/bench/cdc_reference.py,
# psycopg2 + wal2json), on a private PostgreSQL (scripts/services/postgres.sh) started here.
#
#   scripts/bench/cdc.sh                                   # N=200000, RATE_SECONDS=20, SNAPSHOT_ROWS=5000000
#   N=20000 RATE_SECONDS=5 SNAPSHOT_ROWS=200000 scripts/bench/cdc.sh
#   RUNNEL_BENCH_BIN=/path/to/runnel scripts/bench/cdc.sh  # measure a built multi-call binary
#
# Measures:
#   1. drain throughput, changes/s: the source table bench_cdc gets N changes (60% inserts in
#      1,000-row transactions, then 30% updates and 10% deletes by key, 1,000 per transaction,
#      written by SQL with generate_series) after four slots exist: two of Runnel's (pgoutput,
#      created by a first `runnel-batch run`) and two of the reference's (wal2json). Then, for
#      SQLite (synchronous FULL, WAL) and for PostgreSQL (a table in another database of the same
#      server), the Python reference and `runnel-batch run` each drain their slot until they pass
#      the WAL position current at their start: keyed by id, version the commit LSN (`_lsn`),
#      the checkpoint in the target's transaction, max_records BATCH (the reference cuts batches
#      of the same size, applies each with `executemany` of the guarded upsert and delete, commits
#      with its checkpoint, then confirms the slot). Wall time of each process; the targets'
#      row counts must equal the source's and both must have read N changes. Ratio Runnel/Python
#      (goal >= 3x). The reference runs first: Runnel then also reads past the reference's WAL.
#   2. commit-to-target latency: `runnel-stream` (max_linger 10ms) into a pre-created PostgreSQL
#      table whose loaded_at column defaults to clock_timestamp() (the moment the load writes the
#      row; its commit follows), while a writer inserts 1,000 rows/s for RATE_SECONDS, PER_TX rows
#      per transaction (default 1); latency = loaded_at - _commit_time (the source commit's
#      time), p50/p99/max over every row (goal: p99 <= 100 ms).
#   3. snapshot throughput, rows/s: bench_snap with SNAPSHOT_ROWS rows (one INSERT … SELECT
#      generate_series, then VACUUM ANALYZE); `runnel-batch run --snapshot --shard 0/1` into an
#      empty PostgreSQL table, then `--shard 0/4` … `3/4` at once (separate processes) into
#      another empty one (goal: 4 shards >= 1.5x one shard; see nproc); beside them the reference
#      reading the table with a server-side cursor and applying it with executemany (one process).
#
# Environment: N, RATE_SECONDS, SNAPSHOT_ROWS, BATCH (max_records and the reference's batch,
# default 5000), PER_TX, RUNNEL_BENCH_BIN, RUNNEL_BENCH_PG_PORT (the private server's port,
# default 5434), PY_PG_API (executemany, the default, or execute_batch: psycopg2's executemany
# is one round trip per row; execute_batch sends pages of 100).
# The private server runs with autovacuum off so that one run's target is not vacuumed while the
# next one is timed; CHECKPOINT before each timed run. Slots and the server go on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
N="${N:-200000}"
RATE_SECONDS="${RATE_SECONDS:-20}"
SNAPSHOT_ROWS="${SNAPSHOT_ROWS:-5000000}"
BATCH="${BATCH:-5000}"
PER_TX="${PER_TX:-1}"
PY_PG_API="${PY_PG_API:-executemany}"
PORT="${RUNNEL_BENCH_PG_PORT:-5434}"
WORK="$(mktemp -d /tmp/runnel-bench-cdc.XXXXXX)"
chmod 0755 "$WORK"   # the server runs as postgres: it must reach $WORK/pg
STREAM_PID=""
PG_STARTED=""

# shellcheck source=../services/postgres.sh
source scripts/services/postgres.sh

admin() { psql -qXAt -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres -d runnel "$@"; }
src() { psql -qXAt -v ON_ERROR_STOP=1 "$SRC_URL" "$@"; }
dst() { psql -qXAt -v ON_ERROR_STOP=1 "$DST_URL" "$@"; }
now() { date +%s.%N; }

cleanup() {
    if [ -n "$STREAM_PID" ]; then
        kill -TERM "$STREAM_PID" 2>/dev/null || true
        sleep 1
        kill -9 "$STREAM_PID" 2>/dev/null || true
    fi
    if [ -n "$PG_STARTED" ]; then
        admin -c "SELECT count(pg_drop_replication_slot(slot_name)) FROM pg_replication_slots WHERE NOT active" \
            >/dev/null 2>&1 || true
        postgres_stop "$WORK/pg"
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

RUNNEL_TEST_PG_PORT="$PORT" postgres_start "$WORK/pg"
PG_STARTED=1
postgres_install_wal2json || { echo "bench: could not install wal2json" >&2; exit 1; }
admin -c "ALTER SYSTEM SET autovacuum = off" -c "SELECT pg_reload_conf()" >/dev/null
# The password reaches the specs through the environment, as from a Secret.
export BENCH_PG_PASSWORD="$RUNNEL_TEST_PG_PASSWORD"
SRC_URL="postgres://runnel:$BENCH_PG_PASSWORD@127.0.0.1:$PORT/runnel"
DST_URL="postgres://runnel:$BENCH_PG_PASSWORD@127.0.0.1:$PORT/bench_target"
src -c "CREATE DATABASE bench_target"

source "$(dirname "${BASH_SOURCE[0]}")/binary.sh"
BATCH_BIN="$(bench_binary runnel-batch)"
STREAM_BIN="$(bench_binary runnel-stream)"

echo "==> Python reference: venv with psycopg2-binary" >&2
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install --quiet psycopg2-binary >&2
PY="$WORK/venv/bin/python"
REF="$ROOT/scripts/bench/cdc_reference.py"

# ---------------------------------------------------------------------------------------------
# Specs

connection() { # database
    echo "{host: 127.0.0.1, port: $PORT, database: $1, user: runnel, password: \"\${BENCH_PG_PASSWORD}\", tls: disable}"
}
COLUMNS="{id: int, account: int, amount: double, note: string, updated_at: timestamp,
            _table: string, _lsn: int, _index: int, _commit_time: timestamp}"

spec() { # pipeline, slot, publication, source table, target (sqlite:PATH or postgres), table, linger
    cat <<EOF
pipeline: $1
extract:
  type: postgres_cdc
  connection: $(connection runnel)
  publication: $3
  slot: $2
  tables: [$4]
  heartbeat: 200ms
EOF
    case "$5" in
    sqlite:*)
        cat <<EOF
load: {type: sqlite, path: ${5#sqlite:}, table: $6, key: [id], version: _lsn, synchronous: FULL}
checkpoint: {type: sqlite}
dead_letter: {type: sqlite}
EOF
        ;;
    postgres)
        cat <<EOF
load:
  type: postgres
  connection: $(connection bench_target)
  table: $6
  key: [id]
  version: _lsn
  columns: $COLUMNS
checkpoint: {type: postgres}
dead_letter: {type: postgres}
EOF
        ;;
    esac
    echo "batching: {max_records: $BATCH, max_linger: $7}"
}

run_batch() { # spec, log name, extra args…
    local spec="$1" log="$2"
    shift 2
    "$BATCH_BIN" run "$spec" --no-progress --log-level warning "$@" >"$WORK/$log.out" 2>"$WORK/$log.err" || {
        echo "bench: runnel-batch run $spec $* failed ($?); stderr:" >&2
        tail -20 "$WORK/$log.err" >&2
        exit 1
    }
}

summary_count() { # log name, line label: the number on the summary's line (e.g. read)
    awk -v label="$2" '$1 == label { gsub(",", "", $2); print $2; exit }' "$WORK/$1.out"
}

expect() { # what, expected, found
    [ "$2" = "$3" ] || { echo "bench: $1: expected $2, found $3" >&2; exit 1; }
}

# ---------------------------------------------------------------------------------------------
# 1. Drain throughput

INSERTS=$((N * 6 / 10))
UPDATES=$((N * 3 / 10))
DELETES=$((N - INSERTS - UPDATES))
ROWS_LEFT=$((INSERTS - DELETES))

src -c "CREATE TABLE bench_cdc (id bigint PRIMARY KEY, account integer, amount double precision, note text,
                                updated_at timestamptz)"
spec bench-cdc-sqlite runnel_cdc_sqlite bench_pub public.bench_cdc "sqlite:$WORK/runnel.db" runnel_cdc 20ms \
    >"$WORK/drain-sqlite.yaml"
spec bench-cdc-postgres runnel_cdc_postgres bench_pub public.bench_cdc postgres runnel_cdc 20ms \
    >"$WORK/drain-postgres.yaml"

echo "==> slots: Runnel's (a first runnel-batch run creates the publication and the slot), the reference's" >&2
run_batch "$WORK/drain-sqlite.yaml" create-sqlite
run_batch "$WORK/drain-postgres.yaml" create-postgres
src -c "SELECT pg_create_logical_replication_slot('py_cdc_sqlite', 'wal2json')" \
    -c "SELECT pg_create_logical_replication_slot('py_cdc_postgres', 'wal2json')" >/dev/null
"$PY" "$REF" prepare sqlite "$WORK/python.db" py_cdc
"$PY" "$REF" prepare postgres "$DST_URL" py_cdc

echo "==> writing $N changes: $INSERTS inserts, $UPDATES updates, $DELETES deletes" >&2
wal_before=$(src -c "SELECT pg_current_wal_lsn()")
src <<SQL
DO \$\$
DECLARE
    chunk constant bigint := 1000;
    s bigint;
BEGIN
    s := 1;
    WHILE s <= $INSERTS LOOP
        INSERT INTO bench_cdc SELECT g, g % 1000, g * 0.25, 'note ' || g, now()
        FROM generate_series(s, least(s + chunk - 1, $INSERTS)) g;
        COMMIT;
        s := s + chunk;
    END LOOP;
    s := 1;   -- the even ids
    WHILE s <= $UPDATES LOOP
        UPDATE bench_cdc b SET amount = b.amount + 1, note = b.note || ' updated', updated_at = now()
        FROM generate_series(s, least(s + chunk - 1, $UPDATES)) g WHERE b.id = 2 * g;
        COMMIT;
        s := s + chunk;
    END LOOP;
    s := 1;   -- the odd ids
    WHILE s <= $DELETES LOOP
        DELETE FROM bench_cdc b USING generate_series(s, least(s + chunk - 1, $DELETES)) g WHERE b.id = 2 * g - 1;
        COMMIT;
        s := s + chunk;
    END LOOP;
END
\$\$;
SQL
wal_mib=$(src -c "SELECT round(pg_wal_lsn_diff(pg_current_wal_lsn(), '$wal_before') / 1048576.0, 1)")
expect "rows in bench_cdc" "$ROWS_LEFT" "$(src -c "SELECT count(*) FROM bench_cdc")"

# Runnel's columns and the reference's that must hold the same values (the version is the commit LSN).
R_COLS="id, account, amount, note, updated_at, _lsn"
P_COLS="id, account, amount, note, updated_at, version"

drain_python() { # target kind, place, slot
    local t0 t1 applied
    admin -c "CHECKPOINT"
    t0=$(now)
    applied=$("$PY" "$REF" drain "$SRC_URL" "$3" public.bench_cdc "$BATCH" "$1" "$2" py_cdc "$PY_PG_API")
    t1=$(now)
    expect "changes the reference applied ($1)" "$N" "$applied"
    echo "$t1 - $t0" | bc -l
}

drain_runnel() { # spec, log name
    local t0 t1
    admin -c "CHECKPOINT"
    t0=$(now)
    run_batch "$1" "$2"
    t1=$(now)
    expect "changes runnel-batch read ($2)" "$N" "$(summary_count "$2" read)"
    echo "$t1 - $t0" | bc -l
}

echo "==> drain into SQLite: Python reference" >&2
py_sqlite_s=$(drain_python sqlite "$WORK/python.db" py_cdc_sqlite)
expect "rows in the reference's SQLite table" "$ROWS_LEFT" "$(sqlite3 "$WORK/python.db" "SELECT count(*) FROM py_cdc")"
echo "==> drain into SQLite: runnel-batch" >&2
rn_sqlite_s=$(drain_runnel "$WORK/drain-sqlite.yaml" drain-sqlite)
expect "rows in Runnel's SQLite table" "$ROWS_LEFT" "$(sqlite3 "$WORK/runnel.db" "SELECT count(*) FROM runnel_cdc")"
expect "rows differing between Runnel's and the reference's SQLite targets" 0 "$(sqlite3 "$WORK/runnel.db" \
    "ATTACH '$WORK/python.db' AS p; SELECT count(*) FROM (SELECT * FROM (SELECT $R_COLS FROM runnel_cdc EXCEPT SELECT $P_COLS FROM p.py_cdc)
     UNION ALL SELECT * FROM (SELECT $P_COLS FROM p.py_cdc EXCEPT SELECT $R_COLS FROM runnel_cdc))")"

echo "==> drain into PostgreSQL: Python reference ($PY_PG_API)" >&2
py_pg_s=$(drain_python postgres "$DST_URL" py_cdc_postgres)
expect "rows in the reference's PostgreSQL table" "$ROWS_LEFT" "$(dst -c "SELECT count(*) FROM py_cdc")"
echo "==> drain into PostgreSQL: runnel-batch" >&2
rn_pg_s=$(drain_runnel "$WORK/drain-postgres.yaml" drain-postgres)
expect "rows in Runnel's PostgreSQL table" "$ROWS_LEFT" "$(dst -c "SELECT count(*) FROM runnel_cdc")"
# The same rows, column for column and version for version, in Runnel's and the reference's targets.
diff_rows=$(dst -c "SELECT count(*) FROM ((SELECT $R_COLS FROM runnel_cdc EXCEPT SELECT $P_COLS FROM py_cdc)
                    UNION ALL (SELECT $P_COLS FROM py_cdc EXCEPT SELECT $R_COLS FROM runnel_cdc)) x")
expect "rows differing between Runnel's and the reference's PostgreSQL targets" 0 "$diff_rows"

# ---------------------------------------------------------------------------------------------
# 2. Commit-to-target latency at 1,000 changes/s

RATE=1000
RATE_ROWS=$((RATE * RATE_SECONDS))
src -c "CREATE TABLE bench_rate (id bigint PRIMARY KEY, account integer, amount double precision, note text,
                                 updated_at timestamptz)"
# Every column Runnel writes (the record's fields but _op, _unchanged and _key) and loaded_at.
dst -c "CREATE TABLE rate_target (id bigint PRIMARY KEY, account integer, amount double precision, note text,
                                  updated_at timestamptz, _table text, _lsn bigint, _index bigint,
                                  _commit_time timestamptz, _runnel_pending text,
                                  loaded_at timestamptz NOT NULL DEFAULT clock_timestamp())"
spec bench-cdc-rate runnel_rate rate_pub public.bench_rate postgres rate_target 10ms >"$WORK/rate.yaml"
run_batch "$WORK/rate.yaml" create-rate

echo "==> latency: runnel-stream, $RATE changes/s for $RATE_SECONDS s ($PER_TX per transaction), max_linger 10ms" >&2
"$STREAM_BIN" run "$WORK/rate.yaml" --log-level warning >"$WORK/stream.out" 2>"$WORK/stream.err" &
STREAM_PID=$!
for _ in $(seq 1 300); do
    kill -0 "$STREAM_PID" 2>/dev/null || { echo "bench: runnel-stream exited; stderr:" >&2; tail -20 "$WORK/stream.err" >&2; exit 1; }
    [ "$(src -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'runnel_rate' AND active")" = 1 ] && break
    sleep 0.1
done
writer_rate=$("$PY" "$REF" steady "$SRC_URL" bench_rate "$RATE" "$RATE_SECONDS" "$PER_TX")
loaded=0
for _ in $(seq 1 600); do
    loaded=$(dst -c "SELECT count(*) FROM rate_target")
    [ "$loaded" = "$RATE_ROWS" ] && break
    kill -0 "$STREAM_PID" 2>/dev/null || break
    sleep 0.1
done
expect "rows runnel-stream loaded" "$RATE_ROWS" "$loaded"
kill -TERM "$STREAM_PID"
wait "$STREAM_PID" || { echo "bench: runnel-stream exited with $? on SIGTERM; stderr:" >&2; tail -20 "$WORK/stream.err" >&2; exit 1; }
STREAM_PID=""
read -r lat_n p50 p99 pmax < <(dst -F ' ' -c "
    SELECT count(*), round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1),
           round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1), round(max(ms)::numeric, 1)
    FROM (SELECT extract(epoch FROM loaded_at - _commit_time::timestamptz) * 1000 AS ms FROM rate_target) x")

# ---------------------------------------------------------------------------------------------
# 3. Snapshot throughput

echo "==> snapshot: $SNAPSHOT_ROWS rows into bench_snap" >&2
src -c "CREATE TABLE bench_snap (id bigint PRIMARY KEY, account integer, amount double precision, note text,
                                 updated_at timestamptz)" \
    -c "INSERT INTO bench_snap SELECT g, g % 1000, g * 0.25, 'note ' || g, now() FROM generate_series(1, $SNAPSHOT_ROWS) g" \
    -c "VACUUM ANALYZE bench_snap"
spec bench-cdc-snap1 runnel_snap snap_pub public.bench_snap postgres snap_target1 20ms >"$WORK/snap1.yaml"
spec bench-cdc-snap4 runnel_snap snap_pub public.bench_snap postgres snap_target4 20ms >"$WORK/snap4.yaml"
# The snapshot needs the stream's slot: a plain run creates it (and the publication).
run_batch "$WORK/snap1.yaml" create-snap
"$PY" "$REF" prepare postgres "$DST_URL" py_snap

echo "==> snapshot: runnel-batch --snapshot --shard 0/1" >&2
admin -c "CHECKPOINT"
t0=$(now)
run_batch "$WORK/snap1.yaml" snap1 --snapshot --shard 0/1
t1=$(now)
snap1_s=$(echo "$t1 - $t0" | bc -l)
expect "rows in snap_target1" "$SNAPSHOT_ROWS" "$(dst -c "SELECT count(*) FROM snap_target1")"

echo "==> snapshot: runnel-batch --snapshot --shard 0/4 … 3/4 at once" >&2
admin -c "CHECKPOINT"
pids=()
t0=$(now)
for i in 0 1 2 3; do
    "$BATCH_BIN" run "$WORK/snap4.yaml" --snapshot --shard "$i/4" --no-progress --log-level warning \
        >"$WORK/snap4-$i.out" 2>"$WORK/snap4-$i.err" &
    pids[i]=$!
done
for i in 0 1 2 3; do
    wait "${pids[i]}" || { echo "bench: shard $i/4 failed ($?); stderr:" >&2; tail -20 "$WORK/snap4-$i.err" >&2; exit 1; }
done
t1=$(now)
snap4_s=$(echo "$t1 - $t0" | bc -l)
expect "rows in snap_target4" "$SNAPSHOT_ROWS" "$(dst -c "SELECT count(*) FROM snap_target4")"

echo "==> snapshot: Python reference ($PY_PG_API)" >&2
admin -c "CHECKPOINT"
t0=$(now)
py_rows=$("$PY" "$REF" snapshot "$SRC_URL" bench_snap "$BATCH" "$DST_URL" py_snap "$PY_PG_API")
t1=$(now)
py_snap_s=$(echo "$t1 - $t0" | bc -l)
expect "rows the reference loaded" "$SNAPSHOT_ROWS" "$py_rows"
expect "rows in py_snap" "$SNAPSHOT_ROWS" "$(dst -c "SELECT count(*) FROM py_snap")"

# ---------------------------------------------------------------------------------------------
# Summary

rate() { echo "$1 / $2" | bc -l; }
rn_sqlite=$(rate "$N" "$rn_sqlite_s"); py_sqlite=$(rate "$N" "$py_sqlite_s")
rn_pg=$(rate "$N" "$rn_pg_s"); py_pg=$(rate "$N" "$py_pg_s")
snap1=$(rate "$SNAPSHOT_ROWS" "$snap1_s"); snap4=$(rate "$SNAPSHOT_ROWS" "$snap4_s"); py_snap=$(rate "$SNAPSHOT_ROWS" "$py_snap_s")

printf '\npostgres_cdc benchmark (%s cores; %s changes: %s inserts, %s updates, %s deletes, %s MiB of WAL; batch %s)\n' \
    "$(nproc)" "$N" "$INSERTS" "$UPDATES" "$DELETES" "$wal_mib" "$BATCH"
printf '  %-31s %13s %16s %9s\n' "" "runnel" "python" "ratio"
printf '  %-31s %10.0f /s %13.0f /s %8.2fx   (%.2f s vs %.2f s)\n' "drain into SQLite, changes" \
    "$rn_sqlite" "$py_sqlite" "$(echo "$rn_sqlite / $py_sqlite" | bc -l)" "$rn_sqlite_s" "$py_sqlite_s"
printf '  %-31s %10.0f /s %13.0f /s %8.2fx   (%.2f s vs %.2f s; python %s)\n' "drain into PostgreSQL, changes" \
    "$rn_pg" "$py_pg" "$(echo "$rn_pg / $py_pg" | bc -l)" "$rn_pg_s" "$py_pg_s" "$PY_PG_API"
printf '  %-31s %10.0f /s %13.0f /s %8.2fx   (%.2f s vs %.2f s; %s rows)\n' "snapshot, 1 shard, rows" \
    "$snap1" "$py_snap" "$(echo "$snap1 / $py_snap" | bc -l)" "$snap1_s" "$py_snap_s" "$SNAPSHOT_ROWS"
printf '  %-31s %10.0f /s %16s %8.2fx   (%.2f s; the ratio is 4 shards / 1 shard)\n' "snapshot, 4 shards, rows" \
    "$snap4" "" "$(echo "$snap4 / $snap1" | bc -l)" "$snap4_s"
printf '  %-31s p50 %s ms, p99 %s ms, max %s ms over %s rows (writer: %s rows/s, %s per transaction)\n' \
    "latency at 1,000 changes/s" "$p50" "$p99" "$pmax" "$lat_n" "$writer_rate" "$PER_TX"
printf '  goals: drain >= 3x python, p99 <= 100 ms, 4-shard snapshot >= 1.5x one shard (on %s cores)\n' "$(nproc)"
