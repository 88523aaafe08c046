#!/usr/bin/env python3
"""Writes N generated orders (the same fields as generate_orders.py, with JSON types) as JSON Lines
to stdout, deterministic, about 230 bytes a record. Usage: generate_orders_jsonl.py N > orders.jsonl"""
import json
import random
import sys

n = int(sys.argv[1])
rng = random.Random(7)
countries = ["US", "DE", "FR", "GB", "JP", "BR", "IN", "CA", "AU", "NL"]
statuses = ["pending", "paid", "shipped", "cancelled", "refunded"]
names = ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Linus Torvalds", "Barbara Liskov", "Ken Thompson"]
out = sys.stdout
buf = []
for i in range(1, n + 1):
    m, d = rng.randint(1, 12), rng.randint(1, 28)
    h, mi, s = rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
    name = rng.choice(names)
    buf.append(json.dumps({
        "order_id": i, "customer_name": name, "customer_email": f"{name.split()[0].lower()}.{i}@example.com",
        "country": rng.choice(countries), "status": rng.choice(statuses),
        "amount": rng.randint(100, 200000) / 100, "discount": rng.randint(0, 5000) / 10000,
        "ordered_at": f"2024-{m:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}Z",
        "updated_at": f"2024-{m:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}Z",
    }, separators=(",", ":")) + "\n")
    if len(buf) == 10000:
        out.write("".join(buf))
        buf.clear()
out.write("".join(buf))
