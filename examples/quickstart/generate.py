#!/usr/bin/env python3
"""Writes data/orders.csv: 20,000 orders, deterministic (fixed seed), with about 1% bad rows.

Bad rows, 50 of each kind: a missing order_id, a non-numeric amount, an impossible date
(e.g. 2024-02-30), and broken quoting (an unterminated quote). Another 2% carry "NA" in
`discount`, which the pipeline turns into null (valid). 300 rows are later updates of earlier
orders (same order_id, later updated_at): the loader keeps the newest.

Run: python3 examples/quickstart/generate.py
"""
import csv
import io
import os
import random

ROWS = 20_000
rng = random.Random(20261128)
countries = ["US", "DE", "FR", "GB", "JP", "BR", "IN", "CA", "AU", "NL"]
statuses = ["pending", "paid", "shipped", "cancelled", "refunded"]
first = ["Ada", "Grace", "Alan", "Linus", "Barbara", "Ken", "Margaret", "Dennis", "Radia", "Edsger"]
last = ["Lovelace", "Hopper", "Turing", "Torvalds", "Liskov", "Thompson", "Hamilton", "Ritchie", "Perlman", "Dijkstra"]

bad_rows = rng.sample(range(100, ROWS), 200)
kinds = {row: i % 4 for i, row in enumerate(bad_rows)}
update_rows = set(rng.sample([r for r in range(2000, ROWS) if r not in kinds], 300))

out = io.StringIO()
w = csv.writer(out, lineterminator="\n")
w.writerow(["order_id", "customer_name", "customer_email", "country", "status", "amount", "discount", "ordered_at", "updated_at"])
lines = [out.getvalue()]
next_id = 1
for r in range(ROWS):
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    if r in update_rows:
        order_id = rng.randint(1, next_id - 1)
    else:
        order_id = next_id
        next_id += 1
    name = f"{rng.choice(first)} {rng.choice(last)}"
    if rng.random() < 0.05:
        name = f"{name}, Jr."  # an embedded delimiter, quoted by the writer
    email = f"{name.split()[0].lower()}.{order_id}@Example.COM"
    country = rng.choice(countries)
    status = rng.choice(statuses)
    amount = f"{rng.uniform(1, 2000):.2f}"
    discount = "NA" if rng.random() < 0.02 else f"{rng.uniform(0, 50):.2f}"
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    ordered = f"2024-{month:02d}-{day:02d}"
    updated = f"2024-{month:02d}-{day:02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"
    if r in update_rows:
        updated = f"2025-01-{rng.randint(1, 28):02d}T12:00:00Z"
    kind = kinds.get(r)
    fields = [str(order_id), f"  {name} ", email, country, status.upper() if rng.random() < 0.1 else status, amount, discount, ordered, updated]
    if kind == 0:
        fields[0] = ""  # missing id
    elif kind == 1:
        fields[5] = rng.choice(["12,50", "abc", "$19.99", "1e"])  # non-numeric amount
    elif kind == 2:
        fields[7] = rng.choice(["2024-02-30", "2024-13-01", "2024-04-31"])  # impossible date
    if kind == 3:
        # Broken quoting: an opening quote that never closes.
        line = ",".join(fields[:1] + ['"' + fields[1].strip()] + fields[2:]) + "\n"
        lines.append(line)
        continue
    w.writerow(fields)
    lines.append(out.getvalue())

here = os.path.dirname(os.path.abspath(__file__))
os.makedirs(os.path.join(here, "data"), exist_ok=True)
with open(os.path.join(here, "data", "orders.csv"), "w", newline="") as f:
    f.writelines(lines)
print(f"wrote {ROWS} rows to data/orders.csv ({len(bad_rows)} bad, {len(update_rows)} updates)")
