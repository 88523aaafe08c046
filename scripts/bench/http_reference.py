#!/usr/bin/env python3
"""The reference for scripts/bench/http.sh: what a Python engineer writes for the same job.

Reads every offset page of the test API with `requests` (one keep-alive session), and upserts
each page into SQLite with `executemany` and a version guard, committing the page together with
its position, as runnel-batch does.

    http_reference.py BASE_URL DB [LIMIT]
"""
import sqlite3
import sys

import requests

base, db_path = sys.argv[1], sys.argv[2]
limit = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
db = sqlite3.connect(db_path)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=FULL")
db.execute("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT, amount REAL, updated_at TEXT)")
db.execute("CREATE TABLE IF NOT EXISTS checkpoints (pipeline TEXT PRIMARY KEY, position TEXT)")
upsert = (
    "INSERT INTO items (id, name, amount, updated_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET name = excluded.name, amount = excluded.amount, updated_at = excluded.updated_at "
    "WHERE excluded.updated_at >= items.updated_at"
)
session = requests.Session()
offset = 0
while True:
    r = session.get(f"{base}/offset/items", params={"offset": offset, "limit": limit}, timeout=60)
    r.raise_for_status()
    page = r.json()["data"]
    if not page:
        break
    with db:
        db.executemany(upsert, [(x["id"], x["name"], x["amount"], x["updated_at"]) for x in page])
        db.execute("INSERT OR REPLACE INTO checkpoints VALUES ('bench', ?)", (str(offset + limit),))
    offset += limit
db.close()
