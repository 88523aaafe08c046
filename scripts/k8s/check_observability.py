"""The chart's dashboard and alerts, evaluated against real runs.

Run by scripts/check-observability (from scripts/test) with the servers scripts/test starts:
redis-server (RUNNEL_TEST_REDIS_URL) and the Pushgateway and Prometheus of
scripts/services/prometheus.sh (RUNNEL_TEST_PUSHGATEWAY_URL, RUNNEL_TEST_PROMETHEUS_URL,
RUNNEL_TEST_PROMETHEUS_TARGETS). It

1. runs a `runnel-stream` worker on a Redis stream (with records the validator rejects) that
   Prometheus scrapes, and `runnel-batch` runs of the quickstart that push to the Pushgateway:
   one that succeeds, one that fails its data contract (exit 3), one that cannot read its input;
2. evaluates every query of every panel of charts/runnel/dashboards/runnel.json through
   Prometheus's HTTP API and requires series for the pipelines it ran;
3. stalls the worker for real (an exclusive lock on its SQLite target while entries arrive);
4. renders the chart's PrometheusRule with thresholds these runs cross, checks it with
   `promtool check rules`, and requires every alert's expression to return series for its pipeline.

With --png PATH it also plots the panels' query results over the run (matplotlib) for
docs/operations.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import string
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import helm_python as helm
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "runnel"

# Panel queries on metrics that only a connector this check does not run makes: they are parsed
# and evaluated by Prometheus here (the query must succeed), and scripts/check-k8s checks their
# metric names exist in the code, but no series is required.
NEEDS_OTHER_CONNECTOR = {
    "runnel_source_lag_records": "Kafka sources",
    "runnel_request_retries_total": "HTTP API and S3 connectors",
}

# Alerts these runs cannot drive over their threshold, and why. Their expression is evaluated
# with the threshold at 0 instead (`>= 0`): the query must still return series for the pipelines,
# which proves the metrics exist and match on their labels.
CANNOT_CROSS = {
    "RunnelMemoryNearWindow": "its `for` (memoryFor, 15 m) is longer than these runs; runnel_inflight_bytes "
                              "moves as batches enter and leave flight, so its series exist",
}

passed = 0
failures: list[str] = []


def check(label: str, ok: bool, detail: str = "") -> None:
    global passed
    if ok:
        passed += 1
        print(f"ok    {label}" + (f" ({detail})" if detail else ""))
    else:
        failures.append(f"{label}: {detail}")
        print(f"FAIL  {label}: {detail}")


def http_get(url: str, timeout: float = 10) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def query(prom: str, expr: str) -> list[dict]:
    data = json.loads(http_get(f"{prom}/api/v1/query?" + urllib.parse.urlencode({"query": expr})))
    if data.get("status") != "success":
        raise RuntimeError(f"query failed: {data}")
    return data["data"]["result"]


def query_range(prom: str, expr: str, start: float, end: float, step: float) -> list[dict]:
    params = {"query": expr, "start": start, "end": end, "step": step}
    data = json.loads(http_get(f"{prom}/api/v1/query_range?" + urllib.parse.urlencode(params)))
    return data["data"]["result"] if data.get("status") == "success" else []


def wait_for(what: str, condition, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except Exception as e:  # noqa: BLE001 - keep polling, report the last error
            last = e
        time.sleep(0.5)
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}" + (f" (last error: {last})" if last else ""))


def redis_cli(url: str, commands: list[str]) -> None:
    subprocess.run(["redis-cli", "-u", url], input="\n".join(commands) + "\n", text=True,
                   capture_output=True, check=True)


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def entries(stream: str, ids: range, bad: bool = False) -> list[str]:
    out = []
    for i in ids:
        amount = "-1" if bad else f"{i}.5"
        payload = json.dumps({"order_id": i, "customer": f"c{i}", "amount": amount}, separators=(",", ":"))
        out.append(f"XADD {stream} * payload '{payload}'")
    return out


def quickstart(work: Path, name: str, pipeline: str, push_url: str, job: str, extra_spec=None) -> Path:
    d = work / name
    (d / "data").mkdir(parents=True)
    shutil.copy(ROOT / "examples/quickstart/data/orders.csv", d / "data/orders.csv")
    spec = (ROOT / "examples/quickstart/pipeline.yaml").read_text()
    spec = spec.replace("pipeline: quickstart-orders", f"pipeline: {pipeline}")
    if extra_spec:
        spec = extra_spec(spec)
    spec += f"\nmetrics:\n  push:\n    url: {push_url}\n    job: {job}\n    interval: 1s\n"
    (d / "pipeline.yaml").write_text(spec)
    return d / "pipeline.yaml"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True, help="folder with runnel-batch and runnel-stream (all traits)")
    parser.add_argument("--png", help="also plot the panels' results over the run into this PNG (needs matplotlib)")
    args = parser.parse_args()
    env = os.environ
    redis_url = env.get("RUNNEL_TEST_REDIS_URL", "redis://127.0.0.1:6390")
    gateway = env.get("RUNNEL_TEST_PUSHGATEWAY_URL", "http://127.0.0.1:9491")
    prom = env.get("RUNNEL_TEST_PROMETHEUS_URL", "http://127.0.0.1:9490")
    targets = Path(env.get("RUNNEL_TEST_PROMETHEUS_TARGETS", ""))
    if not targets.is_dir():
        print("check-observability: RUNNEL_TEST_PROMETHEUS_TARGETS is not a folder (start scripts/services/prometheus.sh)")
        return 1
    promtool = shutil.which("promtool")
    batch_bin, stream_bin = Path(args.bin) / "runnel-batch", Path(args.bin) / "runnel-stream"

    suffix = "".join(random.choices(string.ascii_lowercase + string.digits, k=6))
    stream_pipeline, batch_pipeline, job = f"obs-stream-{suffix}", f"obs-batch-{suffix}", f"runnel-obs-{suffix}"
    redis_stream = f"runnel-obs-{suffix}"
    work = Path(tempfile.mkdtemp(prefix="runnel-obs-"))
    started = time.time()
    worker = None
    lock = None
    target_file = targets / f"{suffix}.json"
    try:
        # --- a streaming worker, scraped ------------------------------------------------------
        port = free_port()
        (work / "stream").mkdir()
        stream_spec = work / "stream" / "pipeline.yaml"
        stream_spec.write_text(f"""pipeline: {stream_pipeline}
extract:
  type: redis_stream
  url: {redis_url}
  stream: {redis_stream}
  group: workers
  id_field: entry_id
transform:
  - {{type: cast, fields: {{order_id: int, amount: double}}}}
validate:
  on_invalid: dead_letter
  rules:
    - {{field: amount, required: true, type: double, min: 0}}
load:
  type: sqlite
  path: out/target.db
  table: orders
  key: [order_id]
  columns: {{order_id: integer, customer: text, amount: real, entry_id: text}}
dead_letter: {{type: redis_stream, url: {redis_url}, stream: {redis_stream}-dlq}}
batching: {{max_records: 20, max_linger: 10ms}}
retry: {{max_attempts: 1000, base_delay: 100ms, max_delay: 500ms}}
stream: {{drain_timeout: 20s, stall_timeout: 3s}}
""")
        worker = subprocess.Popen(
            [str(stream_bin), "run", str(stream_spec), "--http-port", str(port)],
            stdout=subprocess.DEVNULL, stderr=open(work / "stream.log", "w"), cwd=work / "stream")
        target_file.write_text(json.dumps([{"targets": [f"127.0.0.1:{port}"], "labels": {"pod": f"obs-{suffix}"}}]))
        # The dead-letter alert is an increase(): it needs a sample from before the bad entries,
        # which a long-running worker always has. Without this wait, a worker that commits its
        # first (grouped) batch before Prometheus's first scrape leaves only the final count.
        wait_for("the worker's first scrape (dead letters at 0)", lambda: query(
            prom, f'runnel_dead_letters_total{{pipeline="{stream_pipeline}"}} == 0'), timeout=60)
        redis_cli(redis_url, entries(redis_stream, range(1, 401)) + entries(redis_stream, range(401, 411), bad=True))
        wait_for("the worker's commits in Prometheus",
                 lambda: any(float(r["value"][1]) >= 400 for r in query(
                     prom, f'runnel_records_loaded_total{{pipeline="{stream_pipeline}"}}')))
        print(f"      stream worker {stream_pipeline} on :{port}: 400 loaded, 10 dead-lettered, scraped")
        started = time.time() - 10  # the plot starts with the worker's first scrapes

        # --- batch runs, pushed -----------------------------------------------------------------
        ok_spec = quickstart(work, "batch-ok", batch_pipeline, gateway, job)
        r = subprocess.run([str(batch_bin), "run", str(ok_spec)], capture_output=True, text=True)
        check("batch run pushes and exits 0", r.returncode == 0, r.stderr[-500:] if r.returncode else "")
        bad_spec = quickstart(work, "batch-contract", batch_pipeline, gateway, job,
                              lambda s: s.replace("max_invalid_ratio: 0.05", "max_invalid_ratio: 0.001"))
        r = subprocess.run([str(batch_bin), "run", str(bad_spec)], capture_output=True, text=True)
        check("batch run over max_invalid_ratio exits 3 and pushes", r.returncode == 3, f"exit {r.returncode}")
        # A scheduled run must not replace a backfill shard's group: shard 0 of 1 has its own,
        # and it fails (its input is gone) with exit 1 or 2 — RunnelBatchRunFailed's case.
        missing_spec = quickstart(work, "batch-missing", batch_pipeline, gateway, job)
        (missing_spec.parent / "data/orders.csv").unlink()
        r = subprocess.run([str(batch_bin), "run", str(missing_spec), "--shard", "0/1"], capture_output=True, text=True)
        check("batch run without its input fails (not 3) and pushes", r.returncode not in (0, 3),
              f"exit {r.returncode}")
        wait_for("the pushed batch series in Prometheus",
                 lambda: len(query(prom, f'runnel_last_run_status{{pipeline="{batch_pipeline}"}}')) >= 2
                 and query(prom, f'runnel_last_success_timestamp_seconds{{pipeline="{batch_pipeline}"}}'))

        names = f"{stream_pipeline}|{batch_pipeline}"
        ours = {stream_pipeline, batch_pipeline}

        def panel_exprs(legends: bool = False) -> list[tuple]:
            dashboard = json.loads((CHART / "dashboards" / "runnel.json").read_text())
            out = []
            for panel in dashboard["panels"]:
                for t in panel.get("targets", []):
                    out.append((panel["title"], t["expr"]) + ((t.get("legendFormat", ""),) if legends else ()))
            return out

        def concrete(expr: str) -> str:
            return (expr.replace("$pipeline", names).replace("$__rate_interval", "1m")
                    .replace("$__range", "10m").replace("$__interval", "15s"))

        # --- a real stall: the target is locked while entries arrive --------------------------
        # The lock is taken while the worker drains a backlog: entries wait both delivered
        # (pending) and not yet delivered (lag).
        db = work / "stream" / "out" / "target.db"
        redis_cli(redis_url, entries(redis_stream, range(411, 3411)))
        wait_for("the worker to commit past the first backlog entries", lambda: any(
            float(r["value"][1]) >= 440 for r in query(prom, f'runnel_records_read_total{{pipeline="{stream_pipeline}"}}')),
            timeout=60)
        lock = sqlite3.connect(db, timeout=30, isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")
        redis_cli(redis_url, entries(redis_stream, range(3411, 4411)))
        wait_for("the worker to stall (input waiting, no commit for > stall_timeout)",
                 lambda: query(prom, f'(time() - runnel_last_commit_timestamp_seconds{{pipeline="{stream_pipeline}"}} > 4)'
                                     f' and on (pipeline, instance) (sum by (pipeline, instance) '
                                     f'(runnel_source_pending{{pipeline="{stream_pipeline}"}}) > 0)'), timeout=60)
        # SQLite gives up on the lock after its busy timeout (10 s): then the runner retries the load.
        wait_for("the stalled worker's load retries", lambda: query(
            prom, f'runnel_retries_total{{pipeline="{stream_pipeline}"}}'), timeout=60)
        print("      the worker is stalled: its SQLite target is locked, entries wait, the load is retried")

        # --- every panel query --------------------------------------------------------------------
        for title, expr in panel_exprs():
            q = concrete(expr)
            other = next((what for metric, what in NEEDS_OTHER_CONNECTOR.items() if metric in expr), None)
            try:
                result = query(prom, q)
                if not other:  # a rate() needs two scrapes of a new series: a few seconds
                    deadline = time.monotonic() + 15
                    while not ({r["metric"].get("pipeline") for r in result} & ours) and time.monotonic() < deadline:
                        time.sleep(1)
                        result = query(prom, q)
            except Exception as e:  # noqa: BLE001
                check(f"panel '{title}': {expr[:70]}", False, f"Prometheus refused it: {e}")
                continue
            got = {r["metric"].get("pipeline") for r in result}
            if other and not (got & ours):
                check(f"panel '{title}': {expr[:70]}", True, f"parsed and evaluated; series only with {other}")
                continue
            check(f"panel '{title}': {expr[:70]}", bool(got & ours),
                  f"series for {sorted(got & ours)}" if got & ours else f"no series for {sorted(ours)} (got {sorted(got)})")

        # --- the PrometheusRule, with thresholds these runs cross -----------------------------------
        values = {
            # The chart requires an image from your registry (issue 18); any name renders the rules.
            "image": {"repository": "registry.example.com/data/runnel"},
            "batch": {"enabled": True},
            "stream": {"enabled": True},
            "monitoring": {
                "pipelines": {"batch": batch_pipeline, "stream": stream_pipeline},
                "prometheusRule": {
                    "enabled": True, "batchIntervalSeconds": 1, "stallTimeoutSeconds": 3, "lagThreshold": 0,
                    "deadLetterThreshold": 0, "deadLetterWindow": "15m", "memoryFraction": 0.000001,
                },
            },
        }
        chart = helm.Chart.load(str(CHART))
        try:
            manifests = chart.render(values, name="obs", namespace="obs", is_install=True)
        finally:
            chart.close()
        rule = next(d for t, text in manifests.items() if "prometheusrule" in t
                    for d in yaml.safe_load_all(text) if d)
        rules_file = work / "rules.yaml"
        rules_file.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
        if promtool:
            out = subprocess.run([promtool, "check", "rules", str(rules_file)], capture_output=True, text=True)
            check("promtool check rules (rendered PrometheusRule)", out.returncode == 0,
                  (out.stdout + out.stderr).strip().splitlines()[-1] if (out.stdout + out.stderr).strip() else "")
        else:
            check("promtool check rules (rendered PrometheusRule)", False, "promtool is not on PATH")
        for group in rule["spec"]["groups"]:
            for r in group["rules"]:
                want = stream_pipeline if r["alert"].startswith("RunnelStream") else None
                want = batch_pipeline if r["alert"].startswith("RunnelBatch") else want

                def fired(r=r, want=want) -> bool:
                    got = {s["metric"].get("pipeline") for s in query(prom, r["expr"])}
                    return (want in got) if want else bool(got & ours)

                if r["alert"] in CANNOT_CROSS:
                    at_zero = re.sub(r">\s*[0-9.e+-]+\s*$", ">= 0", r["expr"].strip())
                    got = sorted({s["metric"].get("pipeline") for s in query(prom, at_zero)} & ours)
                    check(f"alert {r['alert']} evaluates with series at threshold 0", bool(got) and at_zero != r["expr"].strip(),
                          f"series for {got}; not driven over its threshold: {CANNOT_CROSS[r['alert']]}")
                    continue
                try:
                    wait_for(f"{r['alert']} to fire", fired, timeout=30)
                    got = sorted({s["metric"].get("pipeline") for s in query(prom, r["expr"])} & ours)
                    check(f"alert {r['alert']} fires on the real runs", True, f"series for {got}")
                except Exception as e:  # noqa: BLE001
                    check(f"alert {r['alert']} fires on the real runs", False, str(e))

        if args.png:
            lock.rollback()
            lock.close()
            lock = None
            time.sleep(8)  # the worker catches up: the plot shows the stall and the recovery
            plot(prom, panel_exprs(legends=True), concrete, started, time.time(), Path(args.png), ours)
    finally:
        if lock is not None:
            lock.rollback()
            lock.close()
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            try:
                code = worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                worker.kill()
                code = worker.wait()
            check("stream worker drains and exits 0 on SIGTERM", code == 0,
                  f"exit {code}: " + (work / "stream.log").read_text()[-500:] if code else "")
        target_file.unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)

    print()
    print(f"check-observability: {passed} passed, {len(failures)} failed")
    for f in failures:
        print(f"  FAILED {f}")
    return 1 if failures else 0


def plot(prom: str, exprs: list[tuple[str, str]], concrete, start: float, end: float, path: Path, ours: set) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from datetime import datetime, timezone

    by_title: dict[str, list[tuple[str, str]]] = {}
    for title, expr, legend in exprs:
        by_title.setdefault(title, []).append((expr, legend))
    titles = list(by_title)
    cols = 2
    rows = (len(titles) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(15, 3.1 * rows), squeeze=False)
    step = max(1.0, (end - start) / 240)
    for ax, title in zip(axes.flat, titles):
        for expr, legend in by_title[title]:
            for series in query_range(prom, concrete(expr), start, end, step):
                labels = series["metric"]
                if labels.get("pipeline") not in ours:
                    continue
                xs = [datetime.fromtimestamp(float(t), tz=timezone.utc) for t, _ in series["values"]]
                ys = [float(v) for _, v in series["values"]]
                text = re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), legend)
                name = labels.get("pipeline", "").rsplit("-", 1)[0]
                ax.plot(xs, ys, label=f"{name} {text}"[:60], linewidth=1.2)
        ax.set_title(title, fontsize=9)
        ax.tick_params(labelsize=7)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=6, loc="upper left")
    for ax in list(axes.flat)[len(titles):]:
        ax.axis("off")
    fig.suptitle("Runnel pipelines: the dashboard's panel queries on a real run (Prometheus 2.42, Pushgateway 1.5.1)",
                 fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.975))
    fig.savefig(path, dpi=80)
    print(f"      wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
