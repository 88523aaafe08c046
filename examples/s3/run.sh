#!/usr/bin/env bash
# The S3 example in one command: starts moto (an S3-compatible server) on loopback, uploads the
# sample orders, runs both pipelines twice (the second run reads nothing), lists what was written,
# and stops the server. Port: RUNNEL_TEST_S3_PORT (default 15000).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=../../scripts/services/s3.sh
source scripts/services/s3.sh
WORK="$(mktemp -d /tmp/runnel-s3-example.XXXXXX)"
trap 's3_stop "$WORK"; rm -rf "$WORK"' EXIT
s3_start "$WORK"
export S3_ENDPOINT="$RUNNEL_TEST_S3_ENDPOINT" AWS_ACCESS_KEY_ID="$RUNNEL_TEST_S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$RUNNEL_TEST_S3_SECRET_KEY"
"$(s3_venv)/bin/python" examples/s3/seed.py

swift build --traits S3 --product runnel-batch
BIN="$(swift build --traits S3 --show-bin-path)/runnel-batch"
rm -rf examples/s3/out
for spec in examples/s3/pipeline.yaml examples/s3/to-lake.yaml; do
    echo "==> $spec"
    "$BIN" run "$spec" --no-progress
    echo "==> again: nothing new"
    "$BIN" run "$spec" --no-progress
done
echo "==> dead letters (s3://lake/dead-letters/)"
"$BIN" dead-letter list examples/s3/pipeline.yaml --limit 3
echo "==> part files (s3://lake/orders-parts/)"
"$(s3_venv)/bin/python" -c "
import boto3, os
s3 = boto3.client('s3', endpoint_url=os.environ['S3_ENDPOINT'], region_name='us-east-1')
for o in s3.list_objects_v2(Bucket='lake', Prefix='orders-parts/')['Contents']:
    print(f\"  {o['Key']}  {o['Size']:,} bytes\")"
