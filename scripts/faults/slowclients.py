#!/usr/bin/env python3
"""scripts/faults/slowclients.py MONOLITH_BINARY [--clients N] [--timeout-ms T] [--max-connections M]

Slow and hostile clients against one monolith process on 127.0.0.1 (standard library only).
Opens N connections that never finish their request head (slowloris: one header byte every
second) and N idle ones, then measures: the process' RSS before and while they are held (memory
per connection), whether /health/live and a normal request are still answered and how fast, how
many of the slow ones the server closed (waiting up to twice REQUEST_READ_TIMEOUT_MS + 2 s: a
busy machine delays timers; the figure is the time it took), and, with
MAX_CONNECTIONS below 2N, how the bound made room: held connections it closed for new ones (the
least recently active, kurz_http_connections_evicted_total) and new ones it refused because every
held one had a request being answered (kurz_http_connections_refused_total; none here: slow and
idle clients have no request being answered).
Prints one line of figures (and --json FILE). Exit 0 measured, 1 the server failed, 2 usage."""
import argparse
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
import typing

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from kurzops.net import free_port  # noqa: E402


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def timed_get(port, path):
    t0 = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, (time.monotonic() - t0) * 1000, body
    finally:
        conn.close()


def closed_now(s):
    """True if the server has closed this connection (EOF or reset waiting to be read)."""
    s.setblocking(False)
    try:
        return s.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        s.setblocking(True)


def parse_args(argv):
    """The arguments, or the exit status (0 for --help, 2 for bad usage)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("binary")
    p.add_argument("--clients", type=int, default=500)
    p.add_argument("--timeout-ms", type=int, default=2000)
    p.add_argument("--max-connections", type=int, default=4096)
    p.add_argument("--json")
    try:
        a = p.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    if not os.access(a.binary, os.X_OK) or not 1 <= a.clients <= 5000:
        print("slowclients: need an executable binary and --clients 1..5000", file=sys.stderr)
        return 2
    return a


def start_monolith(a, port):
    """The monolith on 127.0.0.1:port without Redis, with the read timeout and connection bound asked."""
    env = dict(os.environ, MONOLITH_PORT=str(port), LOG_LEVEL="warn", ACCESS_LOG="false", HTTP_THREADS="2",
               REQUEST_READ_TIMEOUT_MS=str(a.timeout_ms), MAX_CONNECTIONS=str(a.max_connections))
    env.pop("REDIS_URL", None)
    return subprocess.Popen([a.binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def wait_ready(proc, port, timeout_s=10):
    """True once /health/ready answers 200; False if the process exits or timeout_s passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if timed_get(port, "/health/ready")[0] == 200:
                return True
        except OSError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            return False
        time.sleep(0.05)


def open_held_connections(port, clients, socks):
    """(slow, idle): `clients` connections that never finish their request head and as many that
    send nothing. Each is also added to `socks` (closed at the end, even after an error)."""
    slow, idle = [], []
    for i in range(clients):
        s = socket.create_connection(("127.0.0.1", port))
        socks.append(s)
        s.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        slow.append(s)
        t = socket.create_connection(("127.0.0.1", port))
        socks.append(t)
        idle.append(t)
    return slow, idle


def health_while_held(port, count=20):
    """(statuses, latencies in ms) of `count` /health/live requests on new connections; a new
    connection beyond MAX_CONNECTIONS counts as "refused"."""
    statuses, lat = [], []
    for _ in range(count):
        try:
            st, ms, _ = timed_get(port, "/health/live")
        except (OSError, http.client.HTTPException):
            st, ms = "refused", 0.0  # a new connection beyond MAX_CONNECTIONS
        statuses.append(st)
        lat.append(ms)
    return statuses, lat


def normal_request_status(port):
    try:
        return timed_get(port, "/api/links?limit=1")[0]
    except (OSError, http.client.HTTPException):
        return 0


def read_metrics(port, idle):
    """The /metrics page: on a new connection, or, when the bound refuses one, on a held idle one."""
    metrics = b""
    try:
        metrics = timed_get(port, "/metrics")[2]
    except (OSError, http.client.HTTPException):
        pass
    for s in idle if not metrics else []:  # beyond the bound: on a connection already open
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        s.settimeout(5)
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                metrics += chunk
        except OSError:
            pass
        if b"kurz_http_connections_open " in metrics:
            break
    return metrics


def metric(metrics, name):
    """The integer value of an unlabelled metric in a /metrics page, or None."""
    found = re.search(rb"%s (\d+)" % re.escape(name.encode()), metrics)
    return int(found.group(1)) if found else None


class TimeoutClosing(typing.NamedTuple):
    """How the server closed the slow connections the bound left open."""
    closed: int  # how many it closed (EOF, 408, reset) within the wait
    seconds: float  # how long the wait took
    first_answer: bytes  # the start of the first thing read (a 408 answer), or None


def closed_by_read_timeout(slow, already_closed, timeout_ms):
    """Keeps the slow connections dribbling (one byte per round) and counts those the server closes,
    waiting up to twice the read timeout + 2 s."""
    t0 = time.monotonic()
    closed = 0
    for s in slow:
        s.setblocking(False)
    pending = set(range(len(slow))) - already_closed
    first_answer = None
    while pending and time.monotonic() - t0 < 2 * timeout_ms / 1000 + 2:
        for i in list(pending):
            try:
                data = slow[i].recv(4096)
                if first_answer is None:
                    first_answer = data[:40]
                if data == b"" or b"408" in data:
                    closed += 1
                    pending.discard(i)
            except BlockingIOError:
                try:
                    slow[i].send(b"a")
                except OSError:
                    closed += 1
                    pending.discard(i)
            except OSError:
                closed += 1
                pending.discard(i)
        time.sleep(0.2)
    return TimeoutClosing(closed, time.monotonic() - t0, first_answer)


def summary(a, result):
    return ("slowclients: %d slow + %d idle connections: RSS %d -> %d kB (%d B per connection); health %s "
            "p50 %.1f ms max %.1f ms while held; normal request %d; open %s, evicted %s (%d held ones seen "
            "closed), refused %s (MAX_CONNECTIONS=%d); %d of %d remaining slow clients closed by the %d ms "
            "read timeout within %.1f s" % (
                a.clients, a.clients, result["rss_kb_before"], result["rss_kb_held"], result["bytes_per_connection"],
                result["health_status"], result["health_ms_p50_held"], result["health_ms_max_held"],
                result["normal_request_status"], result["connections_open_metric"],
                result["connections_evicted_metric"], result["held_closed_by_bound"],
                result["connections_refused_metric"], a.max_connections, result["slow_closed_by_timeout"],
                a.clients - result["slow_closed_by_bound"], a.timeout_ms, result["slow_closed_within_s"]))


def measure(a, proc, port, socks):
    """Every figure of one run (the --json object)."""
    before = rss_kb(proc.pid)
    _, health_before_ms, _ = timed_get(port, "/health/live")
    slow, idle = open_held_connections(port, a.clients, socks)
    time.sleep(0.5)
    held = rss_kb(proc.pid)
    statuses, lat = health_while_held(port)
    normal = normal_request_status(port)
    metrics = read_metrics(port, idle)
    # The held connections the bound closed for newer ones (before the read timeout could).
    slow_evicted = {i for i, s in enumerate(slow) if closed_now(s)}
    idle_evicted = sum(1 for s in idle if closed_now(s))
    by_timeout = closed_by_read_timeout(slow, slow_evicted, a.timeout_ms)
    return {
        "clients_slow": a.clients, "clients_idle": a.clients, "request_read_timeout_ms": a.timeout_ms,
        "max_connections": a.max_connections, "rss_kb_before": before, "rss_kb_held": held,
        "bytes_per_connection": round((held - before) * 1024 / (2 * a.clients)),
        "health_status": sorted(set(map(str, statuses))), "health_ms_before": round(health_before_ms, 2),
        "health_ms_p50_held": round(sorted(lat)[len(lat) // 2], 2), "health_ms_max_held": round(max(lat), 2),
        "normal_request_status": normal,
        "connections_open_metric": metric(metrics, "kurz_http_connections_open"),
        "connections_refused_metric": metric(metrics, "kurz_http_connections_refused_total"),
        "connections_evicted_metric": metric(metrics, "kurz_http_connections_evicted_total"),
        "held_closed_by_bound": len(slow_evicted) + idle_evicted, "slow_closed_by_bound": len(slow_evicted),
        "slow_closed_by_timeout": by_timeout.closed, "slow_closed_within_s": round(by_timeout.seconds, 2),
        "server_alive": proc.poll() is None, "first_answer": repr(by_timeout.first_answer),
    }


def main(argv):
    a = parse_args(argv)
    if isinstance(a, int):
        return a
    port = free_port()
    proc = start_monolith(a, port)
    socks = []
    try:
        if not wait_ready(proc, port):
            print("slowclients: the server did not start", file=sys.stderr)
            return 1
        result = measure(a, proc, port, socks)
        print(summary(a, result))
        if a.json:
            with open(a.json, "w") as f:
                json.dump(result, f, indent=2)
        return 0 if result["server_alive"] else 1
    finally:
        for s in socks:
            s.close()
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
