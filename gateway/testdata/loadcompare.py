#!/usr/bin/python3
"""Compares the gateway's CPU and context switches per request with uWSGI's under wrk (issue 16).

Each server (2 workers) runs under `perf stat` with its counters off; after a warm-up they count
only while wrk drives the server, so task-clock is the whole process tree's CPU in that window,
to the nanosecond. Servers and loads are interleaved and every combination is repeated; the
medians are printed as a Markdown table.

    gateway/testdata/loadcompare.py --rounds 3 [--conns 32,2] [--apps hello,flask] \
        [--server base=gateway@/tmp/old-wsgispec --server gateway --server uwsgi]

Loopback only; every server is started in its own process group and stopped after its run.
"""
import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
APPS = {  # name: (directory, module:callable, path)
    "hello": (os.path.join(HERE, "app"), "gwtest:hello", "/hello"),
    "flask": (os.path.join(HERE, "flaskread"), "wsgi:application", "/item/42"),
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_argv(server, binary, app_dir, spec, port):
    addr = "127.0.0.1:%d" % port
    if server == "gateway":
        return [binary, "serve", "--app-dir", app_dir, "--app", spec, "--listen", addr, "--workers", "2",
                "--log", os.devnull]
    if server == "uwsgi":
        return ["uwsgi", "--plugin", "python3", "--http11-socket", addr, "--master", "--processes", "2",
                "--chdir", app_dir, "--pythonpath", app_dir, "--module", spec, "--need-app",
                "--die-on-term", "--disable-logging"]
    raise SystemExit("unknown server " + server)


def wait_ready(url, limit=30):
    end = time.time() + limit
    while time.time() < end:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                r.read()
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server at %s never answered" % url)


def wrk(url, conns, seconds):
    out = subprocess.run(["wrk", "-t1", "-c%d" % conns, "-d%ds" % seconds, "--latency", url],
                         capture_output=True, text=True, timeout=seconds + 30).stdout
    reqs = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: \d+|Socket errors: .*", out)
    return reqs, rps, p99, errors.group(0) if errors else ""


def parse_server(spec, default_bin):
    """LABEL=KIND[@BINARY][+NAME=VALUE|+--FLAG=VALUE]...: KIND gateway or uwsgi; BINARY applies
    to the gateway; NAME=VALUE is added to the server's environment, --FLAG=VALUE to its command
    line. A bare KIND is its own label."""
    label, _, rest = spec.partition("=") if "=" in spec.split("+")[0] else ("", "", spec)
    rest, *extra = rest.split("+")
    kind, _, binary = rest.partition("@")
    return {"label": label or kind, "kind": kind, "bin": os.path.abspath(binary or default_bin),
            "env": dict(kv.split("=", 1) for kv in extra if not kv.startswith("--")),
            "args": [a for a in extra if a.startswith("--")]}


def measure(server, app, conns, seconds):
    app_dir, spec, path = APPS[app]
    port = free_port()
    url = "http://127.0.0.1:%d%s" % (port, path)
    with tempfile.TemporaryDirectory() as tmp:
        ctl, ack, stat = (os.path.join(tmp, n) for n in ("ctl", "ack", "stat"))
        os.mkfifo(ctl)
        os.mkfifo(ack)
        argv = ["perf", "stat", "-x,", "-o", stat, "-D", "-1", "--control", "fifo:%s,%s" % (ctl, ack),
                "-e", "task-clock,context-switches,cpu-migrations", "--"]
        argv += server_argv(server["kind"], server["bin"], app_dir, spec, port) + server["args"]
        env = {"PATH": os.environ["PATH"], "FLASKREAD_DB": os.path.join(tmp, "db.sqlite3")}
        env.update(server["env"])
        proc = subprocess.Popen(argv, env=env, cwd=app_dir, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            ctlf = open(ctl, "w")
            ackf = open(ack)
            wait_ready(url)
            wrk(url, conns, 2)  # warm-up: connections balanced, caches filled
            ctlf.write("enable\n")
            ctlf.flush()
            ackf.readline()
            reqs, rps, p99, errors = wrk(url, conns, seconds)
            ctlf.write("disable\n")
            ctlf.flush()
            ackf.readline()
        finally:
            os.killpg(proc.pid, signal.SIGINT)  # perf forwards it to the server and writes its counts
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        counts = {}
        for line in open(stat):
            f = line.strip().split(",")
            if len(f) > 3 and f[0] and f[0][0].isdigit():
                counts[f[2]] = float(f[0])
    return {"rps": rps, "cpu_us": counts["task-clock"] * 1000 / reqs, "cs": counts["context-switches"] / reqs,
            "p99": p99, "errors": errors}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default="bin/wsgispec")
    ap.add_argument("--server", action="append", metavar="[LABEL=]KIND[@BINARY][+NAME=VALUE|+--FLAG=VALUE]...",
                    help="a server to measure (repeatable; default gateway and uwsgi), e.g. "
                         "base=gateway@/tmp/old-wsgispec, p2=gateway+GOMAXPROCS=2 or t1=gateway+--threads=1")
    ap.add_argument("--apps", default="hello,flask")
    ap.add_argument("--conns", default="32,2")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    a = ap.parse_args()
    servers = [parse_server(spec, a.bin) for spec in a.server or ["gateway", "uwsgi"]]
    results = {}
    for rnd in range(a.rounds):
        for app in a.apps.split(","):
            for conns in map(int, a.conns.split(",")):
                for server in servers:
                    r = measure(server, app, conns, a.seconds)
                    results.setdefault((app, conns, server["label"]), []).append(r)
                    print("round %d %s -c%d %s: %.0f req/s, %.1f µs CPU/req, %.2f cs/req, p99 %.2f ms %s" % (
                        rnd + 1, app, conns, server["label"], r["rps"], r["cpu_us"], r["cs"], r["p99"], r["errors"]),
                          file=sys.stderr)
    print("| app | wrk | server | req/s | CPU µs/req | ctx switches/req | p99 ms |")
    print("|---|---|---|---:|---:|---:|---:|")
    for (app, conns, server), rs in results.items():
        med = {k: statistics.median(r[k] for r in rs) for k in ("rps", "cpu_us", "cs", "p99")}
        print("| %s | -c%d | %s | %.0f | %.1f | %.2f | %.2f |" % (app, conns, server, med["rps"], med["cpu_us"],
                                                                 med["cs"], med["p99"]))


if __name__ == "__main__":
    main()
