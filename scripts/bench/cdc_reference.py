"""The Python side of scripts/bench/cdc.sh: a plain logical-replication consumer doing the work
Runnel's postgres_cdc pipeline does, the snapshot load done the same plain way, and the steady
writer of the latency run.

    cdc_reference.py prepare sqlite|postgres PATH|DSN TABLE
    cdc_reference.py drain DSN SLOT SOURCE_TABLE BATCH sqlite|postgres PATH|DSN TABLE [executemany|execute_batch]
    cdc_reference.py snapshot DSN TABLE BATCH TARGET_DSN TARGET_TABLE [executemany|execute_batch]
    cdc_reference.py steady DSN TABLE RATE SECONDS PER_TX

drain: start_replication on SLOT (wal2json, format-version 2: one JSON per change, the begin
message carrying the commit LSN), cut batches of BATCH changes (or 20 ms after a batch's first
change, Runnel's max_linger), apply each batch in order — consecutive upserts as one executemany of
the guarded upsert (INSERT … ON CONFLICT (id) DO UPDATE … WHERE excluded.version >=
target.version), consecutive deletes as one executemany of the guarded delete — with the version
the transaction's commit LSN (what Runnel's `_lsn` is), write the position into a checkpoint table
in the same transaction, commit, then send_feedback(flush_lsn=the end of the last whole
transaction applied). Stops once every transaction up to the server's WAL position at its start
(IDENTIFY_SYSTEM, as runnel-batch takes it) is applied. Prints the changes applied.

Not done, unlike Runnel: tombstones for deletes (a snapshot behind the stream cannot bring a
deleted row back here), truncates, unchanged TOASTed columns, schema changes.

snapshot: reads TABLE with a server-side cursor in one REPEATABLE READ transaction and applies
BATCH rows at a time with executemany of the same guarded upsert (version: the WAL position at
its start) and a checkpoint (the last key) into TARGET_TABLE, committing each batch.

steady: inserts RATE rows/s for SECONDS into TABLE, PER_TX rows per transaction (autocommit
otherwise), on schedule (a late writer catches up); prints the rate it reached.
"""

import json
import select
import sys
import time

import psycopg2
import psycopg2.extensions
import psycopg2.extras

COLUMNS = ("id", "account", "amount", "note", "updated_at")
LINGER = 0.020

PG_TABLE = """CREATE TABLE IF NOT EXISTS {t} (id bigint PRIMARY KEY, account integer, amount double precision,
    note text, updated_at timestamptz, version bigint);
CREATE TABLE IF NOT EXISTS {t}_checkpoint (name text PRIMARY KEY, position text NOT NULL)"""
PG_UPSERT = ("INSERT INTO {t} AS t (id, account, amount, note, updated_at, version) VALUES (%s, %s, %s, %s, %s, %s) "
             "ON CONFLICT (id) DO UPDATE SET account = excluded.account, amount = excluded.amount, note = excluded.note, "
             "updated_at = excluded.updated_at, version = excluded.version "
             "WHERE t.version IS NULL OR excluded.version >= t.version")
PG_DELETE = "DELETE FROM {t} WHERE id = %s AND version <= %s"
PG_CHECKPOINT = ("INSERT INTO {t}_checkpoint (name, position) VALUES (%s, %s) "
                 "ON CONFLICT (name) DO UPDATE SET position = excluded.position")

SQLITE_TABLE = """CREATE TABLE IF NOT EXISTS {t} (id INTEGER PRIMARY KEY, account INTEGER, amount REAL, note TEXT,
    updated_at TEXT, version INTEGER);
CREATE TABLE IF NOT EXISTS {t}_checkpoint (name TEXT PRIMARY KEY, position TEXT NOT NULL);"""
SQLITE_UPSERT = ("INSERT INTO {t} AS t (id, account, amount, note, updated_at, version) VALUES (?, ?, ?, ?, ?, ?) "
                 "ON CONFLICT (id) DO UPDATE SET account = excluded.account, amount = excluded.amount, "
                 "note = excluded.note, updated_at = excluded.updated_at, version = excluded.version "
                 "WHERE t.version IS NULL OR excluded.version >= t.version")
SQLITE_DELETE = "DELETE FROM {t} WHERE id = ? AND version <= ?"
SQLITE_CHECKPOINT = ("INSERT INTO {t}_checkpoint (name, position) VALUES (?, ?) "
                     "ON CONFLICT (name) DO UPDATE SET position = excluded.position")


def lsn_int(text):
    high, low = text.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def lsn_text(value):
    return "%X/%X" % (value >> 32, value & 0xFFFFFFFF)


def open_sqlite(path):
    import sqlite3
    db = sqlite3.connect(path, isolation_level="DEFERRED")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    return db


class SQLiteTarget:
    def __init__(self, path, table):
        self.db = open_sqlite(path)
        self.upsert = SQLITE_UPSERT.format(t=table)
        self.delete = SQLITE_DELETE.format(t=table)
        self.checkpoint = SQLITE_CHECKPOINT.format(t=table)

    def apply(self, runs, name, position):
        for upsert, rows in runs:
            self.db.executemany(self.upsert if upsert else self.delete, rows)
        self.db.execute(self.checkpoint, (name, position))
        self.db.commit()


class PostgresTarget:
    def __init__(self, dsn, table, api):
        self.db = psycopg2.connect(dsn)
        self.upsert = PG_UPSERT.format(t=table)
        self.delete = PG_DELETE.format(t=table)
        self.checkpoint = PG_CHECKPOINT.format(t=table)
        self.api = api

    def many(self, cur, sql, rows):
        if self.api == "execute_batch":
            psycopg2.extras.execute_batch(cur, sql, rows, page_size=100)
        else:
            cur.executemany(sql, rows)

    def apply(self, runs, name, position):
        with self.db.cursor() as cur:
            for upsert, rows in runs:
                self.many(cur, self.upsert if upsert else self.delete, rows)
            cur.execute(self.checkpoint, (name, position))
        self.db.commit()


def runs_of(changes):
    """Consecutive changes of one kind (upsert or delete), in order."""
    runs = []
    for upsert, row in changes:
        if runs and runs[-1][0] == upsert:
            runs[-1][1].append(row)
        else:
            runs.append((upsert, [row]))
    return runs


def drain(dsn, slot, table, batch_size, target):
    conn = psycopg2.connect(dsn, connection_factory=psycopg2.extras.LogicalReplicationConnection)
    cur = conn.cursor()
    cur.execute("IDENTIFY_SYSTEM")
    stop = lsn_int(cur.fetchone()[2])
    cur.start_replication(slot_name=slot, decode=False, options={
        "format-version": "2", "include-lsn": "1", "include-types": "0", "add-tables": table})
    changes = []
    first_at = None
    version = 0
    in_transaction = False
    whole_end = 0      # the end of the last transaction read whole
    confirmed = 0      # the end of the last whole transaction applied and confirmed
    last_change = 0
    applied = 0

    def flush():
        nonlocal changes, first_at, confirmed, applied
        if changes:
            target.apply(runs_of(changes), slot, "%s %s" % (lsn_text(whole_end), lsn_text(last_change)))
            applied += len(changes)
            changes = []
            first_at = None
        # Every transaction that ended before the last change applied is in the target now.
        if whole_end > confirmed:
            cur.send_feedback(flush_lsn=whole_end, force=True)
            confirmed = whole_end

    while True:
        msg = cur.read_message()
        if msg is not None:
            change = json.loads(msg.payload)
            action = change["action"]
            if action == "B":
                version = lsn_int(change["lsn"])
                in_transaction = True
            elif action == "C":
                in_transaction = False
                whole_end = msg.data_start
            elif action == "I" or action == "U":
                values = {c["name"]: c["value"] for c in change["columns"]}
                changes.append((True, tuple(values[c] for c in COLUMNS) + (version,)))
                last_change = msg.data_start
            elif action == "D":
                changes.append((False, (change["identity"][0]["value"], version)))
                last_change = msg.data_start
            if changes and first_at is None:
                first_at = time.monotonic()
            if len(changes) >= batch_size:
                flush()
            continue
        # Nothing buffered: a lingering batch is due, or the drain is done, or wait.
        if changes and time.monotonic() - first_at >= LINGER:
            flush()
        if not in_transaction and not changes and max(whole_end, cur.wal_end) >= stop:
            # Caught up: the server's keepalive says nothing more of ours was there.
            whole_end = max(whole_end, cur.wal_end)
            flush()
            break
        wait = LINGER if changes else 1.0
        select.select([cur], [], [], wait)
    conn.close()
    return applied


def snapshot(dsn, table, batch_size, target_dsn, target_table, api):
    source = psycopg2.connect(dsn)
    source.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ, readonly=True)
    with source.cursor() as c:
        c.execute("SELECT pg_current_wal_lsn()::text")
        version = lsn_int(c.fetchone()[0]) - 1
    target = PostgresTarget(target_dsn, target_table, api)
    cursor = source.cursor(name="snapshot")
    cursor.itersize = batch_size
    cursor.execute("SELECT id, account, amount, note, updated_at::text FROM %s" % table)
    loaded = 0
    while True:
        rows = cursor.fetchmany(batch_size)
        if not rows:
            break
        target.apply([(True, [r + (version,) for r in rows])], "snapshot", str(rows[-1][0]))
        loaded += len(rows)
    source.close()
    return loaded


def steady(dsn, table, rate, seconds, per_tx):
    db = psycopg2.connect(dsn)
    db.autocommit = per_tx == 1
    sql = "INSERT INTO %s (id, account, amount, note, updated_at) VALUES (%%s, %%s, %%s, %%s, now())" % table
    total = rate * seconds
    start = time.perf_counter()
    with db.cursor() as cur:
        for i in range(1, total + 1):
            due = start + (i - 1) / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            cur.execute(sql, (i, i % 100, i * 0.25, "steady %d" % i))
            if per_tx > 1 and (i % per_tx == 0 or i == total):
                db.commit()
    elapsed = time.perf_counter() - start
    db.close()
    return total / elapsed


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "prepare":
        kind, place, table = args
        if kind == "sqlite":
            db = open_sqlite(place)
            db.executescript(SQLITE_TABLE.format(t=table))
        else:
            db = psycopg2.connect(place)
            with db.cursor() as c:
                c.execute(PG_TABLE.format(t=table))
        db.commit()
    elif cmd == "drain":
        dsn, slot, source_table, batch, kind, place, table = args[:7]
        api = args[7] if len(args) > 7 else "executemany"
        target = SQLiteTarget(place, table) if kind == "sqlite" else PostgresTarget(place, table, api)
        print(drain(dsn, slot, source_table, int(batch), target))
    elif cmd == "snapshot":
        dsn, table, batch, target_dsn, target_table = args[:5]
        api = args[5] if len(args) > 5 else "executemany"
        print(snapshot(dsn, table, int(batch), target_dsn, target_table, api))
    elif cmd == "steady":
        print("%.1f" % steady(args[0], args[1], int(args[2]), int(args[3]), int(args[4])))
    else:
        sys.exit("unknown command " + cmd)
