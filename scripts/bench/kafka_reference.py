"""The reference for scripts/bench/kafka.sh: a confluent-kafka consumer doing Runnel's job by
hand. It reads the topic as a group member with manual commits, parses each JSON value, upserts
the batch into SQLite with executemany and writes each partition's next offset in the same
transaction, then commits those offsets to the group.

    python kafka_reference.py BROKERS TOPIC GROUP DB COUNT [BATCH]

With BATCH (the latency run) it takes micro-batches of up to BATCH messages, waiting 10 ms at
most, and also writes each message's time as `kafka_timestamp` (the table exists already).
"""

import json
import sqlite3
import sys
import time

from confluent_kafka import Consumer, TopicPartition

from datetime import datetime, timezone

brokers, topic, group, path, count = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
batch = int(sys.argv[6]) if len(sys.argv) > 6 else 0
db = sqlite3.connect(path, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=FULL")
db.execute("CREATE TABLE IF NOT EXISTS orders (order_id INTEGER PRIMARY KEY, customer TEXT, amount REAL, status TEXT)")
db.execute("CREATE TABLE IF NOT EXISTS offsets (part TEXT PRIMARY KEY, next INTEGER NOT NULL)")
consumer = Consumer({
    "bootstrap.servers": brokers, "group.id": group, "enable.auto.commit": False,
    "auto.offset.reset": "earliest", "partition.assignment.strategy": "cooperative-sticky",
    "session.timeout.ms": 6000,
    # The latency run's setting on both sides: the broker answers a fetch within 10 ms.
    **({"fetch.wait.max.ms": 10} if batch else {}),
})
consumer.subscribe([topic])
loaded = 0
started = None
while loaded < count:
    messages = consumer.consume(num_messages=batch or 5000, timeout=0.01 if batch else 0.1)
    if not messages:
        continue
    if started is None:
        started = time.monotonic()
    rows, nexts = [], {}
    for m in messages:
        if m.error():
            continue
        o = json.loads(m.value())
        row = (o["order_id"], o["customer"], o["amount"], o["status"])
        if batch:
            row += (datetime.fromtimestamp(m.timestamp()[1] / 1000, timezone.utc).isoformat(),)
        rows.append(row)
        nexts[m.partition()] = m.offset() + 1
    db.execute("BEGIN")
    columns = "order_id, customer, amount, status" + (", kafka_timestamp" if batch else "")
    db.executemany(
        f"INSERT INTO orders ({columns}) VALUES (?, ?, ?, ?{', ?' if batch else ''}) "
        "ON CONFLICT (order_id) DO UPDATE SET customer = excluded.customer, amount = excluded.amount, status = excluded.status",
        rows)
    db.executemany(
        "INSERT INTO offsets (part, next) VALUES (?, ?) ON CONFLICT (part) DO UPDATE SET next = excluded.next",
        [(f"{topic}/{p}", n) for p, n in nexts.items()])
    db.execute("COMMIT")
    consumer.commit(offsets=[TopicPartition(topic, p, n) for p, n in nexts.items()], asynchronous=False)
    loaded += len(rows)
elapsed = time.monotonic() - started
consumer.close()
print(f"{loaded} {elapsed:.3f}")
