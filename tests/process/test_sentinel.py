"""The Redis primary lost: real redis-server primary and replica, a real redis-sentinel, and the
stage 3 services finding the primary through Sentinel (REDIS_SENTINELS). The primary is SIGKILLed
under requests: readiness goes 503 then 200 by itself, writes come back, no acknowledged link and
no click is lost or counted twice; creates answer 201 only once a replica has the link (WAIT)."""
import json
import os
import re
import shutil
import signal
import sys
import subprocess
import tempfile
import threading
import time
import unittest

from kurz_process import Instances, Service, free_port, request, run_to_exit
from kurzops.wait import wait_until  # noqa: E402  (kurz_process puts scripts/ on sys.path)

BIN = {name: os.environ["KURZ_" + name.upper()] for name in ("links", "redirect", "stats")}
JSON = {"Content-Type": "application/json"}
SENTINEL = shutil.which("redis-sentinel") or "/usr/bin/redis-sentinel"


def resp(port, *args, timeout=2.0):
    """One command over RESP; the raw reply bytes ('' when nothing answers)."""
    import socket
    payload = b"*%d\r\n" % len(args)
    for arg in args:
        data = str(arg).encode()
        payload += b"$%d\r\n%s\r\n" % (len(data), data)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(payload)
            return s.recv(65536)
    except OSError:
        return b""


class Node:
    """redis-server or redis-sentinel with its own folder and config file."""

    def __init__(self, root, name, lines, sentinel=False):
        self.port = free_port()
        self.dir = os.path.join(root, name)
        os.makedirs(self.dir)
        self.conf = os.path.join(self.dir, "redis.conf")
        with open(self.conf, "w") as f:
            f.write("port %d\nbind 127.0.0.1\nprotected-mode no\ndir %s\n" % (self.port, self.dir))
            f.write("".join(line + "\n" for line in lines))
        self.sentinel = sentinel
        self.proc = None
        self.start()

    def start(self):
        command = [SENTINEL, self.conf] if self.sentinel else ["redis-server", self.conf]
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until("PING on %d" % self.port, lambda: resp(self.port, "PING").startswith(b"+PONG"), 5)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def integer(reply):
    match = re.match(rb":(-?\d+)", reply)
    return int(match.group(1)) if match else None


class SentinelCase(Instances, unittest.TestCase):
    binaries = BIN

    def setUp(self):
        if not os.path.exists(SENTINEL):
            self.fail("redis-sentinel is not installed (apt-get install redis-sentinel; "
                      "scripts/lib.sh lists it)")
        self.root = tempfile.mkdtemp(prefix="kurz-sentinel-")
        self.nodes = []
        self.services = []
        durable = ["appendonly yes", "appendfsync everysec", "save \"\"",
                   "repl-diskless-sync-delay 0"]
        self.primary = self.node("primary", durable)
        self.replica = self.node("replica", durable + ["replicaof 127.0.0.1 %d" % self.primary.port])
        wait_until("the replica in sync",
                   lambda: b"master_link_status:up" in resp(self.replica.port, "INFO", "replication"), 10)
        self.sentinel = self.node("sentinel", [
            "sentinel monitor kurz 127.0.0.1 %d 1" % self.primary.port,
            "sentinel down-after-milliseconds kurz 1000",
            "sentinel failover-timeout kurz 4000",
            "sentinel parallel-syncs kurz 1"], sentinel=True)
        wait_until("the sentinel to see the replica",
                   lambda: b"slaves=1" in resp(self.sentinel.port, "INFO", "sentinel"), 15)
        self.env = {"REDIS_SENTINELS": "127.0.0.1:%d" % self.sentinel.port,
                    "REDIS_MASTER_NAME": "kurz", "PUBLIC_BASE_URL": "http://kurz.test",
                    "RATE_LIMIT_CREATES": "0", "STATS_CLAIM_IDLE_MS": "500",
                    "LINK_CACHE_TTL_MS": "60000", "CLICK_FLUSH_MS": "50", "HTTP_THREADS": "2"}

    def node(self, name, lines, sentinel=False):
        node = Node(self.root, name, lines, sentinel)
        self.nodes.append(node)
        return node

    def tearDown(self):
        for service in self.services:
            if service.proc.poll() is None:
                service.terminate()
        for node in self.nodes:
            node.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def create(self, service, url):
        status, _, data = request(service, "POST", "/api/links", json.dumps({"url": url}), JSON,
                                  timeout=5)
        return status, data

    def ready(self, service):
        return request(service, "GET", "/health/ready", timeout=5)[0]


class FailoverTest(SentinelCase):
    def test_primary_killed_under_load_loses_nothing_acknowledged(self):
        links, redirect, stats = self.start("links"), self.start("redirect"), self.start("stats")
        self.assertEqual(self.ready(links), 200)
        status, data = self.create(links, "http://127.0.0.1:9/first")
        self.assertEqual(status, 201, data)
        code = json.loads(data)["code"]
        # WAIT: acknowledged means the replica has it already.
        self.assertEqual(integer(resp(self.replica.port, "EXISTS", "kurz:link:" + code)), 1)
        self.assertEqual(request(redirect, "GET", "/" + code)[0], 302)  # now cached

        acked, failed, served, redirect_errors = [], [], [0], []
        stop = threading.Event()

        def creates():
            i = 0
            while not stop.is_set():
                i += 1
                status, data = self.create(links, "http://127.0.0.1:9/%d" % i)
                if status == 201:
                    acked.append((json.loads(data)["code"], time.monotonic()))
                else:
                    failed.append((status, data, time.monotonic()))
                    self.assertEqual(status, 503, data)  # never a 500
                time.sleep(0.01)

        def clicks():
            while not stop.is_set():
                status = request(redirect, "GET", "/" + code, timeout=5)[0]
                if status == 302:
                    served[0] += 1
                else:
                    redirect_errors.append(status)
                time.sleep(0.005)

        threads = [threading.Thread(target=creates), threading.Thread(target=clicks)]
        for thread in threads:
            thread.start()
        try:
            wait_until("creates before the kill", lambda: len(acked) >= 20, 20)
            killed_at = time.monotonic()
            self.primary.kill()
            wait_until("readiness 503 without a primary", lambda: self.ready(links) == 503, 10)
            wait_until("writes and readiness back after the failover",
                       lambda: any(at > killed_at for _, at in acked) and self.ready(links) == 200, 20)
            back_after = min(at for _, at in acked if at > killed_at) - killed_at
            wait_until("more creates on the new primary",
                       lambda: len([1 for _, at in acked if at > killed_at]) >= 10, 10)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        codes = {}
        for _, data, _ in failed:
            kind = json.loads(data)["error"]["code"]
            codes[kind] = codes.get(kind, 0) + 1
        print("\nfailover: %d creates acknowledged, %d refused %s, %d redirects served, %d failed"
              % (len(acked), len(failed), codes, served[0], len(redirect_errors)), file=sys.stderr)
        self.assertLess(back_after, 10.0, "writes back within 10 s of the kill")
        self.assertEqual(redirect_errors, [], "cached redirects answered throughout")
        self.assertTrue(all(status == 503 for status, _, _ in failed), failed[:3])
        for status, data, _ in failed:
            self.assertIn(json.loads(data)["error"]["code"], ("unavailable", "not_replicated"))
        # The sentinel names the replica as the primary now; every acknowledged link is there.
        master = resp(self.sentinel.port, "SENTINEL", "get-master-addr-by-name", "kurz")
        self.assertIn(str(self.replica.port).encode(), master)
        self.assertEqual(integer(resp(self.replica.port, "EXISTS", "kurz:link:" + code)), 1)
        missing = [c for c, _ in acked
                   if integer(resp(self.replica.port, "EXISTS", "kurz:link:" + c)) != 1]
        self.assertEqual(missing, [], "acknowledged links lost in the failover")
        for c, _ in acked[:5] + acked[-5:]:
            self.assertEqual(request(links, "GET", "/api/links/" + c)[0], 200)
        # Every redirect served is counted once: none lost, none twice (the stats apply's XACK and
        # counts are one script, so a failover keeps or loses them together and a lost apply is
        # applied again from the stream on the new primary).
        total = served[0] + 1
        try:
            wait_until("the clicks counted", lambda: self.stats_total(stats, code) == total, 20)
        except AssertionError:
            self.fail("stats total %s, redirects served %d (%s; ready %s; stats log %s)" % (
                self.stats_total(stats, code), total, request(stats, "GET", "/api/stats/" + code),
                self.ready(stats), [l for l in stats.lines if l.get("level") in ("warn", "error")][-5:]))
        time.sleep(1.0)  # a late double would show now
        self.assertEqual(self.stats_total(stats, code), total)

        # The old primary restarted: Sentinel turns it into a replica; writes still go to the new
        # primary, and WAIT (auto) has a replica again to wait for.
        self.primary.start()
        wait_until("the old primary rejoining as a replica",
                   lambda: b"role:slave" in resp(self.primary.port, "INFO", "replication"), 20)
        wait_until("the old primary in sync",
                   lambda: b"master_link_status:up" in resp(self.primary.port, "INFO", "replication"), 20)
        time.sleep(5.5)  # the client reads ROLE again at most every 5 s
        status, data = self.create(links, "http://127.0.0.1:9/after")
        self.assertEqual(status, 201, data)
        after = json.loads(data)["code"]
        self.assertEqual(integer(resp(self.primary.port, "EXISTS", "kurz:link:" + after)), 1,
                         "created after the rejoin, and on the rejoined replica at once (WAIT)")

    def stats_total(self, stats, code):
        status, _, data = request(stats, "GET", "/api/stats/" + code)
        return json.loads(data)["total"] if status == 200 else None


class WaitTest(SentinelCase):
    def test_create_without_a_confirming_replica_is_a_clear_503(self):
        links = self.start("links", REDIS_WAIT_REPLICAS="1", REDIS_WAIT_TIMEOUT_MS="300")
        # Confirmed while the replica acknowledges (a busy machine may miss one 300 ms bound).
        wait_until("a create confirmed by the replica",
                   lambda: self.create(links, "http://127.0.0.1:9/ok")[0] == 201, 10)
        self.replica.proc.send_signal(signal.SIGSTOP)  # connected, acknowledging nothing
        try:
            status, data = self.create(links, "http://127.0.0.1:9/unconfirmed")
        finally:
            self.replica.proc.send_signal(signal.SIGCONT)
        self.assertEqual(status, 503, data)
        self.assertEqual(json.loads(data)["error"]["code"], "not_replicated")
        self.assertEqual(self.ready(links), 200, "the primary itself is fine")
        wait_until("creates confirmed again once the replica acknowledges",
                   lambda: self.create(links, "http://127.0.0.1:9/again")[0] == 201, 5)

    def test_wait_can_be_disabled(self):
        links = self.start("links", REDIS_WAIT_REPLICAS="0")
        self.replica.proc.send_signal(signal.SIGSTOP)
        try:
            self.assertEqual(self.create(links, "http://127.0.0.1:9/nowait")[0], 201)
        finally:
            self.replica.proc.send_signal(signal.SIGCONT)


class ConfigTest(unittest.TestCase):
    def test_malformed_sentinel_settings_stop_startup_clearly(self):
        for env, words in (
                ({"REDIS_SENTINELS": "sentinel-1"}, ["REDIS_SENTINELS", "port"]),
                ({"REDIS_SENTINELS": "a:1,,b:2"}, ["REDIS_SENTINELS", "empty"]),
                ({"REDIS_SENTINELS": "a:99999"}, ["REDIS_SENTINELS", "65535"]),
                ({"REDIS_SENTINELS": "a:1", "REDIS_MASTER_NAME": "no spaces"},
                 ["REDIS_MASTER_NAME"]),
                ({"REDIS_SENTINELS": "a:1", "REDIS_WAIT_REPLICAS": "some"},
                 ["REDIS_WAIT_REPLICAS"]),
                ({"REDIS_SENTINELS": "a:1", "REDIS_WAIT_TIMEOUT_MS": "0"},
                 ["REDIS_WAIT_TIMEOUT_MS"]),
                ({"REDIS_URL": "redis+sentinel://s:1/bad name"}, ["REDIS_URL", "master name"])):
            full = {"PORT": "0", "LISTEN_ADDRESS": "127.0.0.1"}
            full.update(env)
            code, _, stderr = run_to_exit(BIN["links"], full)
            self.assertEqual(code, 2, (env, stderr))
            for word in words:
                self.assertIn(word, stderr, env)

    def test_no_sentinel_answers_means_not_ready_not_a_crash(self):
        env = {"REDIS_SENTINELS": "127.0.0.1:%d" % free_port(), "REDIS_CONNECT_TIMEOUT_MS": "100"}
        links = Service(BIN["links"], env)
        try:
            self.assertEqual(request(links, "GET", "/health/live")[0], 200)
            self.assertEqual(request(links, "GET", "/health/ready")[0], 503)
            status, _, data = request(links, "POST", "/api/links",
                                      json.dumps({"url": "http://127.0.0.1:9/x"}), JSON)
            self.assertEqual(status, 503, data)
        finally:
            self.assertEqual(links.terminate(), 0)


if __name__ == "__main__":
    unittest.main()
