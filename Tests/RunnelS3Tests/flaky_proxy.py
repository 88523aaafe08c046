"""A faulty HTTP proxy in front of the test S3 server, for the retry tests.

Forwards every request unchanged (the Host header too, so signatures still match) and, on a
fixed schedule, answers 503 SlowDown instead, or sends the response head and half the body and
then drops the connection. Prints its port on the first line of stdout, and a line on stderr for each fault it injects.

    python3 flaky_proxy.py UPSTREAM_PORT
"""

import http.client
import http.server
import sys
import threading

UPSTREAM = int(sys.argv[1])
count = 0
lock = threading.Lock()


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def forward(self):
        global count
        with lock:
            count += 1
            n = count
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if n % 4 == 2:
            error = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
            self.send_response(503)
            self.send_header("Content-Length", str(len(error)))
            self.end_headers()
            self.wfile.write(error)
            print("slowdown", file=sys.stderr, flush=True)
            return
        upstream = http.client.HTTPConnection("127.0.0.1", UPSTREAM)
        upstream.request(self.command, self.path, body=body, headers=dict(self.headers))
        reply = upstream.getresponse()
        data = reply.read()
        self.send_response(reply.status)
        for name, value in reply.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if n % 4 == 3 and self.command == "GET" and len(data) > 2:
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            print("cut", file=sys.stderr, flush=True)
            return
        self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = forward


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
print(server.server_address[1], flush=True)
server.serve_forever()
