#!/usr/bin/env python3
"""A paginated JSON API and a webhook receiver on loopback, for the `type: http` tests.

    http_api_server.py [--port P] [--records N] [--token T] [--rate-limit-every K]
                       [--drop-every K] [--malformed-page I] [--webhook-reject-every K]

Prints `listening on PORT` once it accepts connections (port 0 picks a free one).

Listings (records `{"id", "name", "amount", "updated_at"}`, ids 1..N, updated_at growing with id;
`updated_since` (inclusive) and `updated_before` (exclusive) filter every style):
  GET /next_url/items?limit=L         {"data": [...], "links": {"next": "/next_url/items?after=I&limit=L"}}
  GET /link/items?per_page=L          [...] with `Link: <...&start=I>; rel="next"`
  GET /cursor/items?limit=L           {"items": [...], "meta": {"next_cursor": "c-I" | null}}  (cursor=c-I)
  GET /offset/items?offset=O&limit=L  {"data": [...], "total": T}
  GET /page/items?page=P&per_page=L   {"data": [...]}  (pages from 1)
  GET /object                         one JSON object
Faults: every K-th listing request answers 429 with Retry-After (seconds, then an HTTP-date, in
turn); every K-th drops the connection halfway through the body; the page whose zero-based index
is I (offset/page/link styles) is malformed JSON.
Webhook: POST /webhook (JSON array or NDJSON); every K-th POST answers 422.
Tracing: --traceparent V adds `traceparent: V` to every GET answer; each received POST keeps its
`traceparent` header (null when none).
Control: GET /_log (requests: path, status, time), GET /_received (posts), POST /_update {"ids": [...]}
(bumps those records' updated_at past every other and renames them).
"""
import argparse
import email.utils
import json
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

BASE = datetime(2024, 1, 1, tzinfo=timezone.utc)


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.records = [
            {"id": i, "name": f"item-{i}", "amount": round(i * 1.25, 2),
             "updated_at": (BASE + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ")}
            for i in range(1, args.records + 1)
        ]
        self.listing_requests = 0
        self.posts = 0
        self.log = []
        self.received = []
        self.bumps = 0
        # Encoded pages by request path, while no record changed: the benchmark's clients then
        # measure themselves, not this server's json.dumps.
        self.cache = {}


def iso(ts):
    return ts


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: State = None

    def log_message(self, *a):
        pass

    def send_json(self, status, value, headers=(), drop=False, raw=None):
        body = raw if raw is not None else json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        if self.command == "GET" and self.state.args.traceparent:
            self.send_header("traceparent", self.state.args.traceparent)
        self.end_headers()
        if drop:
            # Half the body, then the connection goes away: the client must retry the page.
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            import socket
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.wfile.write(body)

    def record(self, status):
        with self.state.lock:
            self.state.log.append({"path": self.path, "status": status, "time": time.time(),
                                   "authorization": self.headers.get("Authorization")})

    def authorized(self, q):
        token = self.state.args.token
        if not token:
            return True
        if self.headers.get("Authorization") == f"Bearer {token}":
            return True
        return q.get("api_key", [None])[0] == token

    def do_GET(self):
        url = urlparse(self.path)
        q = parse_qs(url.query)
        s = self.state
        if url.path == "/_log":
            with s.lock:
                return self.send_json(200, s.log)
        if url.path == "/_received":
            with s.lock:
                return self.send_json(200, s.received)
        if not self.authorized(q):
            self.record(401)
            return self.send_json(401, {"error": "bad credentials"})
        with s.lock:
            s.listing_requests += 1
            n = s.listing_requests
        a = s.args
        if a.rate_limit_every and n % a.rate_limit_every == 0:
            when = "1" if (n // a.rate_limit_every) % 2 else email.utils.formatdate(time.time() + 2, usegmt=True)
            self.record(429)
            return self.send_json(429, {"error": "slow down"}, headers=[("Retry-After", when)])
        drop = bool(a.drop_every and n % a.drop_every == 0)
        with s.lock:
            cached = s.cache.get(self.path) if s.bumps == 0 else None
        if cached is not None:
            self.record(200)
            return self.send_json(200, None, headers=cached[1], raw=cached[0], drop=drop)
        with s.lock:
            unfiltered = s.bumps == 0 and "updated_since" not in q and "updated_before" not in q
            # Generated in (updated_at, id) order: only filters and updates need a new list.
            rows = s.records if unfiltered else [r for r in s.records
                    if ("updated_since" not in q or r["updated_at"] >= q["updated_since"][0])
                    and ("updated_before" not in q or r["updated_at"] < q["updated_before"][0])]
            if not unfiltered:
                rows.sort(key=lambda r: (r["updated_at"], r["id"]))
        style = url.path.split("/")[1] if url.path.count("/") >= 2 else ""
        def arg(name, default):
            return int(q.get(name, [default])[0])
        def keep(extra):
            # The query of the next link: the filters the client sent, and the new position.
            kept = {k: v[0] for k, v in q.items() if k in ("updated_since", "updated_before", "limit", "per_page", "api_key")}
            kept.update(extra)
            return urlencode(kept)
        if url.path == "/object":
            self.record(200)
            return self.send_json(200, {"id": 1, "name": "only"}, drop=drop)
        if style == "next_url":
            start, limit = arg("after", 0), arg("limit", 10)
            page = rows[start:start + limit]
            nxt = f"/next_url/items?{keep({'after': start + limit})}" if start + limit < len(rows) else None
            body, index, headers = {"data": page, "links": {"next": nxt}}, start // limit, []
        elif style == "link":
            start, limit = arg("start", 0), arg("per_page", 10)
            page = rows[start:start + limit]
            headers = []
            if start + limit < len(rows):
                headers.append(("Link", f'<http://{self.headers["Host"]}/link/items?{keep({"start": start + limit})}>; rel="next", '
                                        f'</link/items?start=0>; rel="first"'))
            body, index = page, start // limit
        elif style == "cursor":
            start = int(q["cursor"][0][2:]) if "cursor" in q else 0
            limit = arg("limit", 10)
            page = rows[start:start + limit]
            body = {"items": page, "meta": {"next_cursor": f"c-{start + limit}" if start + limit < len(rows) else None}}
            index, headers = start // limit, []
        elif style == "offset":
            start, limit = arg("offset", 0), arg("limit", 10)
            page = rows[start:start + limit]
            body, index, headers = {"data": page, "total": len(rows)}, start // max(limit, 1), []
        elif style == "page":
            p, limit = arg("page", 1), arg("per_page", 10)
            page = rows[(p - 1) * limit:p * limit]
            body, index, headers = {"data": page}, p - 1, []
        else:
            self.record(404)
            return self.send_json(404, {"error": f"no such listing {url.path}"})
        self.record(200)
        if a.malformed_page is not None and index == a.malformed_page and style in ("offset", "page", "link"):
            return self.send_json(200, None, headers=headers, raw=b'{"data": [{"id": 1,,, broken')
        encoded = json.dumps(body).encode()
        with s.lock:
            if s.bumps == 0 and len(s.cache) < 100_000:
                s.cache[self.path] = (encoded, headers)
        self.send_json(200, None, headers=headers, raw=encoded, drop=drop)

    def do_POST(self):
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(length)
        s = self.state
        if url.path == "/_update":
            ids = set(json.loads(data)["ids"])
            with s.lock:
                s.bumps += 1
                for r in s.records:
                    if r["id"] in ids:
                        r["updated_at"] = (BASE + timedelta(days=365 * s.bumps, minutes=r["id"])).strftime("%Y-%m-%dT%H:%M:%SZ")
                        r["name"] = f"item-{r['id']}-v{s.bumps + 1}"
            return self.send_json(200, {"updated": len(ids)})
        if url.path == "/webhook":
            with s.lock:
                s.posts += 1
                n = s.posts
            if s.args.webhook_reject_every and n % s.args.webhook_reject_every == 0:
                self.record(422)
                return self.send_json(422, {"error": "record 0: amount must be positive"})
            ctype = self.headers.get("Content-Type", "")
            if "ndjson" in ctype:
                records = [json.loads(l) for l in data.decode().splitlines() if l.strip()]
            else:
                records = json.loads(data)
            with s.lock:
                s.received.append({"key": self.headers.get("Idempotency-Key"), "content_type": ctype, "records": records,
                                   "traceparent": self.headers.get("traceparent")})
            self.record(200)
            return self.send_json(200, {"accepted": len(records)})
        self.send_json(404, {"error": "no such endpoint"})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--records", type=int, default=1000)
    p.add_argument("--token")
    p.add_argument("--rate-limit-every", type=int, default=0)
    p.add_argument("--drop-every", type=int, default=0)
    p.add_argument("--malformed-page", type=int)
    p.add_argument("--webhook-reject-every", type=int, default=0)
    p.add_argument("--traceparent")
    args = p.parse_args()
    Handler.state = State(args)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"listening on {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
