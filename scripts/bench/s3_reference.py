"""The S3 benchmark's two Python halves.

    s3_reference.py seed BUCKET KEY BYTES    uploads BYTES of generated JSON Lines, gzip-compressed,
                                             as one object (multipart, streamed: flat memory)
    s3_reference.py load BUCKET KEY DB       the reference pipeline: boto3 streams the object,
                                             gzip + json decode it, sqlite3 executemany upserts
                                             5,000 rows a transaction

Reads S3_ENDPOINT, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
"""

import gzip
import io
import json
import os
import sqlite3
import sys

import boto3

s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT"], region_name="us-east-1")
STATUSES = ["pending", "paid", "shipped", "cancelled", "refunded"]


def seed(bucket, key, size):
    try:
        s3.create_bucket(Bucket=bucket)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    parts, buffer, written, i = [], io.BytesIO(), 0, 0
    gz = gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0)

    def flush(final):
        data = buffer.getvalue()
        if data and (final or len(data) >= 16 << 20):
            n = len(parts) + 1
            etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=n, Body=data)["ETag"]
            parts.append({"PartNumber": n, "ETag": etag})
            buffer.seek(0)
            buffer.truncate()

    while written < size:
        lines = []
        for _ in range(10000):
            i += 1
            lines.append('{"id":%d,"customer":"c%05d","amount":%d.%02d,"status":"%s","ordered_at":"2026-11-%02dT%02d:%02d:00Z"}\n'
                         % (i, i * 7919 % 100000, i % 500, i % 100, STATUSES[i % 5], i % 28 + 1, i % 24, i % 60))
        chunk = "".join(lines).encode()
        written += len(chunk)
        gz.write(chunk)
        flush(False)
    gz.close()
    flush(True)
    s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": parts})
    print(i)


def load(bucket, key, db):
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, customer TEXT, amount REAL, status TEXT, ordered_at TEXT)")
    sql = ("INSERT INTO orders (id, customer, amount, status, ordered_at) VALUES (?, ?, ?, ?, ?) "
           "ON CONFLICT(id) DO UPDATE SET customer = excluded.customer, amount = excluded.amount, "
           "status = excluded.status, ordered_at = excluded.ordered_at")
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    rows, n = [], 0
    with gzip.GzipFile(fileobj=body) as lines:
        for line in lines:
            r = json.loads(line)
            rows.append((r["id"], r["customer"], r["amount"], r["status"], r["ordered_at"]))
            if len(rows) == 5000:
                with con:
                    con.executemany(sql, rows)
                n += len(rows)
                rows = []
    with con:
        con.executemany(sql, rows)
    n += len(rows)
    print(n)


if __name__ == "__main__":
    if sys.argv[1] == "seed":
        seed(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        load(sys.argv[2], sys.argv[3], sys.argv[4])
