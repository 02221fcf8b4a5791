"""faults.hostile: slow and hostile clients against the real monolith binary, directly and
through Debian's HAProxy with kurz's common.cfg (no Docker): scripts/faults/smuggle.py (request
smuggling and header tricks: one clear 4xx, never a second request reaching a handler) and
scripts/faults/slowclients.py (slowloris and idle connections: health answered while they are
held, the read timeout closes them, the connection bound evicts the least recently active for new
ones and counts).
Environment: KURZ_MONOLITH (the binary)."""
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import opspath  # noqa: E402,F401  (scripts/ on sys.path)
from kurzops.net import free_port  # noqa: E402
from kurzops.wait import wait_http  # noqa: E402

MONOLITH = os.environ.get("KURZ_MONOLITH", os.path.join(ROOT, "build", "ci", "services", "monolith", "kurz-monolith"))
TOOLS = os.path.join(ROOT, "scripts", "faults")
PY = "/usr/bin/python3"


class Hostile(unittest.TestCase):
    def start_monolith(self):
        port = free_port()
        env = dict(os.environ, MONOLITH_PORT=str(port), LOG_LEVEL="warn", ACCESS_LOG="false")
        env.pop("REDIS_URL", None)
        proc = subprocess.Popen([MONOLITH], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: (proc.terminate(), proc.wait(20)))
        wait_http("http://127.0.0.1:%d/health/live" % port, 10, pid=proc.pid)
        return port

    def smuggle(self, port, *extra):
        return subprocess.run([PY, os.path.join(TOOLS, "smuggle.py"), *extra, "127.0.0.1:%d" % port], text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)

    def test_smuggling_and_header_tricks_directly(self):
        out = self.smuggle(self.start_monolith())
        print(out.stdout)
        self.assertEqual(out.returncode, 0, out.stdout)
        self.assertEqual(out.stdout.count(" ok"), 9, out.stdout)

    def test_smuggling_and_header_tricks_through_haproxy(self):
        if shutil.which("haproxy") is None:
            self.skipTest("haproxy is not installed (Debian package haproxy)")
        backend = self.start_monolith()
        edge = free_port()
        # kurz's common.cfg (its statistics port moved to a free one), then a one-server backend.
        with open(os.path.join(ROOT, "docker", "haproxy", "common.cfg")) as f:
            common = f.read().replace("bind :8404", "bind 127.0.0.1:%d" % free_port())
        # Its maxconn 4096 needs about 8200 file descriptors: raise the soft limit, else lower it.
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < 8300:
            if hard == resource.RLIM_INFINITY or hard >= 8300:
                resource.setrlimit(resource.RLIMIT_NOFILE, (8300, hard))
            else:
                common = common.replace("maxconn 4096", "maxconn %d" % max(64, hard // 2 - 100))
        with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as f:
            f.write(common + "\nfrontend http\n    bind 127.0.0.1:%d\n    default_backend kurz\n"
                    "backend kurz\n    server k1 127.0.0.1:%d\n" % (edge, backend))
        self.addCleanup(os.remove, f.name)
        log = open(os.path.join(tempfile.gettempdir(), "kurz-hostile-haproxy.log"), "w")
        self.addCleanup(log.close)
        proc = subprocess.Popen(["haproxy", "-db", "-f", f.name], stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(lambda: (proc.terminate(), proc.wait(20)))
        wait_http("http://127.0.0.1:%d/health/live" % edge, 10, pid=proc.pid)  # through to the monolith
        out = self.smuggle(edge, "--proxy")
        print(out.stdout)
        self.assertEqual(out.returncode, 0, out.stdout)

    def slowclients(self, *args):
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
            path = f.name
        self.addCleanup(os.remove, path)
        out = subprocess.run([PY, os.path.join(TOOLS, "slowclients.py"), MONOLITH, "--json", path, *args], text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        print(out.stdout)
        self.assertEqual(out.returncode, 0, out.stdout)
        with open(path) as f:
            return json.load(f)

    def test_slow_and_idle_clients_do_not_take_it_down(self):
        # The read timeout outlasts opening the 600 (about 2 s on a loaded 2-core machine), so that
        # all of them are still open when the open-connections figure is read.
        r = self.slowclients("--clients", "300", "--timeout-ms", "4000")
        self.assertEqual(r["health_status"], ["200"], r)
        self.assertEqual(r["normal_request_status"], 200, r)
        # 600 held and the /metrics connection; the health check's and the normal request's may
        # not be seen closed yet.
        self.assertGreaterEqual(r["connections_open_metric"], 601, r)
        self.assertLessEqual(r["connections_open_metric"], 603, r)
        self.assertEqual(r["slow_closed_by_timeout"], 300, r)
        self.assertEqual(r["held_closed_by_bound"], 0, r)
        self.assertEqual(r["connections_evicted_metric"], 0, r)
        self.assertTrue(r["server_alive"])

    def test_the_connection_bound_evicts_and_counts(self):
        # 200 held (100 slow, 100 idle) against a bound of 150: the 50 beyond it and each health
        # check that finds the bound full close the least recently active held connection.
        # The read timeout outlasts the measurement, so that only the bound closes held ones.
        r = self.slowclients("--clients", "100", "--timeout-ms", "4000", "--max-connections", "150")
        self.assertEqual(r["health_status"], ["200"], r)  # answered while the bound is full
        self.assertEqual(r["normal_request_status"], 200, r)
        self.assertGreaterEqual(r["connections_evicted_metric"], 51, r)
        self.assertEqual(r["held_closed_by_bound"], r["connections_evicted_metric"], r)
        # Open: the held ones not evicted and the /metrics connection, plus the health check's or
        # the normal request's if the server has not seen it close yet (slower under ASan); at
        # most the bound.
        self.assertGreaterEqual(r["connections_open_metric"], 200 - r["held_closed_by_bound"] + 1, r)
        self.assertLessEqual(r["connections_open_metric"], min(150, 200 - r["held_closed_by_bound"] + 3), r)
        self.assertEqual(r["connections_refused_metric"], 0, r)  # none of them was being answered
        # Every slow head the bound did not close, the read timeout still does.
        self.assertEqual(r["slow_closed_by_timeout"], 100 - r["slow_closed_by_bound"], r)
        self.assertTrue(r["server_alive"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
