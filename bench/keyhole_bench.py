#!/usr/bin/env python3
"""Keyhole benchmark driver (started by bench/run.sh; see bench/README.md).

Runs, alternating setups in one sequence on this machine:
  http  wrk -> nginx backend (direct), wrk -> nginx reverse proxy -> backend (one-hop),
        wrk -> nginx -> nginx -> backend (two-hop), wrk -> keyhole-proxy -> keyhole-cli -> backend (keyhole)
  ws    keyhole-bench-ws round trips: direct to the echo backend, and through the tunnel
  idle  proxy RSS per registered idle tunnel (keyhole-bench-tunnels)
  soak  proxy and client RSS every 10 s under steady load
  cross two keyhole-proxy instances sharing a redis-server (--redis), the client on A: wrk via A
        (same instance) beside wrk via B (the request crosses instances through Redis)
  stream one 64 MiB download with curl through one-hop and through keyhole (MiB/s and the ratio), and
        the time to first byte of a 1 KiB request through each
and prints a markdown report, also written to <out>/results-<time>.md (+ .json, + latest.md).
Targets are printed as met / not met; they never change the exit status. The exit status is 1
when a setup produced no figure at all or, in smoke mode (CI), when a setup reported errors; 77 when
nginx or wrk is missing.
"""

import argparse
import datetime
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")
SIZES = {"1k": 1024, "100k": 100 * 1024}
LARGE_FILE = "64m.bin"
LARGE_BYTES = 64 * 1024 * 1024

WRK_LUA = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# /proc readings


def status_kib(pid, key):
    """VmRSS / VmHWM of a process in KiB, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def cpu_secs(pid):
    """utime + stime in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


def reset_peak_rss(pid):
    """Resets VmHWM to the current RSS (Linux >= 4.0), so each run reports its own peak."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def child_pids(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


# ---------------------------------------------------------------------------------------------
# processes


class Processes:
    """Everything we start, stopped by pid (never by name) when the run ends."""

    def __init__(self):
        self.procs = []

    def start(self, name, argv, stdout, stderr, **kwargs):
        log(f"start {name}: {' '.join(argv)}")
        proc = subprocess.Popen(argv, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL, **kwargs)
        proc.bench_name = name
        self.procs.append(proc)
        return proc

    def stop(self, proc, sig=signal.SIGTERM, timeout=5):
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc in self.procs:
            self.procs.remove(proc)

    def stop_all(self):
        for proc in reversed(list(self.procs)):
            self.stop(proc)


def wait_for(predicate, timeout, what, proc=None, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what}: process exited with {proc.returncode}")
        time.sleep(interval)
    raise RuntimeError(f"{what}: timed out after {timeout} s")


def read_text(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


# ---------------------------------------------------------------------------------------------
# setups


class Nginx:
    def __init__(self, procs, tmp, name, server_body, upstream=""):
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir, mode=0o755)
        self.port = free_port()
        conf = f"""
worker_processes 1;
daemon off;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log warn;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {self.dir}/client_body;
    proxy_temp_path {self.dir}/proxy_temp;
    fastcgi_temp_path {self.dir}/fastcgi_temp;
    uwsgi_temp_path {self.dir}/uwsgi_temp;
    scgi_temp_path {self.dir}/scgi_temp;
    default_type application/octet-stream;
    sendfile on;
    tcp_nodelay on;
    keepalive_timeout 300s;
    keepalive_requests 1000000;
    {upstream}
    server {{
        listen 127.0.0.1:{self.port} reuseport;
        server_name _;
        {server_body}
    }}
}}
"""
        self.conf = os.path.join(self.dir, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        log_file = open(os.path.join(self.dir, "stderr.log"), "ab")
        self.proc = procs.start(name, ["nginx", "-p", self.dir, "-c", self.conf, "-e", f"{self.dir}/error.log"],
                                stdout=log_file, stderr=log_file)
        wait_for(lambda: self._answers(), 10, f"{name} to listen", self.proc)

    def _answers(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def worker_pid(self):
        children = child_pids(self.proc.pid)
        return children[0] if children else None


class RedisServer:
    def __init__(self, procs, tmp, name):
        self.port = free_port()
        log_file = open(os.path.join(tmp, f"{name}.log"), "ab")
        self.proc = procs.start(name, ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                       "--save", "", "--appendonly", "no"], stdout=log_file, stderr=log_file)
        wait_for(lambda: self._answers(), 10, f"{name} to listen", self.proc)
        self.url = f"redis://127.0.0.1:{self.port}"

    def _answers(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False


class KeyholeProxy:
    def __init__(self, procs, tmp, name, extra=()):
        self.stdout = os.path.join(tmp, f"{name}.out")
        self.stderr = os.path.join(tmp, f"{name}.err")
        argv = [os.environ["KEYHOLE_PROXY"], "--listen", "127.0.0.1:0",
                # Raised so that the proxy's abuse limits do not shape the figures.
                "--rate-limit", "1000000", "--rate-burst", "1000000", "--max-pending", "100000",
                *extra]
        self.proc = procs.start(name, argv, stdout=open(self.stdout, "ab"), stderr=open(self.stderr, "ab"))
        line = wait_for(lambda: re.search(r"keyhole-proxy listening on (\S+):(\d+) \(public URL (\S+)\)",
                                          read_text(self.stdout)), 20, f"{name} startup line", self.proc)
        self.port = int(line.group(2))
        self.public_url = line.group(3)
        self.pid = self.proc.pid

    def tunnels(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=5) as r:
                return json.loads(r.read()).get("tunnels")
        except Exception:
            return None


class KeyholeClient:
    def __init__(self, procs, tmp, name, proxy, target):
        self.stdout = os.path.join(tmp, f"{name}.out")
        self.stderr = os.path.join(tmp, f"{name}.err")
        argv = [os.environ["KEYHOLE_CLI"], "--proxy", f"http://localhost:{proxy.port}", "--target", target,
                "--key", os.path.join(tmp, f"{name}.key.pem")]
        # stdout gets one line per request: appended to a file we truncate between runs.
        self.proc = procs.start(name, argv, stdout=open(self.stdout, "ab"), stderr=open(self.stderr, "ab"))
        online = wait_for(lambda: re.search(r"^Tunnel online: \w+://([^/:\s]+)", read_text(self.stdout), re.M), 20,
                          f"{name} registration", self.proc)
        self.hostname = online.group(1)
        self.pid = self.proc.pid

    def truncate_log(self):
        open(self.stdout, "w").close()


# ---------------------------------------------------------------------------------------------
# HTTP


def run_wrk(url, conns, seconds, lua, host=None):
    argv = ["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency", "--timeout", "10s", "-s", lua]
    if host:
        argv += ["-H", f"Host: {host}"]
    argv.append(url)
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    match = re.search(r"^WRKJSON (\{.*\})$", out.stdout, re.M)
    if not match:
        raise RuntimeError(f"wrk gave no result: {out.stdout[-500:]} {out.stderr[-500:]}")
    r = json.loads(match.group(1))
    duration = r["duration_us"] / 1e6
    return {
        "requests": r["requests"],
        "rps": r["requests"] / duration if duration > 0 else 0,
        "p50_ms": r["p50_us"] / 1000,
        "p99_ms": r["p99_us"] / 1000,
        "errors": r["status"] + r["connect"] + r["read"] + r["write"] + r["timeout"],
    }


def measure_run(fn, watched):
    """Runs fn(); returns its result plus peak RSS (KiB) and CPU seconds of the watched pids."""
    for pid in watched.values():
        reset_peak_rss(pid)
    before = {k: cpu_secs(pid) for k, pid in watched.items()}
    result = fn()
    for key, pid in watched.items():
        after = cpu_secs(pid)
        result[f"{key}_cpu_s"] = (after - before[key]) if after is not None and before[key] is not None else None
        result[f"{key}_peak_kib"] = status_kib(pid, "VmHWM")
    return result


def onehop_nginx(env):
    """The nginx reverse proxy in front of the backend, started once and shared by the sections."""
    if env.get("onehop") is None:
        env["onehop"] = Nginx(env["procs"], env["tmp"], "nginx-onehop", f"""
        location / {{
            proxy_pass http://bench_backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffer_size 16k;
            proxy_buffers 16 16k;
        }}""", upstream=f"upstream bench_backend {{ server 127.0.0.1:{env['backend'].port}; keepalive 64; }}")
    return env["onehop"]


def twohop_nginx(env):
    """A second nginx in front of the one-hop one: the fastest two-intermediary path (keyhole has two,
    keyhole-proxy and keyhole-cli), the yardstick for what any two-process tunnel can reach here."""
    if env.get("twohop") is None:
        onehop = onehop_nginx(env)
        env["twohop"] = Nginx(env["procs"], env["tmp"], "nginx-twohop", f"""
        location / {{
            proxy_pass http://bench_onehop;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffer_size 16k;
            proxy_buffers 16 16k;
        }}""", upstream=f"upstream bench_onehop {{ server 127.0.0.1:{onehop.port}; keepalive 64; }}")
    return env["twohop"]


def http_section(args, env, results):
    tmp = env["tmp"]
    lua = os.path.join(tmp, "report.lua")
    with open(lua, "w") as f:
        f.write(WRK_LUA)
    backend = env["backend"]
    onehop = onehop_nginx(env)
    twohop = twohop_nginx(env)
    proxy, client = env["http_keyhole"]()
    setups = {
        "direct": dict(url=f"http://127.0.0.1:{backend.port}", host=None, watched={}),
        "one-hop": dict(url=f"http://127.0.0.1:{onehop.port}", host=None,
                        watched={"proxy": onehop.worker_pid()}),
        # Its front nginx in the proxy columns, the one behind it in the client columns.
        "two-hop": dict(url=f"http://127.0.0.1:{twohop.port}", host=None,
                        watched={"proxy": twohop.worker_pid(), "client": onehop.worker_pid()}),
        "keyhole": dict(url=f"http://127.0.0.1:{proxy.port}", host=client.hostname,
                        watched={"proxy": proxy.pid, "client": client.pid}),
    }
    runs = []
    for rnd in range(args.rounds):
        for conns in args.connections:
            for size in ("1k", "100k"):
                for name, setup in setups.items():
                    url = f"{setup['url']}/{size}.bin"
                    if args.warmup > 0:
                        run_wrk(url, conns, args.warmup, lua, setup["host"])
                    client.truncate_log()
                    log(f"http round {rnd + 1}/{args.rounds}: {name} c{conns} {size}")
                    try:
                        r = measure_run(lambda: run_wrk(url, conns, args.duration, lua, setup["host"]),
                                        {k: v for k, v in setup["watched"].items() if v})
                    except Exception as e:  # a failed run is reported, the sequence goes on
                        log(f"  failed: {e}")
                        r = {"failed": str(e)}
                    r.update(setup=name, conns=conns, size=size, round=rnd + 1)
                    if "rps" in r:
                        log(f"  {r['rps']:.0f} req/s p50 {r['p50_ms']:.3f} ms p99 {r['p99_ms']:.3f} ms "
                            f"errors {r['errors']}")
                    runs.append(r)
    client.truncate_log()
    results["http_runs"] = runs
    results["http"] = aggregate_http(runs)


def cross_section(args, env, results):
    """The cost of crossing instances: the same tunnel, reached on the instance holding it or on another."""
    if not shutil.which("redis-server"):
        results["cross"] = {"na": "redis-server not installed"}
        return
    tmp, procs = env["tmp"], env["procs"]
    lua = os.path.join(tmp, "report.lua")
    with open(lua, "w") as f:
        f.write(WRK_LUA)
    redis = RedisServer(procs, tmp, "redis")
    a = KeyholeProxy(procs, tmp, "proxy-a", ["--redis", redis.url, "--instance-id", "a"])
    public = a.public_url  # both sign for one audience, as behind a load balancer
    b = KeyholeProxy(procs, tmp, "proxy-b", ["--redis", redis.url, "--instance-id", "b", "--public-url", public])
    client = KeyholeClient(procs, tmp, "cli-cross", a, f"http://127.0.0.1:{env['backend'].port}")
    wait_for(lambda: b.tunnels() is not None, 10, "proxy-b health")
    setups = {"same instance": a, "cross instance": b}
    rows = []
    for rnd in range(args.rounds):
        for name, proxy in setups.items():
            url = f"http://127.0.0.1:{proxy.port}/1k.bin"
            if args.warmup > 0:
                run_wrk(url, 10, args.warmup, lua, client.hostname)
            client.truncate_log()
            log(f"cross round {rnd + 1}/{args.rounds}: {name} c10 1k")
            try:
                r = measure_run(lambda: run_wrk(url, 10, args.duration, lua, client.hostname),
                                {"proxy_a": a.pid, "proxy_b": b.pid, "redis": redis.proc.pid})
            except Exception as e:
                log(f"  failed: {e}")
                r = {"failed": str(e)}
            r.update(setup=name, round=rnd + 1)
            if "rps" in r:
                log(f"  {r['rps']:.0f} req/s p50 {r['p50_ms']:.3f} ms p99 {r['p99_ms']:.3f} ms errors {r['errors']}")
            rows.append(r)
    client.truncate_log()
    summary = []
    for name in setups:
        runs = [r for r in rows if r["setup"] == name and "rps" in r]
        summary.append({
            "setup": name,
            "rps": median_of([r["rps"] for r in runs]),
            "p50_ms": median_of([r["p50_ms"] for r in runs]),
            "p99_ms": median_of([r["p99_ms"] for r in runs]),
            "errors": sum(r["errors"] for r in runs) if runs else None,
            "redis_cpu_s": median_of([r.get("redis_cpu_s") for r in runs]),
        })
    results["cross"] = {"runs": rows, "rows": summary}


# ---------------------------------------------------------------------------------------------
# large download and time to first byte


def curl_get(url, host, timeout):
    """One GET with curl, body discarded: status, bytes, seconds total and to the first byte."""
    argv = ["curl", "-s", "-S", "-o", "/dev/null", "--max-time", str(timeout),
            "-w", "%{http_code} %{size_download} %{time_total} %{time_starttransfer}"]
    if host:
        argv += ["-H", f"Host: {host}"]
    argv.append(url)
    out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout + 30)
    fields = out.stdout.split()
    if len(fields) != 4:
        return {"error": f"curl exit {out.returncode}: {out.stderr.strip()[-200:]}"}
    status, size, total, first = int(fields[0]), int(fields[1]), float(fields[2]), float(fields[3])
    r = {"status": status, "bytes": size, "secs": total, "ttfb_ms": first * 1000}
    if out.returncode != 0 or status != 200:
        r["error"] = f"HTTP {status}, {size} bytes, curl exit {out.returncode}" + (
            f": {out.stderr.strip()[-200:]}" if out.stderr.strip() else "")
    return r


def stream_section(args, env, results):
    """A body far beyond one message (64 MiB) and the wait for the first byte, one-hop beside keyhole."""
    onehop = onehop_nginx(env)
    proxy, client = env["http_keyhole"]()
    setups = {
        "one-hop": dict(url=f"http://127.0.0.1:{onehop.port}", host=None, watched={"proxy": onehop.worker_pid()}),
        "keyhole": dict(url=f"http://127.0.0.1:{proxy.port}", host=client.hostname,
                        watched={"proxy": proxy.pid, "client": client.pid}),
    }
    # The section before may leave the programs busy for a moment (wrk's last requests still draining): a
    # first byte measured then would time that, not the path.
    time.sleep(args.settle)
    runs = []
    for rnd in range(args.rounds):
        for name, setup in setups.items():
            client.truncate_log()
            log(f"stream round {rnd + 1}/{args.rounds}: {name} {args.ttfb_requests} x 1 KiB, 64 MiB download")
            # First byte first (after one request that is not counted: nginx's first upstream connection),
            # so the large download's after-effects (nginx's temp file, page cache) stay out of it.
            small = [curl_get(f"{setup['url']}/1k.bin", setup["host"], 30) for _ in range(args.ttfb_requests + 1)][1:]
            bad = [s["error"] for s in small if "error" in s]
            r = measure_run(lambda: curl_get(f"{setup['url']}/{LARGE_FILE}", setup["host"], 120),
                            {k: v for k, v in setup["watched"].items() if v})
            if "error" not in r and r["bytes"] != LARGE_BYTES:
                r["error"] = f"{r['bytes']} of {LARGE_BYTES} bytes"
            if "error" not in r:
                r["mib_s"] = r["bytes"] / (1024 * 1024) / r["secs"] if r["secs"] > 0 else None
            r["ttfb_samples_ms"] = [round(s["ttfb_ms"], 3) for s in small if "error" not in s]
            r["ttfb_ms"] = median_of(r["ttfb_samples_ms"])
            r["ttfb_errors"] = len(bad)
            if bad:
                r["ttfb_error"] = bad[0]
            r.update(setup=name, round=rnd + 1)
            log(f"  {name}: " + (f"{r['mib_s']:.0f} MiB/s" if r.get("mib_s") else f"download failed: {r['error']}")
                + f", TTFB {fmt(r['ttfb_ms'], '.3f')} ms" + (f" ({len(bad)} failed: {bad[0]})" if bad else ""))
            runs.append(r)
    client.truncate_log()
    rows = []
    for name in setups:
        rs = [r for r in runs if r["setup"] == name]
        errors = [r["error"] for r in rs if "error" in r] + [r["ttfb_error"] for r in rs if "ttfb_error" in r]
        rows.append({
            "setup": name,
            "mib_s": median_of([r.get("mib_s") for r in rs]),
            "ttfb_ms": median_of([r["ttfb_ms"] for r in rs]),
            "proxy_peak_kib": median_of([r.get("proxy_peak_kib") for r in rs]),
            "client_peak_kib": median_of([r.get("client_peak_kib") for r in rs]),
            "errors": len([r for r in rs if "error" in r]) + sum(r["ttfb_errors"] for r in rs),
            "error": errors[0] if errors else None,
        })
    base = rows[0]
    for row in rows:
        row["x_onehop_mib_s"] = row["mib_s"] / base["mib_s"] if row["mib_s"] and base["mib_s"] else None
        row["x_onehop_ttfb"] = row["ttfb_ms"] / base["ttfb_ms"] if row["ttfb_ms"] and base["ttfb_ms"] else None
    results["stream"] = {"runs": runs, "rows": rows}


def median_of(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def aggregate_http(runs):
    rows = {}
    for r in runs:
        if "failed" in r:
            continue
        key = (r["conns"], r["size"], r["setup"])
        rows.setdefault(key, []).append(r)
    table = []
    for (conns, size, setup), rs in rows.items():
        row = {"setup": setup, "conns": conns, "size": size, "rounds": len(rs)}
        for field in ("rps", "p50_ms", "p99_ms", "proxy_cpu_s", "client_cpu_s", "proxy_peak_kib",
                      "client_peak_kib"):
            row[field] = median_of([r.get(field) for r in rs])
        row["errors"] = sum(r["errors"] for r in rs)
        row["requests"] = sum(r["requests"] for r in rs)
        cpu = [(r.get("proxy_cpu_s") or 0) + (r.get("client_cpu_s") or 0) for r in rs if r["requests"]]
        row["cpu_us_per_req"] = (median_of([c * 1e6 / r["requests"] for c, r in zip(cpu, rs) if r["requests"]])
                                 if setup != "direct" else None)
        table.append(row)
    index = {(r["conns"], r["size"], r["setup"]): r for r in table}
    for row in table:
        direct = index.get((row["conns"], row["size"], "direct"))
        onehop = index.get((row["conns"], row["size"], "one-hop"))
        row["x_direct"] = row["rps"] / direct["rps"] if direct and direct["rps"] else None
        twohop = index.get((row["conns"], row["size"], "two-hop"))
        row["x_onehop"] = row["rps"] / onehop["rps"] if onehop and onehop["rps"] else None
        row["x_twohop"] = row["rps"] / twohop["rps"] if twohop and twohop["rps"] else None
    order = {"direct": 0, "one-hop": 1, "two-hop": 2, "keyhole": 3}
    table.sort(key=lambda r: (r["conns"], SIZES[r["size"]], order[r["setup"]]))
    return table


# ---------------------------------------------------------------------------------------------
# WebSocket


def ws_client(tool, connect, host, conns, size, duration_ms, warmup_ms):
    argv = [tool, "client", "--connect", connect, "--connections", str(conns), "--size", str(size),
            "--duration-ms", str(duration_ms), "--warmup-ms", str(warmup_ms), "--open-timeout-ms", "10000",
            "--path", "/echo"]
    if host:
        argv += ["--host", host]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=(duration_ms + warmup_ms) / 1000 + 60)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"na": f"no result (exit {out.returncode}): {out.stderr.strip()[-200:]}"}
    r = json.loads(lines[-1])
    if not r.get("ok"):
        return {"na": r.get("reason", "refused")}
    return r


def ws_section(args, env, results):
    tool = os.environ["KEYHOLE_BENCH_WS"]
    tmp = env["tmp"]
    echo_out = os.path.join(tmp, "ws-echo.out")
    echo = env["procs"].start("ws-echo", [tool, "echo", "--listen", "127.0.0.1:0"],
                              stdout=open(echo_out, "ab"), stderr=open(os.path.join(tmp, "ws-echo.err"), "ab"))
    m = wait_for(lambda: re.search(r"listening on 127\.0\.0\.1:(\d+)", read_text(echo_out)), 10,
                 "ws echo startup", echo)
    echo_port = int(m.group(1))
    proxy = env["proxy"]()
    tunnel_na = None
    try:
        client = KeyholeClient(env["procs"], tmp, "cli-ws", proxy, f"http://127.0.0.1:{echo_port}")
    except Exception as e:
        client = None
        tunnel_na = f"client did not come online: {e}"
    rows = []
    for conns in (1, 10):
        for size, label in ((64, "64 B"), (64 * 1024, "64 KiB")):
            for setup in ("direct", "tunnel"):
                log(f"ws {setup} c{conns} {label}")
                if setup == "tunnel" and tunnel_na:
                    r = {"na": tunnel_na}
                elif setup == "direct":
                    r = ws_client(tool, f"127.0.0.1:{echo_port}", None, conns, size, args.ws_ms, args.ws_warmup_ms)
                else:
                    client.truncate_log()
                    r = measure_run(lambda: ws_client(tool, f"127.0.0.1:{proxy.port}", client.hostname, conns, size,
                                                      args.ws_ms, args.ws_warmup_ms),
                                    {"proxy": proxy.pid, "client": client.pid})
                    if "na" in r:
                        tunnel_na = r["na"]  # the tunnel refuses upgrades: no use asking again
                r.update(setup=setup, conns=conns, size=size, size_label=label)
                log(f"  {r.get('na') or '%.0f msg/s p50 %.3f ms p99 %.3f ms' % (r['msgs_per_s'], r['p50_ms'], r['p99_ms'])}")
                rows.append(r)
    if client:
        client.truncate_log()
    results["ws"] = rows


# ---------------------------------------------------------------------------------------------
# idle tunnels


def healthz_ms(port, samples):
    """Median wall time of GET /healthz in ms (a new connection each), or None."""
    times = []
    for _ in range(samples):
        t0 = time.monotonic()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as r:
                r.read()
        except Exception:
            continue
        times.append((time.monotonic() - t0) * 1000)
    return statistics.median(times) if times else None


def idle_section(args, env, results):
    """Per event loop: registration time, RSS per tunnel, idle CPU and /healthz latency at N tunnels."""
    rows = []
    results["idle"] = rows
    for loop in args.idle_event_loops:
        rows.append(idle_run(args, env, loop))
    results["idle_floor"] = ping_floor(args)


def idle_run(args, env, loop):
    tool = os.environ["KEYHOLE_BENCH_TUNNELS"]
    tmp = env["tmp"]
    procs = env["procs"]
    # Room for every tunnel (the default --max-connections is 10,000).
    proxy = KeyholeProxy(procs, tmp, f"proxy-idle-{loop}",
                         ["--event-loop", loop, "--max-connections", str(args.idle_tunnels + 1000)])
    fleets = []

    def fleet(name, count, keys):
        out = os.path.join(tmp, f"{name}.out")
        p = procs.start(name, [tool, "--proxy", proxy.public_url, "--count", str(count), "--keys", keys],
                        stdout=open(out, "ab"), stderr=open(os.path.join(tmp, f"{name}.err"), "ab"))
        fleets.append(p)
        m = wait_for(lambda: re.search(r"registered (\d+) refused (\d+) in ([\d.]+) s", read_text(out)),
                     max(120, count / 5), f"{name} registration", p, interval=0.2)
        return int(m.group(1)), int(m.group(2)), float(m.group(3))

    try:
        # A few tunnels first, so one-time costs (first TLS-less handshake paths, allocator arenas,
        # OpenSSL tables) are in the baseline and not spread over the measured tunnels.
        warm = fleet(f"tunnels-warm-{loop}", 10, os.path.join(args.out, "tunnel-keys-warm.pem"))
        time.sleep(args.settle)
        before = status_kib(proxy.pid, "VmRSS")
        registered, refused, secs = fleet(f"tunnels-{loop}", args.idle_tunnels,
                                          os.path.join(args.out, "tunnel-keys.pem"))
        time.sleep(args.settle)
        after = status_kib(proxy.pid, "VmRSS")
        # Idle: only the proxy's heartbeats and the pings they send (every --ping-interval, 10 s) and
        # their answers. The proxy's own CPU time, not the machine's load, over the window.
        cpu0, t0 = cpu_secs(proxy.pid), time.monotonic()
        time.sleep(args.idle_cpu_secs)
        cpu1, t1 = cpu_secs(proxy.pid), time.monotonic()
        idle_cpu = None if cpu0 is None or cpu1 is None else 100.0 * (cpu1 - cpu0) / (t1 - t0)
        healthz = healthz_ms(proxy.port, args.healthz_samples)
        reported = proxy.tunnels()
        per = (after - before) / registered if registered else None
        row = {"event_loop": loop, "tunnels": registered, "refused": refused, "register_secs": secs,
               "warm_tunnels": warm[0], "rss_before_kib": before, "rss_after_kib": after,
               "kib_per_tunnel": per, "healthz_tunnels": reported, "idle_cpu_pct": idle_cpu,
               "idle_cpu_window_s": round(t1 - t0, 1), "healthz_ms": healthz,
               "proxy_cpu_s": cpu_secs(proxy.pid)}
        log(f"idle ({loop}): {registered} tunnels in {secs:.2f} s, RSS {before} -> {after} KiB, "
            f"{per if per is None else round(per, 2)} KiB each, idle CPU "
            f"{idle_cpu if idle_cpu is None else round(idle_cpu, 2)} %, /healthz "
            f"{healthz if healthz is None else round(healthz, 1)} ms (healthz says {reported})")
        return row
    finally:
        for p in fleets:
            procs.stop(p)
        procs.stop(proxy.proc)


def ping_floor(args):
    """The idle-CPU yardstick: the proxy's ping schedule on a bare epoll loop (keyhole-bench-ping-floor)."""
    # The proxy pings after 10 s of silence plus a random part of 5 s (mean 12.5 s), on coarse timers
    # that fire on 500 ms steps.
    argv = [os.environ["KEYHOLE_BENCH_PING_FLOOR"], "--count", str(args.idle_tunnels), "--mean-period-ms", "12500",
            "--tick-ms", "500", "--seconds", str(args.idle_cpu_secs)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=args.idle_cpu_secs + 120)
    m = re.search(r"pings (\d+) answers (\d+) cpu ([\d.]+) s over ([\d.]+) s", done.stdout)
    if done.returncode != 0 or not m:
        log(f"ping floor: failed ({done.stderr.strip() or done.returncode})")
        return None
    floor = {"pings": int(m.group(1)), "answers": int(m.group(2)),
             "cpu_pct": 100.0 * float(m.group(3)) / float(m.group(4))}
    log(f"ping floor: {args.idle_tunnels} connections, {floor['pings']} pings, CPU {floor['cpu_pct']:.2f} %")
    return floor


# ---------------------------------------------------------------------------------------------
# soak


def soak_section(args, env, results):
    tmp = env["tmp"]
    lua = os.path.join(tmp, "report.lua")
    with open(lua, "w") as f:
        f.write(WRK_LUA)
    proxy, client = env["http_keyhole"]()
    seconds = int(args.soak_minutes * 60)
    argv = ["wrk", "-t1", "-c10", f"-d{seconds}s", "--latency", "--timeout", "10s", "-s", lua,
            "-H", f"Host: {client.hostname}", f"http://127.0.0.1:{proxy.port}/1k.bin"]
    log(f"soak: {seconds} s at -c10 1 KiB, RSS every {args.soak_interval} s")
    wrk_out = os.path.join(tmp, "soak-wrk.out")
    client.truncate_log()
    wrk = env["procs"].start("wrk-soak", argv, stdout=open(wrk_out, "w"), stderr=subprocess.STDOUT)
    start = time.monotonic()
    samples = []
    cpu0 = (cpu_secs(proxy.pid), cpu_secs(client.pid))
    while wrk.poll() is None:
        time.sleep(min(args.soak_interval, max(0.1, start + (len(samples) + 1) * args.soak_interval
                                                 - time.monotonic())))
        if wrk.poll() is not None:
            break
        samples.append({"t": round(time.monotonic() - start), "proxy_kib": status_kib(proxy.pid, "VmRSS"),
                        "client_kib": status_kib(client.pid, "VmRSS")})
        log(f"  t={samples[-1]['t']} s proxy {samples[-1]['proxy_kib']} KiB client {samples[-1]['client_kib']} KiB")
        # the client writes one stdout line per request: keep that file from growing without bound
        client.truncate_log()
    wrk.wait()
    m = re.search(r"^WRKJSON (\{.*\})$", read_text(wrk_out), re.M)
    r = json.loads(m.group(1)) if m else None
    soak = {"minutes": args.soak_minutes, "samples": samples}
    if r:
        soak["requests"] = r["requests"]
        soak["rps"] = r["requests"] / (r["duration_us"] / 1e6)
        soak["errors"] = r["status"] + r["connect"] + r["read"] + r["write"] + r["timeout"]
        soak["p99_ms"] = r["p99_us"] / 1000
    soak["proxy_cpu_s"] = cpu_secs(proxy.pid) - cpu0[0]
    soak["client_cpu_s"] = cpu_secs(client.pid) - cpu0[1]
    if len(samples) >= 2:
        # baseline: the first sample (after 10 s of load), so start-up growth is not counted as a leak
        for who in ("proxy", "client"):
            first, last = samples[0][f"{who}_kib"], samples[-1][f"{who}_kib"]
            soak[f"{who}_growth_pct"] = (last - first) * 100.0 / first if first else None
            soak[f"{who}_max_kib"] = max(s[f"{who}_kib"] for s in samples)
    results["soak"] = soak


# ---------------------------------------------------------------------------------------------
# report


def fmt(value, spec=".0f", suffix=""):
    return "–" if value is None else f"{value:{spec}}{suffix}"


def mib(kib):
    return "–" if kib is None else f"{kib / 1024:.1f}"


def verdict(ok):
    return "n/a" if ok is None else ("**met**" if ok else "**not met**")


def report(args, results):
    lines = []
    meta = results["meta"]
    lines.append(f"# Keyhole benchmark — {meta['started']}")
    lines.append("")
    lines.append(f"Command: `{meta['command']}`  ")
    lines.append(f"Machine: {meta['cpus']} CPUs, load average at start {meta['loadavg']}, {meta['kernel']}; "
                 f"nginx {meta.get('nginx', '?')}, {meta.get('wrk', 'wrk')}  ")
    lines.append(f"Mode: {meta['mode']}")
    lines.append("")
    targets = []

    if "http" in results:
        h = results["http"]
        lines.append(f"## HTTP (wrk -t1, {args.duration} s per run after {args.warmup} s warm-up, "
                     f"{args.rounds} alternating round(s), medians)")
        lines.append("")
        lines.append("| setup | conns | size | req/s | p50 ms | p99 ms | errors | × direct | × one-hop | × two-hop | "
                     "proxy peak RSS MiB | proxy CPU s | client peak RSS MiB | client CPU s | CPU µs/req |")
        lines.append("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in h:
            lines.append(f"| {r['setup']} | {r['conns']} | {r['size']} | {fmt(r['rps'])} | {fmt(r['p50_ms'], '.3f')} | "
                         f"{fmt(r['p99_ms'], '.3f')} | {r['errors']} | {fmt(r['x_direct'], '.2f')} | "
                         f"{fmt(r['x_onehop'], '.2f')} | {fmt(r.get('x_twohop'), '.2f')} | "
                         f"{mib(r['proxy_peak_kib'])} | {fmt(r['proxy_cpu_s'], '.2f')} | "
                         f"{mib(r['client_peak_kib'])} | {fmt(r['client_cpu_s'], '.2f')} | "
                         f"{fmt(r['cpu_us_per_req'], '.0f')} |")
        lines.append("")
        lines.append("one-hop: the proxy columns are the nginx reverse-proxy worker. two-hop: a second nginx in "
                     "front of it (proxy columns) and the one-hop worker (client columns), the fastest path with two "
                     "intermediaries, as keyhole has. keyhole: keyhole-proxy and keyhole-cli. CPU µs/req: "
                     "(proxy + client) CPU time per request.")
        lines.append("")
        idx = {(r["conns"], r["size"], r["setup"]): r for r in h}
        top = max(args.connections)
        mid = 10 if 10 in args.connections else min(args.connections)
        for size in ("1k", "100k"):
            k, o = idx.get((top, size, "keyhole")), idx.get((top, size, "one-hop"))
            ok = None if not (k and o and o["rps"]) else k["rps"] >= 0.8 * o["rps"]
            detail = f"{k['rps'] / o['rps']:.2f} × one-hop" if k and o and o["rps"] else "no figure"
            targets.append((f"HTTP {size} at {top} connections: keyhole ≥ 0.8 × one-hop req/s", detail, ok))
        k, o = idx.get((top, "1k", "keyhole")), idx.get((top, "1k", "one-hop"))
        targets.append((f"HTTP 1k at {top} connections: keyhole ≥ 1.0 × one-hop req/s (the streaming issue's aim)",
                        f"{k['rps'] / o['rps']:.2f} × one-hop" if k and o and o["rps"] else "no figure",
                        None if not (k and o and o["rps"]) else k["rps"] >= o["rps"]))
        for size in ("1k", "100k"):
            k, o = idx.get((mid, size, "keyhole")), idx.get((mid, size, "one-hop"))
            ok = None if not (k and o and o["p50_ms"]) else k["p50_ms"] <= 1.5 * o["p50_ms"]
            detail = (f"{k['p50_ms']:.3f} ms vs {o['p50_ms']:.3f} ms ({k['p50_ms'] / o['p50_ms']:.2f} ×)"
                      if k and o and o["p50_ms"] else "no figure")
            targets.append((f"HTTP {size} p50 at {mid} connections ≤ 1.5 × one-hop p50", detail, ok))

    if "ws" in results:
        lines.append(f"## WebSocket round trips (keyhole-bench-ws, closed loop, {args.ws_ms / 1000:g} s per run "
                     f"after {args.ws_warmup_ms / 1000:g} s warm-up)")
        lines.append("")
        lines.append("| setup | conns | message | msgs/s | p50 ms | p99 ms | errors | × direct msgs/s | "
                     "proxy CPU s | client CPU s |")
        lines.append("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
        widx = {(r["setup"], r["conns"], r["size"]): r for r in results["ws"]}
        for r in results["ws"]:
            if "na" in r:
                lines.append(f"| {r['setup']} | {r['conns']} | {r['size_label']} | n/a ({r['na']}) | | | | | | |")
                continue
            d = widx.get(("direct", r["conns"], r["size"]))
            ratio = r["msgs_per_s"] / d["msgs_per_s"] if r["setup"] == "tunnel" and d and d.get("msgs_per_s") else None
            lines.append(f"| {r['setup']} | {r['conns']} | {r['size_label']} | {fmt(r['msgs_per_s'])} | "
                         f"{fmt(r['p50_ms'], '.3f')} | {fmt(r['p99_ms'], '.3f')} | {r['errors']} | "
                         f"{fmt(ratio, '.2f')} | {fmt(r.get('proxy_cpu_s'), '.2f')} | "
                         f"{fmt(r.get('client_cpu_s'), '.2f')} |")
        lines.append("")
        t = widx.get(("tunnel", 1, 64))
        if t and "na" not in t:
            targets.append(("WebSocket round-trip p50 ≤ 0.4 ms at 64 B (1 connection)", f"{t['p50_ms']:.3f} ms",
                            t["p50_ms"] <= 0.4))
        else:
            targets.append(("WebSocket round-trip p50 ≤ 0.4 ms at 64 B (1 connection)",
                            f"n/a ({t['na'] if t else 'not run'})", None))

    if results.get("idle"):
        lines.append("## Idle tunnels (keyhole-bench-tunnels)")
        lines.append("")
        floor = results.get("idle_floor")
        floor_pct = floor["cpu_pct"] if floor else None
        lines.append("| event loop | tunnels | refused | registration time | proxy RSS before | proxy RSS after | "
                     "per tunnel | idle CPU | × ping floor | /healthz |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for i in results["idle"]:
            times_floor = i["idle_cpu_pct"] / floor_pct if floor_pct and i["idle_cpu_pct"] is not None else None
            lines.append(f"| {i['event_loop']} | {i['tunnels']} | {i['refused']} | {i['register_secs']:.2f} s | "
                         f"{i['rss_before_kib']} KiB | {i['rss_after_kib']} KiB | "
                         f"{fmt(i['kib_per_tunnel'], '.1f', ' KiB')} | {fmt(i['idle_cpu_pct'], '.2f', ' %')} | "
                         f"{fmt(times_floor, '.2f')} | {fmt(i['healthz_ms'], '.1f', ' ms')} |")
        lines.append("")
        first = results["idle"][0]
        lines.append(f"Baseline taken with {first['warm_tunnels']} tunnels already registered; idle CPU is the "
                     f"proxy's own utime + stime over {first['idle_cpu_window_s']} s after registration; "
                     f"/healthz is the median of {args.healthz_samples} requests.")
        lines.append(f"Ping floor (keyhole-bench-ping-floor): {fmt(floor_pct, '.2f', ' %')} of a core for the same "
                     f"pings and answers on {args.idle_tunnels} bare loopback TCP connections, a mean of 12.5 s "
                     "apart, sent in 500 ms batches from a plain epoll loop: the system calls and TCP alone.")
        lines.append("")
        for i in results["idle"]:
            where = f"({i['tunnels']} tunnels, {i['event_loop']})"
            per, cpu, hz, reg = i["kib_per_tunnel"], i["idle_cpu_pct"], i["healthz_ms"], i["register_secs"]
            targets.append((f"idle tunnel ≤ 16 KiB proxy RSS each {where}", fmt(per, ".1f", " KiB"),
                            None if per is None else per <= 16))
            targets.append((f"proxy CPU while idle ≤ 1 % {where}", fmt(cpu, ".2f", " %"),
                            None if cpu is None else cpu <= 1))
            targets.append((f"/healthz ≤ 2 ms {where}", fmt(hz, ".1f", " ms"), None if hz is None else hz <= 2))
            targets.append((f"registration of every tunnel ≤ 4 s {where}", f"{reg:.2f} s", reg <= 4))

    if "soak" in results:
        s = results["soak"]
        lines.append(f"## Soak ({s['minutes']} min, wrk -c10 1 KiB through keyhole, RSS every "
                     f"{args.soak_interval} s)")
        lines.append("")
        lines.append("| t (s) | proxy RSS KiB | client RSS KiB |")
        lines.append("|---:|---:|---:|")
        for sample in s["samples"]:
            lines.append(f"| {sample['t']} | {sample['proxy_kib']} | {sample['client_kib']} |")
        lines.append("")
        lines.append(f"{s.get('requests', 0)} requests, {fmt(s.get('rps'))} req/s, {s.get('errors', '?')} errors, "
                     f"p99 {fmt(s.get('p99_ms'), '.3f')} ms; growth from the first sample to the last: proxy "
                     f"{fmt(s.get('proxy_growth_pct'), '.1f', ' %')}, client {fmt(s.get('client_growth_pct'), '.1f', ' %')}; "
                     f"CPU proxy {fmt(s.get('proxy_cpu_s'), '.1f')} s, client {fmt(s.get('client_cpu_s'), '.1f')} s.")
        lines.append("")
        growth = [s.get("proxy_growth_pct"), s.get("client_growth_pct")]
        ok = None if None in growth or "errors" not in s else (max(growth) < 5 and s["errors"] == 0)
        targets.append(("soak: RSS growth < 5 % with zero errors",
                        f"proxy {fmt(growth[0], '.1f', ' %')}, client {fmt(growth[1], '.1f', ' %')}, "
                        f"{s.get('errors', '?')} errors", ok))

    if "cross" in results:
        c = results["cross"]
        lines.append(f"## Across instances (two proxies sharing redis-server, client on A; wrk -t1 -c10, 1k, "
                     f"{args.duration} s per run, medians)")
        lines.append("")
        if "na" in c:
            lines.append(f"n/a: {c['na']}")
        else:
            lines.append("| visitor reaches | req/s | p50 ms | p99 ms | errors | × same instance req/s | "
                         "p50 added ms | redis CPU s |")
            lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
            same = next((r for r in c["rows"] if r["setup"] == "same instance"), None)
            for r in c["rows"]:
                ratio = r["rps"] / same["rps"] if same and same["rps"] and r["rps"] else None
                added = r["p50_ms"] - same["p50_ms"] if same and same["p50_ms"] is not None and r["p50_ms"] is not None else None
                lines.append(f"| {r['setup']} | {fmt(r['rps'])} | {fmt(r['p50_ms'], '.3f')} | {fmt(r['p99_ms'], '.3f')} | "
                             f"{r['errors']} | {fmt(ratio, '.2f')} | {fmt(added, '.3f')} | {fmt(r['redis_cpu_s'], '.2f')} |")
        lines.append("")

    if "stream" in results:
        st = results["stream"]
        lines.append(f"## Large download and time to first byte (curl; one 64 MiB file; {args.ttfb_requests} "
                     f"× 1 KiB, median; {args.rounds} alternating round(s), medians)")
        lines.append("")
        lines.append("| setup | 64 MiB MiB/s | × one-hop | TTFB 1 KiB ms | × one-hop | proxy peak RSS MiB | "
                     "client peak RSS MiB | errors |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|---|")
        for r in st["rows"]:
            errors = f"{r['errors']} ({r['error']})" if r["error"] else str(r["errors"])
            lines.append(f"| {r['setup']} | {fmt(r['mib_s'])} | {fmt(r['x_onehop_mib_s'], '.2f')} | "
                         f"{fmt(r['ttfb_ms'], '.3f')} | {fmt(r['x_onehop_ttfb'], '.2f')} | {mib(r['proxy_peak_kib'])} | "
                         f"{mib(r['client_peak_kib'])} | {errors} |")
        lines.append("")
        lines.append("TTFB: curl's time_starttransfer, connection set-up included. one-hop: the proxy column is "
                     "the nginx reverse-proxy worker.")
        lines.append("")

    if targets:
        lines.append("## Targets (informational: they never fail the run)")
        lines.append("")
        lines.append("| target | measured | verdict |")
        lines.append("|---|---|---|")
        for name, detail, ok in targets:
            lines.append(f"| {name} | {detail} | {verdict(ok)} |")
        lines.append("")
    return "\n".join(lines)


def missing_figures(results, sections):
    missing = []
    if "http" in sections:
        have = {(r["conns"], r["size"], r["setup"]) for r in results.get("http", []) if r.get("rps")}
        for run in results.get("http_runs", []):
            key = (run["conns"], run["size"], run["setup"])
            if key not in have:
                missing.append(f"http {key}: {run.get('failed', 'no requests')}")
    if "ws" in sections:
        for r in results.get("ws", []):
            if r["setup"] == "direct" and "na" in r:
                missing.append(f"ws direct c{r['conns']} {r['size']}: {r['na']}")
    if "idle" in sections:
        for idle in results.get("idle") or [{"event_loop": "-"}]:
            if not idle.get("tunnels"):
                missing.append(f"idle ({idle['event_loop']}): no tunnel registered")
        if not results.get("idle_floor"):
            missing.append("idle: no ping floor")
    if "soak" in sections and "rps" not in results.get("soak", {}):
        missing.append("soak: no result")
    if "stream" in sections:
        rows = (results.get("stream") or {}).get("rows", [])
        if not rows:
            missing.append("stream: no result")
        for r in rows:
            if r["mib_s"] is None:
                missing.append(f"stream {r['setup']} 64 MiB download: {r['error'] or 'no figure'}")
            if r["ttfb_ms"] is None:
                missing.append(f"stream {r['setup']} time to first byte: {r['error'] or 'no figure'}")
    if "cross" in sections and "na" not in results.get("cross", {}):
        for r in results.get("cross", {}).get("rows", []):
            if not r.get("rps"):
                missing.append(f"cross {r['setup']}: no requests")
    return missing


def setup_errors(args, results, sections):
    """Smoke mode only: a setup that reported errors, or a figure missing from a setup that
    missing_figures() does not look at (the tunnel's WebSocket rows), fails the run. Full runs
    report errors in the tables and leave the verdict to the reader."""
    if not args.smoke:
        return []
    bad = []
    if "http" in sections:
        for r in results.get("http", []):
            if r.get("errors"):
                bad.append(f"http {r['setup']} c{r['conns']} {r['size']}: {r['errors']} errors")
    if "ws" in sections:
        for r in results.get("ws", []):
            if "na" in r and r["setup"] != "direct":
                bad.append(f"ws {r['setup']} c{r['conns']} {r['size']}: {r['na']}")
            elif r.get("errors"):
                bad.append(f"ws {r['setup']} c{r['conns']} {r['size']}: {r['errors']} errors")
    if "idle" in sections:
        for idle in results.get("idle") or []:
            if idle.get("refused"):
                bad.append(f"idle ({idle['event_loop']}): {idle['refused']} registrations refused")
            if idle.get("tunnels") is not None and idle["tunnels"] < args.idle_tunnels:
                bad.append(f"idle ({idle['event_loop']}): {idle['tunnels']} of {args.idle_tunnels} tunnels "
                           "registered")
    if "soak" in sections and results.get("soak", {}).get("errors"):
        bad.append(f"soak: {results['soak']['errors']} errors")
    if "cross" in sections:
        for r in results.get("cross", {}).get("rows", []):
            if r.get("errors"):
                bad.append(f"cross {r['setup']}: {r['errors']} errors")
    if "stream" in sections:
        for r in (results.get("stream") or {}).get("rows", []):
            # a missing figure is already listed by missing_figures()
            if r["errors"] and r["mib_s"] is not None and r["ttfb_ms"] is not None:
                bad.append(f"stream {r['setup']}: {r['errors']} errors ({r['error']})")
    return bad


# ---------------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description="Keyhole benchmark (run it through bench/run.sh)")
    parser.add_argument("--smoke", action="store_true", help="a couple of seconds per setup, tiny counts (CI)")
    parser.add_argument("--only", choices=("http", "ws", "idle", "soak", "cross", "stream"), action="append",
                        help="run only this part (repeatable)")
    parser.add_argument("--soak-minutes", type=float, default=10, help="soak length (default 10; 0 skips)")
    parser.add_argument("--rounds", type=int, help="alternating HTTP rounds (default 2; smoke 1)")
    parser.add_argument("--duration", type=int, help="seconds per HTTP run (default 10; smoke 1)")
    parser.add_argument("--idle-tunnels", type=int, help="tunnels for the idle test (default 1000; smoke 20)")
    parser.add_argument("--idle-event-loop", choices=("qt", "epoll"), action="append", dest="idle_event_loops",
                        help="the proxy's --event-loop for the idle test (repeatable: one run each; default epoll)")
    parser.add_argument("--idle-cpu-seconds", type=float, dest="idle_cpu_secs",
                        help="idle CPU window after registration (default 20; smoke 2)")
    parser.add_argument("--out", required=True, help="results directory")
    parser.add_argument("--command", default="bench/run.sh", help=argparse.SUPPRESS)
    args = parser.parse_args()

    args.rounds = args.rounds or (1 if args.smoke else 2)
    args.duration = args.duration or (1 if args.smoke else 10)
    args.warmup = 0 if args.smoke else 2
    args.connections = [10, 50]
    args.ws_ms = 500 if args.smoke else 10000
    args.ws_warmup_ms = 200 if args.smoke else 1000
    args.idle_tunnels = args.idle_tunnels or (20 if args.smoke else 1000)
    args.settle = 0.5 if args.smoke else 3
    args.idle_event_loops = args.idle_event_loops or ["epoll"]
    args.idle_cpu_secs = args.idle_cpu_secs or (2 if args.smoke else 20)
    args.healthz_samples = 5 if args.smoke else 20
    args.soak_interval = 10
    args.ttfb_requests = 10 if args.smoke else 20

    sections = args.only or ["http", "ws", "idle", "cross", "stream", "soak"]
    if args.smoke and "soak" in sections and not args.only:
        sections.remove("soak")  # never in smoke mode unless asked for by --only soak
    if "soak" in sections and args.soak_minutes <= 0:
        sections.remove("soak")
    if args.smoke and args.only and "soak" in args.only:
        args.soak_minutes = min(args.soak_minutes, 0.5)
        args.soak_interval = 5

    # The idle part needs none of them: it can run alone where they are missing.
    needed = ("nginx", "wrk", "curl") if set(sections) - {"idle"} else ()
    for tool in needed:
        if not shutil.which(tool):
            print(f"bench: {tool} is not installed (apt-get install -y nginx wrk curl); skipping", file=sys.stderr)
            return 77
    for var in ("KEYHOLE_PROXY", "KEYHOLE_CLI", "KEYHOLE_BENCH_WS", "KEYHOLE_BENCH_TUNNELS",
                "KEYHOLE_BENCH_PING_FLOOR"):
        if not os.access(os.environ.get(var, ""), os.X_OK):
            print(f"bench: {var} does not name an executable", file=sys.stderr)
            return 1

    os.makedirs(args.out, exist_ok=True)
    args.out = os.path.abspath(args.out)
    results = {"meta": {
        "started": datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
        "command": args.command,
        "mode": ("smoke" if args.smoke else "full") + f", sections: {', '.join(sections)}",
        "cpus": os.cpu_count(),
        "loadavg": " ".join(read_text("/proc/loadavg").split()[:3]),
        "kernel": os.uname().release,
        "nginx": subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip().split("/")[-1],
        "wrk": subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split(" [")[0].strip(),
    }}

    procs = Processes()

    def on_term(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    tmp = tempfile.mkdtemp(prefix="keyhole-bench-")
    os.chmod(tmp, 0o755)  # nginx workers may run as another user when we are root
    keep_tmp = False
    try:
        www = os.path.join(tmp, "www")
        os.makedirs(www, mode=0o755)
        for name, size in SIZES.items():
            with open(os.path.join(www, f"{name}.bin"), "wb") as f:
                f.write(os.urandom(size))
            os.chmod(os.path.join(www, f"{name}.bin"), 0o644)
        if "stream" in sections:
            with open(os.path.join(www, LARGE_FILE), "wb") as f:
                for _ in range(LARGE_BYTES // (1024 * 1024)):
                    f.write(os.urandom(1024 * 1024))
            os.chmod(os.path.join(www, LARGE_FILE), 0o644)
        env = {"tmp": tmp, "procs": procs}
        if any(s in sections for s in ("http", "soak", "cross", "stream")):
            env["backend"] = Nginx(procs, tmp, "nginx-backend", f"root {www};\n        location / {{ }}")

        def shared_proxy():
            if "proxy_obj" not in env:
                env["proxy_obj"] = KeyholeProxy(procs, tmp, "proxy")
            return env["proxy_obj"]

        env["proxy"] = shared_proxy

        def http_keyhole():
            if "http_pair" not in env:
                proxy = env["proxy"]()
                client = KeyholeClient(procs, tmp, "cli-http", proxy, f"http://127.0.0.1:{env['backend'].port}")
                env["http_pair"] = (proxy, client)
            return env["http_pair"]

        env["http_keyhole"] = http_keyhole

        for section, fn in (("http", http_section), ("ws", ws_section), ("idle", idle_section),
                            ("cross", cross_section), ("stream", stream_section), ("soak", soak_section)):
            if section in sections:
                try:
                    fn(args, env, results)
                except Exception as e:
                    log(f"{section} failed: {e}")
                    results.setdefault("failures", []).append(f"{section}: {e}")
                    keep_tmp = True
    finally:
        procs.stop_all()
        if keep_tmp:
            log(f"logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    text = report(args, results)
    missing = missing_figures(results, sections) + results.get("failures", []) + setup_errors(args, results, sections)
    if missing:
        text += "\n## Missing figures and errors\n\n" + "\n".join(f"- {m}" for m in missing) + "\n"
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    md = os.path.join(args.out, f"results-{stamp}.md")
    with open(md, "w") as f:
        f.write(text + "\n")
    with open(os.path.join(args.out, "latest.md"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(args.out, f"results-{stamp}.json"), "w") as f:
        json.dump(results, f, indent=1)
    print(text)
    print(f"\nresults written to {md}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
