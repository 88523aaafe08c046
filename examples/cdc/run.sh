#!/usr/bin/env bash
# examples/cdc end to end against a local PostgreSQL (wal_level=logical): seeds app.accounts,
# starts the stream, runs writers and a 4-shard snapshot at the same time, then waits until the
# SQLite target equals the source and prints the row count.
#
# Needs: psql, sqlite3, the runnel-batch and runnel-stream binaries (RUNNEL_BIN: their folder,
# default from `swift build --enable-all-traits`), and PGHOST/PGPORT/PGDATABASE/PGUSER/PGPASSWORD
# for a role with REPLICATION.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="${RUNNEL_BIN:-$(swift build --enable-all-traits --show-bin-path)}"
work="$(mktemp -d)"
export CDC_TARGET="$work/accounts.db" PGTLS="${PGTLS:-disable}"
spec=examples/cdc/pipeline.yaml
stream_pid=""
cleanup() {
    [ -n "$stream_pid" ] && kill "$stream_pid" 2>/dev/null && wait "$stream_pid" 2>/dev/null || true
    psql -qX -c "SELECT pg_drop_replication_slot('accounts_cdc') FROM pg_replication_slots WHERE slot_name = 'accounts_cdc'" \
        -c "DROP PUBLICATION IF EXISTS accounts_pub" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

psql -qX -v ON_ERROR_STOP=1 -f examples/cdc/seed.sql >/dev/null
cleanup_slot() { psql -qX -c "SELECT pg_drop_replication_slot('accounts_cdc') FROM pg_replication_slots WHERE slot_name = 'accounts_cdc'" >/dev/null; }
cleanup_slot

# 1. The stream first: it creates the publication and the slot.
"$bin/runnel-stream" run "$spec" --log-level warning > "$work/stream.log" 2>&1 &
stream_pid=$!
for _ in $(seq 1 300); do
    kill -0 "$stream_pid" 2>/dev/null || { cat "$work/stream.log" >&2; exit 1; }
    [ "$(psql -qXAt -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'accounts_cdc'")" = 1 ] && break
    sleep 0.1
done

# 2. Writers (inserts, updates that leave `notes` alone, deletes) while 3. the snapshot's 4 shards run.
psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL' &
DO $$ BEGIN
  FOR i IN 1..400 LOOP
    INSERT INTO app.accounts (id, email, balance) VALUES (50000 + i, 'new' || i || '@example.com', i);
    UPDATE app.accounts SET balance = balance + 1, updated_at = now() WHERE id = (i * 97) % 50000 + 1;
    DELETE FROM app.accounts WHERE id = (i * 131) % 50000 + 1;
    COMMIT;
  END LOOP;
END $$;
SQL
writer=$!
for i in 0 1 2 3; do
    "$bin/runnel-batch" run "$spec" --snapshot --shard "$i/4" --no-progress --log-level warning > "$work/shard$i.log" 2>&1 &
    shards[$i]=$!
done
for i in 0 1 2 3; do wait "${shards[$i]}" || { cat "$work/shard$i.log"; exit 1; }; done
wait "$writer"

# 4. Convergence: the target equals the source (deleted keys gone, TOASTed notes intact).
query="SELECT id, email, balance, length(notes) FROM accounts ORDER BY id"
psql -qXAt -F '|' -c "${query/accounts/app.accounts}" > "$work/source.txt"
for _ in $(seq 1 600); do
    sqlite3 "$CDC_TARGET" "$query" > "$work/target.txt" 2>/dev/null || true
    cmp -s "$work/source.txt" "$work/target.txt" && break
    sleep 0.1
done
if ! cmp -s "$work/source.txt" "$work/target.txt"; then
    echo "examples/cdc: the target differs from the source:" >&2
    diff "$work/source.txt" "$work/target.txt" | head -20 >&2
    exit 1
fi
echo "examples/cdc: converged, $(wc -l < "$work/target.txt") rows equal in app.accounts and $CDC_TARGET"
