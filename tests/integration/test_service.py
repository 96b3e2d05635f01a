#!/usr/bin/env python3
"""Local HTTP service that the integration tests reach through the tunnel.

Standard library only. Binds 127.0.0.1 on the port given as the first argument (default 0 = any free
port) and prints `listening on <port>` on stdout once bound. Each request start is printed as
`request <METHOD> <path>` so tests can tell when a request has reached the service.

Endpoints:
  /echo...            any method: JSON {method, path, query, headers: [[name, value], ...], body_sha256,
                      body_length}; with ?raw=1 the request body is echoed back instead
  /status/<code>      that status with a small body (none for 1xx/204/304); 3xx carry Location: /target
  /redirect           302, Location: /target
  /cookies            two Set-Cookie headers, in a fixed order
  /bytes/<n>?seed=s   n deterministic pseudo-random bytes (see deterministic_bytes)
  /slow/<ms>          waits, then 200
  /big/<n>            n bytes of 'x'
HEAD is answered for /echo and /bytes with headers only and the GET Content-Length.
"""

import hashlib
import http.server
import json
import sys
import time
import urllib.parse


def deterministic_bytes(n, seed):
    """Block i is SHA-256("<seed>:<i>"); the C++ side (tests/support) computes the same bytes."""
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(("%s:%d" % (seed, i)).encode()).digest()
        i += 1
    return bytes(out[:n])


class DispatchingHandler(http.server.BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive, every method through dispatch(); stream_service.py builds on it too."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out as separate writes; without this, Nagle + delayed ACK add ~40 ms per response.
    disable_nagle_algorithm = True

    def dispatch(self):
        raise NotImplementedError

    def handle_one_request(self):
        # Route every method (PATCH, PURGE, ...) through dispatch(); the base class only looks for do_<METHOD>.
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            self.dispatch()
            self.wfile.flush()
        except (ConnectionError, TimeoutError):
            self.close_connection = True


class Handler(DispatchingHandler):
    server_version = "KeyholeTestService/1.0"

    def log_message(self, format, *args):  # noqa: A002 - signature fixed by the base class
        sys.stderr.write("test-service: " + (format % args) + "\n")

    # --- request body -------------------------------------------------------------------------
    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            # http.server does not decode chunked bodies.
            body = bytearray()
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    # Skip trailers up to the empty line.
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(body)
                body += self.rfile.read(size)
                self.rfile.readline(3)  # CRLF after the chunk
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    # --- responses ----------------------------------------------------------------------------
    def send(self, status, body=b"", content_type="text/plain", extra=(), head_only=False):
        self.send_response(status)
        for name, value in extra:
            self.send_header(name, value)
        if status in (204, 304) or 100 <= status < 200:
            self.end_headers()
            return
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head_only:
            self.wfile.write(body)

    def send_events(self, n, interval_ms):
        """Server-sent events, one chunk each and flushed at once, `interval_ms` apart."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for i in range(n):
            event = ("id: %d\ndata: event %d\n\n" % (i, i)).encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
            self.wfile.flush()
            if i + 1 < n:
                time.sleep(interval_ms / 1000.0)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def dispatch(self):
        url = urllib.parse.urlsplit(self.path)
        path, query = url.path, url.query
        params = urllib.parse.parse_qs(query)
        parts = path.strip("/").split("/")
        head = self.command == "HEAD"
        print("request %s %s" % (self.command, self.path), flush=True)
        body = self.read_body()

        if path == "/echo" or path.startswith("/echo/"):
            if params.get("raw") == ["1"]:
                self.send(200, body, "application/octet-stream", head_only=head)
                return
            doc = {
                "method": self.command,
                "path": path,
                "query": query,
                "headers": [[k, v] for k, v in self.headers.items()],
                "body_sha256": hashlib.sha256(body).hexdigest(),
                "body_length": len(body),
            }
            self.send(200, json.dumps(doc).encode(), "application/json", head_only=head)
        elif len(parts) == 2 and parts[0] == "status" and parts[1].isdigit():
            code = int(parts[1])
            extra = [("Location", "/target")] if 300 <= code < 400 else []
            self.send(code, ("status %d\n" % code).encode(), extra=extra, head_only=head)
        elif path == "/redirect":
            self.send(302, b"redirecting\n", extra=[("Location", "/target")], head_only=head)
        elif path == "/cookies":
            cookies = [("Set-Cookie", "first=1; Path=/"), ("Set-Cookie", "second=2; Path=/; HttpOnly")]
            self.send(200, b"cookies\n", extra=cookies, head_only=head)
        elif len(parts) == 2 and parts[0] == "bytes" and parts[1].isdigit():
            seed = params.get("seed", ["0"])[0]
            data = deterministic_bytes(int(parts[1]), seed)
            self.send(200, data, "application/octet-stream", head_only=head)
        elif len(parts) == 2 and parts[0] == "slow" and parts[1].isdigit():
            time.sleep(int(parts[1]) / 1000.0)
            self.send(200, b"slow done\n", head_only=head)
        elif path == "/events":
            self.send_events(int(params.get("n", ["5"])[0]), int(params.get("interval_ms", ["100"])[0]))
        elif len(parts) == 2 and parts[0] == "big" and parts[1].isdigit():
            self.send(200, b"x" * int(parts[1]), "application/octet-stream", head_only=head)
        else:
            self.send(404, b"no such test endpoint\n", head_only=head)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def serve(handler):
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = Server(("127.0.0.1", port), handler)
    print("listening on %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    serve(Handler)
