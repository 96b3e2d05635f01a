#!/usr/bin/env python3
"""Local HTTP service for the streaming tests (TestStreaming): long and slow bodies in both directions.

Standard library only. Binds 127.0.0.1 on the port given as the first argument (default 0 = any free
port) and prints `listening on <port>` on stdout once bound; every request start is printed as
`request <METHOD> <path>`.

Every response body is written in pieces straight to the socket (no buffering in between), so how
far the service got tells how fast the path in front of it reads. A request that carries `id=<name>`
is recorded: GET /progress?id=<name> answers, as JSON, what the service did for it so far
(`written` body bytes the kernel accepted, `events` (CLOCK_MONOTONIC nanoseconds at which each SSE
event had been written), `finished`, `closed_ns`/`error` when a write failed because the peer went
away). Such a failure is also printed as `stream-closed <name> <written> <monotonic ns>`, and a body
written to its end as `stream-done <name> <written>`. The clock is the one C++'s steady_clock reads.

Endpoints:
  /sse?n=N&interval_ms=M[&framing=chunked|close]
        text/event-stream, no Content-Length: a head, then N events `data: event <k>\\n\\n`, one every
        M ms (the first M ms after the head), each written on its own (chunked: one chunk each; close:
        raw bytes, the end of the body is the end of the connection)
  /bytes?size=S[&chunked=0|1][&seed=K]
        S bytes of stream_bytes(S, K) with Content-Length (or chunked), written 64 KiB at a time
  /slow?size=S[&seed=K]
        the same as /bytes with Content-Length; meant to be read slowly, with an id
  /upload
        reads the whole request body (Content-Length or chunked) and answers JSON {sha256, length,
        chunked, content_length} without holding the body
  /progress?id=<name>
        the record described above (404 if there is none)
"""

import hashlib
import json
import sys
import threading
import time
import urllib.parse

# Beside this file: the keep-alive handler, the server and the byte generator the other tests use
# (imported without leaving a bytecode cache in the source tree).
sys.dont_write_bytecode = True
from test_service import DispatchingHandler, deterministic_bytes, serve

BLOCK = 65536
ROTATION_STEP = 7919  # prime: the blocks' rotations never repeat within 64 KiB blocks


class StreamBytes:
    """Fast deterministic bytes of any length: 64 KiB block i is the base block B =
    deterministic_bytes(65536, seed) rotated left by (i * 7919) % 65536, so no two blocks are equal
    and a block that is lost, repeated or reordered changes the hash. tests/support's streamBytes()
    computes the same."""

    def __init__(self, seed):
        base = deterministic_bytes(BLOCK, seed)
        self.doubled = base + base

    def block(self, i):
        r = (i * ROTATION_STEP) % BLOCK
        return self.doubled[r:r + BLOCK]


class Records:
    def __init__(self):
        self.lock = threading.Lock()
        self.items = {}

    def new(self, name):
        record = {"written": 0, "events": [], "finished": False, "closed_ns": None, "error": None,
                  "started_ns": time.monotonic_ns()}
        if name:
            with self.lock:
                self.items[name] = record
        return record

    def get(self, name):
        with self.lock:
            record = self.items.get(name)
            return None if record is None else json.loads(json.dumps(record))


RECORDS = Records()


class Handler(DispatchingHandler):
    server_version = "KeyholeStreamService/1.0"

    def log_message(self, format, *args):  # noqa: A002 - signature fixed by the base class
        sys.stderr.write("stream-service: " + (format % args) + "\n")

    def head(self, status, content_type, length=None, chunked=False, close=False):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-cache")
        if length is not None:
            self.send_header("Content-Length", str(length))
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.flush()

    def small(self, status, body, content_type="text/plain"):
        self.head(status, content_type, length=len(body))
        self.wfile.write(body)

    def piece(self, record, data, chunked):
        """Writes one piece; wfile is unbuffered, so when this returns the kernel has the bytes."""
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
        record["written"] += len(data)

    # --- request body -------------------------------------------------------------------------
    def body_pieces(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("body ended inside a chunk header")
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return
                while size > 0:
                    data = self.rfile.read(min(size, BLOCK))
                    if not data:
                        raise ConnectionError("body ended inside a chunk")
                    size -= len(data)
                    yield data
                self.rfile.readline(3)
        remaining = int(self.headers.get("Content-Length") or 0)
        while remaining > 0:
            data = self.rfile.read(min(remaining, BLOCK))
            if not data:
                raise ConnectionError("body ended early")
            remaining -= len(data)
            yield data

    # --- endpoints ----------------------------------------------------------------------------
    def sse(self, params, record):
        n = int(params.get("n", ["5"])[0])
        interval = int(params.get("interval_ms", ["500"])[0]) / 1000.0
        chunked = params.get("framing", ["chunked"])[0] != "close"
        self.head(200, "text/event-stream", chunked=chunked, close=not chunked)
        for k in range(n):
            time.sleep(interval)
            self.piece(record, b"data: event %d\n\n" % k, chunked)
            record["events"].append(time.monotonic_ns())
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    def bytes_(self, params, record, chunked):
        size = int(params.get("size", ["0"])[0])
        source = StreamBytes(params.get("seed", ["0"])[0])
        self.head(200, "application/octet-stream", length=None if chunked else size, chunked=chunked)
        i = 0
        while i * BLOCK < size:
            self.piece(record, source.block(i)[:size - i * BLOCK], chunked)
            i += 1
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    def upload(self):
        digest = hashlib.sha256()
        length = 0
        for data in self.body_pieces():
            digest.update(data)
            length += len(data)
        doc = {"sha256": digest.hexdigest(), "length": length,
               "chunked": "chunked" in self.headers.get("Transfer-Encoding", "").lower(),
               "content_length": self.headers.get("Content-Length")}
        self.small(200, json.dumps(doc).encode(), "application/json")

    def dispatch(self):
        url = urllib.parse.urlsplit(self.path)
        params = urllib.parse.parse_qs(url.query)
        print("request %s %s" % (self.command, self.path), flush=True)
        if url.path == "/upload":
            self.upload()
            return
        for _ in self.body_pieces():  # other endpoints ignore a body
            pass
        if url.path == "/progress":
            record = RECORDS.get(params.get("id", [""])[0])
            if record is None:
                self.small(404, b"no such id\n")
            else:
                self.small(200, json.dumps(record).encode(), "application/json")
            return
        name = params.get("id", [""])[0]
        record = RECORDS.new(name)
        try:
            if url.path == "/sse":
                self.sse(params, record)
            elif url.path == "/bytes":
                self.bytes_(params, record, params.get("chunked", ["0"])[0] == "1")
            elif url.path == "/slow":
                self.bytes_(params, record, False)
            else:
                self.small(404, b"no such stream endpoint\n")
                return
            self.wfile.flush()
            record["finished"] = True
            if name:
                print("stream-done %s %d" % (name, record["written"]), flush=True)
        except (ConnectionError, TimeoutError) as e:
            record["closed_ns"] = time.monotonic_ns()
            record["error"] = type(e).__name__
            self.close_connection = True
            if name:
                print("stream-closed %s %d %d" % (name, record["written"], record["closed_ns"]), flush=True)


if __name__ == "__main__":
    serve(Handler)
