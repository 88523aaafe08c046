"""The reference for scripts/bench/kafka.sh: a confluent-kafka consumer doing Runnel's job by
hand. It reads the topic as a group member with manual commits, parses each JSON value, upserts
the batch into SQLite with executemany and writes each partition's next offset in the same
transaction, then commits those offsets to the group.

    python kafka_reference.py BROKERS TOPIC GROUP DB COUNT
"""

import json
import sqlite3
import sys
import time

from confluent_kafka import Consumer, TopicPartition

brokers, topic, group, path, count = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
db = sqlite3.connect(path, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=FULL")
db.execute("CREATE TABLE IF NOT EXISTS orders (order_id INTEGER PRIMARY KEY, customer TEXT, amount REAL, status TEXT)")
db.execute("CREATE TABLE IF NOT EXISTS offsets (part TEXT PRIMARY KEY, next INTEGER NOT NULL)")
consumer = Consumer({
    "bootstrap.servers": brokers, "group.id": group, "enable.auto.commit": False,
    "auto.offset.reset": "earliest", "partition.assignment.strategy": "cooperative-sticky",
    "session.timeout.ms": 6000,
})
consumer.subscribe([topic])
loaded = 0
started = None
while loaded < count:
    messages = consumer.consume(num_messages=5000, timeout=0.1)
    if not messages:
        continue
    if started is None:
        started = time.monotonic()
    rows, nexts = [], {}
    for m in messages:
        if m.error():
            continue
        o = json.loads(m.value())
        rows.append((o["order_id"], o["customer"], o["amount"], o["status"]))
        nexts[m.partition()] = m.offset() + 1
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO orders (order_id, customer, amount, status) VALUES (?, ?, ?, ?) "
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
