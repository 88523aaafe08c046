#!/usr/bin/env python3
"""An OTLP/HTTP trace receiver on loopback, for the tracing tests.

    otlp_receiver.py --out spans.jsonl [--port P]

Prints `listening on PORT` once it accepts connections (port 0 picks a free one).

POST /v1/traces with `Content-Type: application/json`: the body is decoded STRICTLY into
`opentelemetry.proto.collector.trace.v1.trace_service_pb2.ExportTraceServiceRequest` with
`google.protobuf.json_format.Parse` (PyPI `opentelemetry-proto`), after the one rule in which
OTLP/JSON departs from the protobuf JSON mapping: trace and span ids are hex strings, not base64.
Ids that are not lowercase-or-uppercase hex of the right length, unknown fields, wrong types and
enum values out of range are rejected with 400, and an `{"error": ...}` line is written to the
output file, so that a test reading it fails with the reason.

Each span received is written as one JSON line: service, scope, traceId, spanId, parentSpanId
(hex, "" for a root), name, kind, start/end (nanoseconds), attributes (key -> plain value),
links ([{traceId, spanId}]), status {code, message}. The request headers are written under
`headers` on each line, so a test can check OTEL_EXPORTER_OTLP_HEADERS.
"""
import argparse
import base64
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    from google.protobuf import json_format
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
except ImportError as e:  # the test reads this line and fails with it
    print(f"missing module: {e} (pip install opentelemetry-proto)", flush=True)
    sys.exit(3)

ID_FIELDS = {"traceId": 16, "spanId": 8, "parentSpanId": 8}


def hex_ids_to_base64(node, path="$"):
    """Rewrites the hex ids of an OTLP/JSON document in place to protobuf's base64 bytes form."""
    if isinstance(node, dict):
        for key, value in list(node.items()):
            if key in ID_FIELDS and isinstance(value, str):
                size = ID_FIELDS[key]
                if value == "" and key == "parentSpanId":
                    continue
                if len(value) != size * 2 or any(c not in "0123456789abcdefABCDEF" for c in value):
                    raise ValueError(f"{path}.{key}: {value!r} is not {size * 2} hex digits")
                node[key] = base64.b64encode(bytes.fromhex(value)).decode()
            else:
                hex_ids_to_base64(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            hex_ids_to_base64(item, f"{path}[{i}]")


def plain(any_value):
    kind = any_value.WhichOneof("value")
    if kind == "array_value":
        return [plain(v) for v in any_value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: plain(kv.value) for kv in any_value.kvlist_value.values}
    if kind == "bytes_value":
        return any_value.bytes_value.hex()
    return getattr(any_value, kind) if kind else None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def record(self, lines):
        with self.server.lock, open(self.server.out, "a") as f:
            for line in lines:
                f.write(json.dumps(line) + "\n")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path != "/v1/traces":
            return self.answer(404, {"error": f"no route {self.path}"})
        if not (self.headers.get("Content-Type") or "").startswith("application/json"):
            self.record([{"error": f"Content-Type {self.headers.get('Content-Type')!r}, expected application/json"}])
            return self.answer(415, {"error": "expected application/json"})
        try:
            document = json.loads(body)
            hex_ids_to_base64(document)
            request = json_format.Parse(json.dumps(document), trace_service_pb2.ExportTraceServiceRequest())
        except Exception as e:  # json_format.ParseError, ValueError: both mean "not OTLP"
            self.record([{"error": f"not an OTLP ExportTraceServiceRequest: {e}"}])
            return self.answer(400, {"error": str(e)})
        headers = {k.lower(): v for k, v in self.headers.items()}
        lines = []
        for rs in request.resource_spans:
            resource = {kv.key: plain(kv.value) for kv in rs.resource.attributes}
            for ss in rs.scope_spans:
                for s in ss.spans:
                    lines.append({
                        "service": resource.get("service.name"),
                        "resource": resource,
                        "scope": ss.scope.name,
                        "traceId": s.trace_id.hex(),
                        "spanId": s.span_id.hex(),
                        "parentSpanId": s.parent_span_id.hex(),
                        "name": s.name,
                        "kind": s.kind,
                        "start": s.start_time_unix_nano,
                        "end": s.end_time_unix_nano,
                        "attributes": {kv.key: plain(kv.value) for kv in s.attributes},
                        "links": [{"traceId": l.trace_id.hex(), "spanId": l.span_id.hex()} for l in s.links],
                        "status": {"code": s.status.code, "message": s.status.message},
                        "headers": headers,
                    })
        self.record(lines)
        self.answer(200, {})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    open(args.out, "a").close()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.out = args.out
    server.lock = threading.Lock()
    print(f"listening on {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
