"""Uploads the example's input: three days of orders as gzip JSON Lines in s3://landing/orders/,
about 1% of the lines deliberately broken. Deterministic: the same bytes every time.

    python seed.py    (reads S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)
"""

import gzip
import json
import os
import random

import boto3

s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT"], region_name="us-east-1")
for bucket in ("landing", "lake"):
    try:
        s3.create_bucket(Bucket=bucket)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass

rng = random.Random(11)
order_id = 0
for day in ("2026-11-01", "2026-11-02", "2026-11-03"):
    lines = []
    for _ in range(5000):
        order_id += 1
        if rng.random() < 0.01:
            lines.append('{"order_id": %d, "amount": ' % order_id)  # cut off mid-record
            continue
        lines.append(json.dumps({
            "order_id": order_id,
            "customer": "c%04d" % rng.randrange(1000),
            "amount": round(rng.uniform(1, 500), 2),
            "ordered_at": f"{day}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z",
        }))
    body = gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0)
    s3.put_object(Bucket="landing", Key=f"orders/{day}.jsonl.gz", Body=body)
print("seeded s3://landing/orders/ with 3 objects, 15,000 lines")
