#!/usr/bin/env python3
"""A WebSocket visitor that is not ours (python3-websockets 10.4, asyncio API), driven by the integration tests.

    ws_client.py --url ws://<label>.localhost:<port>/<path> [--connect 127.0.0.1:<port>] <mode> [mode options]

--connect names the address to dial (the tunnel's hostname need not resolve); the URL still gives Host.
Progress lines go to stdout as they happen (`open`); the last stdout line is one JSON object with the
result. Failures to connect are results too ({"error": ..., "status": <HTTP status or 0>}), never tracebacks.

Modes:
  echo --kind text|binary --sizes N,N,.. --seed S   random payloads of exactly N bytes, compared exactly
  burst --count N [--interval-ms T]                  sends N messages (T ms apart, default 0), then checks the
                                                     echoes and their order
  count --count N                                    (/count) asks for N numbered messages, checks their order
  early --expect K                                   raw socket: handshake and a text frame "early" in ONE
                                                     write; collects K messages
  proto --offer a,b                                  offers subprotocols; reports the chosen one and the first message
  status                                             only the handshake: the HTTP status (101 when it opened)
  close --code C --reason R                          one echo, then closes with C/R; reports the peer's close
  wait-close [--send MSG] [--size N]                 sends MSG (or N bytes binary), then reads until closed
  stream                                             one echo, prints `open`, then echoes every 100 ms until closed
  concurrent --n N --messages M                      N sockets at once, each echoing M messages
  headers --header "Name: value"...                  (/headers) extra request headers; reports what the service saw
"""

import argparse
import asyncio
import base64
import hashlib
import json
import os
import random
import socket
import struct
import sys
import time
import urllib.parse

import websockets

OPEN_TIMEOUT = 10
CLOSE_TIMEOUT = 5


def emit(doc):
    print(json.dumps(doc), flush=True)


def random_text(rng, size):
    """A str whose UTF-8 encoding is exactly `size` bytes, mixing 1- to 4-byte characters."""
    ranges = [(0x20, 0x7E), (0xA0, 0x7FF), (0x800, 0xD7FF), (0x10000, 0x10FFFF)]
    chars = []
    left = size
    while left > 0:
        width = rng.randint(1, min(4, left))
        lo, hi = ranges[width - 1]
        chars.append(chr(rng.randint(lo, hi)))
        left -= width
    text = "".join(chars)
    assert len(text.encode()) == size
    return text


class Client:
    def __init__(self, args):
        self.args = args
        self.url = args.url
        parts = urllib.parse.urlsplit(args.url)
        self.path = parts.path + ("?" + parts.query if parts.query else "")
        self.hostport = parts.netloc
        if args.connect:
            host, port = args.connect.rsplit(":", 1)
        else:
            host, port = parts.hostname, parts.port or 80
        self.dial = (host, int(port))

    def connect(self, **kwargs):
        options = dict(host=self.dial[0], port=self.dial[1], max_size=None, max_queue=None, ping_interval=None,
                       open_timeout=OPEN_TIMEOUT, close_timeout=CLOSE_TIMEOUT)
        options.update(kwargs)
        return websockets.connect(self.url, **options)


def closed_doc(ws, started):
    return {"close_code": ws.close_code, "close_reason": ws.close_reason,
            "elapsed_ms": int((time.monotonic() - started) * 1000)}


async def mode_echo(c, a):
    rng = random.Random(a.seed)
    results = []
    async with c.connect() as ws:
        for size in [int(s) for s in a.sizes.split(",")]:
            if a.kind == "text":
                out = random_text(rng, size)
            else:
                out = rng.randbytes(size)
            await ws.send(out)
            got = await asyncio.wait_for(ws.recv(), 20)
            same_type = isinstance(got, str) == isinstance(out, str)
            got_len = len(got.encode()) if isinstance(got, str) else len(got)
            results.append({"size": size, "ok": same_type and got == out, "same_type": same_type,
                            "got_len": got_len})
        await ws.close()
    return {"ok": all(r["ok"] for r in results), "results": results}


async def mode_burst(c, a):
    async with c.connect() as ws:
        sent = ["m%d" % i for i in range(a.count)]
        for m in sent:
            await ws.send(m)
            if a.interval_ms:
                await asyncio.sleep(a.interval_ms / 1000.0)
        got = []
        for _ in sent:
            got.append(await asyncio.wait_for(ws.recv(), 20))
        await ws.close()
    first_bad = next((i for i, (x, y) in enumerate(zip(sent, got)) if x != y), -1)
    return {"ok": got == sent, "received": len(got), "first_bad": first_bad,
            "got_at_first_bad": got[first_bad] if first_bad >= 0 else None}


async def mode_count(c, a):
    async with c.connect() as ws:
        await ws.send(str(a.count))
        got = []
        for _ in range(a.count):
            got.append(await asyncio.wait_for(ws.recv(), 20))
        await ws.close()
    expected = [str(i) for i in range(a.count)]
    first_bad = next((i for i, (x, y) in enumerate(zip(expected, got)) if x != y), -1)
    return {"ok": got == expected, "received": len(got), "first_bad": first_bad}


async def mode_proto(c, a):
    async with c.connect(subprotocols=a.offer.split(",")) as ws:
        first = await asyncio.wait_for(ws.recv(), 10)
        await ws.close()
        return {"subprotocol": ws.subprotocol, "first": first}


async def mode_status(c, a):
    async with c.connect() as ws:
        await ws.close()
    return {"status": 101}


async def mode_close(c, a):
    started = time.monotonic()
    async with c.connect() as ws:
        await ws.send("before close")
        echoed = await asyncio.wait_for(ws.recv(), 10)
        await ws.close(a.code, a.reason)
        doc = closed_doc(ws, started)
        doc["echoed"] = echoed
        return doc


async def mode_wait_close(c, a):
    started = time.monotonic()
    received = []
    async with c.connect() as ws:
        if a.size is not None:
            await ws.send(b"\x01" * a.size)
        elif a.send is not None:
            await ws.send(a.send)
        try:
            while True:
                m = await asyncio.wait_for(ws.recv(), 20)
                received.append(len(m))
        except websockets.ConnectionClosed:
            pass
        doc = closed_doc(ws, started)
        doc["received_sizes"] = received
        return doc


async def mode_stream(c, a):
    async with c.connect() as ws:
        await ws.send("first")
        await asyncio.wait_for(ws.recv(), 10)
        print("open", flush=True)
        started = time.monotonic()
        sent = 1
        try:
            while True:
                await ws.send("tick %d" % sent)
                sent += 1
                await asyncio.wait_for(ws.recv(), 5)
                # Slow enough to stay far below the tunnel's default rate limit.
                await asyncio.sleep(0.1)
                if time.monotonic() - started > 30:
                    return {"error": "still open after 30 s"}
        except websockets.ConnectionClosed:
            pass
        doc = closed_doc(ws, started)
        doc["sent"] = sent
        return doc


async def mode_concurrent(c, a):
    async def one(i):
        try:
            async with c.connect() as ws:
                for j in range(a.messages):
                    out = "socket %d message %d" % (i, j)
                    if j % 2:
                        out = out.encode()
                    await ws.send(out)
                    got = await asyncio.wait_for(ws.recv(), 20)
                    if got != out:
                        return "socket %d: message %d came back as %r" % (i, j, got)
                await ws.close()
                return None
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            return "socket %d: %s: %s" % (i, type(exc).__name__, exc)

    errors = [e for e in await asyncio.gather(*(one(i) for i in range(a.n))) if e]
    return {"ok": not errors, "failed": len(errors), "errors": errors[:10]}


async def mode_headers(c, a):
    extra = [tuple(h.split(":", 1)) for h in a.header]
    extra = [(k.strip(), v.strip()) for k, v in extra]
    async with c.connect(extra_headers=extra) as ws:
        first = await asyncio.wait_for(ws.recv(), 10)
        await ws.close()
    return {"headers": json.loads(first)}


# --- raw socket: a text frame in the same write as the handshake ------------------------------------

def masked_frame(opcode, payload):
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def mode_early(c, a):
    key = base64.b64encode(os.urandom(16)).decode()
    request = ("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nOrigin: http://%s\r\n\r\n"
               % (c.path, c.hostport, key, c.hostport))
    sock = socket.create_connection(c.dial, timeout=5)
    sock.sendall(request.encode() + masked_frame(0x1, b"early"))
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            return {"error": "connection closed during the handshake", "raw": buf.decode("latin-1")}
        buf += chunk
    head, buf = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l)}
    expected_accept = base64.b64encode(
        hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
    doc = {"status": status, "accept_ok": headers.get("sec-websocket-accept") == expected_accept, "messages": []}
    if status != 101:
        return doc

    def need(n):
        nonlocal buf
        while len(buf) < n:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            buf += chunk
        out, buf = buf[:n], buf[n:]
        return out

    try:
        while len(doc["messages"]) < a.expect:
            b0, b1 = need(2)
            opcode, n = b0 & 0x0F, b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", need(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", need(8))[0]
            if b1 & 0x80:
                return dict(doc, error="the server masked a frame")
            payload = need(n)
            if opcode == 0x8:
                doc["close_code"] = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                return doc
            if opcode in (0x1, 0x2):
                doc["messages"].append(payload.decode() if opcode == 0x1 else payload.hex())
        sock.sendall(masked_frame(0x8, struct.pack("!H", 1000)))
    except (OSError, ConnectionError) as exc:
        doc["error"] = "%s: %s" % (type(exc).__name__, exc)
    finally:
        sock.close()
    return doc


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--connect")
    sub = p.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("echo")
    s.add_argument("--kind", choices=["text", "binary"], default="text")
    s.add_argument("--sizes", required=True)
    s.add_argument("--seed", default="keyhole")
    for name in ("burst", "count"):
        sub.add_parser(name).add_argument("--count", type=int, default=1000)
    sub.choices["burst"].add_argument("--interval-ms", type=int, default=0)
    sub.add_parser("early").add_argument("--expect", type=int, default=2)
    sub.add_parser("proto").add_argument("--offer", required=True)
    sub.add_parser("status")
    s = sub.add_parser("close")
    s.add_argument("--code", type=int, default=1000)
    s.add_argument("--reason", default="")
    s = sub.add_parser("wait-close")
    s.add_argument("--send")
    s.add_argument("--size", type=int)
    sub.add_parser("stream")
    s = sub.add_parser("concurrent")
    s.add_argument("--n", type=int, default=100)
    s.add_argument("--messages", type=int, default=4)
    sub.add_parser("headers").add_argument("--header", action="append", default=[])
    a = p.parse_args()
    c = Client(a)

    try:
        if a.mode == "early":
            doc = mode_early(c, a)
        else:
            fn = globals()["mode_" + a.mode.replace("-", "_")]
            doc = asyncio.run(fn(c, a))
    except websockets.InvalidStatusCode as exc:
        doc = {"error": "InvalidStatusCode", "status": exc.status_code}
    except websockets.ConnectionClosed as exc:
        doc = {"error": "ConnectionClosed: %s" % exc, "close_code": exc.code, "close_reason": exc.reason}
    except Exception as exc:  # noqa: BLE001 - every failure becomes a result the test can print
        doc = {"error": "%s: %s" % (type(exc).__name__, exc), "status": 0}
    emit(doc)


if __name__ == "__main__":
    main()
