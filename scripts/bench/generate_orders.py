#!/usr/bin/env python3
"""Writes N generated orders rows (9 columns, like the quickstart's) as CSV to stdout, fast and
deterministic, for the benchmarks. Usage: generate_orders.py N > orders.csv"""
import random
import sys

n = int(sys.argv[1])
rng = random.Random(7)
countries = ["US", "DE", "FR", "GB", "JP", "BR", "IN", "CA", "AU", "NL"]
statuses = ["pending", "paid", "shipped", "cancelled", "refunded"]
names = ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Linus Torvalds", "Barbara Liskov", "Ken Thompson"]
out = sys.stdout
out.write("order_id,customer_name,customer_email,country,status,amount,discount,ordered_at,updated_at\n")
buf = []
for i in range(1, n + 1):
    m, d = rng.randint(1, 12), rng.randint(1, 28)
    h, mi, s = rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
    name = rng.choice(names)
    buf.append(
        f"{i},{name},{name.split()[0].lower()}.{i}@example.com,{rng.choice(countries)},{rng.choice(statuses)},"
        f"{rng.randint(100, 200000) / 100:.2f},{rng.randint(0, 5000) / 100:.2f},2024-{m:02d}-{d:02d},"
        f"2024-{m:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}Z\n")
    if len(buf) == 10000:
        out.write("".join(buf))
        buf.clear()
out.write("".join(buf))
