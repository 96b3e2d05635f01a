#!/usr/bin/env python3
"""Local WebSocket (and plain HTTP) service that the WebSocket integration tests reach through the tunnel.

Needs python3-websockets (Debian 12: 10.4, legacy asyncio API). Binds 127.0.0.1 on the port given as the
first argument (default 0 = any free port) and prints `listening on <port>` once bound, like
test_service.py. Every event is printed on stdout so tests can wait for it:
  `http <path>`, `refused <path>`, `ws-open <path> subprotocol=<name or ->`,
  `ws-closed <path> <code> <reason>` (code 1006 when the peer vanished without a close frame).

Plain HTTP (any request without an Upgrade header, and refused upgrades):
  /                 the browser test's page (opens ws://<host>/echo?page=<fresh token>, writes PASS/FAIL
                    into #result; an <img src="/hold?page=<token>"> holds its load event until then)
  /status           200 "ok"
  /hold?page=<t>    answers only once the WebSocket /echo?page=<t> of page token <t> has closed (at most 8 s)
  anything else     404
WebSocket endpoints:
  /echo             echoes text as text, binary as binary
  /proto            subprotocols chat.v2, chat.v1 (server preference first); the chosen one (or "-") is
                    the first message, then echoes
  /refuse           the upgrade is answered 403
  /greet            sends "hello" right after the handshake, then echoes
  /close/<code>     after the first message, closes with <code> and reason "bye <code>"
  /count            the first message is N (default 1000); sends "0".."N-1" in a burst, then echoes
  /headers          the first message is JSON [[name, value], ...] of the upgrade request, then echoes
  /big/<n>          after the first message, sends one binary message of n bytes ("x"), then echoes
"""

import asyncio
import http
import json
import secrets
import sys
import urllib.parse

import websockets
import websockets.legacy.server

MAX_MESSAGE = 16 * 1024 * 1024  # well above the proxy's limit: the tunnel's limits are the ones under test
HOLD_SECONDS = 8  # below websockets' 10 s opening-handshake timeout, which also covers process_request

# Page token -> set when the page's /echo?page=<token> WebSocket has closed.
page_done = {}

PAGE = r"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>keyhole websocket test</title></head>
<body>
<h1>Keyhole WebSocket test</h1>
<pre id="result">PENDING</pre>
<pre id="log"></pre>
<!-- Held by the service until this page's WebSocket has closed: the page's load event, which headless
     Chromium waits for before dumping the DOM or taking the screenshot, comes only after the result. -->
<img src="/hold?page=@TOKEN@" alt="" width="1" height="1">
<script>
"use strict";
const token = "@TOKEN@";
const result = document.getElementById("result");
const log = document.getElementById("log");
function note(line) { log.textContent += line + "\n"; }
function finish(ok, text) {
  if (result.dataset.done) return;
  result.dataset.done = "1";
  result.textContent = (ok ? "PASS " : "FAIL ") + text;
  document.body.style.background = ok ? "#c8f7c5" : "#f7c5c5";
}
const textOut = "h\u00e9llo \u2603 keyhole \ud83d\ude80";
const binOut = new Uint8Array(256);
for (let i = 0; i < 256; ++i) binOut[i] = i;
let textOk = null, binOk = null;
try {
  const ws = new WebSocket("ws://" + location.host + "/echo?page=" + token);
  ws.binaryType = "arraybuffer";
  ws.onopen = () => { note("open"); ws.send(textOut); ws.send(binOut); };
  ws.onerror = () => note("error");
  ws.onclose = (e) => {
    note("close " + e.code + " " + e.reason);
    if (textOk === null || binOk === null) finish(false, "closed early code=" + e.code);
  };
  ws.onmessage = (e) => {
    if (typeof e.data === "string") {
      textOk = e.data === textOut;
      note("text " + (textOk ? "ok" : "mismatch: " + JSON.stringify(e.data)));
    } else {
      const got = new Uint8Array(e.data);
      let bad = got.length === 256 ? -1 : 256;
      for (let i = 0; bad < 0 && i < 256; ++i) if (got[i] !== i) bad = i;
      binOk = bad < 0;
      note("binary " + got.length + " bytes " + (binOk ? "ok" : "mismatch at " + bad));
    }
    if (textOk !== null && binOk !== null) {
      finish(textOk && binOk, "text=" + (textOk ? "ok" : "bad") + " binary=" + (binOk ? "ok" : "bad"));
      ws.close(1000, "done");
    }
  };
} catch (err) {
  finish(false, "exception " + err);
}
</script>
</body></html>
"""


PIXEL = bytes.fromhex("47494638396101000100800000ffffff00000021f90401000000002c00000000010001000002024401003b")


def query_value(path, name):
    values = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query).get(name)
    return values[0] if values else None


def say(line):
    print(line, flush=True)


def http_response(status, body, content_type="text/plain; charset=utf-8"):
    return status, [("Content-Type", content_type), ("Cache-Control", "no-store")], body


class ServiceProtocol(websockets.legacy.server.WebSocketServerProtocol):
    async def process_request(self, path, request_headers):
        route = path.split("?", 1)[0]
        if "upgrade" not in request_headers.get("Connection", "").lower():
            say("http %s" % path)
            if route == "/":
                token = secrets.token_hex(8)
                page_done[token] = asyncio.Event()
                page = PAGE.replace("@TOKEN@", token)
                return http_response(http.HTTPStatus.OK, page.encode(), "text/html; charset=utf-8")
            if route == "/hold":
                done = page_done.get(query_value(path, "page"))
                if done is not None:
                    try:
                        await asyncio.wait_for(done.wait(), HOLD_SECONDS)
                    except asyncio.TimeoutError:
                        say("hold timed out %s" % path)
                return http_response(http.HTTPStatus.OK, PIXEL, "image/gif")
            if route == "/status":
                return http_response(http.HTTPStatus.OK, b"ok\n")
            return http_response(http.HTTPStatus.NOT_FOUND, b"no such test endpoint\n")
        if route == "/refuse":
            say("refused %s" % path)
            return http_response(http.HTTPStatus.FORBIDDEN, b"refused by the test service\n")
        if not known_route(route):
            say("refused %s" % path)
            return http_response(http.HTTPStatus.NOT_FOUND, b"no such websocket endpoint\n")
        return None

    def select_subprotocol(self, client_subprotocols, server_subprotocols):
        if self.path.split("?", 1)[0] != "/proto":
            return None
        for preferred in ("chat.v2", "chat.v1"):
            if preferred in client_subprotocols:
                return preferred
        return None


def known_route(route):
    parts = route.strip("/").split("/")
    if route in ("/echo", "/proto", "/greet", "/count", "/headers"):
        return True
    return len(parts) == 2 and parts[0] in ("close", "big") and parts[1].isdigit()


async def echo(ws):
    async for message in ws:
        await ws.send(message)


async def handler(ws, path):
    route = path.split("?", 1)[0]
    parts = route.strip("/").split("/")
    say("ws-open %s subprotocol=%s" % (path, ws.subprotocol or "-"))
    try:
        if route == "/proto":
            await ws.send(ws.subprotocol or "-")
        elif route == "/greet":
            await ws.send("hello")
        elif route == "/headers":
            await ws.send(json.dumps([[k, v] for k, v in ws.request_headers.raw_items()]))
        elif route == "/count":
            first = await ws.recv()
            n = int(first) if str(first).isdigit() else 1000
            for i in range(n):
                await ws.send(str(i))
        elif parts[0] == "close":
            await ws.recv()
            code = int(parts[1])
            await ws.close(code, "bye %d" % code)
            return
        elif parts[0] == "big":
            await ws.recv()
            await ws.send(b"x" * int(parts[1]))
        await echo(ws)
    except websockets.ConnectionClosed:
        pass
    finally:
        await ws.wait_closed()
        say("ws-closed %s %s %s" % (path, ws.close_code, ws.close_reason or ""))
        done = page_done.get(query_value(path, "page"))
        if done is not None:
            done.set()


async def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    async with websockets.serve(handler, "127.0.0.1", port, create_protocol=ServiceProtocol,
                                subprotocols=["chat.v2", "chat.v1"], max_size=MAX_MESSAGE, max_queue=None,
                                ping_interval=None, compression=None) as server:
        say("listening on %d" % server.sockets[0].getsockname()[1])
        await asyncio.Future()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
