"""Checks of the Helm chart (charts/runnel) and the plain manifests (deploy/).

Run by scripts/check-k8s inside its virtual environment. For each values set (the chart's
defaults and charts/runnel/ci/*.yaml) it lints the chart (Helm's SDK through helm-python-sdk,
strict), renders it, validates every object against the Kubernetes OpenAPI schemas
(kubernetes-validate, strict, for the oldest supported and the newest shipped version), and
asserts what a schema cannot: probes on ports that exist, selectors that match pod labels, a
cron schedule that parses, a grace period above the drain timeout, the restricted security
context and resource requests on every container, the exit-code rules of podFailurePolicy, and
for PostgreSQL change data capture a single-replica Recreate stream with a sharded snapshot Job.
The same assertions run on `kubectl kustomize` of deploy/overlays/example. Then it checks that
bad values are rejected, by values.schema.json or by the templates' own checks, with a message
that names the offending key.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import traceback
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import helm_python as helm
import kubernetes_validate
import kubernetes_validate.utils as kv_utils
from kubernetes_validate.version import __version__ as kv_version
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "runnel"
HERE = Path(__file__).resolve().parent
KUBE_MIN = "1.30.0"  # Chart.yaml kubeVersion
RELEASE, NAMESPACE = "ci", "runnel-ci"
EXIT_TRANSIENT, EXIT_CONFIG, EXIT_CONTRACT, EXIT_LEASE = 1, 2, 3, 4
DATA_DIR, TMP_DIR, SPEC_PATH = "/var/lib/runnel", "/tmp", "/etc/runnel/pipeline.yaml"

# Objects of these kinds are custom resources: kubernetes-validate ships no schema for them, so
# their shape is asserted below instead.
CUSTOM_KINDS = {"ScaledObject", "ServiceMonitor", "PrometheusRule"}
DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


class CheckFailed(Exception):
    pass


@dataclass
class Report:
    passed: int = 0
    failures: list[str] = field(default_factory=list)

    def check(self, label: str, fn: Callable[[], str | None]) -> None:
        try:
            detail = fn()
        except CheckFailed as e:
            self.failures.append(f"{label}: {e}")
            print(f"FAIL  {label}: {e}")
            return
        except Exception as e:  # a bug in a check, or an API error: report it as a failure
            self.failures.append(f"{label}: {type(e).__name__}: {e}")
            print(f"FAIL  {label}: {type(e).__name__}: {e}")
            traceback.print_exc()
            return
        self.passed += 1
        print(f"ok    {label}" + (f" ({detail})" if detail else ""))


def expect(cond: Any, message: str) -> None:
    if not cond:
        raise CheckFailed(message)


# --- loading -------------------------------------------------------------------------------


def load_values(path: Path | None) -> dict[str, Any]:
    if path is None:
        # The chart's defaults plus the one value without a default (bad-values/image-unset.yaml
        # checks that the chart refuses to render without it).
        return {"image": {"repository": "registry.example.com/data/runnel"}}
    # Helm's own YAML reading (anchors, types), as `helm -f` would.
    return helm.values_from_yaml(path.read_text())


def render_chart(chart: helm.Chart, values: dict[str, Any]) -> tuple[list[dict], str]:
    manifests = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    objects: list[dict] = []
    notes = ""
    for template, text in sorted(manifests.items()):
        if template.endswith("NOTES.txt"):
            notes = text
            continue
        for doc in yaml.safe_load_all(text):
            if doc:
                doc.setdefault("__source__", template)
                objects.append(doc)
    return objects, notes


def clean(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if k != "__source__"}


def kn(obj: dict) -> str:
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


# --- schema validation ---------------------------------------------------------------------


def validate_schemas(objects: list[dict], versions: list[str]) -> str:
    done = 0
    for obj in objects:
        if obj["kind"] in CUSTOM_KINDS:
            continue
        for version in versions:
            try:
                kubernetes_validate.validate(clean(obj), version, strict=True)
            except kv_utils.ValidationError as e:
                path = ".".join(str(p) for p in e.path)
                raise CheckFailed(f"{kn(obj)} invalid for Kubernetes {version} (strict): {path}: {e.message}")
            except kv_utils.SchemaNotFoundError as e:
                raise CheckFailed(f"{kn(obj)}: {e.message}")
            done += 1
    return f"{done} object-versions, strict, Kubernetes {' and '.join(versions)}"


# --- workload helpers -------------------------------------------------------------------------


def pod_template(obj: dict) -> dict | None:
    kind = obj["kind"]
    if kind in ("Deployment", "Job", "StatefulSet", "DaemonSet"):
        return obj["spec"]["template"]
    if kind == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]
    if kind == "Pod":  # the `helm test` pods (templates/tests/validate.yaml)
        return obj
    return None


def job_spec(obj: dict) -> dict | None:
    if obj["kind"] == "Job":
        return obj["spec"]
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]
    return None


def containers(pod_spec: dict) -> list[dict]:
    return list(pod_spec.get("initContainers", [])) + list(pod_spec.get("containers", []))


def env_map(container: dict) -> dict[str, Any]:
    return {e["name"]: e for e in container.get("env", [])}


def selector_matches(selector: dict, labels: dict) -> bool:
    match = selector.get("matchLabels") or {}
    for k, v in match.items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions", []):
        key, op, vals = expr["key"], expr["operator"], expr.get("values", [])
        if op == "In" and labels.get(key) not in vals:
            return False
        if op == "NotIn" and labels.get(key) in vals:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return bool(match) or bool(selector.get("matchExpressions"))


def parse_duration_seconds(text: str) -> float:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)?", text.strip())
    expect(m, f"duration {text!r} does not parse")
    n, unit = float(m.group(1)), m.group(2) or "s"
    return n * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]


def arg_value(args: list[str], flag: str) -> str | None:
    for i, a in enumerate(args):
        if a == flag and i + 1 < len(args):
            return str(args[i + 1])
        if a.startswith(flag + "="):
            return a.split("=", 1)[1]
    return None


# --- cron --------------------------------------------------------------------------------------

CRON_FIELDS = [
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, {m: i + 1 for i, m in enumerate(
        "jan feb mar apr may jun jul aug sep oct nov dec".split())}),
    ("day of week", 0, 7, {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())}),
]
CRON_MACROS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}


def parse_cron(expr: str) -> list[set[int]]:
    """Parses a five-field cron expression as the CronJob controller (robfig/cron) does; returns
    the set of values each field allows."""
    expr = expr.strip()
    expect(not expr.startswith(("TZ=", "CRON_TZ=")), "time zone in the schedule: use spec.timeZone")
    if expr in CRON_MACROS:
        return []
    parts = expr.split()
    expect(len(parts) == 5, f"schedule {expr!r} has {len(parts)} fields, want 5 "
                            "(minute hour day-of-month month day-of-week)")
    sets = []
    for text, (name, lo, hi, names) in zip(parts, CRON_FIELDS):
        allowed: set[int] = set()
        for item in text.split(","):
            expect(item, f"{name}: empty list item in {text!r}")
            rng, _, step_text = item.partition("/")
            step = 1
            if step_text:
                expect(step_text.isdigit() and int(step_text) > 0, f"{name}: bad step in {item!r}")
                step = int(step_text)

            def value(t: str) -> int:
                t = t.lower()
                if t in names:
                    return names[t]
                expect(t.isdigit(), f"{name}: {t!r} is not a number")
                v = int(t)
                expect(lo <= v <= hi, f"{name}: {v} is outside {lo}-{hi}")
                return v

            if rng in ("*", "?"):
                start, end = lo, hi
            elif "-" in rng:
                a, b = rng.split("-", 1)
                start, end = value(a), value(b)
                expect(start <= end, f"{name}: range {rng!r} runs backwards")
            else:
                start = value(rng)
                end = hi if step_text else start
            allowed.update(range(start, end + 1, step))
        sets.append(allowed)
    return sets


# --- assertions on rendered objects ----------------------------------------------------------


@dataclass
class Expectations:
    """What a scenario is meant to produce, to check the render is the scenario it claims."""

    kinds: dict[str, int]
    drain_timeout: float | None = None
    external_configmaps: set[str] = field(default_factory=set)
    backfill_shards: int | None = None
    snapshot_shards: int | None = None


def assert_security(obj: dict, pod: dict) -> None:
    spec = pod["spec"]
    psc = spec.get("securityContext", {})
    for forbidden in ("hostNetwork", "hostPID", "hostIPC"):
        expect(not spec.get(forbidden), f"{kn(obj)}: {forbidden} is set")
    for vol in spec.get("volumes", []):
        expect("hostPath" not in vol, f"{kn(obj)}: hostPath volume {vol['name']}")
    expect(psc.get("runAsNonRoot") is True, f"{kn(obj)}: pod securityContext.runAsNonRoot is not true")
    expect(psc.get("seccompProfile", {}).get("type") == "RuntimeDefault",
           f"{kn(obj)}: pod seccompProfile is not RuntimeDefault")
    for c in containers(spec):
        sc = c.get("securityContext", {})
        where = f"{kn(obj)} container {c['name']}"
        run_as_user = sc.get("runAsUser", psc.get("runAsUser"))
        expect(run_as_user == 65532, f"{where}: runAsUser is {run_as_user}, want 65532")
        expect(sc.get("runAsNonRoot", psc.get("runAsNonRoot")) is True, f"{where}: runAsNonRoot")
        expect(sc.get("readOnlyRootFilesystem") is True, f"{where}: readOnlyRootFilesystem is not true")
        expect(sc.get("allowPrivilegeEscalation") is False, f"{where}: allowPrivilegeEscalation is not false")
        expect(not sc.get("privileged"), f"{where}: privileged")
        caps = sc.get("capabilities", {})
        expect("ALL" in caps.get("drop", []), f"{where}: capabilities.drop lacks ALL")
        expect(not caps.get("add"), f"{where}: capabilities.add {caps.get('add')}")
        seccomp = sc.get("seccompProfile", psc.get("seccompProfile", {})).get("type")
        expect(seccomp == "RuntimeDefault", f"{where}: seccompProfile {seccomp}")
        requests = c.get("resources", {}).get("requests", {})
        expect("cpu" in requests and "memory" in requests,
               f"{where}: resources.requests needs cpu and memory, has {sorted(requests)}")
        expect(c.get("image"), f"{where}: no image")


def assert_mounts(obj: dict, pod: dict, configmaps: set[str], external: set[str]) -> None:
    spec = pod["spec"]
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    for c in spec.get("containers", []):
        where = f"{kn(obj)} container {c['name']}"
        mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
        for m in mounts.values():
            expect(m["name"] in volumes, f"{where}: volumeMount {m['name']} has no volume")
        # The root filesystem is read-only: /tmp and the data directory must be volumes.
        expect(TMP_DIR in mounts, f"{where}: {TMP_DIR} is not a volume")
        expect(DATA_DIR in mounts, f"{where}: {DATA_DIR} is not a volume")
        spec_dir = str(Path(SPEC_PATH).parent)
        expect(spec_dir in mounts, f"{where}: nothing mounted at {spec_dir}")
        vol = volumes[mounts[spec_dir]["name"]]
        cm = vol.get("configMap")
        expect(cm, f"{where}: {spec_dir} is not a ConfigMap volume")
        items = {i["path"] for i in cm.get("items", [])}
        expect(not items or Path(SPEC_PATH).name in items,
               f"{where}: the ConfigMap volume does not provide {Path(SPEC_PATH).name}")
        expect(cm["name"] in configmaps or cm["name"] in external,
               f"{where}: ConfigMap {cm['name']} is neither rendered nor named as existing")
        args = [str(a) for a in c.get("args", [])]
        expect(SPEC_PATH in args, f"{where}: args do not name {SPEC_PATH}: {args}")


def assert_probes(obj: dict, pod: dict) -> None:
    for c in pod["spec"].get("containers", []):
        where = f"{kn(obj)} container {c['name']}"
        ports = c.get("ports", [])
        names = {p["name"]: p["containerPort"] for p in ports if "name" in p}
        numbers = {p["containerPort"] for p in ports}
        for probe_name in ("startupProbe", "livenessProbe", "readinessProbe"):
            probe = c.get(probe_name)
            if not probe:
                continue
            handler = probe.get("httpGet") or probe.get("tcpSocket") or probe.get("grpc")
            expect(handler, f"{where}: {probe_name} has no httpGet/tcpSocket/grpc")
            port = handler["port"]
            if isinstance(port, str):
                expect(port in names, f"{where}: {probe_name} port {port!r} is not a named port "
                                      f"of the container ({sorted(names)})")
            else:
                expect(port in numbers, f"{where}: {probe_name} port {port} is not a containerPort")


def assert_pod_failure_policy(obj: dict, job: dict, container_names: set[str], config_retried: bool = False) -> str:
    """config_retried: the CDC snapshot, whose exit 2 (the stream's slot does not exist yet) must
    be retried instead of failing the Job."""
    pod_spec = job["template"]["spec"]
    expect(pod_spec.get("restartPolicy") == "Never",
           f"{kn(obj)}: restartPolicy {pod_spec.get('restartPolicy')!r} (podFailurePolicy needs Never)")
    rules = job.get("podFailurePolicy", {}).get("rules", [])
    expect(rules, f"{kn(obj)}: no podFailurePolicy")
    per_index = "backoffLimitPerIndex" in job

    def first_action_for(code: int) -> str:
        for rule in rules:
            on = rule.get("onExitCodes")
            if not on:
                continue
            expect(on.get("containerName") in container_names,
                   f"{kn(obj)}: podFailurePolicy names container {on.get('containerName')!r}")
            hit = code in on["values"] if on["operator"] == "In" else code not in on["values"]
            if hit:
                return rule["action"]
        return "Count"  # no rule: the default, counted towards backoffLimit

    fail_actions = {"FailJob", "FailIndex"} if per_index else {"FailJob"}
    if config_retried:
        expect(first_action_for(EXIT_CONFIG) == "Count",
               f"{kn(obj)}: exit {EXIT_CONFIG} must be retried (the snapshot exits {EXIT_CONFIG} until the slot exists)")
    else:
        expect(first_action_for(EXIT_CONFIG) == "FailJob", f"{kn(obj)}: exit {EXIT_CONFIG} (config) must fail the Job")
    for code, what in ((EXIT_CONTRACT, "data contract"), (EXIT_LEASE, "lease held")):
        action = first_action_for(code)
        expect(action in fail_actions, f"{kn(obj)}: exit {code} ({what}) must fail at once, action is {action}")
    expect(first_action_for(EXIT_TRANSIENT) == "Count",
           f"{kn(obj)}: exit {EXIT_TRANSIENT} (transient) must count as a retry")
    disruption = [r for r in rules if r["action"] == "Ignore" and any(
        c.get("type") == "DisruptionTarget" and c.get("status", "True") == "True"
        for c in r.get("onPodConditions", []))]
    expect(disruption, f"{kn(obj)}: no Ignore rule for the DisruptionTarget condition")
    if any(r["action"] == "FailIndex" for r in rules):
        expect(per_index, f"{kn(obj)}: FailIndex needs backoffLimitPerIndex")
    return "per-index" if per_index else "job"


def component(obj: dict) -> str | None:
    return obj["metadata"].get("labels", {}).get("app.kubernetes.io/component")


def assert_snapshot_job(obj: dict, pod: dict, exp: Expectations, cdc_streams: list[dict]) -> None:
    """The CDC snapshot: `runnel-batch run --snapshot` as an Indexed Job, one pod per shard, next
    to the CDC stream whose slot it needs."""
    spec = obj["spec"]
    c = pod["spec"]["containers"][0]
    args = [str(a) for a in c.get("args", [])]
    expect("--snapshot" in args, f"{kn(obj)}: runnel-batch without --snapshot: {args}")
    expect(cdc_streams, f"{kn(obj)}: a snapshot without the CDC stream Deployment that creates its slot")
    env = env_map(c)
    for var in ("RUNNEL_FROM", "RUNNEL_TO"):
        expect(var not in env, f"{kn(obj)}: env {var} set (a snapshot reads everything: no window)")
    expect(env.get("RUNNEL_SHARD_COUNT", {}).get("value"), f"{kn(obj)}: env RUNNEL_SHARD_COUNT not set")
    shards = int(env["RUNNEL_SHARD_COUNT"]["value"])
    if exp.snapshot_shards is not None:
        expect(shards == exp.snapshot_shards, f"{kn(obj)}: {shards} shards, want {exp.snapshot_shards}")
    # The shard index comes from JOB_COMPLETION_INDEX, which only an Indexed Job sets.
    expect(spec.get("completionMode") == "Indexed", f"{kn(obj)}: snapshot Job is not Indexed")
    expect(spec.get("completions") == shards and spec.get("parallelism") == shards,
           f"{kn(obj)}: completions {spec.get('completions')} / parallelism "
           f"{spec.get('parallelism')}, want {shards} = RUNNEL_SHARD_COUNT")
    # Retries are also the wait for the stream to create the slot.
    expect(spec.get("backoffLimitPerIndex", 0) >= 1, f"{kn(obj)}: no retries per shard (backoffLimitPerIndex)")
    expect(isinstance(spec.get("maxFailedIndexes"), int) and 1 <= spec["maxFailedIndexes"] <= shards,
           f"{kn(obj)}: Indexed Job without maxFailedIndexes (1..{shards})")
    expect(len(obj["metadata"]["name"]) <= 63, f"{kn(obj)}: Job name longer than 63")


def check_objects(objects: list[dict], exp: Expectations) -> str:
    kinds: dict[str, int] = {}
    for obj in objects:
        kinds[obj["kind"]] = kinds.get(obj["kind"], 0) + 1
    expect(kinds == exp.kinds, f"objects {kinds}, want {exp.kinds}")

    by_kind: dict[str, list[dict]] = {}
    for obj in objects:
        by_kind.setdefault(obj["kind"], []).append(obj)
        name = obj["metadata"]["name"]
        expect(DNS1123.match(name) and len(name) <= 253, f"{kn(obj)}: name is not a DNS-1123 name")
        labels = obj["metadata"].get("labels", {})
        expect(labels.get("app.kubernetes.io/name") == "runnel", f"{kn(obj)}: no app.kubernetes.io/name label")
    configmaps = {o["metadata"]["name"] for o in by_kind.get("ConfigMap", [])}
    deployments = {o["metadata"]["name"]: o for o in by_kind.get("Deployment", [])}
    cdc_streams = [d for d in deployments.values() if component(d) == "cdc-stream"]
    expect(len(cdc_streams) <= 1, f"{len(cdc_streams)} CDC stream Deployments")
    if cdc_streams:
        # The CDC stream replaces the stream Deployment: a slot has one consumer.
        others = [kn(d) for d in deployments.values() if component(d) != "cdc-stream"]
        expect(not others, f"{kn(cdc_streams[0])} next to {others}")
    service_accounts = {o["metadata"]["name"] for o in by_kind.get("ServiceAccount", [])}

    for obj in objects:
        pod = pod_template(obj)
        if pod is None:
            continue
        pod_labels = pod["metadata"].get("labels", {})
        assert_security(obj, pod)
        assert_mounts(obj, pod, configmaps, exp.external_configmaps)
        assert_probes(obj, pod)
        sa = pod["spec"].get("serviceAccountName", "default")
        expect(sa in service_accounts or sa == "default", f"{kn(obj)}: ServiceAccount {sa} is not rendered")
        expect(pod["spec"].get("automountServiceAccountToken") is False,
               f"{kn(obj)}: the API token is mounted (automountServiceAccountToken)")
        names = {c["name"] for c in pod["spec"]["containers"]}
        job = job_spec(obj)
        if job is not None:
            assert_pod_failure_policy(obj, job, names, config_retried=component(obj) == "cdc-snapshot")
            expect(job.get("activeDeadlineSeconds"), f"{kn(obj)}: no activeDeadlineSeconds")
            commands = [c.get("command", [None])[0] for c in pod["spec"]["containers"]]
            expect(commands == ["runnel-batch"], f"{kn(obj)}: runs {commands}, want runnel-batch")

        if obj["kind"] == "Deployment":
            sel = obj["spec"]["selector"]
            expect(selector_matches(sel, pod_labels), f"{kn(obj)}: selector {sel} does not match pod labels")
            grace = pod["spec"].get("terminationGracePeriodSeconds", 30)
            for c in pod["spec"]["containers"]:
                args = [str(a) for a in c.get("args", [])]
                drain = arg_value(args, "--drain-timeout")
                drain_s = parse_duration_seconds(drain) if drain else 20.0
                expect(grace > drain_s, f"{kn(obj)}: terminationGracePeriodSeconds {grace} does not "
                                        f"exceed the drain timeout {drain_s:g} s")
                if exp.drain_timeout is not None:
                    expect(drain_s == exp.drain_timeout, f"{kn(obj)}: drain timeout {drain_s:g}, "
                                                         f"values say {exp.drain_timeout:g}")
                http_port = arg_value(args, "--http-port")
                expect(http_port, f"{kn(obj)}: runnel-stream without --http-port")
                ports = {p["containerPort"] for p in c.get("ports", [])}
                expect(int(http_port) in ports, f"{kn(obj)}: --http-port {http_port} is not a containerPort {ports}")
                probes = {p: c.get(p, {}).get("httpGet", {}).get("path")
                          for p in ("startupProbe", "livenessProbe", "readinessProbe")}
                expect(probes == {"startupProbe": "/livez", "livenessProbe": "/livez", "readinessProbe": "/readyz"},
                       f"{kn(obj)}: probes {probes}")
                env = env_map(c)
                host = env.get("HOSTNAME", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
                expect(host == "metadata.name", f"{kn(obj)}: HOSTNAME is not the pod name (consumer name)")
                expect(c.get("command") == ["runnel-stream"], f"{kn(obj)}: command {c.get('command')}")
            if component(obj) == "cdc-stream":
                # One consumer of the replication slot: one pod, and never two during a rollout.
                expect(obj["spec"].get("replicas") == 1, f"{kn(obj)}: replicas {obj['spec'].get('replicas')}, "
                                                         "want 1 (one consumer per replication slot)")
                strategy = obj["spec"].get("strategy", {}).get("type", "RollingUpdate")
                expect(strategy == "Recreate", f"{kn(obj)}: strategy {strategy}, want Recreate "
                                               "(a rolling update runs two slot consumers at once)")

        if obj["kind"] == "CronJob":
            spec = obj["spec"]
            parse_cron(spec["schedule"])
            expect(spec.get("timeZone"), f"{kn(obj)}: no timeZone")
            expect(spec.get("concurrencyPolicy") in ("Forbid", "Replace"),
                   f"{kn(obj)}: concurrencyPolicy {spec.get('concurrencyPolicy')}, want Forbid")
            for key in ("startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
                expect(key in spec, f"{kn(obj)}: no {key}")
            jspec = spec["jobTemplate"]["spec"]
            for key in ("backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished"):
                expect(key in jspec, f"{kn(obj)}: jobTemplate has no {key}")
            expect(len(obj["metadata"]["name"]) <= 52, f"{kn(obj)}: CronJob names are limited to 52 characters")

        if obj["kind"] == "Job" and component(obj) == "cdc-snapshot":
            assert_snapshot_job(obj, pod, exp, cdc_streams)
        elif obj["kind"] == "Job":
            spec = obj["spec"]
            c = pod["spec"]["containers"][0]
            env = env_map(c)
            for var in ("RUNNEL_FROM", "RUNNEL_TO", "RUNNEL_SHARD_COUNT"):
                expect(env.get(var, {}).get("value"), f"{kn(obj)}: env {var} not set")
            start = datetime.fromisoformat(env["RUNNEL_FROM"]["value"].replace("Z", "+00:00"))
            end = datetime.fromisoformat(env["RUNNEL_TO"]["value"].replace("Z", "+00:00"))
            expect(start < end, f"{kn(obj)}: RUNNEL_FROM is not before RUNNEL_TO")
            shards = int(env["RUNNEL_SHARD_COUNT"]["value"])
            if exp.backfill_shards is not None:
                expect(shards == exp.backfill_shards, f"{kn(obj)}: {shards} shards, want {exp.backfill_shards}")
            if shards > 1:
                expect(spec.get("completionMode") == "Indexed", f"{kn(obj)}: {shards} shards but not an Indexed Job")
                expect(spec.get("completions") == shards and spec.get("parallelism") == shards,
                       f"{kn(obj)}: completions {spec.get('completions')} / parallelism "
                       f"{spec.get('parallelism')}, want {shards} = RUNNEL_SHARD_COUNT")
                expect("backoffLimitPerIndex" in spec, f"{kn(obj)}: Indexed Job without backoffLimitPerIndex")
                # A cause shared by the shards (a bad spec, a full target) stops the Job early.
                expect(isinstance(spec.get("maxFailedIndexes"), int) and 1 <= spec["maxFailedIndexes"] <= shards,
                       f"{kn(obj)}: Indexed Job without maxFailedIndexes (1..{shards})")
            else:
                expect(spec.get("completionMode", "NonIndexed") == "NonIndexed", f"{kn(obj)}: one shard, Indexed")
                expect(spec.get("completions", 1) == 1, f"{kn(obj)}: completions {spec.get('completions')}")
            expect(len(obj["metadata"]["name"]) <= 63, f"{kn(obj)}: Job name longer than 63")

    for svc in by_kind.get("Service", []):
        sel = svc["spec"]["selector"]
        targets = [d for d in deployments.values()
                   if selector_matches({"matchLabels": sel}, d["spec"]["template"]["metadata"]["labels"])]
        expect(targets, f"{kn(svc)}: selector {sel} matches no Deployment's pods")
        for port in svc["spec"]["ports"]:
            tp = port.get("targetPort", port["port"])
            for d in targets:
                cports = [p for c in d["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])]
                ok = any(p.get("name") == tp for p in cports) if isinstance(tp, str) else \
                    any(p["containerPort"] == tp for p in cports)
                expect(ok, f"{kn(svc)}: targetPort {tp!r} is not a port of {kn(d)}")

    for pdb in by_kind.get("PodDisruptionBudget", []):
        sel = pdb["spec"]["selector"]
        expect(any(selector_matches(sel, d["spec"]["template"]["metadata"]["labels"]) for d in deployments.values()),
               f"{kn(pdb)}: selector matches no Deployment's pods")

    for scaler in by_kind.get("HorizontalPodAutoscaler", []) + by_kind.get("ScaledObject", []):
        ref = scaler["spec"]["scaleTargetRef"]
        expect(ref.get("kind", "Deployment") == "Deployment" and ref["name"] in deployments,
               f"{kn(scaler)}: scaleTargetRef {ref} is not a rendered Deployment")
        target = deployments[ref["name"]]
        expect(component(target) != "cdc-stream", f"{kn(scaler)} scales {kn(target)}, the one consumer of a slot")
        if scaler["kind"] == "HorizontalPodAutoscaler":
            spec = scaler["spec"]
            expect(spec["minReplicas"] <= spec["maxReplicas"], f"{kn(scaler)}: minReplicas > maxReplicas")
            for c in target["spec"]["template"]["spec"]["containers"]:
                expect("cpu" in c.get("resources", {}).get("requests", {}),
                       f"{kn(scaler)}: CPU utilization needs cpu requests on {c['name']}")
        expect("replicas" not in target["spec"], f"{kn(target)}: sets replicas while {kn(scaler)} scales it")

    for so in by_kind.get("ScaledObject", []):
        spec = so["spec"]
        expect(so["apiVersion"] == "keda.sh/v1alpha1", f"{kn(so)}: apiVersion {so['apiVersion']}")
        expect(spec.get("minReplicaCount", 0) <= spec.get("maxReplicaCount", 100), f"{kn(so)}: min > max")
        triggers = spec.get("triggers", [])
        expect(len(triggers) == 1 and triggers[0]["type"] in ("redis-streams", "kafka"), f"{kn(so)}: triggers {triggers}")
        meta = triggers[0]["metadata"]
        for k, v in meta.items():
            expect(isinstance(v, str), f"{kn(so)}: trigger metadata {k} must be a string, is {v!r}")
        if triggers[0]["type"] == "kafka":
            expect(meta.get("bootstrapServers"), f"{kn(so)}: no bootstrapServers")
            expect(meta.get("consumerGroup"), f"{kn(so)}: trigger metadata has no consumerGroup")
            expect(meta.get("lagThreshold", "").isdigit() and int(meta["lagThreshold"]) > 0,
                   f"{kn(so)}: want a positive lagThreshold, have {meta.get('lagThreshold')!r}")
            continue
        expect(meta.get("address") or meta.get("addressFromEnv") or meta.get("host"), f"{kn(so)}: no Redis address")
        for key in ("stream", "consumerGroup"):
            expect(meta.get(key), f"{kn(so)}: trigger metadata has no {key}")
        targets = [k for k in ("pendingEntriesCount", "lagCount", "streamLength") if k in meta]
        expect(len(targets) == 1 and meta[targets[0]].isdigit() and int(meta[targets[0]]) > 0,
               f"{kn(so)}: want one positive pendingEntriesCount/lagCount/streamLength, have {targets}")

    for sm in by_kind.get("ServiceMonitor", []):
        spec = sm["spec"]
        services = [s for s in by_kind.get("Service", []) if selector_matches(spec["selector"], s["metadata"]["labels"])]
        expect(services, f"{kn(sm)}: selector matches no Service")
        for ep in spec["endpoints"]:
            expect(any(p.get("name") == ep["port"] for s in services for p in s["spec"]["ports"]),
                   f"{kn(sm)}: endpoint port {ep['port']!r} is not a Service port name")
            expect(ep.get("path") == "/metrics", f"{kn(sm)}: path {ep.get('path')}")

    assert_monitoring(by_kind, objects)
    return ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))


# --- monitoring: the dashboard ConfigMap, the PrometheusRule, the push ------------------------

PROM_DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")
ALERT_NAMES = {"RunnelBatchNoRecentSuccess", "RunnelBatchDataContractViolated", "RunnelBatchRunFailed",
               "RunnelStreamStalled", "RunnelStreamLagging", "RunnelDeadLettersGrowing", "RunnelMemoryNearWindow",
               "RunnelCDCSlotLagging"}


def code_metric_names() -> set[str]:
    """Every `runnel_…` metric name the code makes (string literals in Sources/)."""
    names: set[str] = set()
    for path in (ROOT / "Sources").rglob("*.swift"):
        names.update(re.findall(r'"(runnel_[a-z_]+)"', path.read_text()))
        names.update(re.findall(r"# TYPE (runnel_[a-z_]+) ", path.read_text()))
    return names


def metric_names_in(expr: str) -> set[str]:
    names = set(re.findall(r"\b(runnel_[a-z_]+)\b", expr))
    # Histogram series: runnel_x_bucket/_count/_sum come from the metric runnel_x.
    return {re.sub(r"_(bucket|count|sum)$", "", n) if n.endswith(("_bucket", "_count", "_sum")) else n for n in names}


def dashboard_exprs(dashboard: dict) -> list[tuple[str, str]]:
    out = []
    for panel in dashboard.get("panels", []):
        for inner in [panel] + list(panel.get("panels", [])):
            for t in inner.get("targets", []):
                out.append((inner.get("title", "?"), t["expr"]))
    return out


def rule_exprs(rule_obj: dict) -> list[dict]:
    return [r for g in rule_obj["spec"]["groups"] for r in g["rules"]]


def assert_monitoring(by_kind: dict[str, list[dict]], objects: list[dict]) -> None:
    known = code_metric_names()
    for cm in by_kind.get("ConfigMap", []):
        if "runnel.json" not in cm.get("data", {}):
            continue
        labels = cm["metadata"].get("labels", {})
        expect(labels.get("grafana_dashboard") == "1", f"{kn(cm)}: no Grafana sidecar label (grafana_dashboard: \"1\")")
        import json
        try:
            dashboard = json.loads(cm["data"]["runnel.json"])
        except ValueError as e:
            raise CheckFailed(f"{kn(cm)}: runnel.json is not JSON: {e}")
        exprs = dashboard_exprs(dashboard)
        expect(len(exprs) >= 10, f"{kn(cm)}: {len(exprs)} panel queries, want the full dashboard")
        for title, expr in exprs:
            unknown = metric_names_in(expr) - known
            expect(not unknown, f"{kn(cm)}: panel {title!r} queries {sorted(unknown)}, which no code makes")
            expect('pipeline=~"$pipeline"' in expr, f"{kn(cm)}: panel {title!r} is not filtered by $pipeline")
    for pr in by_kind.get("PrometheusRule", []):
        expect(pr["apiVersion"] == "monitoring.coreos.com/v1", f"{kn(pr)}: apiVersion {pr['apiVersion']}")
        rules = rule_exprs(pr)
        expect(rules, f"{kn(pr)}: no rules")
        for r in rules:
            name = r.get("alert", "?")
            expect(name in ALERT_NAMES, f"{kn(pr)}: unexpected alert {name}")
            expect(r.get("expr"), f"{kn(pr)}: {name} has no expr")
            expect(r.get("labels", {}).get("severity") in ("critical", "warning", "info"),
                   f"{kn(pr)}: {name} has no severity label")
            ann = r.get("annotations", {})
            expect(ann.get("summary") and ann.get("description"), f"{kn(pr)}: {name} lacks summary/description")
            if "for" in r:
                expect(PROM_DURATION.match(str(r["for"])), f"{kn(pr)}: {name} for: {r['for']!r} is not a duration")
            unknown = metric_names_in(r["expr"]) - known
            expect(not unknown, f"{kn(pr)}: {name} queries {sorted(unknown)}, which no code makes")
            expect('pipeline=~"' in r["expr"], f"{kn(pr)}: {name} does not select this release's pipelines")
    # Every batch run (CronJob, backfill Job) pushes to the same gateway, or none does.
    urls = set()
    for obj in objects:
        if obj["kind"] in ("CronJob", "Job"):
            env = env_map(pod_template(obj)["spec"]["containers"][0])
            urls.add(env.get("RUNNEL_METRICS_PUSH_URL", {}).get("value"))
    expect(len(urls) <= 1, f"batch runs push to different places: {urls}")


# --- scenarios ---------------------------------------------------------------------------------

SCENARIOS: dict[str, Expectations] = {
    # Each enabled component has a `helm test` Pod that validates its spec.
    "defaults": Expectations(kinds={"ConfigMap": 1, "ServiceAccount": 1, "CronJob": 1, "Pod": 1}),
    "values-batch.yaml": Expectations(kinds={"ConfigMap": 1, "ServiceAccount": 1, "CronJob": 1, "Pod": 1}),
    "values-stream.yaml": Expectations(
        kinds={"ConfigMap": 1, "ServiceAccount": 1, "Deployment": 1, "Service": 1, "ScaledObject": 1,
               "PodDisruptionBudget": 1, "ServiceMonitor": 1, "Pod": 1},
        drain_timeout=20),
    "values-stream-kafka.yaml": Expectations(
        kinds={"ConfigMap": 1, "ServiceAccount": 1, "Deployment": 1, "Service": 1, "ScaledObject": 1,
               "PodDisruptionBudget": 1, "Pod": 1},
        drain_timeout=20),
    "values-hybrid.yaml": Expectations(
        kinds={"ConfigMap": 3, "ServiceAccount": 1, "CronJob": 1, "Deployment": 1, "Service": 1,
               "HorizontalPodAutoscaler": 1, "PodDisruptionBudget": 1, "Job": 1, "Pod": 3},
        drain_timeout=20, backfill_shards=4),
    "values-monitoring.yaml": Expectations(
        kinds={"ConfigMap": 4, "ServiceAccount": 1, "CronJob": 1, "Deployment": 1, "Service": 1,
               "HorizontalPodAutoscaler": 1, "PodDisruptionBudget": 1, "Job": 1, "PrometheusRule": 1, "Pod": 3},
        drain_timeout=20, backfill_shards=4),
    "values-backfill-sharded.yaml": Expectations(
        kinds={"ServiceAccount": 1, "Job": 1, "Pod": 1}, external_configmaps={"orders-pipeline"}, backfill_shards=8),
    "values-cdc.yaml": Expectations(
        kinds={"ConfigMap": 1, "ServiceAccount": 1, "Deployment": 1, "Service": 1, "ServiceMonitor": 1, "Job": 1,
               "PrometheusRule": 1, "Pod": 1},
        drain_timeout=20, snapshot_shards=4),
}
KUSTOMIZE_EXPECT = Expectations(
    kinds={"ConfigMap": 2, "ServiceAccount": 1, "CronJob": 1, "Deployment": 1, "Service": 1,
           "PodDisruptionBudget": 1, "Job": 1, "ScaledObject": 1},
    drain_timeout=20, backfill_shards=8)


def lint(values: dict[str, Any], versions: list[str]) -> str:
    findings = []
    for version in versions:
        report = helm.lint(str(CHART), values, strict=True, namespace=NAMESPACE, kube_version=f"v{version}")
        findings += [f"[{m['severity']}] {m['path']}: {m['error']}" for m in report.get("messages", [])
                     if m["severity"] >= 2]
        findings += report.get("errors", [])
    expect(not findings, "helm lint (strict): " + "; ".join(findings))
    return "no warnings or errors"


def schema_and_template_rejections(chart: helm.Chart) -> list[tuple[str, Callable[[], str | None]]]:
    """Bad values files: each must be refused, with a message naming the offending key."""
    checks = []
    for path in sorted((HERE / "bad-values").glob("*.yaml")):
        text = path.read_text()
        wanted = [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("# expect:")]
        stage = next((line.split(":", 1)[1].strip() for line in text.splitlines()
                      if line.startswith("# rejected-by:")), "schema")

        def run(path: Path = path, wanted: list[str] = wanted, stage: str = stage) -> str:
            values = load_values(path)
            expect(wanted, f"{path.name}: no '# expect:' line")
            if stage == "schema":
                try:
                    chart.validate_schema(values)
                except helm.HelmValuesError as e:
                    message = str(e)
                else:
                    raise CheckFailed("values.schema.json accepted it")
            else:
                try:
                    chart.render(values, name=RELEASE, namespace=NAMESPACE)
                except (helm.HelmRenderError, helm.HelmValuesError) as e:
                    message = str(e)
                else:
                    raise CheckFailed("the chart rendered it")
            for fragment in wanted:
                expect(fragment in message, f"message lacks {fragment!r}: {message}")
            first = " ".join(message.split())
            return first[:200] + ("…" if len(first) > 200 else "")

        checks.append((f"rejects {path.name} ({stage})", run))
    expect(len(checks) >= 2, "fewer than two bad values files")
    return checks


def _container(objs: list[dict], kind: str) -> dict:
    obj = next(o for o in objs if o["kind"] == kind)
    return pod_template(obj)["spec"]["containers"][0]


def _job(objs: list[dict], kind: str) -> dict:
    return job_spec(next(o for o in objs if o["kind"] == kind))


# Known-bad edits of a good render: each must make check_objects fail with the given words, so
# the assertions above cannot pass vacuously.
MUTATIONS: list[tuple[str, str, Callable[[list[dict]], None]]] = [
    ("probe on a missing port", "is not a named port",
     lambda o: _container(o, "Deployment")["readinessProbe"]["httpGet"].update(port="metrics")),
    ("selector not matching the pods", "does not match pod labels",
     lambda o: next(x for x in o if x["kind"] == "Deployment")["spec"]["selector"]["matchLabels"].update(
         {"app.kubernetes.io/component": "other"})),
    ("service selecting nothing", "matches no Deployment",
     lambda o: next(x for x in o if x["kind"] == "Service")["spec"]["selector"].update({"extra": "x"})),
    ("cron minute out of range", "outside 0-59",
     lambda o: next(x for x in o if x["kind"] == "CronJob")["spec"].update(schedule="60 2 * * *")),
    ("cron with six fields", "has 6 fields",
     lambda o: next(x for x in o if x["kind"] == "CronJob")["spec"].update(schedule="0 0 2 * * *")),
    ("grace period equal to the drain timeout", "does not exceed the drain timeout",
     lambda o: pod_template(next(x for x in o if x["kind"] == "Deployment"))["spec"].update(
         terminationGracePeriodSeconds=20)),
    ("writable root filesystem", "readOnlyRootFilesystem",
     lambda o: _container(o, "CronJob")["securityContext"].update(readOnlyRootFilesystem=False)),
    ("capabilities not dropped", "capabilities.drop",
     lambda o: _container(o, "Job")["securityContext"]["capabilities"].update(drop=[])),
    ("no resource requests", "resources.requests",
     lambda o: _container(o, "Deployment")["resources"].pop("requests")),
    ("exit 3 retried", "exit 3 (data contract) must fail",
     lambda o: _job(o, "CronJob")["podFailurePolicy"]["rules"][0]["onExitCodes"].update(values=[2, 4])),
    ("no DisruptionTarget rule", "DisruptionTarget",
     lambda o: _job(o, "CronJob")["podFailurePolicy"].update(
         rules=[r for r in _job(o, "CronJob")["podFailurePolicy"]["rules"] if r["action"] != "Ignore"])),
    ("restartPolicy OnFailure", "restartPolicy",
     lambda o: pod_template(next(x for x in o if x["kind"] == "Job"))["spec"].update(restartPolicy="OnFailure")),
    ("shards and completions disagree", "RUNNEL_SHARD_COUNT",
     lambda o: _job(o, "Job").update(completions=3)),
]

# The same for change data capture (on the ci/values-cdc.yaml render).
CDC_MUTATIONS: list[tuple[str, str, Callable[[list[dict]], None]]] = [
    ("two CDC stream replicas", "one consumer per replication slot",
     lambda o: next(x for x in o if x["kind"] == "Deployment")["spec"].update(replicas=2)),
    ("CDC stream rolling update", "want Recreate",
     lambda o: next(x for x in o if x["kind"] == "Deployment")["spec"].update(strategy={"type": "RollingUpdate"})),
    ("snapshot fails at once on exit 2", "must be retried",
     lambda o: _job(o, "Job")["podFailurePolicy"]["rules"].insert(
         0, {"action": "FailJob", "onExitCodes": {"containerName": "runnel", "operator": "In", "values": [2]}})),
    ("snapshot without --snapshot", "without --snapshot",
     lambda o: _container(o, "Job")["args"].remove("--snapshot")),
    ("snapshot not Indexed", "not Indexed",
     lambda o: _job(o, "Job").pop("completionMode")),
    ("snapshot with a window", "no window",
     lambda o: _container(o, "Job")["env"].append({"name": "RUNNEL_FROM", "value": "2025-01-01T00:00:00Z"})),
    ("snapshot without retries", "backoffLimitPerIndex",
     lambda o: _job(o, "Job").update(backoffLimitPerIndex=0)),
]

# The same for the monitoring objects (on the ci/values-monitoring.yaml render).
MONITORING_MUTATIONS: list[tuple[str, str, Callable[[list[dict]], None]]] = [
    ("dashboard without the sidecar label", "Grafana sidecar label",
     lambda o: next(x for x in o if x["kind"] == "ConfigMap" and "runnel.json" in x.get("data", {}))["metadata"].update(
         labels={"app.kubernetes.io/name": "runnel"})),
    ("alert without severity", "no severity",
     lambda o: next(x for x in o if x["kind"] == "PrometheusRule")["spec"]["groups"][0]["rules"][0].update(labels={})),
    ("alert on a metric no code makes", "which no code makes",
     lambda o: next(x for x in o if x["kind"] == "PrometheusRule")["spec"]["groups"][0]["rules"][0].update(
         expr='runnel_records_typo_total{pipeline=~"x"} > 0')),
    ("panel on a metric no code makes", "which no code makes",
     lambda o: (lambda cm: cm["data"].update({"runnel.json": cm["data"]["runnel.json"].replace(
         "runnel_records_read_total", "runnel_records_red_total")}))(
         next(x for x in o if x["kind"] == "ConfigMap" and "runnel.json" in x.get("data", {})))),
]


def mutation_checks(good: list[dict], exp: Expectations, mutations=None) -> str:
    import copy
    mutations = MUTATIONS if mutations is None else mutations
    for name, words, mutate in mutations:
        objs = copy.deepcopy(good)
        mutate(objs)
        try:
            check_objects(objs, exp)
        except CheckFailed as e:
            expect(words in str(e), f"mutation '{name}' failed for another reason: {e}")
        else:
            raise CheckFailed(f"mutation '{name}' was not caught")
    return f"{len(mutations)} known-bad edits caught"


def readme_documents_values() -> str:
    """Every key of values.yaml has a row in the chart README's values table."""
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    readme = (CHART / "README.md").read_text()
    expect("## Values" in readme, "charts/runnel/README.md has no '## Values' section")
    readme = readme.split("## Values", 1)[1]
    documented = set(re.findall(r"^\| `([^`]+)` \|", readme, flags=re.M))
    opaque = {"resources", "podSecurityContext", "strategy"}  # documented as a whole

    def leaves(d: dict, prefix: str = ""):
        for k, v in d.items():
            if isinstance(v, dict) and v and k not in opaque:
                yield from leaves(v, f"{prefix}{k}.")
            else:
                yield prefix + k

    # The per-component rows cover batch, stream and backfill, and the CDC stream's and
    # snapshot's keys of the same name where they have them (they have no pipelineSpec).
    existing = set(leaves(values))
    expanded = set()
    for key in documented:
        if "<component>" in key:
            expanded.update(key.replace("<component>", c) for c in ("batch", "stream", "backfill"))
            expanded.update(k for k in (key.replace("<component>", c) for c in ("cdc.stream", "cdc.snapshot"))
                            if k in existing)
        else:
            expanded.add(key)

    missing = [k for k in leaves(values)
               if k not in expanded and not any(d.endswith(".*") and k.startswith(d[:-1]) for d in expanded)]
    expect(not missing, f"charts/runnel/README.md has no row for {missing}")
    unknown = [k for k in expanded if not k.endswith(".*") and not any(
        leaf == k for leaf in leaves(values))]
    expect(not unknown, f"charts/runnel/README.md documents keys values.yaml lacks: {unknown}")
    return f"{len(list(leaves(values)))} keys"


def promtool_check_rules(objects: list[dict]) -> str:
    """`promtool check rules` on the rendered rule groups, where promtool is on PATH (scripts/test
    puts Debian's there); the full evaluation against real runs is scripts/check-observability."""
    import shutil
    import tempfile
    promtool = shutil.which("promtool")
    if not promtool:
        return "skipped: no promtool on PATH"
    rule = next(o for o in objects if o["kind"] == "PrometheusRule")
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        yaml.safe_dump({"groups": rule["spec"]["groups"]}, f)
        f.flush()
        out = subprocess.run([promtool, "check", "rules", f.name], capture_output=True, text=True)
    expect(out.returncode == 0, f"promtool check rules: {out.stdout.strip()} {out.stderr.strip()}")
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else "ok"


def kustomize_build(kubectl: str, directory: Path) -> list[dict]:
    out = subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True, text=True)
    expect(out.returncode == 0, f"kubectl kustomize {directory}: {out.stderr.strip()}")
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubectl", required=True, help="kubectl binary (for kustomize)")
    args = parser.parse_args()

    versions = [KUBE_MIN.rsplit(".", 1)[0] + ".0", kv_utils.latest_version()]
    versions = list(dict.fromkeys(versions))
    print(f"Helm SDK {helm.helm_sdk_version()}, kubernetes-validate {kv_version} "
          f"(validating against Kubernetes {' and '.join(versions)})")
    report = Report()
    chart = helm.Chart.load(str(CHART))
    try:
        ci_dir = CHART / "ci"
        for scenario, exp in SCENARIOS.items():
            path = None if scenario == "defaults" else ci_dir / scenario
            label = f"chart [{scenario}]"
            state: dict[str, Any] = {}

            def do_render(path: Path | None = path, state: dict = state) -> str:
                state["values"] = load_values(path)
                state["objects"], state["notes"] = render_chart(chart, state["values"])
                expect(state["notes"].strip(), "NOTES.txt rendered empty")
                return f"{len(state['objects'])} objects, NOTES.txt {len(state['notes'].splitlines())} lines"

            report.check(f"{label} renders", do_render)
            report.check(f"{label} helm lint --strict", lambda state=state: lint(state.get("values", {}), versions))
            if "objects" not in state:
                continue
            report.check(f"{label} kubernetes-validate",
                         lambda state=state: validate_schemas(state["objects"], versions))
            report.check(f"{label} assertions", lambda state=state, exp=exp: check_objects(state["objects"], exp))
            if scenario == "values-hybrid.yaml":
                report.check("assertions catch known-bad objects",
                             lambda state=state, exp=exp: mutation_checks(state["objects"], exp))
            if scenario == "values-monitoring.yaml":
                report.check("assertions catch known-bad monitoring objects",
                             lambda state=state, exp=exp: mutation_checks(state["objects"], exp, MONITORING_MUTATIONS))
                report.check("promtool check rules on the rendered PrometheusRule",
                             lambda state=state: promtool_check_rules(state["objects"]))
            if scenario == "values-cdc.yaml":
                report.check("assertions catch known-bad CDC objects",
                             lambda state=state, exp=exp: mutation_checks(state["objects"], exp, CDC_MUTATIONS))
                report.check("promtool check rules on the rendered CDC PrometheusRule",
                             lambda state=state: promtool_check_rules(state["objects"]))

        present = {p.name for p in ci_dir.glob("*.yaml")}
        report.check("chart ci/ values files are all exercised",
                     lambda: (expect(present == set(SCENARIOS) - {"defaults"},
                                     f"ci/ has {sorted(present)}, checks know {sorted(set(SCENARIOS) - {'defaults'})}"), None)[1])

        report.check("chart README documents every value", readme_documents_values)
        for label, fn in schema_and_template_rejections(chart):
            report.check(label, fn)
    finally:
        chart.close()

    overlay = ROOT / "deploy" / "overlays" / "example"
    state: dict[str, Any] = {}

    def do_kustomize() -> str:
        state["objects"] = kustomize_build(args.kubectl, overlay)
        return f"{len(state['objects'])} objects"

    report.check("deploy/overlays/example kubectl kustomize", do_kustomize)
    if "objects" in state:
        report.check("deploy/overlays/example kubernetes-validate", lambda: validate_schemas(state["objects"], versions))
        report.check("deploy/overlays/example assertions", lambda: check_objects(state["objects"], KUSTOMIZE_EXPECT))

    print()
    print(f"check-k8s: {report.passed} passed, {len(report.failures)} failed")
    for f in report.failures:
        print(f"  FAILED {f}")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
