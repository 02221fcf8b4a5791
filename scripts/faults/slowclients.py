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


def main(argv):
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
    port = free_port()
    env = dict(os.environ, MONOLITH_PORT=str(port), LOG_LEVEL="warn", ACCESS_LOG="false", HTTP_THREADS="2",
               REQUEST_READ_TIMEOUT_MS=str(a.timeout_ms), MAX_CONNECTIONS=str(a.max_connections))
    env.pop("REDIS_URL", None)
    proc = subprocess.Popen([a.binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    socks = []
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                if timed_get(port, "/health/ready")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                print("slowclients: the server did not start", file=sys.stderr)
                return 1
            time.sleep(0.05)
        before = rss_kb(proc.pid)
        _, health_before_ms, _ = timed_get(port, "/health/live")
        slow, idle = [], []
        for i in range(a.clients):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            slow.append(s)
            t = socket.create_connection(("127.0.0.1", port))
            idle.append(t)
        socks = slow + idle
        time.sleep(0.5)
        held = rss_kb(proc.pid)
        statuses, lat = [], []
        for _ in range(20):
            try:
                st, ms, _ = timed_get(port, "/health/live")
            except (OSError, http.client.HTTPException):
                st, ms = "refused", 0.0  # a new connection beyond MAX_CONNECTIONS
            statuses.append(st)
            lat.append(ms)
        try:
            normal = timed_get(port, "/api/links?limit=1")[0]
        except (OSError, http.client.HTTPException):
            normal = 0
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
        refused = re.search(rb"kurz_http_connections_refused_total (\d+)", metrics)
        evicted = re.search(rb"kurz_http_connections_evicted_total (\d+)", metrics)
        open_now = re.search(rb"kurz_http_connections_open (\d+)", metrics)
        # The held connections the bound closed for newer ones (before the read timeout could).
        slow_evicted = {i for i, s in enumerate(slow) if closed_now(s)}
        idle_evicted = sum(1 for s in idle if closed_now(s))
        # Keep the slow ones dribbling; count how many the server closes by the read timeout.
        t0 = time.monotonic()
        closed = 0
        for s in slow:
            s.setblocking(False)
        pending = set(range(len(slow))) - slow_evicted
        first_answer = None
        while pending and time.monotonic() - t0 < 2 * a.timeout_ms / 1000 + 2:
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
        closed_after = time.monotonic() - t0
        result = {
            "clients_slow": a.clients, "clients_idle": a.clients, "request_read_timeout_ms": a.timeout_ms,
            "max_connections": a.max_connections, "rss_kb_before": before, "rss_kb_held": held,
            "bytes_per_connection": round((held - before) * 1024 / (2 * a.clients)),
            "health_status": sorted(set(map(str, statuses))), "health_ms_before": round(health_before_ms, 2),
            "health_ms_p50_held": round(sorted(lat)[len(lat) // 2], 2), "health_ms_max_held": round(max(lat), 2),
            "normal_request_status": normal, "connections_open_metric": int(open_now.group(1)) if open_now else None,
            "connections_refused_metric": int(refused.group(1)) if refused else None,
            "connections_evicted_metric": int(evicted.group(1)) if evicted else None,
            "held_closed_by_bound": len(slow_evicted) + idle_evicted, "slow_closed_by_bound": len(slow_evicted),
            "slow_closed_by_timeout": closed, "slow_closed_within_s": round(closed_after, 2),
            "server_alive": proc.poll() is None, "first_answer": repr(first_answer),
        }
        print("slowclients: %d slow + %d idle connections: RSS %d -> %d kB (%d B per connection); health %s "
              "p50 %.1f ms max %.1f ms while held; normal request %d; open %s, evicted %s (%d held ones seen "
              "closed), refused %s (MAX_CONNECTIONS=%d); %d of %d remaining slow clients closed by the %d ms "
              "read timeout within %.1f s" % (
                  a.clients, a.clients, before, held, result["bytes_per_connection"], result["health_status"],
                  result["health_ms_p50_held"], result["health_ms_max_held"], normal,
                  result["connections_open_metric"], result["connections_evicted_metric"],
                  result["held_closed_by_bound"], result["connections_refused_metric"], a.max_connections,
                  closed, a.clients - len(slow_evicted), a.timeout_ms, closed_after))
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
